/*
 * explain_trim.c - what malloc_trim(0) would give back now, computed the
 * way glibc 2.36's mtrim() and systrim() (malloc.c) do it, page by page:
 *   - for every arena: fastbins are consolidated first (a fastbin chunk
 *     merges with free neighbours, and into top when it touches it); then
 *     every binned free chunk larger than a page plus sizeof(struct
 *     malloc_chunk) has its whole pages, from the first page boundary past
 *     chunk + sizeof(struct malloc_chunk), MADV_DONTNEED'd;
 *   - for the main arena only: the top chunk is shrunk by
 *     ALIGN_DOWN(top_size - MINSIZE - 1, pagesize) with sbrk, provided the
 *     break is where the heap ends (no foreign sbrk).
 *   Thread arenas' tops are not trimmed by malloc_trim; tcaches are not
 *   flushed.  Only pages resident at the pause count.
 */
#include "config.h"

#include "explain_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

/* Bytes MADV_DONTNEED would drop from the consolidated free chunk
 * [START, END). */
static uint64_t madvise_run(const struct target *t, const struct heap_model *m, uint64_t start,
			    uint64_t end)
{
	uint64_t chunk_struct = 6 * (uint64_t)m->glibc.layout->size_sz;	/* struct malloc_chunk */
	uint64_t paligned = align_up(start + chunk_struct, PAGE);
	if (end - start <= PAGE - 1 + chunk_struct || end <= paligned || end - paligned <= PAGE - 1)
		return 0;
	return target_resident_bytes(t, paligned, paligned + align_down(end - paligned, PAGE));
}

/* Does the break sit where the main heap's top ends?  The [heap] mapping
 * ends at the page-aligned break. */
static int brk_at_heap_end(const struct target *t, uint64_t top_end)
{
	const struct target_mapping *mp = target_mapping_at(t, top_end - 1);
	return mp && !strcmp(mp->path, "[heap]") && mp->end == align_up(top_end, PAGE);
}

static uint64_t systrim(const struct target *t, const struct heap_model *m, uint64_t top_start,
			uint64_t top_end, int *blocked)
{
	uint64_t top_size = top_end - top_start, minsize = (uint64_t)m->glibc.layout->minsize;
	uint64_t extra;
	if (top_size <= minsize + 1)
		return 0;
	extra = align_down(top_size - minsize - 1, PAGE);
	if (!extra)
		return 0;
	if (!brk_at_heap_end(t, top_end)) {
		*blocked = 1;
		return 0;
	}
	return target_resident_bytes(t, align_up(top_end - extra, PAGE), align_up(top_end, PAGE));
}

/* One heap segment: consolidated runs, madvise'd; the top it ends with. */
static void trim_segment(const struct target *t, struct heap_model *m, const struct heap_segment *s,
			 struct trim_arena *out, uint64_t *top_start, uint64_t *top_end)
{
	size_t i, end;
	uint64_t run = 0, run_end = 0;
	segment_chunks(m, s, &i, &end);
	for (; i < end; i++) {
		const struct chunk *c = &m->chunks[i];
		if (chunk_free_for_trim(c->state)) {
			run = run ? run : c->addr;
			run_end = c->addr + c->size;
			continue;
		}
		if (c->state == CHUNK_TOP) {
			*top_start = run ? run : c->addr;	/* consolidation merges into top */
			*top_end = c->addr + c->size;
		} else if (run) {
			out->madvise += madvise_run(t, m, run, run_end);
		}
		run = 0;
	}
	if (run)
		out->madvise += madvise_run(t, m, run, run_end);
}

void explain_trim(const struct target *t, struct heap_model *m)
{
	size_t a, h;
	m->ex.trim = xcalloc(m->narenas + 1, sizeof *m->ex.trim);
	for (a = 0; a < m->narenas; a++) {
		const struct arena *ar = &m->arenas[a];
		struct trim_arena *out = &m->ex.trim[a];
		uint64_t top_start = 0, top_end = 0;
		for (h = 0; h < ar->nheaps; h++)
			trim_segment(t, m, &ar->heaps[h], out, &top_start, &top_end);
		if (ar->is_main && top_end)
			out->top_trim = systrim(t, m, top_start, top_end, &m->ex.trim_top_blocked);
		m->ex.trim_total += out->madvise + out->top_trim;
	}
}
