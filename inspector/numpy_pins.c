/*
 * numpy_pins.c - analysis: views that keep a much larger buffer alive.
 *
 * A view (an array without OWNDATA) holds a reference to its .base; as
 * long as the view lives, the base object and the whole allocation its
 * data sits in stay allocated, however little of it the view shows.  For
 * each base object that views point at, this sums what its views show and
 * compares it with the allocation (chunk, block or mapping) holding their
 * data.  When the base's reference count equals the number of views
 * pointing at it, nothing else keeps it: the views alone pin it.
 *
 * Reads only the model.  Invariant: pinned_bytes = base_bytes -
 * visible_bytes, visible_bytes never exceeds base_bytes (overlapping views
 * are not double counted past the allocation).
 */
#include "config.h"

#include "numpy.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A pin is worth reporting when the views keep at least a page they do not
 * show, and more than they show: malloc slack and header bytes of a full
 * view are not pins. */
#define MIN_PINNED 4096u

static const struct heap_model *sort_model;

/* Order of array indexes: by base address, views first. */
static int by_base(const void *a, const void *b)
{
	const struct np_array *x = &sort_model->np.arrays[*(const size_t *)a];
	const struct np_array *y = &sort_model->np.arrays[*(const size_t *)b];
	return x->base < y->base ? -1 : x->base > y->base;
}

static int by_pinned(const void *a, const void *b)
{
	const struct np_pin *x = a, *y = b;
	if (x->pinned_bytes != y->pinned_bytes)
		return x->pinned_bytes > y->pinned_bytes ? -1 : 1;
	return x->base < y->base ? -1 : x->base > y->base;
}

static int is_view(const struct heap_model *m, const struct np_array *a)
{
	return a->readable && a->base && !(a->flags & (uint32_t)m->np.layout->flag_owndata);
}

/* The allocation the views' data lives in, in bytes (0: unknown, or not
 * memory the process could give back). */
static uint64_t allocation_bytes(const struct np_buffer *b)
{
	switch (b->kind) {
	case NPBUF_GLIBC_CHUNK:
	case NPBUF_MMAPPED_CHUNK: return b->usable;
	case NPBUF_PYMALLOC_BLOCK:
	case NPBUF_ANON_MAPPING: return b->size;
	default: return 0;	/* files and module data are not the heap */
	}
}

/* One pin from the views ORDER[FIRST..LAST) sharing a base. */
static void add_pin(struct heap_model *m, const size_t *order, size_t first, size_t last,
		    size_t *cap)
{
	const struct np_array *v = &m->np.arrays[order[first]];
	struct np_pin pin = { 0 };
	size_t k;
	pin.base = v->base;
	pin.base_type = v->base_type;
	pin.base_array = v->base_array;
	pin.base_refcnt = v->base_refcnt;
	pin.buffer_kind = v->buffer.kind;
	pin.base_bytes = allocation_bytes(&v->buffer);
	pin.refs_from_views = last - first;
	pin.only_views = pin.base_refcnt == pin.refs_from_views;
	pin.views = xmalloc((last - first) * sizeof *pin.views);
	for (k = first; k < last; k++) {
		pin.views[pin.nviews++] = order[k];
		pin.visible_bytes += m->np.arrays[order[k]].nbytes;
	}
	if (pin.visible_bytes > pin.base_bytes)
		pin.visible_bytes = pin.base_bytes;
	pin.pinned_bytes = pin.base_bytes - pin.visible_bytes;
	if (pin.pinned_bytes < MIN_PINNED || pin.pinned_bytes < pin.visible_bytes) {
		free(pin.views);
		return;
	}
	*ARRAY_PUSH(m->np.pins, m->np.npins, *cap) = pin;
}

void numpy_find_pins(struct heap_model *m)
{
	size_t *order = xmalloc((m->np.narrays + 1) * sizeof *order), n = 0, i, j, cap = 0;
	for (i = 0; i < m->np.narrays; i++)
		if (is_view(m, &m->np.arrays[i]))
			order[n++] = i;
	sort_model = m;
	sort_items(order, n, sizeof *order, by_base);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && m->np.arrays[order[j]].base ==
					 m->np.arrays[order[i]].base; j++)
			;
		add_pin(m, order, i, j, &cap);
	}
	sort_items(m->np.pins, m->np.npins, sizeof *m->np.pins, by_pinned);
	free(order);
}
