/*
 * commands.h - the report commands and the chunk filter, shared by the
 * command line and the renderers.
 */
#ifndef HEAPINSPECT_COMMANDS_H
#define HEAPINSPECT_COMMANDS_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

enum command { CMD_SUMMARY, CMD_ARENAS, CMD_CHUNKS, CMD_BINS, CMD_TCACHE, CMD_MMAPPED,
	       CMD_MP, CMD_PYMALLOC, CMD_PYARENAS, CMD_TYPES, CMD_OBJ, CMD_ARRAYS, CMD_ARRAY,
	       CMD_VIEWS, CMD_EXPLAIN, CMD_DIFF, CMD_MAP, CMD_COUNT };

const char *command_name(enum command c);
int command_parse(const char *name);	/* -1 if unknown */

struct chunk_filter {
	int arena;		/* -2: any arena */
	unsigned state_mask;	/* bit per enum chunk_state; 0: any */
	uint64_t min_size, max_size, from, to;
};

void chunk_filter_init(struct chunk_filter *f);
int chunk_filter_match(const struct chunk_filter *f, const struct chunk *c);

/* Which arrays the arrays command lists. */
struct array_filter {
	const char *dtype;	/* dtype.str, NULL: any */
	uint64_t min_nbytes;
	uint64_t owner;		/* 0: any */
};

int array_filter_match(const struct array_filter *f, const struct np_array *a);

struct report {
	enum command command;
	struct chunk_filter filter;
	struct array_filter arrays;
	uint64_t address;	/* commands obj and array */
	uint64_t limit, offset;	/* listings: at most LIMIT rows (0: all) after OFFSET */
	const char *svg;	/* map: also write the map as SVG to this file */
};

/* Paging of listings (--limit/--offset): is row N (0-based, counting the
 * rows that pass the filters) shown? */
static inline int report_row_shown(const struct report *r, uint64_t n)
{
	return n >= r->offset && (!r->limit || n - r->offset < r->limit);
}

/* After a listing of ROWS rows (filters passed) of WHAT ("chunks"): a line
 * saying which were shown, if not all. */
void report_page_footer(FILE *out, const struct report *r, uint64_t rows, const char *what);

/* Does command C take an address argument? */
int command_takes_address(enum command c);

/* Indexes of m->np.arrays sorted by held bytes, then nbytes, largest
 * first (caller frees). */
size_t *arrays_by_held(const struct heap_model *m);

/* Indexes of m->pym.types sorted by bytes, largest first (caller frees). */
size_t *types_by_bytes(const struct heap_model *m);

void render_text(FILE *out, const struct heap_model *m, const struct report *r);
void render_json(FILE *out, const struct heap_model *m, const struct report *r);

#endif
