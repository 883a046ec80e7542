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

/* Open a live process (PID_OR_PATH all digits) or a memory image. */
struct target *open_target(const char *pid_or_path, int is_image, char **err);

/* A PID (a number) opened live, anything else as a snapshot (a memory
 * image file). */
struct target *open_operand(const char *operand, char **err);

/* HEAPINSPECT_TIMING=1: phase times on stderr, for the benchmarks. */
void timing_phase(const char *name);

#endif
