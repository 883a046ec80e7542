/*
 * explain_impl.h - the parts of the explain analysis, shared between its
 * files (explain.c runs them in order).  Not for other users.
 */
#ifndef HEAPINSPECT_EXPLAIN_IMPL_H
#define HEAPINSPECT_EXPLAIN_IMPL_H

#include "explain.h"

/* Chunks of heap segment S: indexes [*FIRST, *END) of m->chunks. */
void segment_chunks(const struct heap_model *m, const struct heap_segment *s, size_t *first,
		    size_t *end);

/* Free as malloc_trim sees it (fastbins are consolidated first)... */
int chunk_free_for_trim(enum chunk_state s);
/* ...and as an automatic shrink of the heap sees it (tcache and fastbin
 * chunks are in use). */
int chunk_free_for_shrink(enum chunk_state s);

/* explain_trim.c: m->ex.trim, trim_total, trim_top_blocked. */
void explain_trim(const struct target *t, struct heap_model *m);
/* explain_pins.c: m->ex.pins, ranked. */
void explain_pins(const struct target *t, struct heap_model *m);
/* explain_rss.c: m->ex.regions, owners, resident_anon, measured_anon. */
void explain_rss(const struct target *t, struct heap_model *m);

#endif
