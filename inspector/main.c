/*
 * main.c - the command line: parse arguments, open the target (live or
 * image), run the walkers, render, choose the exit status.
 *
 * Exit status: 0 report produced; 1 usage error; 2 the target cannot be
 * inspected; 3 report produced but the heap is inconsistent (a diagnostic
 * of severity error).
 */
#include "config.h"

#include "commands.h"
#include "explain.h"
#include "glibc.h"
#include "numpy.h"
#include "python.h"
#include "who.h"
#include "symbols.h"
#include "target.h"
#include "util.h"


#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 1
#define EXIT_TARGET 2
#define EXIT_INCONSISTENT 3

/* HEAPINSPECT_TIMING=1: phase times on stderr, for the benchmarks. */
static double phase_start;
static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void phase_done(const char *name)
{
	double now = seconds_now();
	if (getenv("HEAPINSPECT_TIMING"))
		fprintf(stderr, "timing: %-8s %.3f s\n", name, now - phase_start);
	phase_start = now;
}

struct options {
	struct report report;
	int json;
	const char *image;
	const char *dump_image;
	const char *debuginfo_path;
	const char *pid_arg;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: heapinspect [OPTION]... [COMMAND [ADDR]] PID\n"
		"       heapinspect [OPTION]... [COMMAND] --image FILE\n"
		"Explain a process's glibc malloc heap: arenas, chunks, bins, tcaches,\n"
		"mmapped chunks and malloc parameters, read from the live process while it\n"
		"is paused for as long as copying takes (it is never written to).\n"
		"\n"
		"Commands:\n"
		"  summary   (default) arenas, per-state totals, tcaches, mallinfo2 figures\n"
		"  arenas    every arena and its heaps\n"
		"  chunks    every chunk with its state (filters below)\n"
		"  bins      every non-empty fastbin and bin, with its chunks\n"
		"  tcache    every thread's tcache, with its entries\n"
		"  mmapped   every mmapped chunk\n"
		"  mp        malloc parameters (mp_): thresholds and counters\n"
		"  pymalloc  CPython's pymalloc: arenas, pools and blocks per size class\n"
		"  pyarenas  pymalloc arenas, emptiest first, with the live objects that keep\n"
		"            each low-use arena (under 1/4 used) from going back to the OS\n"
		"  types     live Python objects per type (pymalloc and glibc), largest first\n"
		"  obj ADDR  what lives at ADDR: mapping, chunk, pymalloc block, object\n"
		"  arrays    live NumPy arrays, by bytes held: shape, dtype, flags, base, and\n"
		"            the allocation their data lives in (filters below)\n"
		"  array ADDR  one NumPy array\n"
		"  views     NumPy views that keep a much larger base buffer alive\n"
		"  explain   why the process is this big: resident memory by region and owner,\n"
		"            what malloc_trim(0) would return, and the fragments pinning\n"
		"            memory, largest first (the summary ends with the top ones)\n"
		"\n"
		"Options:\n"
		"  --json                 print JSON (schema heapinspect/1, doc/json-schema.md)\n"
		"  --image FILE           read a memory image instead of a live process\n"
		"  --dump-image FILE      also save what was copied from the process\n"
		"  --debuginfo-path PATH  where to look for separate debuginfo (libdwfl syntax)\n"
		"  --no-debuginfo         use no separate debuginfo: heuristics only\n"
		"  --help, --version\n"
		"Chunk filters (chunks):\n"
		"  --arena N  --state S[,S...]  --min-size N  --max-size N  --from ADDR  --to ADDR\n"
		"  states: inuse tcache fastbin unsorted smallbin largebin top mmapped fencepost\n"
		"Array filters (arrays):\n"
		"  --dtype STR (as dtype.str: <f8, |u1, ...)  --min-size N (nbytes)  --owner ADDR\n"
		"\n"
		"Exit status: 0 report produced, 1 usage error, 2 target cannot be inspected,\n"
		"3 report produced but the heap is inconsistent.\n");
}

static int parse_states(const char *list, unsigned *mask)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int ok = 1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int s = chunk_state_parse(tok);
		if (s < 0) {
			warnx_("unknown chunk state '%s'", tok);
			ok = 0;
			break;
		}
		*mask |= 1u << s;
	}
	free(copy);
	return ok ? 0 : -1;
}

static int number_option(const char *name, const char *arg, uint64_t *out)
{
	if (parse_u64(arg, out) == 0)
		return 0;
	warnx_("option --%s takes a number (decimal or 0x hex), not '%s'", name, arg);
	return -1;
}

enum { OPT_IMAGE = 256, OPT_DUMP, OPT_DEBUGINFO, OPT_NODEBUG, OPT_ARENA, OPT_STATE,
       OPT_MIN, OPT_MAX, OPT_FROM, OPT_TO, OPT_HELP, OPT_VERSION, OPT_JSON, OPT_DTYPE,
       OPT_OWNER };

static const struct option long_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "dump-image", required_argument, NULL, OPT_DUMP },
	{ "debuginfo-path", required_argument, NULL, OPT_DEBUGINFO },
	{ "no-debuginfo", no_argument, NULL, OPT_NODEBUG },
	{ "arena", required_argument, NULL, OPT_ARENA },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "min-size", required_argument, NULL, OPT_MIN },
	{ "max-size", required_argument, NULL, OPT_MAX },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "dtype", required_argument, NULL, OPT_DTYPE },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void print_version(void)
{
	size_t i;
	printf("heapinspect %s\nglibc layouts: %ld.%ld to %ld.%ld (x86-64)\n", PACKAGE_VERSION,
	       glibc_layouts[0].version_min / 1000, glibc_layouts[0].version_min % 1000,
	       glibc_layouts[glibc_layouts_count - 1].version_max / 1000,
	       glibc_layouts[glibc_layouts_count - 1].version_max % 1000);
	printf("CPython layouts: %ld.%ld to %ld.%ld (default GIL builds)\nNumPy layouts:\n",
	       python_layouts[0].version_min / 1000, python_layouts[0].version_min % 1000,
	       python_layouts[python_layouts_count - 1].version_max / 1000,
	       python_layouts[python_layouts_count - 1].version_max % 1000);
	for (i = 0; i < numpy_layouts_count; i++)
		printf("  %ld.%ld to %ld.%ld (C API 0x%lx-0x%lx)%s\n",
		       numpy_layouts[i].version_min / 1000, numpy_layouts[i].version_min % 1000,
		       numpy_layouts[i].version_max / 1000, numpy_layouts[i].version_max % 1000,
		       (unsigned long)numpy_layouts[i].api_version_min,
		       (unsigned long)numpy_layouts[i].api_version_max,
		       numpy_layout_verified_live(&numpy_layouts[i]) ? ", verified live"
								     : ", unverified live");
}

/* Returns -1 on a usage error, 1 if --help/--version was handled, else 0. */
static int parse_option(int c, struct options *o)
{
	struct chunk_filter *f = &o->report.filter;
	uint64_t n;
	switch (c) {
	case OPT_JSON: o->json = 1; return 0;
	case OPT_IMAGE: o->image = optarg; return 0;
	case OPT_DUMP: o->dump_image = optarg; return 0;
	case OPT_DEBUGINFO: o->debuginfo_path = optarg; return 0;
	case OPT_NODEBUG: o->debuginfo_path = "/nonexistent"; return 0;
	case OPT_ARENA:
		if (number_option("arena", optarg, &n) < 0)
			return -1;
		f->arena = (int)n;
		return 0;
	case OPT_STATE: return parse_states(optarg, &f->state_mask);
	case OPT_MIN:
		if (number_option("min-size", optarg, &f->min_size) < 0)
			return -1;
		o->report.arrays.min_nbytes = f->min_size;
		return 0;
	case OPT_DTYPE: o->report.arrays.dtype = optarg; return 0;
	case OPT_OWNER: return number_option("owner", optarg, &o->report.arrays.owner);
	case OPT_MAX: return number_option("max-size", optarg, &f->max_size);
	case OPT_FROM: return number_option("from", optarg, &f->from);
	case OPT_TO: return number_option("to", optarg, &f->to);
	case OPT_HELP: usage(stdout); return 1;
	case OPT_VERSION: print_version(); return 1;
	default: return -1;
	}
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int c, r, rest;
	memset(o, 0, sizeof *o);
	chunk_filter_init(&o->report.filter);
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1)
		if ((r = parse_option(c, o)) != 0)
			return r;
	rest = argc - optind;
	if (rest >= 1 && command_parse(argv[optind]) >= 0) {
		o->report.command = (enum command)command_parse(argv[optind++]);
		rest--;
	}
	if (command_takes_address(o->report.command)) {
		if (rest < 1 || parse_u64(argv[optind], &o->report.address) < 0) {
			warnx_("%s takes an address (decimal or 0x hex) before the PID",
			       command_name(o->report.command));
			return -1;
		}
		optind++;
		rest--;
	}
	if (o->image ? rest != 0 : rest != 1) {
		warnx_(rest > 1 || (o->image && rest) ? "unexpected argument '%s' (unknown command?)"
						       : "%s", rest > 0 ? argv[argc - 1] :
						       "missing PID (or --image FILE)");
		return -1;
	}
	o->pid_arg = o->image ? NULL : argv[optind];
	return 0;
}

static struct target *open_target(const struct options *o, char **err)
{
	uint64_t pid;
	if (o->image)
		return target_open_image(o->image, err);
	if (parse_u64(o->pid_arg, &pid) < 0 || pid == 0 || pid > 0x7fffffff) {
		*err = xasprintf("'%s' is not a process id", o->pid_arg);
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
static struct heap_model *build_model(const struct target *t, const struct options *o, char **err)
{
	struct heap_model *m = new_model(t);
	struct symbols syms;
	struct symbols *sp = symbols_open(&syms, t, o->debuginfo_path, err) == 0 ? &syms : NULL;
	if (!sp) {
		free(*err);
		*err = NULL;
	}
	phase_done("symbols");
	if (glibc_locate(t, sp, m, err) < 0) {
		if (sp)
			symbols_close(sp);
		model_free(m);
		return NULL;
	}
	phase_done("locate");
	glibc_walk(t, m);
	phase_done("walk");
	walk_python(t, sp, m);
	phase_done("python");
	explain_analyse(t, m);
	phase_done("explain");
	if (o->report.command == CMD_OBJ)
		address_describe(t, m, o->report.address);
	if (sp)
		symbols_close(sp);
	return m;
}

int main(int argc, char **argv)
{
	struct options o;
	struct target *t;
	struct heap_model *m;
	char *err = NULL;
	int r = parse_args(argc, argv, &o), status;
	if (r)
		return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	if (!o.image && parse_u64(o.pid_arg, &(uint64_t){ 0 }) < 0) {
		warnx_("'%s' is not a process id", o.pid_arg);
		return EXIT_USAGE;
	}
	phase_start = seconds_now();
	t = open_target(&o, &err);
	phase_done("copy");
	if (!t) {
		warnx_("%s", err);
		free(err);
		return EXIT_TARGET;
	}
	if (o.dump_image && target_write_image(t, o.dump_image, &err) < 0) {
		warnx_("%s", err);
		free(err);
		target_free(t);
		return EXIT_TARGET;
	}
	m = build_model(t, &o, &err);
	if (!m) {
		warnx_("%s", err);
		free(err);
		target_free(t);
		return EXIT_TARGET;
	}
	(o.json ? render_json : render_text)(stdout, m, &o.report);
	phase_done("render");
	status = model_has_errors(m) ? EXIT_INCONSISTENT : EXIT_SUCCESS;
	if (fflush(stdout) != 0)
		status = EXIT_TARGET;
	model_free(m);
	target_free(t);
	return status;
}
