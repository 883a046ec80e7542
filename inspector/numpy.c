/*
 * numpy.c - read every live ndarray the census met: its fields, shape and
 * strides, dtype, flags and .base chain; place its data in the allocation
 * that holds it (glibc chunk, mmapped chunk, pymalloc block, mapping).
 *
 * Invariants:
 *   - Only objects the census recognised as instances of numpy.ndarray or
 *     a subclass are read (their blocks are in use, their type checked),
 *     so a freed array is never reported.
 *   - An array whose fields do not check out (nd out of range, dims or
 *     descr unreadable, sizes overflowing) is kept but marked unreadable,
 *     with a diagnostic; it is never half-described.
 *   - The .base chain is followed through arrays only, bounded by the
 *     number of arrays, and stops at a cycle.
 *   - The data buffer's owner is attributed from the model (chunks,
 *     pymalloc arenas, mappings); an address nobody owns stays "unknown".
 */
#include "config.h"

#include "numpy.h"
#include "python.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NDIM 64	/* NPY_MAXDIMS: 32 in 1.x, 64 in 2.x */

static const char *const kind_names[NPBUF_KIND_COUNT] = {
	[NPBUF_UNKNOWN] = "unknown",		[NPBUF_GLIBC_CHUNK] = "glibc-chunk",
	[NPBUF_MMAPPED_CHUNK] = "mmapped-chunk", [NPBUF_PYMALLOC_BLOCK] = "pymalloc-block",
	[NPBUF_FILE_MAPPING] = "file-mapping",	[NPBUF_ANON_MAPPING] = "anonymous-mapping",
	[NPBUF_STATIC] = "static",
};

const char *np_buffer_kind_name(enum np_buffer_kind k)
{
	return k < NPBUF_KIND_COUNT ? kind_names[k] : "?";
}

static int by_addr(const void *a, const void *b)
{
	const struct np_array *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

const struct np_array *numpy_array_at(const struct heap_model *m, uint64_t addr)
{
	struct np_array key = { .addr = addr };
	return bsearch(&key, m->np.arrays, m->np.narrays, sizeof key, by_addr);
}

/* dtype.str as NumPy builds it (arraydescr_protocol_typestr_get): byte
 * order ('=' is '<' here), kind, item size (characters for 'U', none for
 * 'O'), and the [unit] of datetimes. */
static void dtype_string(struct np_array *a, int unit, int num)
{
	static const char *const units[] = { "Y", "M", "W", "<invalid>", "D", "h", "m", "s",
					     "ms", "us", "ns", "ps", "fs", "as" };
	char order = a->byteorder == '=' ? '<' : a->byteorder;
	int n = 0;
	if (a->kind == 'O')
		n = snprintf(a->dtype, sizeof a->dtype, "%c%c", order, a->kind);
	else
		n = snprintf(a->dtype, sizeof a->dtype, "%c%c%llu", order, a->kind,
			     (unsigned long long)(a->kind == 'U' ? a->itemsize / 4 : a->itemsize));
	if ((a->kind != 'M' && a->kind != 'm') || unit < 0 ||
	    unit >= (int)(sizeof units / sizeof units[0]) || n <= 0 || (size_t)n >= sizeof a->dtype)
		return;	/* not a datetime, or generic units: no suffix */
	if (num == 1)
		snprintf(a->dtype + n, sizeof a->dtype - (size_t)n, "[%s]", units[unit]);
	else
		snprintf(a->dtype + n, sizeof a->dtype - (size_t)n, "[%d%s]", num, units[unit]);
}

#define DTYPE_KINDS "?biufcmMOSUVT"	/* dtype.kind values (T: 2.x StringDType) */
#define DTYPE_ORDERS "<>=|"

static int read_descr(const struct target *t, const struct heap_model *m, struct np_array *a)
{
	const struct numpy_layout *L = m->np.layout;
	const unsigned char *d = target_view(t, a->descr, (size_t)L->descr_elsize + 8);
	uint64_t elsize = 0, meta;
	int32_t unit = -1, num = 1;
	if (!d || !numpy_is_descr(t, m, a->descr))
		return -1;
	a->kind = (char)d[L->descr_kind];
	a->byteorder = (char)d[L->descr_byteorder];
	if (!a->kind || !strchr(DTYPE_KINDS, a->kind) || !a->byteorder ||
	    !strchr(DTYPE_ORDERS, a->byteorder))
		return -1;
	memcpy(&elsize, d + L->descr_elsize, (size_t)L->descr_elsize_size);
	if (L->descr_elsize_size == 4)
		elsize = (uint64_t)(int64_t)(int32_t)elsize;
	if ((int64_t)elsize < 0 || elsize > (1ull << 40))
		return -1;
	a->itemsize = elsize;
	if ((a->kind == 'M' || a->kind == 'm') && L->descr_c_metadata != LAYOUT_ABSENT &&
	    target_read_u64(t, a->descr + (uint64_t)L->descr_c_metadata, &meta) == 0 && meta &&
	    (target_read(t, meta + (uint64_t)L->datetime_metadata_unit, &unit, 4) < 0 ||
	     target_read(t, meta + (uint64_t)L->datetime_metadata_num, &num, 4) < 0))
		unit = -1;
	dtype_string(a, unit, num);
	return 0;
}

/* Fields, dims, strides and dtype of A; 0 if they all check out. */
static int read_array(const struct target *t, const struct heap_model *m, struct np_array *a)
{
	const struct numpy_layout *L = m->np.layout;
	const unsigned char *o = target_view(t, a->addr, (size_t)L->array_sizeof);
	uint64_t dims, strides, n = 1;
	int32_t nd, i;
	if (!o)
		return -1;
	memcpy(&a->data, o + L->array_data, 8);
	memcpy(&nd, o + L->array_nd, 4);
	memcpy(&dims, o + L->array_dimensions, 8);
	memcpy(&strides, o + L->array_strides, 8);
	memcpy(&a->base, o + L->array_base, 8);
	memcpy(&a->descr, o + L->array_descr, 8);
	memcpy(&a->flags, o + L->array_flags, 4);
	memcpy(&a->refcnt, o + m->py.layout->pyobject_refcnt, 8);
	if (nd < 0 || nd > MAX_NDIM || read_descr(t, m, a) < 0)
		return -1;
	a->nd = nd;
	a->shape = xcalloc(2 * (size_t)nd + 1, sizeof *a->shape);
	a->strides = a->shape + nd;
	a->dims_alloc = dims;
	if (nd && (target_read(t, dims, a->shape, 8 * (size_t)nd) < 0 ||
		   target_read(t, strides, a->strides, 8 * (size_t)nd) < 0))
		return -1;
	for (i = 0; i < nd; i++) {
		if (a->shape[i] < 0 || (a->shape[i] && n > UINT64_MAX / (uint64_t)a->shape[i]))
			return -1;
		n *= (uint64_t)a->shape[i];
	}
	if (a->itemsize && n > UINT64_MAX / a->itemsize)
		return -1;
	a->nbytes = n * a->itemsize;
	return 0;
}

/* The pymalloc block holding ADDR, if it is in a carved pool of an arena. */
static int pymalloc_block(const struct target *t, const struct heap_model *m, uint64_t addr,
			  uint64_t *block, uint64_t *size)
{
	const struct python_layout *P = m->py.layout;
	const struct py_arena *ar = pymalloc_arena_containing(m, addr);
	uint64_t pool, first;
	uint32_t szidx;
	if (!ar)
		return 0;
	pool = align_down(addr, (uint64_t)P->pool_size);
	first = pool + (uint64_t)P->pool_overhead;
	if (pool < ar->addr || pool >= ar->pool_address || addr < first ||
	    target_read_u32(t, pool + (uint64_t)P->pool_header_szidx, &szidx) < 0 ||
	    szidx >= (uint32_t)P->nb_small_size_classes)
		return 0;
	*size = (uint64_t)(szidx + 1) * (uint64_t)P->alignment;
	*block = first + (addr - first) / *size * *size;
	return 1;
}

/* Shared anonymous memory shows as a deleted /dev/zero (mmap(-1, n)). */
static int is_anonymous_path(const char *path)
{
	return !path[0] || path[0] == '[' || !strncmp(path, "/dev/zero", 9);
}

/* Is MP the data of a loaded module (a mapping of a file also mapped
 * executable)? */
static int is_module_data(const struct target *t, const struct target_mapping *mp)
{
	size_t i;
	for (i = 0; i < t->nmaps; i++)
		if ((t->maps[i].prot & TARGET_PROT_EXEC) && t->maps[i].inode == mp->inode &&
		    !strcmp(t->maps[i].path, mp->path))
			return 1;
	return 0;
}

static void place_in_mapping(const struct target *t, struct np_buffer *b, uint64_t data)
{
	const struct target_mapping *mp = target_mapping_at(t, data);
	if (!mp)
		return;
	b->alloc = mp->start;
	b->size = mp->end - mp->start;
	b->offset = data - mp->start;
	b->path = xstrdup(mp->path);
	if (!strcmp(mp->path, "[heap]") || !strcmp(mp->path, "[stack]"))
		b->kind = NPBUF_UNKNOWN;	/* the brk heap outside any chunk, or a stack */
	else if (is_anonymous_path(mp->path))
		b->kind = NPBUF_ANON_MAPPING;
	else if (!mp->shared && is_module_data(t, mp))
		b->kind = NPBUF_STATIC;
	else
		b->kind = NPBUF_FILE_MAPPING;
}

/* Where A's data lives. */
static void place_buffer(const struct target *t, const struct heap_model *m, struct np_array *a)
{
	struct np_buffer *b = &a->buffer;
	const struct chunk *c = model_chunk_containing(m, a->data);
	uint64_t block, size;
	b->arena = -1;
	if (c && (c->state == CHUNK_INUSE || c->state == CHUNK_MMAPPED) &&
	    a->data >= chunk_mem(m, c)) {
		b->kind = c->state == CHUNK_MMAPPED ? NPBUF_MMAPPED_CHUNK : NPBUF_GLIBC_CHUNK;
		b->arena = c->state == CHUNK_MMAPPED ? -1 : c->arena;
		b->alloc = c->addr;
		b->size = c->size;
		b->usable = chunk_usable_size(m, c);
		b->offset = a->data - chunk_mem(m, c);
	} else if (c) {
		b->kind = NPBUF_UNKNOWN;	/* inside a free chunk: not an allocation */
	} else if (pymalloc_block(t, m, a->data, &block, &size)) {
		b->kind = NPBUF_PYMALLOC_BLOCK;
		b->alloc = block;
		b->size = size;
		b->offset = a->data - block;
	} else {
		place_in_mapping(t, b, a->data);
	}
}

/* The pym.types index of the object at OBJ, or -1. */
static int32_t object_type(const struct target *t, struct heap_model *m, uint64_t obj)
{
	uint64_t type;
	if (target_read_u64(t, obj + (uint64_t)m->py.layout->pyobject_type, &type) < 0)
		return -1;
	return python_type_register(t, m, type);
}

/* Owners: the end of each array's .base chain through arrays.  Each array
 * is resolved once (memoised), so a long chain or a cycle costs linear
 * time; a cycle gets one diagnostic and its arrays own themselves. */
static void resolve_owners(struct heap_model *m)
{
	enum { UNSEEN, ON_PATH, DONE };
	size_t n = m->np.narrays, i, *path = xmalloc((n + 1) * sizeof *path);
	uint8_t *state = xcalloc(n + 1, 1);
	for (i = 0; i < n; i++) {
		size_t len = 0, k = i;
		const struct np_array *end;
		while (state[k] == UNSEEN && m->np.arrays[k].base_array >= 0) {
			state[k] = ON_PATH;
			path[len++] = k;
			k = (size_t)m->np.arrays[k].base_array;
		}
		if (state[k] == ON_PATH) {
			model_diag(m, DIAG_WARNING, m->np.arrays[k].addr, "ndarray 0x%llx: .base "
				   "chain has a cycle", (unsigned long long)m->np.arrays[k].addr);
			m->np.arrays[k].base_array = -1;	/* break it: k owns itself */
		}
		end = &m->np.arrays[k];
		if (state[k] != DONE) {	/* k ends the chain */
			m->np.arrays[k].owner = end->base ? end->base : end->addr;
			m->np.arrays[k].owner_type = end->base ? end->base_type : end->type;
			state[k] = DONE;
		}
		while (len) {
			struct np_array *a = &m->np.arrays[path[--len]];
			a->owner = end->owner;
			a->owner_type = end->owner_type;
			state[path[len]] = DONE;
		}
	}
	free(path);
	free(state);
}

/* Base links and owners: the chain of .base through arrays, bounded. */
static void follow_bases(const struct target *t, struct heap_model *m)
{
	size_t i;
	for (i = 0; i < m->np.narrays; i++) {
		struct np_array *a = &m->np.arrays[i];
		const struct np_array *b = a->base ? numpy_array_at(m, a->base) : NULL;
		a->base_array = b ? (int32_t)(b - m->np.arrays) : -1;
		a->base_type = !a->base ? -1 : b ? b->type : object_type(t, m, a->base);
		if (b)
			a->base_refcnt = b->refcnt;
		else if (a->base)
			target_read_u64(t, a->base + (uint64_t)m->py.layout->pyobject_refcnt,
					&a->base_refcnt);
	}
	resolve_owners(m);
}

/* An owned buffer (and the dims allocation) counted as the array type's. */
static void count_owned(const struct target *t, struct heap_model *m, struct np_array *a)
{
	struct py_type_stat *ts = &m->pym.types[a->type];
	const struct chunk *dims = model_chunk_of_mem(m, a->dims_alloc);
	if (a->flags & (uint32_t)m->np.layout->flag_owndata) {
		int glibc = a->buffer.kind == NPBUF_GLIBC_CHUNK ||
			    a->buffer.kind == NPBUF_MMAPPED_CHUNK;
		/* a buffer outside malloc holds what it shows, not its whole mapping */
		a->held = glibc ? a->buffer.usable :
			  a->buffer.kind == NPBUF_PYMALLOC_BLOCK ? a->buffer.size : a->nbytes;
		if (glibc && !a->buffer.offset) {
			ts->buffers++;
			ts->buffer_bytes += a->held;
			ts->buffers_in_glibc++;
			ts->buffer_bytes_in_glibc += a->held;
			m->np.owned_resident += target_resident_bytes(t, a->data, a->data + a->held);
			m->pym.owned_buffers++;
			m->pym.unknown_blocks -= m->pym.unknown_blocks > 0;
		}
		m->np.owned_buffers++;
		m->np.owned_bytes += a->held;
	}
	if (dims && dims->state == CHUNK_INUSE) {
		ts->buffers++;
		ts->buffer_bytes += chunk_usable_size(m, dims);
		ts->buffers_in_glibc++;
		ts->buffer_bytes_in_glibc += chunk_usable_size(m, dims);
		python_count_resident(t, ts, a->dims_alloc, chunk_usable_size(m, dims), 1);
		m->pym.owned_buffers++;
		m->pym.unknown_blocks -= m->pym.unknown_blocks > 0;
	}
}

void numpy_walk(const struct target *t, struct heap_model *m)
{
	size_t i, bad = 0;
	sort_items(m->np.arrays, m->np.narrays, sizeof *m->np.arrays, by_addr);
	for (i = 0; i < m->np.narrays; i++) {
		struct np_array *a = &m->np.arrays[i];
		a->readable = read_array(t, m, a) == 0;
		if (!a->readable) {
			bad++;
			continue;
		}
		place_buffer(t, m, a);
		count_owned(t, m, a);
	}
	if (bad)
		model_diag(m, DIAG_WARNING, 0, "%zu ndarray objects could not be read whole "
			   "(fields out of range or memory not copied)", bad);
	follow_bases(t, m);
}

/* request2size(): what malloc compares with mmap_threshold. */
static uint64_t request_to_chunk_size(const struct heap_model *m, uint64_t n)
{
	const struct glibc_layout *G = m->glibc.layout;
	uint64_t size = align_up(n + (uint64_t)G->size_sz, (uint64_t)G->malloc_alignment);
	return size < (uint64_t)G->minsize ? (uint64_t)G->minsize : size;
}

const char *numpy_buffer_reason(const struct heap_model *m, const struct np_array *a,
				char *buf, size_t len)
{
	uint64_t request = a->nbytes ? a->nbytes : 1, thr = m->mp.mmap_threshold;
	uint64_t size = request_to_chunk_size(m, request);
	const char *dyn = m->mp.mmap_threshold_dynamic ?
		" (dynamic: raised by a free of an mmapped chunk)" : "";
	buf[0] = 0;
	if (!(a->flags & (uint32_t)m->np.layout->flag_owndata))
		return buf;
	if (a->buffer.kind == NPBUF_MMAPPED_CHUNK)
		snprintf(buf, len, size >= thr ? "%llu B (chunk %llu) >= mmap threshold %llu%s: "
						 "its own mmap"
					       : "%llu B (chunk %llu) < mmap threshold %llu%s now: "
						 "mmapped before the threshold was raised",
			 (unsigned long long)request, (unsigned long long)size,
			 (unsigned long long)thr, dyn);
	else if (a->buffer.kind == NPBUF_GLIBC_CHUNK)
		snprintf(buf, len, size < thr ? "%llu B (chunk %llu) < mmap threshold %llu%s: from "
						"arena %d's heap"
					      : "%llu B (chunk %llu) >= mmap threshold %llu%s, yet from "
						"arena %d's heap: a free chunk or the top was large "
						"enough (the threshold is only consulted when the "
						"heap must grow)",
			 (unsigned long long)request, (unsigned long long)size,
			 (unsigned long long)thr, dyn, a->buffer.arena);
	return buf;
}
