/*
 * model.c - construction, lookup and teardown of the heap model.
 */
#include "config.h"

#include "model.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[CHUNK_STATE_COUNT] = {
	[CHUNK_INUSE] = "inuse",	 [CHUNK_TCACHE] = "tcache",
	[CHUNK_FASTBIN] = "fastbin",	 [CHUNK_UNSORTED] = "unsorted",
	[CHUNK_SMALLBIN] = "smallbin",	 [CHUNK_LARGEBIN] = "largebin",
	[CHUNK_TOP] = "top",		 [CHUNK_MMAPPED] = "mmapped",
	[CHUNK_FENCEPOST] = "fencepost", [CHUNK_FREE_UNBINNED] = "free-unbinned",
};

const char *chunk_state_name(enum chunk_state s)
{
	return s < CHUNK_STATE_COUNT ? state_names[s] : "?";
}

int chunk_state_parse(const char *name)
{
	int i;
	for (i = 0; i < CHUNK_STATE_COUNT; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -1;
}

const char *bin_kind_name(enum bin_kind k)
{
	switch (k) {
	case BIN_FAST: return "fast";
	case BIN_UNSORTED: return "unsorted";
	case BIN_SMALL: return "small";
	case BIN_LARGE: return "large";
	}
	return "?";
}

struct heap_model *model_new(void)
{
	return xcalloc(1, sizeof(struct heap_model));
}

static void numpy_info_free(struct numpy_info *np)
{
	size_t i;
	for (i = 0; i < np->narrays; i++) {
		free(np->arrays[i].shape);
		free(np->arrays[i].buffer.path);
	}
	free(np->arrays);
	for (i = 0; i < np->npins; i++)
		free(np->pins[i].views);
	free(np->pins);
	free(np->buckets);
	free(np->module);
	free(np->error);
}

void model_diag(struct heap_model *m, enum diag_severity sev, uint64_t addr,
		const char *fmt, ...)
{
	struct diagnostic *d;
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("(out of memory formatting a diagnostic)");
	va_end(ap);
	d = ARRAY_PUSH(m->diags, m->ndiags, m->diags_cap);
	d->severity = sev;
	d->addr = addr;
	d->message = msg;
	d->mid_update_arena = -1;
}

int model_has_errors(const struct heap_model *m)
{
	size_t i;
	for (i = 0; i < m->ndiags; i++)
		if (m->diags[i].severity == DIAG_ERROR)
			return 1;
	return 0;
}

#define INDEX_PAGE 4096u

static void index_run(struct chunk_run *r, const struct chunk *chunks)
{
	size_t npages = (r->end - r->start + INDEX_PAGE - 1) / INDEX_PAGE, k = 0, i;
	r->page_chunk = NULL;
	if (r->count < 2 || npages > 64 * (r->count + 1024))
		return;		/* sparse or absurd: binary search instead */
	r->page_chunk = xmalloc(npages * sizeof *r->page_chunk);
	for (i = r->first; i < r->first + r->count; i++) {
		uint64_t end = chunks[i].addr + chunks[i].size;
		while (k < npages && r->start + (uint64_t)k * INDEX_PAGE < end)
			r->page_chunk[k++] = (uint32_t)i;
	}
}

void model_index_chunks(struct heap_model *m)
{
	size_t i, cap = 0;
	for (i = 0; i < m->nruns; i++)
		free(m->runs[i].page_chunk);
	m->nruns = 0;
	if (m->nchunks >= UINT32_MAX)
		return;		/* too many for 32-bit indexes: binary search only */
	for (i = 0; i < m->nchunks; i++) {
		const struct chunk *c = &m->chunks[i];
		struct chunk_run *r = m->nruns ? &m->runs[m->nruns - 1] : NULL;
		if (r && r->end == c->addr && c->addr + c->size > c->addr) {
			r->end += c->size;
			r->count++;
			continue;
		}
		r = ARRAY_PUSH(m->runs, m->nruns, cap);
		*r = (struct chunk_run){ c->addr, c->addr + c->size, i, 1, NULL };
	}
	for (i = 0; i < m->nruns; i++)
		index_run(&m->runs[i], m->chunks);
}

/* Index of the last chunk starting at or below ADDR, or SIZE_MAX. */
static size_t chunk_floor_search(const struct heap_model *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nchunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->chunks[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : (size_t)-1;
}

static const struct chunk_run *run_at(const struct heap_model *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nruns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < m->runs[mid].start)
			hi = mid;
		else if (addr >= m->runs[mid].end)
			lo = mid + 1;
		else
			return &m->runs[mid];
	}
	return NULL;
}

static size_t chunk_floor(const struct heap_model *m, uint64_t addr)
{
	const struct chunk_run *r;
	size_t i;
	if (!m->nruns)
		return chunk_floor_search(m, addr);
	r = run_at(m, addr);
	if (!r)
		return (size_t)-1;	/* in no chunk; model_chunk_at wants an exact start */
	if (!r->page_chunk) {
		size_t lo = r->first, hi = r->first + r->count;
		while (lo + 1 < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m->chunks[mid].addr <= addr)
				lo = mid;
			else
				hi = mid;
		}
		return lo;
	}
	i = r->page_chunk[(addr - r->start) / INDEX_PAGE];
	while (i + 1 < r->first + r->count && m->chunks[i + 1].addr <= addr)
		i++;
	return i;
}

struct chunk *model_chunk_at(const struct heap_model *m, uint64_t addr)
{
	size_t i = chunk_floor(m, addr);
	return i != (size_t)-1 && m->chunks[i].addr == addr ? &m->chunks[i] : NULL;
}

struct chunk *model_chunk_containing(const struct heap_model *m, uint64_t addr)
{
	size_t i = chunk_floor(m, addr);
	if (i == (size_t)-1 || addr - m->chunks[i].addr >= m->chunks[i].size)
		return NULL;
	return &m->chunks[i];
}

uint64_t chunk_mem(const struct heap_model *m, const struct chunk *c)
{
	return c->addr + 2 * (uint64_t)m->glibc.layout->size_sz;
}

uint64_t tcache_bin_chunk_size(const struct heap_model *m, unsigned i)
{
	const struct glibc_layout *L = m->glibc.layout;
	return (uint64_t)L->minsize + (uint64_t)i * (uint64_t)L->malloc_alignment;
}

uint64_t chunk_usable_size(const struct heap_model *m, const struct chunk *c)
{
	long sz = m->glibc.layout ? m->glibc.layout->size_sz : 8;
	/* musable(): mmapped chunks lose the whole header, others one word */
	return c->size - (uint64_t)(c->state == CHUNK_MMAPPED ? 2 * sz : sz);
}

void model_free(struct heap_model *m)
{
	size_t i, j;
	if (!m)
		return;
	for (i = 0; i < m->nmodules; i++) {
		free(m->modules[i].name);
		free(m->modules[i].file);
	}
	free(m->modules);
	for (i = 0; i < m->narenas; i++) {
		for (j = 0; j < m->arenas[i].nbins; j++)
			free(m->arenas[i].bins[j].chunks);
		free(m->arenas[i].bins);
		free(m->arenas[i].heaps);
	}
	for (i = 0; i < m->ntcaches; i++) {
		for (j = 0; j < m->tcaches[i].nbins; j++)
			free(m->tcaches[i].bin_entries[j]);
		free(m->tcaches[i].bin_entries);
		free(m->tcaches[i].bin_count);
	}
	for (i = 0; i < m->ndiags; i++)
		free(m->diags[i].message);
	free(m->diags);
	free(m->tcaches);
	free(m->arenas);
	for (i = 0; i < m->nruns; i++)
		free(m->runs[i].page_chunk);
	free(m->runs);
	free(m->chunks);
	free(m->exe);
	free(m->glibc.libc_path);
	free(m->py.library);
	free(m->where.map_path);
	for (i = 0; i < m->pym.narenas; i++)
		free(m->pym.arenas[i].holders);
	free(m->pym.arenas);
	for (i = 0; i < m->pym.ntypes; i++)
		free(m->pym.types[i].name);
	free(m->pym.types);
	numpy_info_free(&m->np);
	for (i = 0; i < m->ex.nowners; i++)
		free(m->ex.owners[i].owner);
	free(m->ex.owners);
	free(m->ex.trim);
	free(m->ex.pins);
	free(m);
}

struct chunk *model_chunk_of_mem(const struct heap_model *m, uint64_t mem)
{
	uint64_t header = 2 * (uint64_t)m->glibc.layout->size_sz;
	return mem > header ? model_chunk_at(m, mem - header) : NULL;
}
