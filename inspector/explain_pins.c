/*
 * explain_pins.c - the fragments that keep memory from going back to the
 * OS, each with the bytes it keeps:
 *   heap-top        a glibc heap gives memory back only from its top (sbrk
 *                   for the main heap, shrink_heap for a thread arena's
 *                   last heap), and only when the top chunk grows past
 *                   trim_threshold; a free run of at least trim_threshold
 *                   bytes with in-use chunks (tcache and fastbin chunks
 *                   count as in use) between it and the top is kept by
 *                   them.  The fragment is the lowest of them, the one
 *                   right above the run.
 *   pymalloc-arena  an arena is munmap'ed only when all its pools are
 *                   empty: each low-use arena, with the live objects in it.
 *   numpy-view      views keeping a base buffer alive (numpy_pins.c).
 *   numpy-cache     buffers parked in NumPy's datacache/dimcache.
 *   mmap-threshold  a free of an mmapped chunk raised mmap_threshold: heap
 *                   chunks between the default and the raised threshold
 *                   would have been mmapped (and returned on free).
 * Ranked by bytes, largest first.
 */
#include "config.h"

#include "explain_impl.h"
#include "python.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static struct pin *new_pin(struct heap_model *m, enum pin_kind kind)
{
	struct pin *p = ARRAY_PUSH(m->ex.pins, m->ex.npins, m->ex.pins_cap);
	memset(p, 0, sizeof *p);
	p->kind = (uint8_t)kind;
	p->state = -1;
	p->arena = -1;
	p->owner_type = -1;
	return p;
}

/* Who owns in-use chunk C: a NumPy array's data, a Python object, or
 * nobody known. */
static void name_chunk_owner(const struct target *t, struct heap_model *m, const struct chunk *c,
			     struct pin *p)
{
	struct py_object_info obj;
	size_t i;
	if (m->py.found && m->py.arenas_vector && chunk_mem(m, c) == m->py.arenas_vector) {
		p->owner_note = "pymalloc's arena table (arena_object[])";
		return;
	}
	for (i = 0; i < m->np.narrays; i++)
		if (m->np.arrays[i].buffer.alloc == c->addr && !m->np.arrays[i].buffer.offset &&
		    (m->np.arrays[i].buffer.kind == NPBUF_GLIBC_CHUNK)) {
			p->owner_type = m->np.arrays[i].type;
			p->owner_note = "data buffer";
			p->owner_addr = m->np.arrays[i].addr;
			return;
		}
	if (c->state == CHUNK_INUSE && m->py.found &&
	    python_identify(t, m, chunk_mem(m, c), chunk_usable_size(m, c), 2, &obj)) {
		p->owner_type = python_type_register(t, m, obj.type);
		p->owner_addr = obj.addr;
	}
}

static void add_heap_top_pin(const struct target *t, struct heap_model *m, int arena,
			     const struct chunk *lowest_lid, uint64_t run, uint64_t run_end,
			     uint64_t lid_count, uint64_t lid_bytes)
{
	struct pin *p = new_pin(m, PIN_HEAP_TOP);
	p->bytes = run_end - run;
	p->resident = target_resident_bytes(t, run, run_end);
	p->addr = lowest_lid->addr;
	p->size = lowest_lid->size;
	p->state = lowest_lid->state;
	p->arena = arena;
	p->run_addr = run;
	p->run_size = run_end - run;
	p->lid_count = lid_count;
	p->lid_bytes = lid_bytes;
	name_chunk_owner(t, m, lowest_lid, p);
}

/* From the top of segment S down: every large free run below in-use
 * chunks. */
static void heap_top_pins(const struct target *t, struct heap_model *m, int arena,
			  const struct heap_segment *s)
{
	size_t first, end, i;
	uint64_t lid_count = 0, lid_bytes = 0, run = 0, run_end = 0;
	const struct chunk *above = NULL;	/* the in-use chunk above the current run */
	segment_chunks(m, s, &first, &end);
	if (first == end || m->chunks[end - 1].state != CHUNK_TOP)
		return;
	for (i = end - 1; i-- > first;) {
		const struct chunk *c = &m->chunks[i];
		if (chunk_free_for_shrink(c->state)) {
			run = c->addr;
			run_end = run_end ? run_end : c->addr + c->size;
			continue;
		}
		if (run && above && run_end - run >= m->mp.trim_threshold)
			add_heap_top_pin(t, m, arena, above, run, run_end, lid_count, lid_bytes);
		run = run_end = 0;
		if (c->state == CHUNK_FENCEPOST)
			continue;
		lid_count++;
		lid_bytes += c->size;
		above = c;
	}
	if (run && above && run_end - run >= m->mp.trim_threshold)
		add_heap_top_pin(t, m, arena, above, run, run_end, lid_count, lid_bytes);
}

static void pymalloc_arena_pins(const struct target *t, struct heap_model *m)
{
	uint64_t arena_size = m->py.found ? (uint64_t)m->py.layout->arena_size : 0;
	size_t i;
	for (i = 0; i < m->pym.narenas; i++) {
		const struct py_arena *a = &m->pym.arenas[i];
		struct pin *p;
		if (!a->low_use || !a->used_blocks)
			continue;
		p = new_pin(m, PIN_PYMALLOC_ARENA);
		p->addr = a->addr;
		p->size = p->bytes = arena_size;
		p->resident = target_resident_bytes(t, a->addr, a->addr + arena_size);
		p->count = a->used_blocks;
		if (a->nholders) {
			p->owner_type = a->holders[0].type;
			p->owner_addr = a->holders[0].example;
		}
	}
}

static void numpy_view_pins(const struct target *t, struct heap_model *m)
{
	size_t i;
	for (i = 0; i < m->np.npins; i++) {
		const struct np_pin *np = &m->np.pins[i];
		const struct np_array *view = &m->np.arrays[np->views[0]];
		struct pin *p = new_pin(m, PIN_NUMPY_VIEW);
		p->bytes = np->pinned_bytes;
		p->resident = target_resident_bytes(t, view->buffer.alloc,
						    view->buffer.alloc + view->buffer.size);
		p->addr = view->addr;
		p->size = np->visible_bytes;
		p->count = np->nviews;
		p->owner_type = np->base_type;
		p->owner_addr = np->base;
		p->owner_note = np->only_views ? "base kept only by views" : "base referenced elsewhere too";
	}
}

static void numpy_cache_pin(const struct target *t, struct heap_model *m)
{
	struct pin *p;
	size_t i, k;
	if (!m->np.cache_data.count && !m->np.cache_dims.count)
		return;
	p = new_pin(m, PIN_NUMPY_CACHE);
	p->addr = m->np.datacache ? m->np.datacache : m->np.dimcache;
	p->bytes = m->np.cache_data.bytes + m->np.cache_dims.bytes;
	p->count = m->np.cache_data.count + m->np.cache_dims.count;
	for (i = 0; i < m->np.nbuckets; i++)
		for (k = 0; k < m->np.buckets[i].count; k++) {
			const struct chunk *c = model_chunk_of_mem(m, m->np.buckets[i].entries[k]);
			if (c)
				p->resident += target_resident_bytes(t, chunk_mem(m, c),
								     chunk_mem(m, c) +
									     chunk_usable_size(m, c));
		}
}

static void mmap_threshold_pin(const struct target *t, struct heap_model *m)
{
	uint64_t low = (uint64_t)m->glibc.layout->default_mmap_threshold;
	const struct chunk *largest = NULL;
	struct pin *p;
	size_t i;
	struct pin found = { 0 };
	if (!m->mp.mmap_threshold_dynamic)
		return;
	p = &found;
	for (i = 0; i < m->nchunks; i++) {
		const struct chunk *c = &m->chunks[i];
		if (c->state != CHUNK_INUSE || chunk_usable_size(m, c) < low ||
		    chunk_usable_size(m, c) >= m->mp.mmap_threshold)
			continue;
		p->count++;
		p->bytes += c->size;
		p->resident += target_resident_bytes(t, c->addr, c->addr + c->size);
		if (!largest || c->size > largest->size)
			largest = c;
	}
	if (!largest)
		return;	/* raised, but nothing in the heap because of it */
	p = new_pin(m, PIN_MMAP_THRESHOLD);
	p->count = found.count;
	p->bytes = found.bytes;
	p->resident = found.resident;
	p->size = m->mp.mmap_threshold;
	p->addr = largest->addr;
	p->state = largest->state;
	p->arena = largest->arena;
	name_chunk_owner(t, m, largest, p);
}

static int by_bytes(const void *a, const void *b)
{
	const struct pin *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void explain_pins(const struct target *t, struct heap_model *m)
{
	size_t a, h;
	for (a = 0; a < m->narenas; a++)
		for (h = 0; h < m->arenas[a].nheaps; h++) {
			const struct heap_segment *s = &m->arenas[a].heaps[h];
			if (s->chunks_start <= m->arenas[a].top && m->arenas[a].top < s->chunks_end)
				heap_top_pins(t, m, (int)a, s);	/* only the top's heap shrinks */
		}
	pymalloc_arena_pins(t, m);
	if (m->np.found) {
		numpy_view_pins(t, m);
		numpy_cache_pin(t, m);
	}
	mmap_threshold_pin(t, m);
	sort_items(m->ex.pins, m->ex.npins, sizeof *m->ex.pins, by_bytes);
}
