/*
 * render_diff.c - a model_diff as text and as JSON ("diff" member, schema
 * heapinspect/1).  Reads only the diff and the two models.
 */
#include "config.h"

#include "diff.h"
#include "explain.h"
#include "util.h"

#define TEXT_ROWS 20	/* per section; JSON has every row */

static const char *class_label(const struct diff_class *c, char *buf, size_t len)
{
	if (c->mmapped)
		snprintf(buf, len, "mmapped");
	else if (c->lo == c->hi)
		snprintf(buf, len, "%llu", (unsigned long long)c->lo);
	else
		snprintf(buf, len, "%llu-%llu", (unsigned long long)c->lo, (unsigned long long)c->hi);
	return buf;
}

static const char *array_type(const struct heap_model *m, const struct np_array *a)
{
	return a->type >= 0 && (size_t)a->type < m->pym.ntypes ? m->pym.types[a->type].name : "?";
}

static void text_chunks(FILE *out, const struct model_diff *d)
{
	char b[2][64], label[48];
	size_t i;
	fprintf(out, "chunks: %llu new (%s), %llu freed (%s)\n", (unsigned long long)d->new_count,
		format_bytes(d->new_bytes, b[0], sizeof b[0]), (unsigned long long)d->freed_count,
		format_bytes(d->freed_bytes, b[1], sizeof b[1]));
	if (d->nclasses)
		fprintf(out, "  %-22s %10s %16s %10s %16s\n", "chunk size", "new", "bytes", "freed",
			"bytes");
	for (i = 0; i < d->nclasses && i < TEXT_ROWS; i++) {
		const struct diff_class *c = &d->classes[i];
		fprintf(out, "  %-22s %10llu %16llu %10llu %16llu\n",
			class_label(c, label, sizeof label), (unsigned long long)c->new_count,
			(unsigned long long)c->new_bytes, (unsigned long long)c->freed_count,
			(unsigned long long)c->freed_bytes);
	}
}

void diff_render_text(FILE *out, const struct model_diff *d, const struct heap_model *a,
		      const struct heap_model *b)
{
	size_t i;
	char w[512], r[512];
	fprintf(out, "diff: before = process %d (%s), after = process %d (%s)\n", (int)a->pid,
		a->source, (int)b->pid, b->source);
	for (i = 0; i < d->nregions; i++)
		fprintf(out, "  %-40s %16lld -> %16lld (%+lld)\n", d->regions[i].name,
			(long long)d->regions[i].before, (long long)d->regions[i].after,
			(long long)(d->regions[i].after - d->regions[i].before));
	text_chunks(out, d);
	if (d->ntypes)
		fprintf(out, "Python objects: %10s %16s  type\n", "count", "bytes");
	for (i = 0; i < d->ntypes && i < TEXT_ROWS; i++)
		fprintf(out, "                %+10lld %+16lld  %s\n", (long long)d->types[i].count,
			(long long)d->types[i].bytes, d->types[i].name);
	for (i = 0; i < d->narrays && i < TEXT_ROWS; i++) {
		const struct np_array *x = d->arrays[i].array;
		fprintf(out, "array %s 0x%llx %s %s, %llu B\n", d->arrays[i].appeared ? "appeared" : "gone",
			(unsigned long long)x->addr, array_type(d->arrays[i].appeared ? b : a, x),
			x->dtype, (unsigned long long)x->nbytes);
	}
	for (i = 0; i < d->npins && i < TEXT_ROWS; i++) {
		explain_pin_text(d->pins[i].gone ? a : b, d->pins[i].pin, w, sizeof w, r, sizeof r);
		fprintf(out, "pin %s: [%s] %llu B: %s\n", d->pins[i].gone ? "gone" : "new",
			pin_kind_name((enum pin_kind)d->pins[i].pin->kind),
			(unsigned long long)d->pins[i].pin->bytes, w);
	}
}

static void json_classes(struct json *j, const struct model_diff *d)
{
	size_t i;
	json_array_begin(j, "chunk_classes");
	for (i = 0; i < d->nclasses; i++) {
		const struct diff_class *c = &d->classes[i];
		json_object_begin(j, NULL);
		json_bool(j, "mmapped", c->mmapped);
		json_uint(j, "min_size", c->mmapped ? 0 : c->lo);
		json_uint(j, "max_size", c->mmapped ? 0 : c->hi);
		json_uint(j, "new_count", c->new_count);
		json_uint(j, "new_bytes", c->new_bytes);
		json_uint(j, "freed_count", c->freed_count);
		json_uint(j, "freed_bytes", c->freed_bytes);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_rest(struct json *j, const struct model_diff *d, const struct heap_model *a,
		      const struct heap_model *b)
{
	size_t i;
	json_array_begin(j, "types");
	for (i = 0; i < d->ntypes; i++) {
		json_object_begin(j, NULL);
		json_string(j, "type", d->types[i].name);
		json_int(j, "count", d->types[i].count);
		json_int(j, "bytes", d->types[i].bytes);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "arrays");
	for (i = 0; i < d->narrays; i++) {
		const struct np_array *x = d->arrays[i].array;
		json_object_begin(j, NULL);
		json_string(j, "change", d->arrays[i].appeared ? "appeared" : "gone");
		json_uint(j, "addr", x->addr);
		json_string(j, "type", array_type(d->arrays[i].appeared ? b : a, x));
		json_string(j, "dtype", x->dtype);
		json_uint(j, "nbytes", x->nbytes);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "pins");
	for (i = 0; i < d->npins; i++) {
		json_object_begin(j, NULL);
		json_string(j, "change", d->pins[i].gone ? "gone" : "new");
		json_string(j, "kind", pin_kind_name((enum pin_kind)d->pins[i].pin->kind));
		json_uint(j, "addr", d->pins[i].pin->addr);
		json_uint(j, "bytes", d->pins[i].pin->bytes);
		json_object_end(j);
	}
	json_array_end(j);
}

void diff_render_json(struct json *j, const struct model_diff *d, const struct heap_model *a,
		      const struct heap_model *b)
{
	size_t i;
	json_object_begin(j, "diff");
	json_int(j, "before_pid", a->pid);
	json_int(j, "after_pid", b->pid);
	json_array_begin(j, "regions");
	for (i = 0; i < d->nregions; i++) {
		json_object_begin(j, NULL);
		json_string(j, "name", d->regions[i].name);
		json_int(j, "before", d->regions[i].before);
		json_int(j, "after", d->regions[i].after);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_begin(j, "chunks");
	json_uint(j, "new_count", d->new_count);
	json_uint(j, "new_bytes", d->new_bytes);
	json_uint(j, "freed_count", d->freed_count);
	json_uint(j, "freed_bytes", d->freed_bytes);
	json_object_end(j);
	json_classes(j, d);
	json_rest(j, d, a, b);
	json_object_end(j);
}
