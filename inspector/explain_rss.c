/*
 * explain_rss.c - where the resident anonymous memory is: for each kind
 * of region (the brk heap, thread arenas' heaps, mmapped chunks, pymalloc
 * arenas, other anonymous mappings, copied-on-write pages of file
 * mappings) its mapped and resident bytes, and the resident bytes split
 * into live, free and allocator overhead; then live bytes by owner.
 *
 * Residency is /proc/PID/pagemap's, page by page, taken during the pause:
 * a page counts if it is present and private anonymous (what RssAnon
 * counts).  Invariants: regions do not overlap, so their resident bytes
 * add up to resident_anon (other-anon is what the others leave); live +
 * free + overhead == resident in every row.  Within glibc heaps a chunk's
 * header is overhead, the rest live (in use) or free (tcache, fastbin,
 * bins, top); pymalloc live bytes are its used blocks.  Owners count the
 * resident bytes of each object's block or chunk and of the buffers it
 * owns (NumPy data included), as the census and the NumPy walker met them.
 */
#include "config.h"

#include "commands.h"
#include "explain_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_OWNERS 15

static int is_anonymous_path(const char *path)
{
	return !path[0] || path[0] == '[';
}

static void close_row(struct rss_region *r)
{
	if (r->live + r->free > r->resident)	/* cannot happen with sane input */
		r->free = r->resident > r->live ? r->resident - r->live : 0;
	if (r->live > r->resident)
		r->live = r->resident;
	r->overhead = r->resident - r->live - r->free;
}

/* Live and free bytes of the chunks of segment S, into R. */
static void heap_chunks(const struct target *t, const struct heap_model *m,
			const struct heap_segment *s, struct rss_region *r)
{
	uint64_t header = 2 * (uint64_t)m->glibc.layout->size_sz;
	size_t i, end;
	segment_chunks(m, s, &i, &end);
	for (; i < end; i++) {
		const struct chunk *c = &m->chunks[i];
		if (c->state == CHUNK_INUSE)
			r->live += target_resident_bytes(t, c->addr + header, c->addr + c->size);
		else if (c->state != CHUNK_FENCEPOST)
			r->free += target_resident_bytes(t, c->addr, c->addr + c->size);
	}
}

static void glibc_heaps(const struct target *t, struct heap_model *m)
{
	size_t a, h;
	for (a = 0; a < m->narenas; a++)
		for (h = 0; h < m->arenas[a].nheaps; h++) {
			const struct heap_segment *s = &m->arenas[a].heaps[h];
			struct rss_region *r = &m->ex.regions[m->arenas[a].is_main ? RSS_BRK_HEAP
										 : RSS_ARENA_HEAPS];
			uint64_t start = s->addr, end = s->chunks_end;
			const struct target_mapping *mp = target_mapping_at(t, s->chunks_start);
			if (m->arenas[a].is_main && mp && !strcmp(mp->path, "[heap]")) {
				start = mp->start;	/* the whole brk area */
				end = mp->end;
			} else if (!m->arenas[a].is_main) {
				end = s->addr + s->size;
			}
			r->mapped += end - start;
			r->resident += target_resident_bytes(t, start, end);
			heap_chunks(t, m, s, r);
		}
}

static void mmapped_chunks(const struct target *t, struct heap_model *m)
{
	struct rss_region *r = &m->ex.regions[RSS_MMAPPED_CHUNKS];
	uint64_t header = 2 * (uint64_t)m->glibc.layout->size_sz;
	uint64_t tail = (uint64_t)m->glibc.layout->mmap_chunk_tail;
	size_t i;
	for (i = 0; i < m->nchunks; i++) {
		const struct chunk *c = &m->chunks[i];
		uint64_t start, end;
		if (c->state != CHUNK_MMAPPED)
			continue;
		start = c->addr - c->mmap_prev_size;
		end = c->addr + c->size + tail;
		r->mapped += end - start;
		r->resident += target_resident_bytes(t, start, end);
		r->live += target_resident_bytes(t, c->addr + header, c->addr + c->size);
	}
}

static void pymalloc_arenas(const struct target *t, struct heap_model *m)
{
	struct rss_region *r = &m->ex.regions[RSS_PYMALLOC_ARENAS];
	uint64_t size, header;
	size_t i;
	if (!m->py.found)
		return;
	size = (uint64_t)m->py.layout->arena_size;
	header = (uint64_t)m->py.layout->pool_overhead;
	for (i = 0; i < m->pym.narenas; i++) {
		const struct py_arena *a = &m->pym.arenas[i];
		uint64_t resident = target_resident_bytes(t, a->addr, a->addr + size);
		uint64_t live = a->used_bytes < resident ? a->used_bytes : resident;
		uint64_t overhead = a->used_pools * header;
		r->mapped += size;
		r->resident += resident;
		r->live += live;
		r->free += resident - live - (overhead < resident - live ? overhead : resident - live);
	}
}

/* resident_anon, file-cow, and other-anon as what the rest leave. */
static void totals(const struct target *t, struct heap_model *m)
{
	struct rss_region *cow = &m->ex.regions[RSS_FILE_COW], *other = &m->ex.regions[RSS_OTHER_ANON];
	uint64_t anon_mapped = 0, anon_resident = 0, known = 0;
	size_t i, k;
	for (i = 0; i < t->nresidency; i++) {
		const struct target_residency *res = &t->residency[i];
		const struct target_mapping *mp = target_mapping_at(t, res->start);
		uint64_t bytes = target_resident_bytes(t, res->start, res->end);
		m->ex.resident_anon += bytes;
		if (mp && !is_anonymous_path(mp->path)) {
			cow->mapped += res->end - res->start;
			cow->resident += bytes;
		} else {
			anon_mapped += res->end - res->start;
			anon_resident += bytes;
		}
	}
	cow->live = cow->resident;
	for (k = 0; k < RSS_KIND_COUNT; k++)
		if (k != RSS_FILE_COW && k != RSS_OTHER_ANON) {
			known += m->ex.regions[k].resident;
			anon_mapped -= m->ex.regions[k].mapped < anon_mapped ? m->ex.regions[k].mapped
									     : anon_mapped;
		}
	other->mapped = anon_mapped;
	other->resident = other->live = anon_resident > known ? anon_resident - known : 0;
}

static void add_owner(struct heap_model *m, char *name, uint64_t bytes)
{
	if (!bytes) {
		free(name);
		return;
	}
	*ARRAY_PUSH(m->ex.owners, m->ex.nowners, m->ex.owners_cap) =
		(struct owner_bytes){ name, bytes };
}

static int by_owner_bytes(const void *a, const void *b)
{
	const struct owner_bytes *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->owner, y->owner);
}

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Live bytes by owner: Python types (objects and the buffers they own),
 * NumPy arrays' own data buffers, NumPy's caches, raw malloc (glibc live bytes no
 * Python object claims), unrecognised pymalloc blocks, the rest. */
static void owners(struct heap_model *m)
{
	const struct rss_region *R = m->ex.regions;
	uint64_t glibc_live = R[RSS_BRK_HEAP].live + R[RSS_ARENA_HEAPS].live +
			      R[RSS_MMAPPED_CHUNKS].live;
	uint64_t in_glibc = 0, in_pymalloc = 0, rest = 0, cache;
	size_t *order = types_by_bytes(m), i;
	for (i = 0; i < m->pym.ntypes; i++) {
		const struct py_type_stat *ts = &m->pym.types[order[i]];
		uint64_t bytes = ts->resident;
		in_glibc += ts->resident_in_glibc;
		in_pymalloc += ts->resident - ts->resident_in_glibc;
		if (i < MAX_TYPE_OWNERS)
			add_owner(m, xasprintf("python:%s", ts->name), bytes);
		else
			rest += bytes;
	}
	free(order);
	add_owner(m, xstrdup("python:(other types)"), rest);
	add_owner(m, xstrdup("numpy"), m->np.owned_resident);	/* arrays' own data */
	in_glibc += m->np.owned_resident;
	cache = m->np.cache_data.bytes + m->np.cache_dims.bytes;
	add_owner(m, xstrdup("numpy-cache"), cache);
	add_owner(m, xstrdup("raw-malloc"), minus(glibc_live, in_glibc + cache));
	add_owner(m, xstrdup("pymalloc:unrecognised"), minus(R[RSS_PYMALLOC_ARENAS].live, in_pymalloc));
	add_owner(m, xstrdup("other-anon"), R[RSS_OTHER_ANON].live);
	add_owner(m, xstrdup("module-data"), R[RSS_FILE_COW].live);
	sort_items(m->ex.owners, m->ex.nowners, sizeof *m->ex.owners, by_owner_bytes);
}

void explain_rss(const struct target *t, struct heap_model *m)
{
	size_t k;
	m->ex.have_residency = t->have_residency;
	m->ex.residency_source = (int)t->residency_source;
	m->ex.measured_anon = t->rss_anon;
	if (!t->have_residency)
		return;
	glibc_heaps(t, m);
	mmapped_chunks(t, m);
	pymalloc_arenas(t, m);
	totals(t, m);
	for (k = 0; k < RSS_KIND_COUNT; k++)
		close_row(&m->ex.regions[k]);
	owners(m);
}
