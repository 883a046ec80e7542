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

struct target *open_target(const struct target_source *src, char **err)
{
	uint64_t pid;
	if (src->kind == TARGET_IMAGE)
		return target_open_image(src->where, err);
	if (src->kind == TARGET_CORE)
		return target_open_core(src->where, src->exe, err);
	if (parse_u64(src->where, &pid) < 0 || pid == 0 || pid > 0x7fffffff) {
		*err = xasprintf("'%s' is not a process id", src->where);
		return NULL;
	}
	return target_open_live((pid_t)pid, err);
}

static struct heap_model *new_model(const struct target *t)
{
	struct heap_model *m = model_new();
	m->pid = t->pid;
	m->exe = xstrdup(t->exe);
	m->source = t->kind == TARGET_LIVE ? "live" : t->kind == TARGET_CORE ? "core" : "image";
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

static int record_module(Dwfl_Module *mod, void **userdata, const char *name,
			 Dwarf_Addr start, void *arg)
{
	struct heap_model *m = arg;
	struct module_info *mi;
	const unsigned char *bits;
	const char *file = NULL;
	GElf_Addr vaddr;
	int i, n = dwfl_module_build_id(mod, &bits, &vaddr);
	(void)userdata;
	(void)start;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file, NULL);
	m->modules = xrealloc(m->modules, (m->nmodules + 1) * sizeof *m->modules);
	mi = &m->modules[m->nmodules++];
	mi->name = xstrdup(name ? name : "");
	mi->file = xstrdup(file ? file : "");
	mi->build_id[0] = 0;
	for (i = 0; i < n && i < (int)(sizeof mi->build_id - 1) / 2; i++)
		snprintf(mi->build_id + 2 * i, 3, "%02x", bits[i]);
	return DWARF_CB_OK;
}

/* The modules libdwfl reported, with the files the walkers used and the
 * build-ids known (from a core's memory, or from a file opened). */
static void record_modules(struct symbols *sp, struct heap_model *m)
{
	if (sp)
		dwfl_getmodules(sp->dwfl, record_module, m, 0);
}

/* What the backend could not read (a core's missing pages) is said first. */
static void record_target_notes(const struct target *t, struct heap_model *m)
{
	size_t i;
	for (i = 0; i < t->nnotes; i++)
		model_diag(m, DIAG_WARNING, 0, "%s", t->notes[i]);
}

/* Walk everything the target holds into a new model. */
struct heap_model *analyze_target(const struct target *t, const char *debuginfo_path, char **err)
{
	struct heap_model *m = new_model(t);
	struct symbols syms;
	struct symbols *sp = symbols_open(&syms, t, debuginfo_path, err) == 0 ? &syms : NULL;
	if (!sp) {
		if (t->kind == TARGET_CORE)
			model_diag(m, DIAG_WARNING, 0, "%s", *err);
		free(*err);
		*err = NULL;
	}
	record_target_notes(t, m);
	timing_phase("symbols");
	if (glibc_locate(t, sp, m, err) < 0) {
		if (t->nnotes) {	/* the likely reason: say it */
			char *why = xasprintf("%s\n  (%zu part%s of the memory could not be read, "
					      "first: %s)", *err, t->nnotes,
					      t->nnotes == 1 ? "" : "s", t->notes[0]);
			free(*err);
			*err = why;
		}
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
	record_modules(sp, m);
	if (sp)
		symbols_close(sp);
	return m;
}


struct target_source operand_source(const char *operand, const char *exe)
{
	uint64_t pid;
	struct target_source src = { TARGET_LIVE, operand, exe };
	if (parse_u64(operand, &pid) < 0)
		src.kind = target_is_core_file(operand) ? TARGET_CORE : TARGET_IMAGE;
	return src;
}
