/*
 * render_numpy.h - the NumPy parts of the text and JSON renderers
 * (render_numpy_text.c, render_numpy_json.c).  They read only the model.
 */
#ifndef HEAPINSPECT_RENDER_NUMPY_H
#define HEAPINSPECT_RENDER_NUMPY_H

#include <stdio.h>

#include "commands.h"
#include "json.h"

/* The "numpy" object every JSON report carries. */
void numpy_json_header(struct json *j, const struct heap_model *m);
/* The body of commands arrays, array and views. */
void numpy_json_report(struct json *j, const struct heap_model *m, const struct report *r);

/* One line for the summary ("" if no NumPy), and the commands' text. */
void numpy_text_summary(FILE *out, const struct heap_model *m);
void numpy_text_report(FILE *out, const struct heap_model *m, const struct report *r);

#endif
