/*
 * analyze.c - from a target to a heap model: symbols, the glibc walker,
 * CPython and NumPy, then the explain analysis.  A problem past glibc is a
 * diagnostic in the model; the glibc report always stands.
 */
#include "config.h"

#include "analyze.h"
#include "explain.h"
#include "glibc.h"
#include "numpy.h"
#include "python.h"
#include "symbols.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void timing_phase(const char *name)
{
	static double start;
	double now = seconds_now();
	if (start && getenv("HEAPINSPECT_TIMING"))
		fprintf(stderr, "timing: %-8s %.3f s\n", name, now - start);
	start = now;
}

struct target *open_target(const char *pid_or_path, int is_image, char **err)
{
	uint64_t pid;
	if (is_image)
		return target_open_image(pid_or_path, err);
	if (parse_u64(pid_or_path, &pid) < 0 || pid == 0 || pid > 0x7fffffff) {
		*err = xasprintf("'%s' is not a process id", pid_or_path);
		return NULL;
	}
	return target_open_live((pid_t)pid, err);
}

static struct heap_model *new_model(const struct target *t)
{
	struct heap_model *m = model_new();
	m->pid = t->pid;
	m->exe = xstrdup(t->exe);
	m->source = t->kind == TARGET_LIVE ? "live" : "image";
	m->pause_seconds = t->pause_seconds;
	m->bytes_copied = t->bytes_copied;
	return m;
}

/* CPython on top of glibc: a problem here is a diagnostic, the glibc
 * report stands. */
static void walk_python(const struct target *t, struct symbols *syms, struct heap_model *m)
{
	char *err = NULL;
	if (python_locate(t, syms, m, &err) < 0) {
		model_diag(m, DIAG_WARNING, 0, "CPython not walked: %s", err);
		free(err);
		return;
	}
	if (!m->py.found)
		return;
	pymalloc_walk(t, m);
	python_refine_version(t, m);
	if (numpy_locate(t, syms, m) < 0)
		model_diag(m, DIAG_WARNING, 0, "NumPy not walked: %s", m->np.error);
	python_census(t, m);
	python_free_lists(t, syms, m);
	if (m->np.found) {
		numpy_walk(t, m);
		numpy_caches(t, syms, m);
		numpy_find_pins(m);
	}
}

/* Walk everything the target holds into a new model. */
struct heap_model *analyze_target(const struct target *t, const char *debuginfo_path, char **err)
{
	struct heap_model *m = new_model(t);
	struct symbols syms;
	struct symbols *sp = symbols_open(&syms, t, debuginfo_path, err) == 0 ? &syms : NULL;
	if (!sp) {
		free(*err);
		*err = NULL;
	}
	timing_phase("symbols");
	if (glibc_locate(t, sp, m, err) < 0) {
		if (sp)
			symbols_close(sp);
		model_free(m);
		return NULL;
	}
	timing_phase("locate");
	glibc_walk(t, m);
	timing_phase("walk");
	walk_python(t, sp, m);
	timing_phase("python");
	explain_analyse(t, m);
	timing_phase("explain");
	if (sp)
		symbols_close(sp);
	return m;
}


struct target *open_operand(const char *operand, char **err)
{
	uint64_t pid;
	return open_target(operand, parse_u64(operand, &pid) < 0, err);
}
