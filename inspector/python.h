/*
 * python.h - the CPython pymalloc walker: fills the heap model's python
 * and pymalloc parts from a target.
 *
 * python_locate() finds the interpreter (libpython or an executable with
 * _PyRuntime), its version and layout row, and the obmalloc state:
 * symbols (3.8-3.11 statics), _PyRuntime (3.12+, exported even when
 * stripped), or a heuristic scan of the arena vector.  pymalloc_walk()
 * then visits every arena and pool.  Neither prints.
 */
#ifndef HEAPINSPECT_PYTHON_H
#define HEAPINSPECT_PYTHON_H

#include "model.h"
#include "symbols.h"
#include "target.h"

/* 1 if the target runs CPython and its state was found, 0 if it does not
 * run CPython, -1 (with *ERR) if it does but cannot be walked. */
int python_locate(const struct target *t, struct symbols *syms, struct heap_model *m,
		  char **err);
void pymalloc_walk(const struct target *t, struct heap_model *m);

/* Without an exported Py_Version (3.8-3.10) only the minor version is
 * known from the library name; the patch level is then read from the
 * sys.version string in the pymalloc arenas, if it is there. */
void python_refine_version(const struct target *t, struct heap_model *m);

/* CPython's free lists (float, list, dict, dict keys, tuple by size): from
 * the interpreter state (3.10+) or obmalloc's neighbours' statics by symbol
 * (3.8/3.9; not read without symbols). */
void python_free_lists(const struct target *t, struct symbols *syms, struct heap_model *m);

/* Census: type every used pymalloc block and in-use glibc chunk that holds
 * a Python object; fills m->pym.types. */
void python_census(const struct target *t, struct heap_model *m);

/* The Python object in one block (WHERE: 1 pymalloc, 2 glibc heap chunk,
 * 3 mmapped chunk), recognised as the census does; 1 if there is one. */
int python_identify(const struct target *t, struct heap_model *m, uint64_t block,
		    uint64_t size, int where, struct py_object_info *out);

/* The index in m->pym.types of the type object at TYPE, validated and
 * added (with no objects counted) if the census did not meet it; -1 if it
 * is not a type. */
int32_t python_type_register(const struct target *t, struct heap_model *m, uint64_t type);

/* Add the resident bytes of [ADDR, ADDR+SIZE) to TS (IN_GLIBC: a glibc
 * chunk rather than a pymalloc block). */
void python_count_resident(const struct target *t, struct py_type_stat *ts, uint64_t addr,
			   uint64_t size, int in_glibc);

/* The pymalloc arena whose mapping holds ADDR, or NULL. */
const struct py_arena *pymalloc_arena_containing(const struct heap_model *m, uint64_t addr);

/* Heuristic: the address of the arena_object vector, found from pool
 * headers in anonymous memory and a vector entry pointing at their arena;
 * 0 if not found.  *MAXARENAS gets its length (from its glibc chunk). */
uint64_t python_find_arena_vector(const struct target *t, const struct heap_model *m,
				  uint64_t *maxarenas);

#endif
