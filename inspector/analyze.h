/*
 * analyze.h - from a target to a heap model: every walker, then the
 * analyses, in order (glibc, CPython, NumPy, explain).  Shared by the
 * command line, the REPL and diff.
 */
#ifndef HEAPINSPECT_ANALYZE_H
#define HEAPINSPECT_ANALYZE_H

#include "model.h"
#include "target.h"

/* A new model of T, or NULL with *ERR (the target cannot be inspected).
 * DEBUGINFO_PATH: libdwfl's syntax, NULL for its default. */
struct heap_model *analyze_target(const struct target *t, const char *debuginfo_path, char **err);

/* Where a target comes from: a live process, a memory image (snapshot) or
 * an ELF core (with, optionally, its executable). */
struct target_source {
	enum target_kind kind;
	const char *where;		/* the PID, or the file */
	const char *exe;		/* core: the executable, NULL to find it */
};

struct target *open_target(const struct target_source *src, char **err);

/* An operand of diff or -i: a PID (a number) is live, an ELF core file a
 * core (EXE: its executable, or NULL), anything else a snapshot. */
struct target_source operand_source(const char *operand, const char *exe);

/* HEAPINSPECT_TIMING=1: phase times on stderr, for the benchmarks. */
void timing_phase(const char *name);

#endif
