/*
 * render_map.h - the map command: every heap region drawn as rows of cells
 * (text, JSON) or as one rectangle per chunk (SVG).  See render_map.c.
 *
 * Invariants: these read only the model, never the target.
 */
#ifndef HEAPINSPECT_RENDER_MAP_H
#define HEAPINSPECT_RENDER_MAP_H

#include <stdio.h>

#include "commands.h"

struct json;

/* The map as text: a heading per region, its rows of cell letters, the
 * heap-top pins in it, and a legend.  --limit/--offset page the regions.
 * ANSI colours only when OUT is a terminal and NO_COLOR is not set. */
void render_map_text(FILE *out, const struct heap_model *m, const struct report *r);

/* The same rows as data: a "map" member with the legend and, per region,
 * its kind, start, end, cell_bytes and a string of cell letters. */
void render_map_json(struct json *j, const struct heap_model *m, const struct report *r);

/* Write the map as a standalone SVG to PATH: one <rect> per chunk (split
 * at row breaks), each with data-start/data-end and a <title>; the rects of
 * a region tile it exactly.  0, or -1 with *ERR set (caller frees). */
int render_map_svg(const char *path, const struct heap_model *m, const struct report *r,
		   char **err);

#endif
