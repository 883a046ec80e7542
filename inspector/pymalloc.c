/*
 * pymalloc.c - walk CPython's pymalloc: the arena vector, every arena,
 * every carved pool; per-size-class figures computed exactly as
 * _PyObject_DebugMallocStats computes them (Objects/obmalloc.c), so the
 * test can require equality with sys._debugmallocstats().
 *
 * Also the symbol-free locator for 3.8-3.11: pool headers sit at POOL_SIZE
 * boundaries of anonymous memory and name their arena's index; the arena
 * vector is the array whose entry i points at the arena holding the pools
 * of index i.
 *
 * Invariants: every header is read through target_view(); pool loops stop
 * at the arena's end; counts are checked against NUMBLOCKS before they are
 * added; what does not check out is a diagnostic.
 */
#include "config.h"

#include "python.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ARENA_INDEX (1u << 24)

static uint32_t u32_at(const unsigned char *p, long off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t u64_at(const unsigned char *p, long off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}

static uint64_t block_size(const struct python_layout *L, uint32_t szidx)
{
	return (uint64_t)(szidx + 1) * (uint64_t)L->alignment;
}

/* NUMBLOCKS(szidx) of obmalloc.c */
static uint64_t blocks_per_pool(const struct python_layout *L, uint32_t szidx)
{
	return ((uint64_t)L->pool_size - (uint64_t)L->pool_overhead) / block_size(L, szidx);
}

/* Does HDR look like a pool header?  (szidx in range, offsets consistent
 * with the block size, count within NUMBLOCKS.) */
static int plausible_pool(const struct python_layout *L, const unsigned char *hdr)
{
	uint32_t szidx = u32_at(hdr, L->pool_header_szidx);
	uint32_t next = u32_at(hdr, L->pool_header_nextoffset);
	uint32_t maxnext = u32_at(hdr, L->pool_header_maxnextoffset);
	uint64_t size;
	if (szidx >= (uint32_t)L->nb_small_size_classes)
		return 0;
	size = block_size(L, szidx);
	return maxnext == (uint64_t)L->pool_size - size && next <= maxnext + size &&
	       next >= (uint64_t)L->pool_overhead &&
	       (next - (uint64_t)L->pool_overhead) % size == 0 &&
	       u32_at(hdr, L->pool_header_count) <= blocks_per_pool(L, szidx) &&
	       u32_at(hdr, L->pool_header_arenaindex) < MAX_ARENA_INDEX;
}

/* ---- heuristic arena-vector locator (3.8-3.11 without symbols) --------- */

struct seen_pool {
	uint32_t arenaindex;
	uint64_t pool;
};

static size_t collect_pools(const struct target *t, const struct python_layout *L,
			    struct seen_pool **out)
{
	size_t i, n = 0, cap = 0;
	uint64_t psize = (uint64_t)L->pool_size;
	for (i = 0; i < t->nregions; i++) {
		const struct target_region *r = &t->regions[i];
		const struct target_mapping *mp = target_mapping_at(t, r->start);
		uint64_t p;
		if (!mp || mp->path[0] || mp->shared)
			continue;	/* arenas are anonymous private mmaps */
		for (p = align_up(r->start, psize); p + psize <= r->end; p += psize) {
			const unsigned char *hdr = r->bytes + (p - r->start);
			if (plausible_pool(L, hdr))
				*ARRAY_PUSH(*out, n, cap) = (struct seen_pool){
					u32_at(hdr, L->pool_header_arenaindex), p };
		}
	}
	return n;
}

/* Is V an arena vector consistent with every pool seen? */
static int vector_matches(const struct target *t, const struct python_layout *L, uint64_t v,
			  const struct seen_pool *pools, size_t npools)
{
	size_t i;
	for (i = 0; i < npools; i++) {
		uint64_t entry = v + pools[i].arenaindex * (uint64_t)L->arena_object_sizeof, a, hw;
		if (target_read_u64(t, entry + (uint64_t)L->arena_object_address, &a) < 0 ||
		    target_read_u64(t, entry + (uint64_t)L->arena_object_pool_address, &hw) < 0)
			return 0;
		if (!a || a % 4096 || pools[i].pool < a || pools[i].pool >= a + (uint64_t)L->arena_size ||
		    hw < a || hw > a + (uint64_t)L->arena_size)
			return 0;
	}
	return 1;
}

/* Search writable anonymous memory and the brk heap for a word naming the
 * arena of POOLS[0], then check the whole candidate vector. */
static uint64_t search_vector(const struct target *t, const struct python_layout *L,
			      const struct seen_pool *pools, size_t npools)
{
	uint64_t p0 = pools[0].pool, asize = (uint64_t)L->arena_size;
	uint64_t back = pools[0].arenaindex * (uint64_t)L->arena_object_sizeof +
			(uint64_t)L->arena_object_address;
	size_t i;
	for (i = 0; i < t->nregions; i++) {
		const struct target_region *r = &t->regions[i];
		const struct target_mapping *mp = target_mapping_at(t, r->start);
		uint64_t off;
		if (!mp || !(mp->prot & TARGET_PROT_WRITE) || (mp->path[0] && strcmp(mp->path, "[heap]")))
			continue;
		for (off = 0; off + 8 <= r->end - r->start; off += 8) {
			uint64_t w = u64_at(r->bytes, (long)off), at = r->start + off;
			if (w > p0 || p0 - w >= asize || w % 4096 || at < back)
				continue;
			if (vector_matches(t, L, at - back, pools, npools))
				return at - back;
		}
	}
	return 0;
}

uint64_t python_find_arena_vector(const struct target *t, const struct heap_model *m,
				  uint64_t *maxarenas)
{
	const struct python_layout *L = m->py.layout;
	struct seen_pool *pools = NULL;
	size_t npools = collect_pools(t, L, &pools);
	uint64_t v = npools ? search_vector(t, L, pools, npools) : 0;
	const struct chunk *c;
	free(pools);
	if (!v)
		return 0;
	/* PyMem_RawRealloc'd to maxarenas * sizeof(arena_object): its chunk */
	c = model_chunk_containing(m, v);
	if (c && chunk_mem(m, c) == v)
		*maxarenas = chunk_usable_size(m, c) / (uint64_t)L->arena_object_sizeof;
	else
		return 0;
	return v;
}

/* ---- the walk ----------------------------------------------------------- */

static void walk_pool(struct heap_model *m, struct py_arena *a, uint64_t pool,
		      const unsigned char *hdr)
{
	const struct python_layout *L = m->py.layout;
	struct pymalloc_stats *s = &m->pym;
	uint32_t count = u32_at(hdr, L->pool_header_count);
	uint32_t szidx = u32_at(hdr, L->pool_header_szidx);
	if (count == 0)
		return;		/* empty: counted in the arena's nfreepools */
	if (szidx >= s->nclasses || count > blocks_per_pool(L, szidx)) {
		model_diag(m, DIAG_ERROR, pool, "pymalloc pool 0x%llx: size class %u with %u "
			   "blocks is impossible", (unsigned long long)pool, szidx, count);
		return;
	}
	s->classes[szidx].pools++;
	s->classes[szidx].blocks_in_use += count;
	s->classes[szidx].avail_blocks += blocks_per_pool(L, szidx) - count;
	a->used_pools++;
	a->used_blocks += count;
	a->used_bytes += count * block_size(L, szidx);
}

static void walk_arena(const struct target *t, struct heap_model *m, struct py_arena *a)
{
	const struct python_layout *L = m->py.layout;
	uint64_t psize = (uint64_t)L->pool_size, base = a->addr;
	uint64_t end = a->addr + (uint64_t)L->arena_size;
	if (base % psize) {	/* the first pool is rounded up: one pool lost */
		m->pym.alignment_loss += psize;
		base = align_up(base, psize);
	}
	if (a->pool_address < base || a->pool_address > end) {
		model_diag(m, DIAG_ERROR, a->addr, "pymalloc arena %u at 0x%llx: pool_address "
			   "0x%llx outside the arena", a->index, (unsigned long long)a->addr,
			   (unsigned long long)a->pool_address);
		return;
	}
	for (; base < a->pool_address; base += psize) {
		const unsigned char *hdr = target_view(t, base, (size_t)L->pool_header_sizeof);
		if (!hdr) {
			model_diag(m, DIAG_ERROR, base, "pymalloc pool 0x%llx was not copied",
				   (unsigned long long)base);
			continue;
		}
		walk_pool(m, a, base, hdr);
	}
}

static void add_totals(struct heap_model *m)
{
	const struct python_layout *L = m->py.layout;
	struct pymalloc_stats *s = &m->pym;
	unsigned i;
	for (i = 0; i < s->nclasses; i++) {
		uint64_t size = block_size(L, i);
		s->bytes_in_allocated_blocks += s->classes[i].blocks_in_use * size;
		s->bytes_in_available_blocks += s->classes[i].avail_blocks * size;
		s->pool_header_bytes += s->classes[i].pools * (uint64_t)L->pool_overhead;
		s->quantization_bytes += s->classes[i].pools *
					 (((uint64_t)L->pool_size - (uint64_t)L->pool_overhead) % size);
	}
}

void pymalloc_walk(const struct target *t, struct heap_model *m)
{
	const struct python_layout *L = m->py.layout;
	uint64_t i, esize = (uint64_t)L->arena_object_sizeof;
	const unsigned char *vec = target_view(t, m->py.arenas_vector, m->py.maxarenas * esize);
	size_t cap = 0;
	m->pym.nclasses = (unsigned)L->nb_small_size_classes;
	if (!vec || m->py.maxarenas > MAX_ARENA_INDEX) {
		model_diag(m, DIAG_ERROR, m->py.arenas_vector, "pymalloc arena vector 0x%llx "
			   "(%llu entries) is not readable", (unsigned long long)m->py.arenas_vector,
			   (unsigned long long)m->py.maxarenas);
		return;
	}
	for (i = 0; i < m->py.maxarenas; i++) {
		const unsigned char *e = vec + i * esize;
		struct py_arena *a;
		if (!u64_at(e, L->arena_object_address))
			continue;
		a = ARRAY_PUSH(m->pym.arenas, m->pym.narenas, cap);
		memset(a, 0, sizeof *a);
		a->index = (uint32_t)i;
		a->addr = u64_at(e, L->arena_object_address);
		a->pool_address = u64_at(e, L->arena_object_pool_address);
		a->nfreepools = u32_at(e, L->arena_object_nfreepools);
		a->ntotalpools = u32_at(e, L->arena_object_ntotalpools);
		m->pym.unused_pools += a->nfreepools;
		walk_arena(t, m, a);
		a->low_use = a->used_bytes < (uint64_t)L->arena_size / 4;
	}
	m->pym.arenas_current = m->pym.narenas;
	if (m->py.have_narenas_current && m->py.narenas_current != m->pym.narenas)
		model_diag(m, DIAG_WARNING, 0, "pymalloc counts %llu arenas but the vector holds "
			   "%zu", (unsigned long long)m->py.narenas_current, m->pym.narenas);
	add_totals(m);
}

const struct py_arena *pymalloc_arena_containing(const struct heap_model *m, uint64_t addr)
{
	size_t i;
	if (!m->py.found)
		return NULL;
	for (i = 0; i < m->pym.narenas; i++)
		if (addr >= m->pym.arenas[i].addr &&
		    addr - m->pym.arenas[i].addr < (uint64_t)m->py.layout->arena_size)
			return &m->pym.arenas[i];
	return NULL;
}
