/*
 * render_explain.h - the explain analysis as JSON and text
 * (render_explain_json.c, render_explain_text.c).  They read only the model.
 */
#ifndef HEAPINSPECT_RENDER_EXPLAIN_H
#define HEAPINSPECT_RENDER_EXPLAIN_H

#include <stdio.h>

#include "json.h"
#include "model.h"

void explain_json(struct json *j, const struct heap_model *m);
/* The whole explanation (command explain). */
void explain_text(FILE *out, const struct heap_model *m);
/* The top pins, one line each, for the summary. */
void explain_text_top(FILE *out, const struct heap_model *m, size_t max);

#endif
