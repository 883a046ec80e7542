/*
 * main.c - heapinspect's entry: parse the command line, open the target
 * (a live process or a memory image), build the model, render the report,
 * choose the exit status.
 *
 * Exit status: 0 report produced; 1 usage error; 2 the target cannot be
 * inspected; 3 report produced but the heap is inconsistent (a diagnostic
 * of severity error).
 */
#include "config.h"

#include "analyze.h"
#include "cli.h"
#include "diff.h"
#include "render_map.h"
#include "repl.h"
#include "util.h"
#include "who.h"

#include <stdio.h>
#include <stdlib.h>

static int fail_target(char *err, struct target *t)
{
	warnx_("%s", err);
	free(err);
	target_free(t);
	return EXIT_TARGET;
}

/* One report on one target. */
static int report_main(const struct options *o)
{
	struct target *t;
	struct heap_model *m;
	char *err = NULL;
	int status;
	struct target_source src = { TARGET_LIVE, o->pid_arg, NULL };
	if (o->core)
		src = (struct target_source){ TARGET_CORE, o->core, o->exe };
	else if (o->image)
		src = (struct target_source){ TARGET_IMAGE, o->image, NULL };
	timing_phase("start");
	t = open_target(&src, &err);
	timing_phase("copy");
	if (!t)
		return fail_target(err, NULL);
	if (t->kind == TARGET_LIVE && getenv("HEAPINSPECT_TIMING"))
		fprintf(stderr, "timing: copy plans: %u made before the pause, %u held during it, "
			"%u mappings new or moved\n", t->plans_made, t->plans_held, t->plans_missing);
	if (o->dump_image && target_write_image(t, o->dump_image, &err) < 0)
		return fail_target(err, t);
	m = analyze_target(t, o->debuginfo_path, &err);
	if (!m)
		return fail_target(err, t);
	if (o->report.command == CMD_OBJ)
		address_describe(t, m, o->report.address);
	(o->json ? render_json : render_text)(stdout, m, &o->report);
	timing_phase("render");
	status = model_has_errors(m) ? EXIT_INCONSISTENT : EXIT_SUCCESS;
	if (fflush(stdout) != 0)
		status = EXIT_TARGET;
	if (o->report.command == CMD_MAP && o->report.svg &&
	    render_map_svg(o->report.svg, m, &o->report, &err) < 0) {
		warnx_("%s", err);
		free(err);
		status = EXIT_TARGET;
	}
	model_free(m);
	target_free(t);
	return status;
}

/* diff A B: two snapshots, or a snapshot and a live process. */
static int diff_main(const struct options *o)
{
	const char *operand[2] = { o->pid_arg, o->second_arg };
	struct target *t[2] = { NULL, NULL };
	struct heap_model *m[2] = { NULL, NULL };
	struct model_diff *d;
	char *err = NULL;
	int i, status = EXIT_SUCCESS;
	for (i = 0; i < 2; i++) {
		struct target_source src = operand_source(operand[i], o->exe);
		t[i] = open_target(&src, &err);
		if (!t[i] || !(m[i] = analyze_target(t[i], o->debuginfo_path, &err))) {
			warnx_("%s: %s", operand[i], err);
			free(err);
			status = EXIT_TARGET;
			break;
		}
	}
	if (status == EXIT_SUCCESS) {
		d = diff_models(m[0], m[1]);
		if (o->json) {
			struct json j;
			json_init(&j, stdout);
			json_object_begin(&j, NULL);
			json_string(&j, "schema", "heapinspect/1");
			json_string(&j, "command", "diff");
			diff_render_json(&j, d, m[0], m[1]);
			json_object_end(&j);
			json_finish(&j);
		} else {
			diff_render_text(stdout, d, m[0], m[1]);
		}
		diff_free(d);
		if (fflush(stdout) != 0)
			status = EXIT_TARGET;
	}
	for (i = 0; i < 2; i++) {
		model_free(m[i]);
		target_free(t[i]);
	}
	return status;
}

/* A usage error has been reported (warnx_): point at --help, as GNU programs do. */
static int usage_error(void)
{
	fputs("Try 'heapinspect --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct options o;
	int r = cli_parse(argc, argv, &o, 1);
	if (r)
		return r > 0 ? EXIT_SUCCESS : usage_error();
	if (o.interactive)
		return repl_main(&o);	/* a PID, or a snapshot file */
	if (o.report.command == CMD_DIFF)
		return diff_main(&o);
	if (!o.image && !o.core && parse_u64(o.pid_arg, &(uint64_t){ 0 }) < 0) {
		warnx_("'%s' is not a process id", o.pid_arg);
		return usage_error();
	}
	return report_main(&o);
}
