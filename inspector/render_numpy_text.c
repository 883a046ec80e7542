/*
 * render_numpy_text.c - NumPy arrays, caches and pins as text for people.
 * Reads only the model.
 */
#include "config.h"

#include "numpy.h"
#include "render_numpy.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *type_name(const struct heap_model *m, int32_t index)
{
	return index >= 0 && (size_t)index < m->pym.ntypes ? m->pym.types[index].name : "?";
}

static void version_line(FILE *out, const struct heap_model *m)
{
	const struct numpy_info *np = &m->np;
	fprintf(out, "NumPy %ld.%ld-%ld.%ld (C ABI 0x%lx, C API 0x%lx, layout %s%s), %s\n",
		np->layout->version_min / 1000, np->layout->version_min % 1000,
		np->layout->version_max / 1000, np->layout->version_max % 1000, np->abi_version,
		np->api_version, np->layout->name,
		numpy_layout_verified_live(np->layout) ? "" : ", unverified live", np->module);
	fprintf(out, "  numpy.ndarray type 0x%llx (by %s)\n", (unsigned long long)np->ndarray_type,
		np->type_method);
}

void numpy_text_summary(FILE *out, const struct heap_model *m)
{
	char b[64], c[64];
	if (!m->np.found)
		return;
	version_line(out, m);
	fprintf(out, "  %zu arrays, %llu own their data: %s; %zu buffers kept alive by views that "
		"show much less of them\n",
		m->np.narrays, (unsigned long long)m->np.owned_buffers,
		format_bytes(m->np.owned_bytes, b, sizeof b), m->np.npins);
	if (!m->np.datacache && !m->np.dimcache) {
		fprintf(out, "  NumPy caches: not found\n");
		return;
	}
	fprintf(out, "  NumPy caches (by %s): %llu data buffers %s, ", m->np.cache_method,
		(unsigned long long)m->np.cache_data.count,
		format_bytes(m->np.cache_data.bytes, b, sizeof b));
	if (m->np.dimcache)
		fprintf(out, "%llu dims blocks %s\n", (unsigned long long)m->np.cache_dims.count,
			format_bytes(m->np.cache_dims.bytes, c, sizeof c));
	else
		fprintf(out, "dims cache not found\n");
}

static void shape_string(const struct np_array *a, char *buf, size_t len)
{
	size_t o = 0;
	int32_t i;
	o += (size_t)snprintf(buf, len, "(");
	for (i = 0; i < a->nd && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, i ? ", %lld" : "%lld", (long long)a->shape[i]);
	if (o < len)
		snprintf(buf + o, len - o, a->nd == 1 ? ",)" : ")");
}

static void flags_string(const struct numpy_layout *L, uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", f & (uint32_t)L->flag_owndata ? "O" : "-",
		 f & (uint32_t)L->flag_c_contiguous ? "C" : "-",
		 f & (uint32_t)L->flag_f_contiguous ? "F" : "-",
		 f & (uint32_t)L->flag_writeable ? "W" : "-");
}

static void buffer_string(const struct np_array *a, char *buf, size_t len)
{
	const struct np_buffer *b = &a->buffer;
	char s[64];
	switch (b->kind) {
	case NPBUF_GLIBC_CHUNK:
		snprintf(buf, len, "arena %d chunk 0x%llx (%s)%s", b->arena,
			 (unsigned long long)b->alloc, format_bytes(b->size, s, sizeof s),
			 b->offset ? " +offset" : "");
		break;
	case NPBUF_MMAPPED_CHUNK:
		snprintf(buf, len, "mmapped chunk 0x%llx (%s)", (unsigned long long)b->alloc,
			 format_bytes(b->size, s, sizeof s));
		break;
	case NPBUF_PYMALLOC_BLOCK:
		snprintf(buf, len, "pymalloc block 0x%llx (%llu B)", (unsigned long long)b->alloc,
			 (unsigned long long)b->size);
		break;
	case NPBUF_FILE_MAPPING:
	case NPBUF_ANON_MAPPING:
		snprintf(buf, len, "mapping 0x%llx %s", (unsigned long long)b->alloc,
			 b->path && b->path[0] ? b->path : "(anonymous)");
		break;
	default:
		snprintf(buf, len, "unknown");
	}
}

static void array_row(FILE *out, const struct heap_model *m, const struct np_array *a)
{
	char shape[96], flags[8], where[160], held[64];
	if (!a->readable) {
		fprintf(out, "0x%-14llx %s (fields could not be read)\n", (unsigned long long)a->addr,
			type_name(m, a->type));
		return;
	}
	shape_string(a, shape, sizeof shape);
	flags_string(m->np.layout, a->flags, flags, sizeof flags);
	buffer_string(a, where, sizeof where);
	fprintf(out, "0x%-14llx %-22s %-10s %-22s %4s %14llu  %-26s ", (unsigned long long)a->addr,
		shape, a->dtype, format_bytes(a->held, held, sizeof held), flags,
		(unsigned long long)a->nbytes, type_name(m, a->type));
	if (a->base)
		fprintf(out, "view of 0x%llx (%s) in %s\n", (unsigned long long)a->base,
			type_name(m, a->base_type), where);
	else
		fprintf(out, "%s\n", where);
}

static void arrays_listing(FILE *out, const struct heap_model *m, const struct report *r)
{
	size_t *order = arrays_by_held(m), i;
	uint64_t rows = 0;
	numpy_text_summary(out, m);
	fprintf(out, "%-16s %-22s %-10s %-22s %4s %14s  %-26s %s\n", "array", "shape", "dtype",
		"held", "OCFW", "nbytes", "type", "data in");
	for (i = 0; i < m->np.narrays; i++)
		if (array_filter_match(&r->arrays, &m->np.arrays[order[i]]) &&
		    report_row_shown(r, rows++))
			array_row(out, m, &m->np.arrays[order[i]]);
	report_page_footer(out, r, rows, "arrays");
	free(order);
}

static void array_detail(FILE *out, const struct heap_model *m, uint64_t addr)
{
	const struct np_array *a = numpy_array_at(m, addr);
	char shape[96], where[160], reason[160], b[64];
	int32_t i;
	if (!a) {
		fprintf(out, "0x%llx: no live ndarray here\n", (unsigned long long)addr);
		return;
	}
	fprintf(out, "0x%llx: %s, refcount %llu\n", (unsigned long long)a->addr,
		type_name(m, a->type), (unsigned long long)a->refcnt);
	if (!a->readable) {
		fprintf(out, "  its fields could not be read\n");
		return;
	}
	shape_string(a, shape, sizeof shape);
	fprintf(out, "  shape %s, strides (", shape);
	for (i = 0; i < a->nd; i++)
		fprintf(out, i ? ", %lld" : "%lld", (long long)a->strides[i]);
	fprintf(out, "), dtype %s (itemsize %llu), nbytes %s\n", a->dtype,
		(unsigned long long)a->itemsize, format_bytes(a->nbytes, b, sizeof b));
	fprintf(out, "  flags 0x%x:%s%s%s%s\n", a->flags,
		a->flags & (uint32_t)m->np.layout->flag_owndata ? " OWNDATA" : "",
		a->flags & (uint32_t)m->np.layout->flag_c_contiguous ? " C_CONTIGUOUS" : "",
		a->flags & (uint32_t)m->np.layout->flag_f_contiguous ? " F_CONTIGUOUS" : "",
		a->flags & (uint32_t)m->np.layout->flag_writeable ? " WRITEABLE" : "");
	buffer_string(a, where, sizeof where);
	fprintf(out, "  data 0x%llx in %s\n", (unsigned long long)a->data, where);
	if (*numpy_buffer_reason(m, a, reason, sizeof reason))
		fprintf(out, "  why there: %s\n", reason);
	if (a->base)
		fprintf(out, "  base 0x%llx (%s); owner 0x%llx (%s)\n", (unsigned long long)a->base,
			type_name(m, a->base_type), (unsigned long long)a->owner,
			type_name(m, a->owner_type));
}

static void pins_listing(FILE *out, const struct heap_model *m)
{
	size_t i;
	char v[64], p[64], s[64];
	if (!m->np.npins) {
		fprintf(out, "no NumPy view keeps more of a buffer alive than it shows\n");
		return;
	}
	for (i = 0; i < m->np.npins; i++) {
		const struct np_pin *pin = &m->np.pins[i];
		const struct np_array *first = &m->np.arrays[pin->views[0]];
		uint64_t elements = first->itemsize ? first->nbytes / first->itemsize : 0;
		if (pin->nviews == 1)
			fprintf(out, "array @0x%llx (%llu elements, %s visible)",
				(unsigned long long)first->addr, (unsigned long long)elements,
				format_bytes(pin->visible_bytes, v, sizeof v));
		else
			fprintf(out, "%zu views (%s visible)", pin->nviews,
				format_bytes(pin->visible_bytes, v, sizeof v));
		fprintf(out, " keep%s %s base @0x%llx (%s, %s) alive: %s pinned%s\n",
			pin->nviews == 1 ? "s" : "", format_bytes(pin->base_bytes, s, sizeof s),
			(unsigned long long)pin->base, type_name(m, pin->base_type),
			np_buffer_kind_name(pin->buffer_kind),
			format_bytes(pin->pinned_bytes, p, sizeof p),
			pin->only_views ? "; nothing else references the base"
					: "; the base is referenced elsewhere too");
	}
}

void numpy_text_report(FILE *out, const struct heap_model *m, const struct report *r)
{
	if (!m->np.found) {
		fprintf(out, "%s\n", m->np.error ? m->np.error :
				      "no CPython in this process, so no NumPy");
		return;
	}
	switch (r->command) {
	case CMD_ARRAYS: arrays_listing(out, m, r); break;
	case CMD_ARRAY: array_detail(out, m, r->address); break;
	case CMD_VIEWS: pins_listing(out, m); break;
	default: break;
	}
}
