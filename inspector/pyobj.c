/*
 * pyobj.c - the census: which Python object lives in each used pymalloc
 * block and each in-use glibc chunk, counted per type.
 *
 * An object is recognised by its ob_type: a type object is accepted only
 * if its own type is PyType_Type or an accepted metatype (depth-bounded),
 * its tp_name is a printable C string and its tp_basicsize is sane; the
 * answer is cached per address.  A block holds a non-GC object at its
 * start, or a GC object after the pre-header its type implies (PyGC_Head,
 * plus the managed dict/weakref words from 3.11); the object must fit the
 * block and have a plausible reference count.  Free blocks (the pool's
 * freeblock list, the never-used tail) are never looked at; objects with a
 * reference count of 0 are parked on a free list and counted as dead.
 * Anything else stays unknown - never guessed.
 */
#include "config.h"

#include "numpy.h"
#include "python.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_NAME 256
#define MAX_METATYPE_DEPTH 4
#define MAX_REFCNT (1ull << 40)

struct census {
	const struct target *t;
	struct heap_model *m;
	const struct python_layout *L;
	uint64_t *arena_starts;	/* sorted, for "is this a pymalloc block?" */
	size_t narenas;
	struct py_arena *arena;	/* the arena being censused, or NULL */
	uint64_t *keys;		/* type cache: address -> index+1, or 0 = not a type */
	int32_t *vals;
	size_t cap, used;
};

static int read_u64(struct census *c, uint64_t addr, uint64_t *out)
{
	return target_read_u64(c->t, addr, out);
}

/* tp_name as a printable C string, or NULL. */
static char *type_name(struct census *c, uint64_t addr)
{
	char buf[MAX_TYPE_NAME];
	size_t i;
	for (i = 0; i < sizeof buf; i++) {
		const unsigned char *p = target_view(c->t, addr + i, 1);
		if (!p || (*p && !isprint(*p)))
			return NULL;
		buf[i] = (char)*p;
		if (!*p)
			return i ? xstrdup(buf) : NULL;
	}
	return NULL;
}

static size_t cache_slot(const struct census *c, uint64_t addr)
{
	size_t h = (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ull) & (c->cap - 1);
	while (c->keys[h] && c->keys[h] != addr)
		h = (h + 1) & (c->cap - 1);
	return h;
}

static void cache_grow(struct census *c)
{
	uint64_t *keys = c->keys;
	int32_t *vals = c->vals;
	size_t i, old = c->cap;
	c->cap = old ? old * 2 : 1024;
	c->keys = xcalloc(c->cap, sizeof *c->keys);
	c->vals = xcalloc(c->cap, sizeof *c->vals);
	for (i = 0; i < old; i++)
		if (keys[i]) {
			size_t h = cache_slot(c, keys[i]);
			c->keys[h] = keys[i];
			c->vals[h] = vals[i];
		}
	free(keys);
	free(vals);
}

static void cache_put(struct census *c, uint64_t addr, int32_t val)
{
	size_t h;
	if (2 * (c->used + 1) > c->cap)
		cache_grow(c);
	h = cache_slot(c, addr);
	if (!c->keys[h])
		c->used++;
	c->keys[h] = addr;
	c->vals[h] = val;
}

/* Validate ADDR as a type object; its index in m->pym.types, or -1. */
static int32_t type_index(struct census *c, uint64_t addr, int depth)
{
	const struct python_layout *L = c->L;
	uint64_t meta, name_ptr, basicsize, flags;
	struct py_type_stat *ts;
	char *name;
	if (!addr || addr % 8)
		return -1;
	if (c->cap) {
		size_t h = cache_slot(c, addr);
		if (c->keys[h] == addr)
			return c->vals[h];
	}
	if (read_u64(c, addr + (uint64_t)L->pyobject_type, &meta) < 0 ||
	    read_u64(c, addr + (uint64_t)L->typeobject_tp_name, &name_ptr) < 0 ||
	    read_u64(c, addr + (uint64_t)L->typeobject_tp_basicsize, &basicsize) < 0 ||
	    read_u64(c, addr + (uint64_t)L->typeobject_tp_flags, &flags) < 0 ||
	    basicsize < (uint64_t)L->pyobject_sizeof || basicsize > (1u << 24) ||
	    !(meta == c->m->py.type_type ||
	      (depth < MAX_METATYPE_DEPTH && meta != addr && type_index(c, meta, depth + 1) >= 0)) ||
	    !(name = type_name(c, name_ptr))) {
		cache_put(c, addr, -1);
		return -1;
	}
	ts = ARRAY_PUSH(c->m->pym.types, c->m->pym.ntypes, c->m->pym.types_cap);
	memset(ts, 0, sizeof *ts);
	ts->type = addr;
	ts->name = name;
	ts->gc = (flags & (uint64_t)L->tpflags_have_gc) != 0;
	ts->is_ndarray = numpy_is_array_type(c->t, c->m, addr);
	cache_put(c, addr, (int32_t)(c->m->pym.ntypes - 1));
	return (int32_t)(c->m->pym.ntypes - 1);
}

static uint64_t preheader_size(const struct census *c, uint64_t flags)
{
	const struct python_layout *L = c->L;
	uint64_t pre = (uint64_t)L->gc_head_sizeof;
	if (L->tpflags_preheader > 0 && (flags & (uint64_t)L->tpflags_preheader))
		pre += (uint64_t)L->preheader_managed_size;
	return pre;
}

static uint64_t type_flags(struct census *c, uint64_t type)
{
	uint64_t flags = 0;
	read_u64(c, type + (uint64_t)c->L->typeobject_tp_flags, &flags);
	return flags;
}

static uint64_t type_field(struct census *c, uint64_t type, long off)
{
	uint64_t v = 0;
	if (off != LAYOUT_ABSENT)
		read_u64(c, type + (uint64_t)off, &v);
	return v;
}

/* Bytes the object at OBJ of TYPE was allocated with (pre-header not
 * included), from its type and its own size fields; *EXACT is 0 when the
 * object may own more than that (3.13 inline values), so only a lower
 * bound is known.  (The string and int rules are unicodeobject.c's and
 * longobject.c's; PyType_GenericAlloc adds one item for var objects.) */
static uint64_t object_size(struct census *c, uint64_t obj, uint64_t type, uint64_t flags,
			    int *exact, uint64_t *alt)
{
	const struct python_layout *L = c->L;
	uint64_t basic = type_field(c, type, L->typeobject_tp_basicsize);
	uint64_t item = type_field(c, type, L->typeobject_tp_itemsize), n = 0, state;
	/* sizes known exactly: fixed-size objects and tuples; ints, bytes and
	 * strings may sit in a larger block (normalised or resized in place),
	 * other var objects and 3.13 inline values have their own rules */
	*exact = !item || (flags & (uint64_t)L->tpflags_tuple_subclass);
	if (L->tpflags_inline_values > 0 && (flags & (uint64_t)L->tpflags_inline_values))
		*exact = 0;
	*alt = 0;
	if ((flags & (uint64_t)L->tpflags_unicode_subclass) && basic == (uint64_t)L->unicode_sizeof) {
		uint32_t st;
		read_u64(c, obj + (uint64_t)L->unicode_length, &n);
		read_u64(c, obj + (uint64_t)L->unicode_state, &state);
		st = (uint32_t)state;
		*exact = !((st >> L->unicode_compact_bit) & 1);
		if (*exact)
			return basic;	/* legacy string: data elsewhere */
		if ((st >> L->unicode_ascii_bit) & 1)
			return (uint64_t)L->unicode_ascii_sizeof + n + 1;
		return (uint64_t)L->unicode_compact_sizeof + (n + 1) * ((st >> L->unicode_kind_bit) & 7);
	}
	if (!item)
		return basic;
	if ((flags & (uint64_t)L->tpflags_long_subclass) && L->long_lv_tag != LAYOUT_ABSENT) {
		read_u64(c, obj + (uint64_t)L->long_lv_tag, &n);
		n >>= 3;	/* NON_SIZE_BITS */
		*alt = basic + item * (n ? n : 1);
		return basic + item * n;
	}
	if (!(flags & (uint64_t)(L->tpflags_tuple_subclass | L->tpflags_bytes_subclass |
				 L->tpflags_long_subclass))) {
		*exact = 0;	/* a var object without ob_size (e.g. generators) */
		return basic;
	}
	read_u64(c, obj + (uint64_t)L->pyobject_ob_size, &n);
	if ((int64_t)n < 0)
		n = (uint64_t)(-(int64_t)n);
	if (n > (1ull << 40))
		return UINT64_MAX;
	*alt = basic + item * (n + 1);
	return basic + item * n;
}

/* Does an object needing NEED bytes (ALT: another valid size, or 0) fit
 * the block of ROOM bytes the way its allocator would have sized it? */
static int size_fits(const struct census *c, uint64_t need, uint64_t alt, int exact,
		     uint64_t room, int where)
{
	uint64_t align = (uint64_t)c->L->alignment;
	if (need > room)
		return alt && alt <= room && size_fits(c, alt, 0, exact, room, where);
	if (!exact)
		return 1;
	if (where == 1)	/* pymalloc: the size class of the request */
		return align_up(need ? need : 1, align) == room ||
		       (alt && align_up(alt, align) == room);
	/* glibc: request2size slack, or page rounding of an mmapped chunk */
	return room - need < (where == 2 ? 24u : 4096u + 16u) ||
	       (alt && alt <= room && room - alt < (where == 2 ? 24u : 4096u + 16u));
}

/* The type index of an object at OBJ whose GC-ness is GC, in a block of
 * ROOM bytes of which PRE come before OBJ; -1 if there is none. */
static int32_t object_type(struct census *c, uint64_t obj, int gc, uint64_t room,
			   uint64_t pre, int where)
{
	uint64_t type, flags, need, alt;
	int32_t idx;
	int exact;
	if (read_u64(c, obj + (uint64_t)c->L->pyobject_type, &type) < 0)
		return -1;
	idx = type_index(c, type, 0);
	if (idx < 0 || c->m->pym.types[idx].gc != gc)
		return -1;
	flags = type_flags(c, type);
	if (gc && preheader_size(c, flags) != pre)
		return -1;
	need = object_size(c, obj, type, flags, &exact, &alt);
	if (need == UINT64_MAX || !size_fits(c, pre + need, alt ? pre + alt : 0, exact, room, where))
		return -1;
	return idx;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Size of the allocation that starts at ADDR: its pymalloc block or glibc
 * chunk; 0 if ADDR starts neither.  *IN_GLIBC says which. */
static uint64_t allocation_size(struct census *c, uint64_t addr, int *in_glibc)
{
	const struct python_layout *L = c->L;
	size_t lo = 0, hi = c->narenas;
	const struct chunk *ch;
	while (lo < hi) {	/* last arena starting at or below ADDR */
		size_t mid = lo + (hi - lo) / 2;
		if (c->arena_starts[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr - c->arena_starts[lo - 1] < (uint64_t)L->arena_size) {
		uint64_t pool = align_down(addr, (uint64_t)L->pool_size);
		const unsigned char *hdr = target_view(c->t, pool, (size_t)L->pool_header_sizeof);
		uint32_t szidx;
		uint64_t size;
		if (!hdr)
			return 0;
		memcpy(&szidx, hdr + L->pool_header_szidx, 4);
		size = (uint64_t)(szidx + 1) * (uint64_t)L->alignment;
		if (szidx >= (uint32_t)L->nb_small_size_classes ||
		    addr < pool + (uint64_t)L->pool_overhead ||
		    (addr - pool - (uint64_t)L->pool_overhead) % size)
			return 0;
		*in_glibc = 0;
		return size;
	}
	ch = model_chunk_at(c->m, addr - 2 * (uint64_t)c->m->glibc.layout->size_sz);
	if (!ch || (ch->state != CHUNK_INUSE && ch->state != CHUNK_MMAPPED))
		return 0;
	*in_glibc = 1;
	return chunk_usable_size(c->m, ch);
}

static void own_buffer(struct census *c, struct py_type_stat *ts, uint64_t buf)
{
	int in_glibc = 0;
	uint64_t size = buf ? allocation_size(c, buf, &in_glibc) : 0;
	if (!size)
		return;
	ts->buffers++;
	ts->buffer_bytes += size;
	ts->buffers_in_glibc += in_glibc != 0;
	ts->buffer_bytes_in_glibc += in_glibc ? size : 0;
	python_count_resident(c->t, ts, buf, size, in_glibc);
	c->m->pym.owned_buffers++;
}

/* The buffers an object of type TS at OBJ owns, by what its type is:
 * list ob_item, a combined dict table (no split values), a set table
 * outside the object, bytearray ob_bytes. */
static void own_buffers(struct census *c, struct py_type_stat *ts, uint64_t obj, uint64_t flags)
{
	const struct python_layout *L = c->L;
	uint64_t p = 0, values = 0;
	if (flags & (uint64_t)L->tpflags_list_subclass) {
		read_u64(c, obj + (uint64_t)L->list_ob_item, &p);
		own_buffer(c, ts, p);
	} else if (flags & (uint64_t)L->tpflags_dict_subclass) {
		read_u64(c, obj + (uint64_t)L->dict_ma_values, &values);
		read_u64(c, obj + (uint64_t)L->dict_ma_keys, &p);
		if (!values)	/* split tables share their keys */
			own_buffer(c, ts, p);
	} else if (!strcmp(ts->name, "set") || !strcmp(ts->name, "frozenset")) {
		read_u64(c, obj + (uint64_t)L->set_table, &p);
		if (p != obj + (uint64_t)L->set_smalltable)
			own_buffer(c, ts, p);
	} else if (!strcmp(ts->name, "bytearray")) {
		read_u64(c, obj + (uint64_t)L->bytearray_ob_bytes, &p);
		own_buffer(c, ts, p);
	}
}

static void record(struct census *c, int32_t idx, uint64_t obj, uint64_t bytes, int tracked,
		   int in_pymalloc)
{
	struct py_type_stat *ts = &c->m->pym.types[idx];
	uint64_t refcnt = 0;
	read_u64(c, obj + (uint64_t)c->L->pyobject_refcnt, &refcnt);
	if (refcnt == 0 || refcnt > MAX_REFCNT) {
		c->m->pym.dead_objects += refcnt == 0;
		c->m->pym.unknown_blocks += refcnt != 0;
		return;
	}
	ts->count++;
	ts->bytes += bytes;
	if (c->L->pyobject_immortal_refcnt > 0 &&
	    (refcnt & 0xffffffffu) == (uint64_t)c->L->pyobject_immortal_refcnt)
		ts->immortal++;	/* never collected: on no collectable GC list */
	else
		ts->tracked += tracked != 0;
	if (in_pymalloc) {
		ts->in_pymalloc++;
	} else {
		ts->in_glibc++;
		ts->bytes_in_glibc += bytes;
	}
	python_count_resident(c->t, ts, obj, bytes, !in_pymalloc);
	c->m->pym.objects++;
	if (ts->is_ndarray) {
		struct numpy_info *np = &c->m->np;
		struct np_array *a = ARRAY_PUSH(np->arrays, np->narrays, np->arrays_cap);
		memset(a, 0, sizeof *a);
		a->addr = obj;
		a->type = idx;
		return;	/* numpy_walk() attributes its buffers */
	}
	own_buffers(c, ts, obj, type_flags(c, ts->type));
}

/* The object in the block of SIZE bytes at BLOCK, if any: its address,
 * type index and whether it is on a GC list.  WHERE: 1 a pymalloc block,
 * 2 a glibc heap chunk, 3 an mmapped chunk. */
static int identify_block(struct census *c, uint64_t block, uint64_t size, int where,
			  uint64_t *obj, int32_t *idx, int *tracked)
{
	const struct python_layout *L = c->L;
	uint64_t pres[2] = { (uint64_t)L->gc_head_sizeof,
			     (uint64_t)L->gc_head_sizeof + (uint64_t)L->preheader_managed_size };
	unsigned npres = L->tpflags_preheader > 0 ? 2 : 1, i;
	*idx = object_type(c, block, 0, size, 0, where);
	if (*idx >= 0) {
		*obj = block;
		*tracked = 0;
		return 1;
	}
	for (i = 0; i < npres; i++) {
		uint64_t gc_next = 0;
		if (pres[i] >= size)
			continue;
		*idx = object_type(c, block + pres[i], 1, size, pres[i], where);
		if (*idx < 0)
			continue;
		*obj = block + pres[i];
		read_u64(c, *obj - (uint64_t)L->gc_head_sizeof + (uint64_t)L->gc_head_next, &gc_next);
		*tracked = gc_next != 0;
		return 1;
	}
	return 0;
}

/* Note that OBJ of type IDX keeps the current low-use arena mapped. */
static void hold_arena(struct py_arena *a, int32_t idx, uint64_t obj, uint64_t size)
{
	size_t i;
	for (i = 0; i < a->nholders; i++)
		if (a->holders[i].type == idx)
			break;
	if (i == a->nholders)
		*ARRAY_PUSH(a->holders, a->nholders, a->holders_cap) =
			(struct py_arena_holder){ idx, 0, 0, obj };
	a->holders[i].count++;
	a->holders[i].bytes += size;
}

static void census_block(struct census *c, uint64_t block, uint64_t size, int where)
{
	uint64_t obj;
	int32_t idx;
	int tracked;
	int found = identify_block(c, block, size, where, &obj, &idx, &tracked);
	if (found)
		record(c, idx, obj, size, tracked, where == 1);
	else
		c->m->pym.unknown_blocks++;
	if (c->arena && c->arena->low_use) {
		if (found)
			hold_arena(c->arena, idx, obj, size);
		else
			c->arena->unknown_blocks++;
	}
}

/* Mark the pool's free blocks (its freeblock list) in FREE. */
static void mark_free_blocks(struct census *c, uint64_t pool, const unsigned char *hdr,
			     uint64_t first, uint64_t size, uint64_t nblocks, uint8_t *free_map)
{
	uint64_t b, steps = 0;
	memcpy(&b, hdr + c->L->pool_header_freeblock, 8);
	while (b && steps++ <= nblocks) {
		if (b < first || (b - first) % size || (b - first) / size >= nblocks) {
			if (b != pool + (uint64_t)c->L->pool_header_nextoffset)
				model_diag(c->m, DIAG_WARNING, pool, "pymalloc pool 0x%llx: free list "
					   "leaves the pool at 0x%llx", (unsigned long long)pool,
					   (unsigned long long)b);
			return;
		}
		free_map[(b - first) / size] = 1;
		if (read_u64(c, b, &b) < 0)
			return;
	}
}

static void census_pool(struct census *c, uint64_t pool)
{
	const struct python_layout *L = c->L;
	const unsigned char *hdr = target_view(c->t, pool, (size_t)L->pool_header_sizeof);
	uint32_t count, szidx, nextoffset;
	uint64_t size, first, nblocks, k;
	uint8_t *free_map;
	if (!hdr)
		return;
	memcpy(&count, hdr + L->pool_header_count, 4);
	memcpy(&szidx, hdr + L->pool_header_szidx, 4);
	memcpy(&nextoffset, hdr + L->pool_header_nextoffset, 4);
	if (!count || szidx >= (uint32_t)L->nb_small_size_classes ||
	    nextoffset > (uint64_t)L->pool_size)
		return;
	size = (uint64_t)(szidx + 1) * (uint64_t)L->alignment;
	first = pool + (uint64_t)L->pool_overhead;
	nblocks = nextoffset > (uint64_t)L->pool_overhead ?
			  (nextoffset - (uint64_t)L->pool_overhead) / size : 0;
	free_map = xcalloc(nblocks + 1, 1);
	mark_free_blocks(c, pool, hdr, first, size, nblocks, free_map);
	for (k = 0; k < nblocks; k++)
		if (!free_map[k])
			census_block(c, first + k * size, size, 1);
	free(free_map);
}

static void census_pymalloc(struct census *c)
{
	const struct python_layout *L = c->L;
	uint64_t psize = (uint64_t)L->pool_size;
	size_t i;
	for (i = 0; i < c->m->pym.narenas; i++) {
		struct py_arena *a = &c->m->pym.arenas[i];
		uint64_t pool;
		c->arena = a;
		for (pool = align_up(a->addr, psize); pool < a->pool_address; pool += psize)
			census_pool(c, pool);
	}
	c->arena = NULL;
}

static void census_glibc(struct census *c)
{
	size_t i;
	for (i = 0; i < c->m->nchunks; i++) {
		const struct chunk *ch = &c->m->chunks[i];
		if (ch->state == CHUNK_INUSE || ch->state == CHUNK_MMAPPED)
			census_block(c, chunk_mem(c->m, ch), chunk_usable_size(c->m, ch),
				     ch->state == CHUNK_MMAPPED ? 3 : 2);
	}
}

static int by_holder_bytes(const void *a, const void *b)
{
	const struct py_arena_holder *x = a, *y = b;
	return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

void python_census(const struct target *t, struct heap_model *m)
{
	struct census c = { t, m, m->py.layout, NULL, 0, NULL, NULL, NULL, 0, 0 };
	size_t i;
	c.arena_starts = xmalloc((m->pym.narenas + 1) * sizeof *c.arena_starts);
	for (i = 0; i < m->pym.narenas; i++)
		c.arena_starts[i] = m->pym.arenas[i].addr;
	c.narenas = m->pym.narenas;
	sort_items(c.arena_starts, c.narenas, sizeof *c.arena_starts, u64_cmp);
	census_pymalloc(&c);
	census_glibc(&c);
	for (i = 0; i < m->pym.narenas; i++)
		sort_items(m->pym.arenas[i].holders, m->pym.arenas[i].nholders,
			   sizeof m->pym.arenas[i].holders[0], by_holder_bytes);
	/* buffers owned by objects are not unknown */
	m->pym.unknown_blocks -= m->pym.owned_buffers < m->pym.unknown_blocks ?
					 m->pym.owned_buffers : m->pym.unknown_blocks;
	free(c.arena_starts);
	free(c.keys);
	free(c.vals);
}

int python_identify(const struct target *t, struct heap_model *m, uint64_t block,
		    uint64_t size, int where, struct py_object_info *out)
{
	struct census c = { t, m, m->py.layout, NULL, 0, NULL, NULL, NULL, 0, 0 };
	int32_t idx;
	int found = identify_block(&c, block, size, where, &out->addr, &idx, &out->tracked);
	if (found) {
		out->type = m->pym.types[idx].type;
		out->type_name = m->pym.types[idx].name;
		read_u64(&c, out->addr + (uint64_t)m->py.layout->pyobject_refcnt, &out->refcnt);
	}
	free(c.keys);
	free(c.vals);
	return found;
}

int32_t python_type_register(const struct target *t, struct heap_model *m, uint64_t type)
{
	struct census c = { t, m, m->py.layout, NULL, 0, NULL, NULL, NULL, 0, 0 };
	int32_t idx;
	size_t i;
	for (i = 0; i < m->pym.ntypes; i++)
		if (m->pym.types[i].type == type)
			return (int32_t)i;
	for (i = 0; i < m->pym.ntypes; i++)	/* no metatype is added twice */
		cache_put(&c, m->pym.types[i].type, (int32_t)i);
	idx = type_index(&c, type, 0);
	free(c.keys);
	free(c.vals);
	return idx;
}

void python_count_resident(const struct target *t, struct py_type_stat *ts, uint64_t addr,
			   uint64_t size, int in_glibc)
{
	uint64_t r = target_resident_bytes(t, addr, addr + size);
	ts->resident += r;
	if (in_glibc)
		ts->resident_in_glibc += r;
}
