/*
 * diff.h - what changed between two heap models (two snapshots, or a
 * snapshot and a live process): regions grown or shrunk, chunks allocated
 * and freed by size class, pymalloc arenas gained and lost, objects per
 * type, NumPy arrays appeared and gone, pins new and gone.  An analysis:
 * it reads only the two models (see diff.c).
 */
#ifndef HEAPINSPECT_DIFF_H
#define HEAPINSPECT_DIFF_H

#include <stdio.h>

#include "json.h"
#include "model.h"

struct diff_region {
	char name[48];			/* "arena 0 heap", "mmapped chunks", ... */
	int64_t before, after;		/* bytes (or counts where the name says) */
};

/* Chunks that became in use (new) or stopped being in use (freed), by
 * size class: exact chunk size below 1 KiB, else a power-of-two range. */
struct diff_class {
	uint64_t lo, hi;		/* chunk sizes [lo, hi] */
	int mmapped;			/* mmapped chunks, whatever their size */
	uint64_t new_count, new_bytes, freed_count, freed_bytes;
};

struct diff_type {
	const char *name;		/* owned by the model it came from */
	int64_t count, bytes;		/* objects and their bytes (owned buffers included) */
};

struct diff_array {
	const struct np_array *array;	/* in the "after" model if appeared, else "before" */
	int appeared;
};

struct diff_pin {
	const struct pin *pin;
	int gone;			/* in "before" only; else new in "after" */
};

struct model_diff {
	struct diff_region *regions;
	size_t nregions, regions_cap;
	struct diff_class *classes;	/* largest |net bytes| first */
	size_t nclasses, classes_cap;
	struct diff_type *types;	/* largest |bytes| first, changed ones only */
	size_t ntypes, types_cap;
	struct diff_array *arrays;	/* largest nbytes first */
	size_t narrays, arrays_cap;
	struct diff_pin *pins;		/* largest bytes first */
	size_t npins, pins_cap;
	uint64_t new_count, new_bytes, freed_count, freed_bytes;	/* all chunks */
};

struct model_diff *diff_models(const struct heap_model *a, const struct heap_model *b);
void diff_free(struct model_diff *d);

void diff_render_text(FILE *out, const struct model_diff *d, const struct heap_model *a,
		      const struct heap_model *b);
void diff_render_json(struct json *j, const struct model_diff *d, const struct heap_model *a,
		      const struct heap_model *b);

#endif
