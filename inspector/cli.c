/*
 * cli.c - parse heapinspect's command line (and each REPL line): options,
 * the command, its address operand, the target.  Usage and version text.
 */
#include "config.h"

#include "cli.h"
#include "glibc_layout.h"
#include "numpy_layout.h"
#include "python_layout.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_usage(FILE *out)
{
	fprintf(out,
		"Usage: heapinspect [OPTION]... [COMMAND [ADDR]] PID\n"
		"       heapinspect [OPTION]... [COMMAND] --image FILE\n"
		"       heapinspect [OPTION]... [COMMAND] --core CORE [--exe PATH]\n"
		"       heapinspect [OPTION]... diff A B\n"
		"       heapinspect -i PID|SNAPSHOT|CORE\n"
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
		"  diff A B  what changed from A to B (snapshot files or PIDs): regions, chunks\n"
		"            new and freed by size class, per-type deltas, arrays, pins\n"
		"  map       the heap drawn as a map on the terminal (--svg FILE: also as SVG)\n"
		"\n"
		"Options:\n"
		"  --json                 print JSON (schema heapinspect/1, doc/json-schema.md)\n"
		"  --image FILE           read a memory image instead of a live process\n"
		"  --core CORE            read an ELF core file (gcore, or a kernel dump)\n"
		"  --exe PATH             the core's executable, if not where it was\n"
		"  --dump-image FILE      also save what was copied from the process\n"
		"  --save FILE            the same: save a snapshot (for --image, diff, -i)\n"
		"  -i, --interactive      a prompt on the target (PID or snapshot file): the\n"
		"                         commands above and more; `help` there lists them\n"
		"  --limit N, --offset N  listings (chunks, arrays): at most N rows, from row N\n"
		"  --svg FILE             map: also write the map as SVG to FILE\n"
		"  --debuginfo-path PATH  where to look for separate debuginfo (libdwfl syntax)\n"
		"  --no-debuginfo         use no separate debuginfo: heuristics only\n"
		"  --help, --version\n"
		"Chunk filters (chunks):\n"
		"  --arena N  --state S[,S...]  --min-size N  --max-size N  --from ADDR\n"
		"  --to ADDR\n"
		"  states: inuse tcache fastbin unsorted smallbin largebin top mmapped fencepost\n"
		"Array filters (arrays):\n"
		"  --dtype STR (as dtype.str: <f8, |u1, ...)  --min-size N (nbytes)\n"
		"  --owner ADDR\n"
		"\n"
		"Exit status: 0 report produced, 1 usage error, 2 target cannot be inspected,\n"
		"3 report produced but the heap is inconsistent.\n"
		"The manual: man heapinspect.\n");
#ifdef PACKAGE_BUGREPORT
	if (PACKAGE_BUGREPORT[0])
		fprintf(out, "\nReport bugs to: %s\n", PACKAGE_BUGREPORT);
#endif
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
       OPT_OWNER, OPT_SVG, OPT_LIMIT, OPT_OFFSET, OPT_CORE, OPT_EXE,
       OPT_INTERACTIVE = 'i' };

static const struct option long_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "core", required_argument, NULL, OPT_CORE },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "dump-image", required_argument, NULL, OPT_DUMP },
	{ "save", required_argument, NULL, OPT_DUMP },
	{ "interactive", no_argument, NULL, OPT_INTERACTIVE },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "offset", required_argument, NULL, OPT_OFFSET },
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

const char *cli_option_name(size_t i, int *takes_arg)
{
	if (i >= sizeof long_options / sizeof long_options[0] - 1)
		return NULL;
	if (takes_arg)
		*takes_arg = long_options[i].has_arg == required_argument;
	return long_options[i].name;
}

void cli_version(void)
{
	size_t i;
	/* GNU coding standards: "program version", then the copyright notice. */
	printf("heapinspect %s\n"
	       "Copyright (C) 2026 heapinspect developers.\n"
	       "There is NO WARRANTY, to the extent permitted by law.\n"
	       "\n", PACKAGE_VERSION);
	printf("glibc layouts: %ld.%ld to %ld.%ld (x86-64)\n",
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
	case OPT_CORE: o->core = optarg; return 0;
	case OPT_EXE: o->exe = optarg; return 0;
	case OPT_DUMP: o->dump_image = optarg; return 0;
	case OPT_DEBUGINFO: o->debuginfo_path = optarg; return 0;
	case OPT_NODEBUG:
		o->debuginfo_path = "/nonexistent";
		unsetenv("DEBUGINFOD_URLS");	/* and no debuginfod server either */
		return 0;
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
	case OPT_INTERACTIVE: o->interactive = 1; return 0;
	case OPT_SVG: o->report.svg = optarg; return 0;
	case OPT_LIMIT: return number_option("limit", optarg, &o->report.limit);
	case OPT_OFFSET: return number_option("offset", optarg, &o->report.offset);
	case OPT_HELP: cli_usage(stdout); return 1;
	case OPT_VERSION: cli_version(); return 1;
	default: return -1;
	}
}

/* The operands after the options and the command: an address for the
 * commands that take one, then the target (a PID; for diff two snapshots
 * or PIDs; none with --image or in the REPL). */
static int parse_operands(int argc, char **argv, struct options *o, int need_target)
{
	int rest = argc - optind, want;
	if (command_takes_address(o->report.command)) {
		if (rest < 1 || parse_u64(argv[optind], &o->report.address) < 0) {
			warnx_("%s takes an address (decimal or 0x hex)%s",
			       command_name(o->report.command), need_target ? " before the PID" : "");
			return -1;
		}
		optind++;
		rest--;
	}
	if (o->image && o->core) {
		warnx_("--image and --core: one target at a time");
		return -1;
	}
	if (o->exe && !o->core && o->report.command != CMD_DIFF) {
		warnx_("--exe names the executable of a core: it goes with --core");
		return -1;
	}
	want = !need_target ? 0 : o->report.command == CMD_DIFF ? 2 : o->image || o->core ? 0 : 1;
	if (rest != want) {
		if (rest > want)
			warnx_("unexpected argument '%s' (unknown command?)", argv[optind + want]);
		else
			warnx_("%s", o->report.command == CMD_DIFF ? "diff takes two snapshots "
				     "or PIDs" : "missing PID (or --image FILE, or --core CORE)");
		return -1;
	}
	o->pid_arg = rest > 0 ? argv[optind] : NULL;
	o->second_arg = rest > 1 ? argv[optind + 1] : NULL;
	return 0;
}

int cli_parse(int argc, char **argv, struct options *o, int need_target)
{
	int c, r;
	memset(o, 0, sizeof *o);
	chunk_filter_init(&o->report.filter);
	optind = 0;	/* GNU getopt: start afresh (the REPL parses many lines) */
	/* options anywhere: GNU getopt moves the operands, in order, to the end */
	while ((c = getopt_long(argc, argv, "i", long_options, NULL)) != -1)
		if ((r = parse_option(c, o)) != 0)
			return r;
	if (argc - optind >= 1 && command_parse(argv[optind]) >= 0)
		o->report.command = (enum command)command_parse(argv[optind++]);
	return parse_operands(argc, argv, o, need_target);
}
