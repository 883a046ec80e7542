/*
 * diff.c - the difference between two heap models ("before" A, "after" B).
 *
 * Invariants:
 *   - Reads only the two models, never a target.
 *   - A chunk counts as in use when it is handed out to the program (in
 *     use, or mmapped); tcache and fastbin chunks are free.  A chunk is new
 *     when B has an in-use chunk at an address and size where A had none,
 *     freed when A had one that B has not: so a block freed and allocated
 *     again at the same address and size between the snapshots is not seen.
 *   - Objects are compared per type name (two snapshots of one process
 *     share type addresses, two processes do not), arrays by address and
 *     data pointer, pins by kind and fragment address.
 *   - Every list is sorted largest first.
 */
#include "config.h"

#include "diff.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SMALL_CLASS_LIMIT 1024u	/* below: one class per chunk size */

static int chunk_in_use(const struct chunk *c)
{
	return c->state == CHUNK_INUSE || c->state == CHUNK_MMAPPED;
}

static struct diff_class *class_for(struct model_diff *d, const struct chunk *c)
{
	uint64_t lo = c->size, hi = c->size;
	int mmapped = c->state == CHUNK_MMAPPED;
	struct diff_class *k;
	size_t i;
	if (mmapped) {
		lo = 0;
		hi = UINT64_MAX;
	} else if (c->size >= SMALL_CLASS_LIMIT) {
		lo = 1;
		while (lo <= c->size / 2)
			lo *= 2;
		hi = lo * 2 - 1;
	}
	for (i = 0; i < d->nclasses; i++)
		if (d->classes[i].lo == lo && d->classes[i].hi == hi &&
		    d->classes[i].mmapped == mmapped)
			return &d->classes[i];
	k = ARRAY_PUSH(d->classes, d->nclasses, d->classes_cap);
	*k = (struct diff_class){ lo, hi, mmapped, 0, 0, 0, 0 };
	return k;
}

static void count_chunk(struct model_diff *d, const struct chunk *c, int is_new)
{
	struct diff_class *k = class_for(d, c);
	if (is_new) {
		k->new_count++;
		k->new_bytes += c->size;
		d->new_count++;
		d->new_bytes += c->size;
	} else {
		k->freed_count++;
		k->freed_bytes += c->size;
		d->freed_count++;
		d->freed_bytes += c->size;
	}
}

/* Merge the two address-sorted chunk lists. */
static void diff_chunks(struct model_diff *d, const struct heap_model *a, const struct heap_model *b)
{
	size_t i = 0, j = 0;
	while (i < a->nchunks || j < b->nchunks) {
		const struct chunk *x = i < a->nchunks ? &a->chunks[i] : NULL;
		const struct chunk *y = j < b->nchunks ? &b->chunks[j] : NULL;
		if (x && y && x->addr == y->addr) {
			int same = x->size == y->size && chunk_in_use(x) == chunk_in_use(y);
			if (!same && chunk_in_use(x))
				count_chunk(d, x, 0);
			if (!same && chunk_in_use(y))
				count_chunk(d, y, 1);
			i++;
			j++;
		} else if (x && (!y || x->addr < y->addr)) {
			if (chunk_in_use(x))
				count_chunk(d, x, 0);
			i++;
		} else {
			if (chunk_in_use(y))
				count_chunk(d, y, 1);
			j++;
		}
	}
}

static void add_region(struct model_diff *d, const char *name, int64_t before, int64_t after)
{
	struct diff_region *r;
	if (before == after)
		return;
	r = ARRAY_PUSH(d->regions, d->nregions, d->regions_cap);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->before = before;
	r->after = after;
}

static const struct arena *arena_at(const struct heap_model *m, uint64_t addr)
{
	size_t i;
	for (i = 0; i < m->narenas; i++)
		if (m->arenas[i].addr == addr)
			return &m->arenas[i];
	return NULL;
}

static void diff_regions(struct model_diff *d, const struct heap_model *a, const struct heap_model *b)
{
	char name[48];
	size_t i, k;
	for (i = 0; i < b->narenas; i++) {
		const struct arena *x = arena_at(a, b->arenas[i].addr);
		snprintf(name, sizeof name, "arena %zu system_mem", i);
		add_region(d, name, x ? (int64_t)x->system_mem : 0, (int64_t)b->arenas[i].system_mem);
	}
	for (i = 0; i < a->narenas; i++)
		if (!arena_at(b, a->arenas[i].addr)) {
			snprintf(name, sizeof name, "arena 0x%llx (gone) system_mem",
				 (unsigned long long)a->arenas[i].addr);
			add_region(d, name, (int64_t)a->arenas[i].system_mem, 0);
		}
	add_region(d, "mmapped chunks bytes", (int64_t)a->mmapped.bytes, (int64_t)b->mmapped.bytes);
	add_region(d, "pymalloc arenas (count)", (int64_t)a->pym.narenas, (int64_t)b->pym.narenas);
	for (k = 0; k < 64 && (k < a->pym.nclasses || k < b->pym.nclasses); k++) {
		uint64_t size = (k + 1) * (uint64_t)(b->py.found ? b->py.layout->alignment
								 : a->py.layout->alignment);
		snprintf(name, sizeof name, "pymalloc %llu-byte pools (count)", (unsigned long long)size);
		add_region(d, name, k < a->pym.nclasses ? (int64_t)a->pym.classes[k].pools : 0,
			   k < b->pym.nclasses ? (int64_t)b->pym.classes[k].pools : 0);
	}
	if (a->ex.have_residency && b->ex.have_residency)
		for (k = 0; k < RSS_KIND_COUNT; k++) {
			snprintf(name, sizeof name, "resident %s", rss_kind_name((enum rss_kind)k));
			add_region(d, name, (int64_t)a->ex.regions[k].resident,
				   (int64_t)b->ex.regions[k].resident);
		}
}

/* Type indexes of M sorted by name. */
static const struct heap_model *name_model;
static int by_name(const void *x, const void *y)
{
	return strcmp(name_model->pym.types[*(const size_t *)x].name,
		      name_model->pym.types[*(const size_t *)y].name);
}

static size_t *types_by_name(const struct heap_model *m)
{
	size_t *order = xmalloc((m->pym.ntypes + 1) * sizeof *order), i;
	for (i = 0; i < m->pym.ntypes; i++)
		order[i] = i;
	name_model = m;
	sort_items(order, m->pym.ntypes, sizeof *order, by_name);
	return order;
}

/* Sum of the objects of M named like ORDER[*I] (names repeat), advancing *I. */
static void sum_named(const struct heap_model *m, const size_t *order, size_t *i,
		      const char **name, int64_t *count, int64_t *bytes)
{
	*name = m->pym.types[order[*i]].name;
	*count = *bytes = 0;
	while (*i < m->pym.ntypes && !strcmp(m->pym.types[order[*i]].name, *name)) {
		const struct py_type_stat *ts = &m->pym.types[order[(*i)++]];
		*count += (int64_t)ts->count;
		*bytes += (int64_t)(ts->bytes + ts->buffer_bytes);
	}
}

static void add_type(struct model_diff *d, const char *name, int64_t count, int64_t bytes)
{
	if (count || bytes)
		*ARRAY_PUSH(d->types, d->ntypes, d->types_cap) =
			(struct diff_type){ name, count, bytes };
}

static void diff_types(struct model_diff *d, const struct heap_model *a, const struct heap_model *b)
{
	size_t *oa = types_by_name(a), *ob = types_by_name(b), i = 0, j = 0;
	while (i < a->pym.ntypes || j < b->pym.ntypes) {
		const char *na = i < a->pym.ntypes ? a->pym.types[oa[i]].name : NULL;
		const char *nb = j < b->pym.ntypes ? b->pym.types[ob[j]].name : NULL;
		int cmp = !na ? 1 : !nb ? -1 : strcmp(na, nb);
		int64_t ca = 0, ba = 0, cb = 0, bb = 0;
		const char *name;
		if (cmp <= 0)
			sum_named(a, oa, &i, &name, &ca, &ba);
		if (cmp >= 0)
			sum_named(b, ob, &j, &name, &cb, &bb);
		add_type(d, name, cb - ca, bb - ba);
	}
	free(oa);
	free(ob);
}

static void diff_arrays(struct model_diff *d, const struct heap_model *a, const struct heap_model *b)
{
	size_t i = 0, j = 0;
	while (i < a->np.narrays || j < b->np.narrays) {
		const struct np_array *x = i < a->np.narrays ? &a->np.arrays[i] : NULL;
		const struct np_array *y = j < b->np.narrays ? &b->np.arrays[j] : NULL;
		if (x && y && x->addr == y->addr) {
			if (x->data != y->data || x->nbytes != y->nbytes) {
				*ARRAY_PUSH(d->arrays, d->narrays, d->arrays_cap) =
					(struct diff_array){ x, 0 };
				*ARRAY_PUSH(d->arrays, d->narrays, d->arrays_cap) =
					(struct diff_array){ y, 1 };
			}
			i++;
			j++;
		} else if (x && (!y || x->addr < y->addr)) {
			*ARRAY_PUSH(d->arrays, d->narrays, d->arrays_cap) = (struct diff_array){ x, 0 };
			i++;
		} else {
			*ARRAY_PUSH(d->arrays, d->narrays, d->arrays_cap) = (struct diff_array){ y, 1 };
			j++;
		}
	}
}

static int same_pin(const struct pin *x, const struct pin *y)
{
	return x->kind == y->kind && x->addr == y->addr && x->run_addr == y->run_addr;
}

static void pins_only_in(struct model_diff *d, const struct heap_model *m,
			 const struct heap_model *other, int gone)
{
	size_t i, k;
	for (i = 0; i < m->ex.npins; i++) {
		for (k = 0; k < other->ex.npins && !same_pin(&m->ex.pins[i], &other->ex.pins[k]); k++)
			;
		if (k == other->ex.npins)
			*ARRAY_PUSH(d->pins, d->npins, d->pins_cap) =
				(struct diff_pin){ &m->ex.pins[i], gone };
	}
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

static int class_cmp(const void *x, const void *y)
{
	const struct diff_class *p = x, *q = y;
	int64_t a = abs64((int64_t)p->new_bytes - (int64_t)p->freed_bytes);
	int64_t b = abs64((int64_t)q->new_bytes - (int64_t)q->freed_bytes);
	if (a != b)
		return a > b ? -1 : 1;
	return p->lo < q->lo ? -1 : p->lo > q->lo;
}

static int type_cmp(const void *x, const void *y)
{
	const struct diff_type *p = x, *q = y;
	if (abs64(p->bytes) != abs64(q->bytes))
		return abs64(p->bytes) > abs64(q->bytes) ? -1 : 1;
	return strcmp(p->name, q->name);
}

static int array_cmp(const void *x, const void *y)
{
	const struct diff_array *p = x, *q = y;
	if (p->array->nbytes != q->array->nbytes)
		return p->array->nbytes > q->array->nbytes ? -1 : 1;
	return p->array->addr < q->array->addr ? -1 : p->array->addr > q->array->addr;
}

static int pin_cmp(const void *x, const void *y)
{
	const struct diff_pin *p = x, *q = y;
	if (p->pin->bytes != q->pin->bytes)
		return p->pin->bytes > q->pin->bytes ? -1 : 1;
	return p->pin->addr < q->pin->addr ? -1 : p->pin->addr > q->pin->addr;
}

struct model_diff *diff_models(const struct heap_model *a, const struct heap_model *b)
{
	struct model_diff *d = xcalloc(1, sizeof *d);
	diff_regions(d, a, b);
	diff_chunks(d, a, b);
	diff_types(d, a, b);
	diff_arrays(d, a, b);
	pins_only_in(d, a, b, 1);
	pins_only_in(d, b, a, 0);
	sort_items(d->classes, d->nclasses, sizeof *d->classes, class_cmp);
	sort_items(d->types, d->ntypes, sizeof *d->types, type_cmp);
	sort_items(d->arrays, d->narrays, sizeof *d->arrays, array_cmp);
	sort_items(d->pins, d->npins, sizeof *d->pins, pin_cmp);
	return d;
}

void diff_free(struct model_diff *d)
{
	if (!d)
		return;
	free(d->regions);
	free(d->classes);
	free(d->types);
	free(d->arrays);
	free(d->pins);
	free(d);
}
