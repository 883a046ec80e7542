/*
 * render_numpy_json.c - NumPy arrays, caches and pins as JSON (schema
 * heapinspect/1, doc/json-schema.md).  Reads only the model.
 */
#include "config.h"

#include "numpy.h"
#include "render_numpy.h"

#include <stdlib.h>

static const char *type_name(const struct heap_model *m, int32_t index)
{
	return index >= 0 && (size_t)index < m->pym.ntypes ? m->pym.types[index].name : NULL;
}

static void name_or_null(struct json *j, const char *key, const char *name)
{
	if (name)
		json_string(j, key, name);
	else
		json_null(j, key);
}

static void cache_object(struct json *j, const struct heap_model *m)
{
	size_t i, k;
	json_object_begin(j, "cache");
	json_bool(j, "found", m->np.datacache || m->np.dimcache);
	json_string(j, "method", m->np.cache_method ? m->np.cache_method : "none");
	json_uint(j, "datacache_addr", m->np.datacache);
	json_uint(j, "dimcache_addr", m->np.dimcache);
	json_object_begin(j, "data");
	json_uint(j, "count", m->np.cache_data.count);
	json_uint(j, "bytes", m->np.cache_data.bytes);
	json_object_end(j);
	json_object_begin(j, "dims");
	json_uint(j, "count", m->np.cache_dims.count);
	json_uint(j, "bytes", m->np.cache_dims.bytes);
	json_object_end(j);
	json_array_begin(j, "buckets");
	for (i = 0; i < m->np.nbuckets; i++) {
		const struct np_cache_bucket *b = &m->np.buckets[i];
		json_object_begin(j, NULL);
		json_string(j, "kind", b->dims ? "dims" : "data");
		json_uint(j, "size", b->size);
		json_uint(j, "count", b->count);
		json_uint(j, "bytes", b->bytes);
		json_array_begin(j, "entries");
		for (k = 0; k < b->count; k++)
			json_uint(j, NULL, b->entries[k]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

void numpy_json_header(struct json *j, const struct heap_model *m)
{
	const struct numpy_info *np = &m->np;
	char versions[80];
	json_object_begin(j, "numpy");
	json_bool(j, "found", np->found);
	if (np->error)
		json_string(j, "error", np->error);
	if (np->module)
		json_string(j, "module", np->module);
	if (!np->found) {
		json_object_end(j);
		return;
	}
	snprintf(versions, sizeof versions, "%ld.%ld-%ld.%ld", np->layout->version_min / 1000,
		 np->layout->version_min % 1000, np->layout->version_max / 1000,
		 np->layout->version_max % 1000);
	json_string(j, "versions", versions);
	json_uint(j, "abi_version", np->abi_version);
	json_uint(j, "api_version", np->api_version);
	json_string(j, "layout", np->layout->name);
	json_bool(j, "verified_live", numpy_layout_verified_live(np->layout));
	json_uint(j, "ndarray_type", np->ndarray_type);
	json_string(j, "ndarray_type_method", np->type_method);
	json_uint(j, "arrays", np->narrays);
	json_uint(j, "owned_buffers", np->owned_buffers);
	json_uint(j, "owned_bytes", np->owned_bytes);
	json_uint(j, "mmap_threshold", m->mp.mmap_threshold);
	json_bool(j, "mmap_threshold_dynamic", m->mp.mmap_threshold_dynamic);
	cache_object(j, m);
	json_object_end(j);
}

static void buffer_object(struct json *j, const struct heap_model *m, const struct np_array *a)
{
	const struct np_buffer *b = &a->buffer;
	char reason[160];
	json_object_begin(j, "buffer");
	json_string(j, "kind", np_buffer_kind_name(b->kind));
	json_uint(j, "alloc", b->alloc);
	json_uint(j, "size", b->size);
	if (b->kind == NPBUF_GLIBC_CHUNK || b->kind == NPBUF_MMAPPED_CHUNK)
		json_uint(j, "usable_size", b->usable);
	json_uint(j, "offset", b->offset);
	if (b->kind == NPBUF_GLIBC_CHUNK)
		json_int(j, "arena", b->arena);
	if (b->path)
		json_string(j, "path", b->path);
	if (*numpy_buffer_reason(m, a, reason, sizeof reason))
		json_string(j, "reason", reason);
	json_object_end(j);
}

static void flags_object(struct json *j, const struct numpy_layout *L, uint32_t flags)
{
	json_uint(j, "flags_value", flags);
	json_object_begin(j, "flags");
	json_bool(j, "owndata", flags & (uint32_t)L->flag_owndata);
	json_bool(j, "c_contiguous", flags & (uint32_t)L->flag_c_contiguous);
	json_bool(j, "f_contiguous", flags & (uint32_t)L->flag_f_contiguous);
	json_bool(j, "writeable", flags & (uint32_t)L->flag_writeable);
	json_bool(j, "aligned", flags & (uint32_t)L->flag_aligned);
	json_bool(j, "writebackifcopy", flags & (uint32_t)L->flag_writebackifcopy);
	json_object_end(j);
}

static void array_object(struct json *j, const char *key, const struct heap_model *m,
			 const struct np_array *a)
{
	char order[2] = { a->byteorder, 0 }, kind[2] = { a->kind, 0 };
	int32_t i;
	json_object_begin(j, key);
	json_uint(j, "addr", a->addr);
	name_or_null(j, "type", type_name(m, a->type));
	json_uint(j, "refcnt", a->refcnt);
	json_bool(j, "readable", a->readable);
	if (a->readable) {
		json_int(j, "ndim", a->nd);
		json_array_begin(j, "shape");
		for (i = 0; i < a->nd; i++)
			json_int(j, NULL, a->shape[i]);
		json_array_end(j);
		json_array_begin(j, "strides");
		for (i = 0; i < a->nd; i++)
			json_int(j, NULL, a->strides[i]);
		json_array_end(j);
		json_string(j, "dtype", a->dtype);
		json_string(j, "kind", kind);
		json_string(j, "byteorder", order);
		json_uint(j, "itemsize", a->itemsize);
		json_uint(j, "nbytes", a->nbytes);
		flags_object(j, m->np.layout, a->flags);
		json_uint(j, "data", a->data);
		json_uint(j, "descr", a->descr);
		json_uint(j, "dims_alloc", a->dims_alloc);
	}
	json_uint(j, "base", a->base);
	name_or_null(j, "base_type", a->base ? type_name(m, a->base_type) : NULL);
	json_uint(j, "owner", a->owner);
	name_or_null(j, "owner_type", type_name(m, a->owner_type));
	json_uint(j, "held_bytes", a->held);
	if (a->readable)
		buffer_object(j, m, a);
	json_object_end(j);
}

static void arrays_array(struct json *j, const struct heap_model *m, const struct report *r)
{
	size_t *order = arrays_by_held(m), i;
	json_array_begin(j, "arrays");
	for (i = 0; i < m->np.narrays; i++) {
		const struct np_array *a = &m->np.arrays[order[i]];
		if (array_filter_match(&r->arrays, a))
			array_object(j, NULL, m, a);
	}
	json_array_end(j);
	free(order);
}

static void pins_array(struct json *j, const struct heap_model *m)
{
	size_t i, k;
	json_array_begin(j, "views");
	for (i = 0; i < m->np.npins; i++) {
		const struct np_pin *p = &m->np.pins[i];
		json_object_begin(j, NULL);
		json_uint(j, "base", p->base);
		name_or_null(j, "base_type", type_name(m, p->base_type));
		json_bool(j, "base_is_array", p->base_array >= 0);
		json_string(j, "buffer_kind", np_buffer_kind_name(p->buffer_kind));
		json_uint(j, "base_bytes", p->base_bytes);
		json_uint(j, "base_refcnt", p->base_refcnt);
		json_uint(j, "base_refs_from_views", p->refs_from_views);
		json_bool(j, "pinned_only_by_views", p->only_views);
		json_array_begin(j, "views");
		for (k = 0; k < p->nviews; k++)
			json_uint(j, NULL, m->np.arrays[p->views[k]].addr);
		json_array_end(j);
		json_uint(j, "visible_bytes", p->visible_bytes);
		json_uint(j, "pinned_bytes", p->pinned_bytes);
		json_object_end(j);
	}
	json_array_end(j);
}

void numpy_json_report(struct json *j, const struct heap_model *m, const struct report *r)
{
	const struct np_array *a;
	if (!m->np.found)
		return;
	switch (r->command) {
	case CMD_ARRAYS:
		arrays_array(j, m, r);
		break;
	case CMD_ARRAY:
		a = numpy_array_at(m, r->address);
		if (a) {
			array_object(j, "array", m, a);
		} else {
			json_null(j, "array");
			json_string(j, "error", "no live ndarray at this address");
		}
		break;
	case CMD_VIEWS:
		pins_array(j, m);
		break;
	default:
		break;
	}
}
