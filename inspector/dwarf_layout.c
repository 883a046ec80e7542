/*
 * dwarf_layout.c - glibc malloc struct layout from libc's DWARF (libdw).
 *
 * Type lookups go through an index of every named struct, union and
 * typedef defined at the top level of each unit (compile, partial and type
 * units, including those of a dwz alternate file), sorted by name.  It is
 * built on the first lookup for a Dwarf and kept until a lookup for another
 * Dwarf or dwarf_layout_forget().  Where a name has several definitions,
 * the first complete one in unit order wins.
 *
 * glibc_layout_from_dwarf() maps each DWARF-answerable key of
 * glibc-layouts/fields.txt to the struct and member names glibc used for it
 * (e.g. tcache counts became num_slots in 2.42), so one table serves every
 * version.
 */
#include "config.h"

#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>

#include "dwarf_layout.h"

struct named_type {
	const char *name;
	Dwarf_Die die;
	size_t order;		/* position in unit order */
};

struct type_index {
	Dwarf *dw;		/* the Dwarf the entries belong to, or NULL */
	struct named_type *types;
	size_t count, capacity;
};

static struct type_index type_index;

/* ---- building the index ---- */

static bool is_indexed_tag(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_typedef;
}

static bool add_named_type(Dwarf_Die *die)
{
	const char *name = dwarf_diename(die);
	struct named_type *grown;
	size_t capacity;

	if (name == NULL || dwarf_hasattr(die, DW_AT_declaration))
		return true;
	if (type_index.count == type_index.capacity) {
		capacity = type_index.capacity ? 2 * type_index.capacity : 4096;
		grown = realloc(type_index.types, capacity * sizeof *grown);
		if (grown == NULL)
			return false;
		type_index.types = grown;
		type_index.capacity = capacity;
	}
	type_index.types[type_index.count].name = name;
	type_index.types[type_index.count].die = *die;
	type_index.types[type_index.count].order = type_index.count;
	type_index.count++;
	return true;
}

static bool index_unit_children(Dwarf_Die *unit_die)
{
	Dwarf_Die child;

	if (dwarf_child(unit_die, &child) != 0)
		return true;
	do {
		if (is_indexed_tag(dwarf_tag(&child)) && !add_named_type(&child))
			return false;
	} while (dwarf_siblingof(&child, &child) == 0);
	return true;
}

static bool index_units(Dwarf *dw)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die unit_die;

	while (dwarf_get_units(dw, cu, &cu, NULL, NULL, &unit_die, NULL) == 0)
		if (!index_unit_children(&unit_die))
			return false;
	return true;
}

static int compare_named_types(const void *a, const void *b)
{
	const struct named_type *x = a, *y = b;
	int by_name = strcmp(x->name, y->name);

	if (by_name != 0)
		return by_name;
	return (x->order > y->order) - (x->order < y->order);
}

void dwarf_layout_forget(Dwarf *dw)
{
	if (dw != NULL && type_index.dw != dw)
		return;
	free(type_index.types);
	memset(&type_index, 0, sizeof type_index);
}

static bool build_index(Dwarf *dw)
{
	Dwarf *alt = dwarf_getalt(dw);
	bool complete;

	dwarf_layout_forget(NULL);
	type_index.dw = dw;
	complete = index_units(dw) && (alt == NULL || index_units(alt));
	if (!complete) {
		dwarf_layout_forget(NULL);
		return false;
	}
	sort_items(type_index.types, type_index.count, sizeof *type_index.types,
	      compare_named_types);
	return true;
}

static bool ensure_index(Dwarf *dw)
{
	if (dw == NULL)
		return false;
	return type_index.dw == dw || build_index(dw);
}

/* ---- looking types and members up ---- */

static size_t first_with_name(const char *name)
{
	size_t low = 0, high = type_index.count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;

		if (strcmp(type_index.types[mid].name, name) < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

static bool is_complete_type(Dwarf_Die *type)
{
	int tag = dwarf_tag(type);

	if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
		return true;
	return !dwarf_hasattr(type, DW_AT_declaration);
}

/* TYPE := the first complete type named NAME, typedefs peeled. */
static bool resolve_type(Dwarf *dw, const char *name, Dwarf_Die *type)
{
	size_t i;

	if (!ensure_index(dw))
		return false;
	for (i = first_with_name(name);
	     i < type_index.count && strcmp(type_index.types[i].name, name) == 0;
	     i++) {
		Dwarf_Die die = type_index.types[i].die;

		if (dwarf_peel_type(&die, type) == 0 && is_complete_type(type))
			return true;
	}
	return false;
}

static bool is_aggregate(Dwarf_Die *type)
{
	int tag = dwarf_tag(type);

	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/* TYPE := the type of DIE (a member or an array), typedefs peeled. */
static bool type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute attr;
	Dwarf_Die raw;

	if (dwarf_attr_integrate(die, DW_AT_type, &attr) == NULL ||
	    dwarf_formref_die(&attr, &raw) == NULL)
		return false;
	return dwarf_peel_type(&raw, type) == 0;
}

static bool member_location(Dwarf_Die *member, Dwarf_Word *offset)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;

	if (dwarf_attr_integrate(member, DW_AT_data_member_location, &attr) == NULL) {
		*offset = 0;	/* a union member */
		return true;
	}
	if (dwarf_formudata(&attr, offset) == 0)
		return true;
	if (dwarf_getlocation(&attr, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst) {
		*offset = ops[0].number;
		return true;
	}
	return false;
}

static bool find_member(Dwarf_Die *aggregate, const char *name,
			Dwarf_Die *found, Dwarf_Word *offset);

/* Look NAME up inside the anonymous struct or union MEMBER. */
static bool find_in_anonymous(Dwarf_Die *member, const char *name,
			      Dwarf_Die *found, Dwarf_Word *offset)
{
	Dwarf_Die type;
	Dwarf_Word base, inner;

	if (!type_of(member, &type) || !is_aggregate(&type) ||
	    !find_member(&type, name, found, &inner) ||
	    !member_location(member, &base))
		return false;
	*offset = base + inner;
	return true;
}

static bool find_member(Dwarf_Die *aggregate, const char *name,
			Dwarf_Die *found, Dwarf_Word *offset)
{
	Dwarf_Die child;

	if (dwarf_child(aggregate, &child) != 0)
		return false;
	do {
		const char *child_name;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		child_name = dwarf_diename(&child);
		if (child_name == NULL) {
			if (find_in_anonymous(&child, name, found, offset))
				return true;
		} else if (strcmp(child_name, name) == 0) {
			*found = child;
			return member_location(&child, offset);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

static bool resolve_member(Dwarf *dw, const char *struct_name, const char *name,
			   Dwarf_Die *member, Dwarf_Word *offset)
{
	Dwarf_Die aggregate;

	return resolve_type(dw, struct_name, &aggregate) && is_aggregate(&aggregate) &&
	       find_member(&aggregate, name, member, offset);
}

static long size_of(Dwarf_Die *type)
{
	Dwarf_Word size;

	if (dwarf_aggregate_size(type, &size) != 0)
		return LAYOUT_ABSENT;
	return (long)size;
}

/* TYPE := the peeled type of MEMBER of STRUCT_NAME. */
static bool member_type(Dwarf *dw, const char *struct_name, const char *name,
			Dwarf_Die *type)
{
	Dwarf_Die member;
	Dwarf_Word offset;

	return resolve_member(dw, struct_name, name, &member, &offset) &&
	       type_of(&member, type);
}

long dwarf_member_offset(Dwarf *dw, const char *struct_name, const char *member)
{
	Dwarf_Die found;
	Dwarf_Word offset;

	if (!resolve_member(dw, struct_name, member, &found, &offset))
		return LAYOUT_ABSENT;
	return (long)offset;
}

long dwarf_type_size(Dwarf *dw, const char *type_name)
{
	Dwarf_Die type;

	if (!resolve_type(dw, type_name, &type))
		return LAYOUT_ABSENT;
	return size_of(&type);
}

long dwarf_member_element_size(Dwarf *dw, const char *struct_name, const char *member)
{
	Dwarf_Die type, element;

	if (!member_type(dw, struct_name, member, &type))
		return LAYOUT_ABSENT;
	if (dwarf_tag(&type) != DW_TAG_array_type)
		return size_of(&type);
	if (!type_of(&type, &element))
		return LAYOUT_ABSENT;
	return size_of(&element);
}

long dwarf_member_array_length(Dwarf *dw, const char *struct_name, const char *member)
{
	Dwarf_Die type;
	long total, element;

	if (!member_type(dw, struct_name, member, &type) ||
	    dwarf_tag(&type) != DW_TAG_array_type)
		return LAYOUT_ABSENT;
	total = size_of(&type);
	element = dwarf_member_element_size(dw, struct_name, member);
	if (total == LAYOUT_ABSENT || element == LAYOUT_ABSENT || element == 0)
		return LAYOUT_ABSENT;
	return total / element;
}

/* ---- member paths ("a.b.c") ---- */

/* Where a path step ended: the member's DIE and its byte offset from the
 * start of the outermost struct. */
struct path_end {
	Dwarf_Die member;
	Dwarf_Word offset;
};

/* Follow PATH from the struct or union TYPE, one member per dot. */
static bool walk_path(Dwarf_Die *type, const char *path, struct path_end *end)
{
	char name[256];
	const char *dot = strchr(path, '.');
	size_t length = dot != NULL ? (size_t)(dot - path) : strlen(path);
	Dwarf_Die inner;
	Dwarf_Word offset;

	if (length == 0 || length >= sizeof name)
		return false;
	memcpy(name, path, length);
	name[length] = '\0';
	if (!find_member(type, name, &end->member, &offset))
		return false;
	end->offset += offset;
	if (dot == NULL)
		return true;
	return type_of(&end->member, &inner) && is_aggregate(&inner) &&
	       walk_path(&inner, dot + 1, end);
}

static bool resolve_path(Dwarf *dw, const char *struct_name, const char *path,
			 struct path_end *end)
{
	Dwarf_Die aggregate;

	end->offset = 0;
	return resolve_type(dw, struct_name, &aggregate) && is_aggregate(&aggregate) &&
	       walk_path(&aggregate, path, end);
}

long dwarf_member_path_offset(Dwarf *dw, const char *struct_name, const char *path)
{
	struct path_end end;

	if (!resolve_path(dw, struct_name, path, &end))
		return LAYOUT_ABSENT;
	return (long)end.offset;
}

/* Bit position of bit-field MEMBER inside the storage unit at its byte
 * offset: DWARF 4+ DW_AT_data_bit_offset, or DWARF 2/3 DW_AT_bit_offset
 * (counted from the unit's most significant bit; little-endian target). */
static bool bit_in_unit(Dwarf_Die *member, Dwarf_Word *bit)
{
	Dwarf_Attribute attr;
	Dwarf_Word msb_bit, bit_size, byte_size;

	if (dwarf_attr_integrate(member, DW_AT_data_bit_offset, &attr) != NULL)
		return dwarf_formudata(&attr, bit) == 0;
	if (dwarf_attr_integrate(member, DW_AT_bit_offset, &attr) == NULL) {
		*bit = 0;	/* not a bit-field */
		return true;
	}
	if (dwarf_formudata(&attr, &msb_bit) != 0 ||
	    dwarf_attr_integrate(member, DW_AT_bit_size, &attr) == NULL ||
	    dwarf_formudata(&attr, &bit_size) != 0 ||
	    dwarf_attr_integrate(member, DW_AT_byte_size, &attr) == NULL ||
	    dwarf_formudata(&attr, &byte_size) != 0)
		return false;
	*bit = byte_size * 8 - msb_bit - bit_size;
	return true;
}

long dwarf_member_path_bit_offset(Dwarf *dw, const char *struct_name, const char *path)
{
	struct path_end end;
	Dwarf_Word bit;

	if (!resolve_path(dw, struct_name, path, &end) || !bit_in_unit(&end.member, &bit))
		return LAYOUT_ABSENT;
	return (long)(end.offset * 8 + bit);
}

/* ---- checking a table row against the DWARF ---- */

enum dwarf_question {
	MEMBER_OFFSET,
	TYPE_SIZE,
	ARRAY_LENGTH,
	ELEMENT_SIZE,
	BIN_COUNT,	/* malloc_state.bins has NBINS * 2 - 2 elements */
};

struct dwarf_field {
	const char *key;		/* as in glibc-layouts/fields.txt */
	size_t slot;			/* offsetof (struct glibc_layout, ...) */
	enum dwarf_question question;
	const char *type;		/* struct or typedef name */
	const char *members[3];		/* its spellings over time, NULL-ended */
	bool absent_is_zero;		/* a count: no member, no elements */
};

#define SLOT(field) offsetof(struct glibc_layout, field)
#define ASK(q, k, field, t, ...) \
	{ .key = k, .slot = SLOT(field), .question = q, .type = t, \
	  .members = { __VA_ARGS__ } }
#define OFFSET(k, field, t, ...) ASK(MEMBER_OFFSET, k, field, t, __VA_ARGS__)
#define SIZEOF(k, field, t) ASK(TYPE_SIZE, k, field, t, NULL)

static const struct dwarf_field dwarf_fields[] = {
	ASK(ELEMENT_SIZE, "size_sz", size_sz, "malloc_chunk", "mchunk_size", "size"),
	OFFSET("chunk.prev_size", chunk_prev_size, "malloc_chunk", "mchunk_prev_size", "prev_size"),
	OFFSET("chunk.size", chunk_size, "malloc_chunk", "mchunk_size", "size"),
	OFFSET("chunk.fd", chunk_fd, "malloc_chunk", "fd"),
	OFFSET("chunk.bk", chunk_bk, "malloc_chunk", "bk"),
	OFFSET("chunk.fd_nextsize", chunk_fd_nextsize, "malloc_chunk", "fd_nextsize"),
	OFFSET("chunk.bk_nextsize", chunk_bk_nextsize, "malloc_chunk", "bk_nextsize"),

	OFFSET("malloc_state.mutex", malloc_state_mutex, "malloc_state", "mutex"),
	OFFSET("malloc_state.flags", malloc_state_flags, "malloc_state", "flags"),
	OFFSET("malloc_state.have_fastchunks", malloc_state_have_fastchunks, "malloc_state", "have_fastchunks"),
	OFFSET("malloc_state.fastbinsY", malloc_state_fastbinsY, "malloc_state", "fastbinsY"),
	{ .key = "malloc_state.nfastbins", .slot = SLOT(malloc_state_nfastbins),
	  .question = ARRAY_LENGTH, .type = "malloc_state",
	  .members = { "fastbinsY" }, .absent_is_zero = true },
	OFFSET("malloc_state.top", malloc_state_top, "malloc_state", "top"),
	OFFSET("malloc_state.last_remainder", malloc_state_last_remainder, "malloc_state", "last_remainder"),
	OFFSET("malloc_state.bins", malloc_state_bins, "malloc_state", "bins"),
	ASK(BIN_COUNT, "malloc_state.nbins", malloc_state_nbins, "malloc_state", "bins"),
	OFFSET("malloc_state.binmap", malloc_state_binmap, "malloc_state", "binmap"),
	OFFSET("malloc_state.next", malloc_state_next, "malloc_state", "next"),
	OFFSET("malloc_state.next_free", malloc_state_next_free, "malloc_state", "next_free"),
	OFFSET("malloc_state.attached_threads", malloc_state_attached_threads, "malloc_state", "attached_threads"),
	OFFSET("malloc_state.system_mem", malloc_state_system_mem, "malloc_state", "system_mem"),
	OFFSET("malloc_state.max_system_mem", malloc_state_max_system_mem, "malloc_state", "max_system_mem"),
	SIZEOF("malloc_state.sizeof", malloc_state_sizeof, "malloc_state"),

	OFFSET("malloc_par.trim_threshold", malloc_par_trim_threshold, "malloc_par", "trim_threshold"),
	OFFSET("malloc_par.top_pad", malloc_par_top_pad, "malloc_par", "top_pad"),
	OFFSET("malloc_par.mmap_threshold", malloc_par_mmap_threshold, "malloc_par", "mmap_threshold"),
	OFFSET("malloc_par.arena_test", malloc_par_arena_test, "malloc_par", "arena_test"),
	OFFSET("malloc_par.arena_max", malloc_par_arena_max, "malloc_par", "arena_max"),
	OFFSET("malloc_par.thp_pagesize", malloc_par_thp_pagesize, "malloc_par", "thp_pagesize"),
	OFFSET("malloc_par.hp_pagesize", malloc_par_hp_pagesize, "malloc_par", "hp_pagesize"),
	OFFSET("malloc_par.hp_flags", malloc_par_hp_flags, "malloc_par", "hp_flags"),
	OFFSET("malloc_par.n_mmaps", malloc_par_n_mmaps, "malloc_par", "n_mmaps"),
	OFFSET("malloc_par.n_mmaps_max", malloc_par_n_mmaps_max, "malloc_par", "n_mmaps_max"),
	OFFSET("malloc_par.max_n_mmaps", malloc_par_max_n_mmaps, "malloc_par", "max_n_mmaps"),
	OFFSET("malloc_par.no_dyn_threshold", malloc_par_no_dyn_threshold, "malloc_par", "no_dyn_threshold"),
	OFFSET("malloc_par.mmapped_mem", malloc_par_mmapped_mem, "malloc_par", "mmapped_mem"),
	OFFSET("malloc_par.max_mmapped_mem", malloc_par_max_mmapped_mem, "malloc_par", "max_mmapped_mem"),
	OFFSET("malloc_par.sbrk_base", malloc_par_sbrk_base, "malloc_par", "sbrk_base"),
	OFFSET("malloc_par.tcache_bins", malloc_par_tcache_bins, "malloc_par", "tcache_bins", "tcache_small_bins"),
	OFFSET("malloc_par.tcache_max_bytes", malloc_par_tcache_max_bytes, "malloc_par", "tcache_max_bytes"),
	OFFSET("malloc_par.tcache_count", malloc_par_tcache_count, "malloc_par", "tcache_count"),
	OFFSET("malloc_par.tcache_unsorted_limit", malloc_par_tcache_unsorted_limit, "malloc_par", "tcache_unsorted_limit"),
	SIZEOF("malloc_par.sizeof", malloc_par_sizeof, "malloc_par"),

	OFFSET("heap_info.ar_ptr", heap_info_ar_ptr, "heap_info", "ar_ptr"),
	OFFSET("heap_info.prev", heap_info_prev, "heap_info", "prev"),
	OFFSET("heap_info.size", heap_info_size, "heap_info", "size"),
	OFFSET("heap_info.mprotect_size", heap_info_mprotect_size, "heap_info", "mprotect_size"),
	OFFSET("heap_info.pagesize", heap_info_pagesize, "heap_info", "pagesize"),
	SIZEOF("heap_info.sizeof", heap_info_sizeof, "heap_info"),

	ASK(ELEMENT_SIZE, "tcache.count_width", tcache_count_width, "tcache_perthread_struct", "counts", "num_slots"),
	ASK(ARRAY_LENGTH, "tcache.bins", tcache_bins, "tcache_perthread_struct", "entries"),
	OFFSET("tcache.counts", tcache_counts, "tcache_perthread_struct", "counts", "num_slots"),
	OFFSET("tcache.entries", tcache_entries, "tcache_perthread_struct", "entries"),
	SIZEOF("tcache.sizeof", tcache_sizeof, "tcache_perthread_struct"),
	OFFSET("tcache.entry_next", tcache_entry_next, "tcache_entry", "next"),
	OFFSET("tcache.entry_key", tcache_entry_key, "tcache_entry", "key"),
};

#define DWARF_FIELD_COUNT (sizeof dwarf_fields / sizeof dwarf_fields[0])

size_t glibc_layout_dwarf_field_count(void)
{
	return DWARF_FIELD_COUNT;
}

static long ask_about_member(Dwarf *dw, const struct dwarf_field *field,
			     const char *member)
{
	long elements;

	switch (field->question) {
	case MEMBER_OFFSET:
		return dwarf_member_offset(dw, field->type, member);
	case ARRAY_LENGTH:
		return dwarf_member_array_length(dw, field->type, member);
	case ELEMENT_SIZE:
		return dwarf_member_element_size(dw, field->type, member);
	case BIN_COUNT:
		elements = dwarf_member_array_length(dw, field->type, member);
		return elements == LAYOUT_ABSENT ? LAYOUT_ABSENT : (elements + 2) / 2;
	case TYPE_SIZE:
		break;
	}
	return LAYOUT_ABSENT;
}

static long ask_dwarf(Dwarf *dw, const struct dwarf_field *field)
{
	const char *const *member;

	if (field->question == TYPE_SIZE)
		return dwarf_type_size(dw, field->type);
	for (member = field->members; *member != NULL; member++) {
		long answer = ask_about_member(dw, field, *member);

		if (answer != LAYOUT_ABSENT)
			return answer;
	}
	return field->absent_is_zero ? 0 : LAYOUT_ABSENT;
}

static long *row_slot(struct glibc_layout *row, const struct dwarf_field *field)
{
	return (long *)((char *)row + field->slot);
}

int glibc_layout_from_dwarf(Dwarf *dw, const struct glibc_layout *table_row,
			    struct glibc_layout *out,
			    void (*mismatch)(void *ctx, const char *field,
					     long table, long dwarf),
			    void *ctx)
{
	int confirmed = 0;
	size_t i;

	*out = *table_row;
	for (i = 0; i < DWARF_FIELD_COUNT; i++) {
		const struct dwarf_field *field = &dwarf_fields[i];
		long *slot = row_slot(out, field);
		long answer;

		if (dwarf_type_size(dw, field->type) == LAYOUT_ABSENT)
			continue;	/* DWARF does not know this struct */
		answer = ask_dwarf(dw, field);
		if (answer == *slot)
			confirmed++;
		else if (mismatch != NULL)
			mismatch(ctx, field->key, *slot, answer);
		*slot = answer;
	}
	return confirmed;
}
