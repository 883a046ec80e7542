/*
 * commands.c - command names and the chunk filter.
 */
#include "config.h"

#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const names[CMD_COUNT] = {
	[CMD_SUMMARY] = "summary", [CMD_ARENAS] = "arenas", [CMD_CHUNKS] = "chunks",
	[CMD_BINS] = "bins",	   [CMD_TCACHE] = "tcache", [CMD_MMAPPED] = "mmapped",
	[CMD_MP] = "mp",	   [CMD_PYMALLOC] = "pymalloc", [CMD_PYARENAS] = "pyarenas",
	[CMD_TYPES] = "types",	   [CMD_OBJ] = "obj",	    [CMD_ARRAYS] = "arrays",
	[CMD_ARRAY] = "array",	   [CMD_VIEWS] = "views",   [CMD_EXPLAIN] = "explain",
	[CMD_DIFF] = "diff",	   [CMD_MAP] = "map",
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

static const struct heap_model *sort_model;

static int by_bytes(const void *a, const void *b)
{
	const struct py_type_stat *x = &sort_model->pym.types[*(const size_t *)a];
	const struct py_type_stat *y = &sort_model->pym.types[*(const size_t *)b];
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t *types_by_bytes(const struct heap_model *m)
{
	size_t *order = xmalloc((m->pym.ntypes + 1) * sizeof *order), i;
	for (i = 0; i < m->pym.ntypes; i++)
		order[i] = i;
	sort_model = m;
	sort_items(order, m->pym.ntypes, sizeof *order, by_bytes);
	return order;
}

void report_page_footer(FILE *out, const struct report *r, uint64_t rows, const char *what)
{
	uint64_t last;
	if (!r->offset && (!r->limit || rows <= r->limit))
		return;
	if (r->offset >= rows) {
		fprintf(out, "-- no rows past offset %llu: %llu %s --\n",
			(unsigned long long)r->offset, (unsigned long long)rows, what);
		return;
	}
	last = r->limit && rows - r->offset > r->limit ? r->offset + r->limit : rows;
	fprintf(out, "-- %s %llu-%llu of %llu", what, (unsigned long long)r->offset + 1,
		(unsigned long long)last, (unsigned long long)rows);
	if (last < rows)
		fprintf(out, "; --offset %llu for the next", (unsigned long long)last);
	fprintf(out, " --\n");
}

int command_takes_address(enum command c)
{
	return c == CMD_OBJ || c == CMD_ARRAY;
}

int array_filter_match(const struct array_filter *f, const struct np_array *a)
{
	if (f->dtype && strcmp(f->dtype, a->dtype))
		return 0;
	if (a->nbytes < f->min_nbytes)
		return 0;
	return !f->owner || a->owner == f->owner;
}

static int by_held(const void *a, const void *b)
{
	const struct np_array *x = &sort_model->np.arrays[*(const size_t *)a];
	const struct np_array *y = &sort_model->np.arrays[*(const size_t *)b];
	if (x->held != y->held)
		return x->held > y->held ? -1 : 1;
	if (x->nbytes != y->nbytes)
		return x->nbytes > y->nbytes ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t *arrays_by_held(const struct heap_model *m)
{
	size_t *order = xmalloc((m->np.narrays + 1) * sizeof *order), i;
	for (i = 0; i < m->np.narrays; i++)
		order[i] = i;
	sort_model = m;
	sort_items(order, m->np.narrays, sizeof *order, by_held);
	return order;
}
