/*
 * who.c - what lives at one address (command `obj ADDR`): the mapping,
 * the glibc chunk, the pymalloc arena/pool/block and its state, and the
 * Python object there.
 *
 * Invariant: it only reads what the walkers already checked (the model)
 * plus the block itself through target_view(); an address nobody owns is
 * reported as such, never attributed by guess.
 */
#include "config.h"

#include "python.h"
#include "util.h"
#include "who.h"

#include <string.h>

static void describe_mapping(const struct target *t, struct address_info *w)
{
	const struct target_mapping *mp = target_mapping_at(t, w->query);
	if (!mp)
		return;
	w->mapped = 1;
	w->map_start = mp->start;
	w->map_end = mp->end;
	snprintf(w->map_perms, sizeof w->map_perms, "%c%c%c%c",
		 mp->prot & TARGET_PROT_READ ? 'r' : '-', mp->prot & TARGET_PROT_WRITE ? 'w' : '-',
		 mp->prot & TARGET_PROT_EXEC ? 'x' : '-', mp->shared ? 's' : 'p');
	w->map_path = xstrdup(mp->path);
}

/* Is BLOCK on the free list starting at FREEBLOCK (bounded by N steps)? */
static int on_free_list(const struct target *t, uint64_t freeblock, uint64_t block, uint64_t n)
{
	while (freeblock && n--) {
		if (freeblock == block)
			return 1;
		if (target_read_u64(t, freeblock, &freeblock) < 0)
			return 0;
	}
	return 0;
}

static void describe_pymalloc(const struct target *t, struct heap_model *m, struct address_info *w)
{
	const struct python_layout *L = m->py.layout;
	const struct py_arena *a = pymalloc_arena_containing(m, w->query);
	uint64_t first, freeblock, index;
	uint32_t nextoffset;
	const unsigned char *hdr;
	if (!a)
		return;
	w->in_pymalloc = 1;
	w->arena = a->addr;
	w->pool = align_down(w->query, (uint64_t)L->pool_size);
	if (w->pool < align_up(a->addr, (uint64_t)L->pool_size) || w->pool >= a->pool_address ||
	    !(hdr = target_view(t, w->pool, (size_t)L->pool_header_sizeof))) {
		w->pool = 0;	/* arena slack or never-carved pools */
		return;
	}
	memcpy(&w->szidx, hdr + L->pool_header_szidx, 4);
	memcpy(&w->pool_count, hdr + L->pool_header_count, 4);
	memcpy(&nextoffset, hdr + L->pool_header_nextoffset, 4);
	memcpy(&freeblock, hdr + L->pool_header_freeblock, 8);
	first = w->pool + (uint64_t)L->pool_overhead;
	if (w->query < first || w->szidx >= (uint32_t)L->nb_small_size_classes) {
		w->block_state = 3;
		return;
	}
	w->block_size = (uint64_t)(w->szidx + 1) * (uint64_t)L->alignment;
	index = (w->query - first) / w->block_size;
	w->block = first + index * w->block_size;
	if (!w->pool_count || w->block - w->pool >= nextoffset)
		w->block_state = w->pool_count ? 2 : 1;
	else if (on_free_list(t, freeblock, w->block, (uint64_t)L->pool_size / 16))
		w->block_state = 1;
	else
		w->has_object = python_identify(t, m, w->block, w->block_size, 1, &w->object);
}

void address_describe(const struct target *t, struct heap_model *m, uint64_t addr)
{
	struct address_info *w = &m->where;
	w->query = addr;
	describe_mapping(t, w);
	w->chunk = model_chunk_containing(m, addr);
	if (m->py.found)
		describe_pymalloc(t, m, w);
	if (m->py.found && !w->in_pymalloc && w->chunk &&
	    (w->chunk->state == CHUNK_INUSE || w->chunk->state == CHUNK_MMAPPED))
		w->has_object = python_identify(t, m, chunk_mem(m, w->chunk),
						chunk_usable_size(m, w->chunk),
						w->chunk->state == CHUNK_MMAPPED ? 3 : 2, &w->object);
}
