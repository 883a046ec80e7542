/*
 * glibc.h - the glibc malloc walker: fills the heap model from a target.
 *
 * glibc_locate() finds libc, its version and layout, main_arena and mp_
 * (symbols/DWARF when present, validated heuristics otherwise);
 * glibc_walk() then walks every arena, heap, chunk, bin, tcache and
 * mmapped chunk.  Neither prints: problems become model diagnostics, and
 * only "there is no glibc malloc to walk" is returned as an error.
 */
#ifndef HEAPINSPECT_GLIBC_H
#define HEAPINSPECT_GLIBC_H

#include "model.h"
#include "symbols.h"
#include "target.h"

/* 0 on success; -1 with *ERR set if the target has no walkable glibc. */
int glibc_locate(const struct target *t, struct symbols *syms, struct heap_model *m,
		 char **err);
void glibc_walk(const struct target *t, struct heap_model *m);

/* Heuristic locators, exposed for unit tests: scan the writable regions of
 * the mapping set named LIBC_PATH.  Return the address found, or 0. */
uint64_t glibc_find_main_arena(const struct target *t, const struct glibc_layout *L,
			       const char *libc_path);
uint64_t glibc_find_mp(const struct target *t, const struct glibc_layout *L,
		       const char *libc_path);

#endif
