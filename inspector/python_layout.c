/*
 * python_layout.c - pick the python-layouts/ row for a CPython version,
 * and name the obmalloc statics that rows of state kind 1 are found by.
 *
 * The rows themselves (python_layouts[], oldest first, ranges inclusive
 * and disjoint) are generated into python_layouts.c by glibc-layouts/gen.awk
 * with -v family=python; this file only searches them, so it does not
 * depend on their order.
 */
#include "config.h"

#include <string.h>

#include "python_layout.h"

static int row_covers(const struct python_layout *row, long code)
{
	return row->version_min <= code && code <= row->version_max;
}

const struct python_layout *python_layout_for_version(long code)
{
	size_t i;

	for (i = 0; i < python_layouts_count; i++)
		if (row_covers(&python_layouts[i], code))
			return &python_layouts[i];
	return NULL;
}

/* The names Objects/obmalloc.c gives its statics, 3.8 through 3.11. */
static const char *const obmalloc_symbols[PYTHON_SYM_COUNT] = {
	[PYTHON_SYM_USEDPOOLS] = "usedpools",
	[PYTHON_SYM_ARENAS] = "arenas",
	[PYTHON_SYM_MAXARENAS] = "maxarenas",
	[PYTHON_SYM_UNUSED_ARENA_OBJECTS] = "unused_arena_objects",
	[PYTHON_SYM_USABLE_ARENAS] = "usable_arenas",
	[PYTHON_SYM_NARENAS_CURRENTLY_ALLOCATED] = "narenas_currently_allocated",
	[PYTHON_SYM_NTIMES_ARENA_ALLOCATED] = "ntimes_arena_allocated",
	[PYTHON_SYM_NARENAS_HIGHWATER] = "narenas_highwater",
};

const char *python_obmalloc_symbol(enum python_obmalloc_symbol which)
{
	if ((unsigned)which >= PYTHON_SYM_COUNT)
		return NULL;
	return obmalloc_symbols[which];
}

bool python_symbol_matches(const char *symbol, const char *wanted)
{
	size_t length = strlen(wanted);

	if (symbol == NULL || strncmp(symbol, wanted, length) != 0)
		return false;
	return symbol[length] == '\0' || symbol[length] == '.';
}
