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

void model_free(struct heap_model *m)
{
	size_t i, j;
	if (!m)
		return;
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
	free(m->chunks);
	free(m->exe);
	free(m->glibc.libc_path);
	free(m);
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
}

int model_has_errors(const struct heap_model *m)
{
	size_t i;
	for (i = 0; i < m->ndiags; i++)
		if (m->diags[i].severity == DIAG_ERROR)
			return 1;
	return 0;
}

/* Index of the last chunk starting at or below ADDR, or SIZE_MAX. */
static size_t chunk_floor(const struct heap_model *m, uint64_t addr)
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

uint64_t chunk_usable_size(const struct heap_model *m, const struct chunk *c)
{
	long sz = m->glibc.layout ? m->glibc.layout->size_sz : 8;
	/* musable(): mmapped chunks lose the whole header, others one word */
	return c->size - (uint64_t)(c->state == CHUNK_MMAPPED ? 2 * sz : sz);
}
