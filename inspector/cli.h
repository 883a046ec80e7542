/*
 * cli.h - the command line, shared by heapinspect's main() and the REPL:
 * options, commands and their operands.
 */
#ifndef HEAPINSPECT_CLI_H
#define HEAPINSPECT_CLI_H

#include "commands.h"

#define EXIT_USAGE 1
#define EXIT_TARGET 2
#define EXIT_INCONSISTENT 3

struct options {
	struct report report;
	int json;
	const char *image;
	const char *core;		/* --core: an ELF core file */
	const char *exe;		/* --exe: the core's executable */
	const char *dump_image;
	const char *debuginfo_path;
	const char *pid_arg;		/* the PID (or, for diff, the first operand) */
	const char *second_arg;		/* diff: the second operand */
	int interactive;		/* -i: the REPL */
};

/* Parse ARGV into O.  NEED_TARGET: a PID, --image or operands are required
 * (the command line), or must be absent (a REPL line).  Returns 0, 1 when
 * --help/--version was handled, -1 on a usage error (already reported). */
int cli_parse(int argc, char **argv, struct options *o, int need_target);

/* The long options (for the REPL's completion): the name of option I,
 * NULL past the last; *TAKES_ARG (if not NULL) says whether it takes an
 * argument. */
const char *cli_option_name(size_t i, int *takes_arg);

void cli_usage(FILE *out);
void cli_version(void);

#endif
