/*
 * commands.c - command names and the chunk filter.
 */
#include "config.h"

#include "commands.h"

#include <string.h>

static const char *const names[CMD_COUNT] = {
	[CMD_SUMMARY] = "summary", [CMD_ARENAS] = "arenas", [CMD_CHUNKS] = "chunks",
	[CMD_BINS] = "bins",	   [CMD_TCACHE] = "tcache", [CMD_MMAPPED] = "mmapped",
	[CMD_MP] = "mp",	   [CMD_PYMALLOC] = "pymalloc",
};

const char *command_name(enum command c)
{
	return c < CMD_COUNT ? names[c] : "?";
}

int command_parse(const char *name)
{
	int i;
	for (i = 0; i < CMD_COUNT; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

void chunk_filter_init(struct chunk_filter *f)
{
	memset(f, 0, sizeof *f);
	f->arena = -2;
	f->max_size = UINT64_MAX;
	f->to = UINT64_MAX;
}

int chunk_filter_match(const struct chunk_filter *f, const struct chunk *c)
{
	if (f->arena != -2 && c->arena != f->arena)
		return 0;
	if (f->state_mask && !(f->state_mask & (1u << c->state)))
		return 0;
	if (c->size < f->min_size || c->size > f->max_size)
		return 0;
	return c->addr >= f->from && c->addr < f->to;
}
