/*
 * numpy.h - the NumPy walker: finds the _multiarray_umath module, its
 * version and layout row and &PyArray_Type; reads every live ndarray the
 * CPython census met (shape, strides, dtype, flags, base chain) and places
 * its data buffer in the allocation that holds it; finds NumPy's small-
 * allocation caches.  Fills m->np; never prints.
 *
 * Order: python_locate(), numpy_locate(), then python_census() (which asks
 * numpy_is_array_type() about every type and hands the arrays it meets to
 * m->np.arrays), then numpy_walk() and numpy_find_pins().
 */
#ifndef HEAPINSPECT_NUMPY_H
#define HEAPINSPECT_NUMPY_H

#include "model.h"
#include "symbols.h"
#include "target.h"

/* 1 if NumPy was found and can be walked, 0 if it is not loaded, -1 if it
 * is loaded but cannot be walked (m->np.error says why). */
int numpy_locate(const struct target *t, struct symbols *syms, struct heap_model *m);

/* Is the type object at TYPE numpy.ndarray or a subclass of it? */
int numpy_is_array_type(const struct target *t, const struct heap_model *m, uint64_t type);

/* Is DESCR a dtype object (its type numpy.dtype or a subclass)?  1 when
 * numpy.dtype itself was not found. */
int numpy_is_descr(const struct target *t, const struct heap_model *m, uint64_t descr);

/* Read the arrays the census collected, follow bases, place buffers. */
void numpy_walk(const struct target *t, struct heap_model *m);

/* NumPy's datacache/dimcache: by symbol, else by a validated scan of the
 * module's writable data. */
void numpy_caches(const struct target *t, struct symbols *syms, struct heap_model *m);

/* Analysis (model only): views whose bases hold much more than they show. */
void numpy_find_pins(struct heap_model *m);

/* The array at ADDR in m->np.arrays, or NULL (arrays are sorted by address). */
const struct np_array *numpy_array_at(const struct heap_model *m, uint64_t addr);

/* Why an owned buffer came from where it is (mmap threshold), in BUF. */
const char *numpy_buffer_reason(const struct heap_model *m, const struct np_array *a,
				char *buf, size_t len);

#endif
