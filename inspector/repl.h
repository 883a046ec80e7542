/*
 * repl.h - heapinspect -i: an interactive prompt on one target (a live
 * process or a snapshot), see repl.c.
 */
#ifndef HEAPINSPECT_REPL_H
#define HEAPINSPECT_REPL_H

#include "cli.h"

/* Run the prompt on O->pid_arg (a PID if all digits, else a snapshot file)
 * or O->image until quit or end of input.  Returns the exit status: 0, or
 * EXIT_USAGE / EXIT_TARGET if the target could not be opened at all.  The
 * target is left running (never stopped, never traced) on every return. */
int repl_main(const struct options *o);

#endif
