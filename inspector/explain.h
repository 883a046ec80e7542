/*
 * explain.h - the analysis that answers "why is my process still this big":
 * which fragments pin the high-water mark, how much each pins, what a
 * malloc_trim(0) would give back, and where the resident anonymous memory
 * is (see explain.c).  Fills m->ex; never prints.
 */
#ifndef HEAPINSPECT_EXPLAIN_H
#define HEAPINSPECT_EXPLAIN_H

#include <stddef.h>

#include "model.h"
#include "target.h"

/* Run after every walker.  Reads the model, page residency and (to name a
 * pinning chunk's owner) the chunk itself. */
void explain_analyse(const struct target *t, struct heap_model *m);

/* One line on what pin P is and one on what would release it. */
void explain_pin_text(const struct heap_model *m, const struct pin *p, char *what,
		      size_t what_len, char *release, size_t release_len);

#endif
