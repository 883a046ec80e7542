/*
 * render_explain_json.c - the explain analysis as JSON (schema
 * heapinspect/1, doc/json-schema.md).  Reads only the model.
 */
#include "config.h"

#include "explain.h"
#include "render_explain.h"

static void rss_object(struct json *j, const struct heap_model *m)
{
	uint64_t sum = 0;
	size_t k;
	json_object_begin(j, "rss");
	json_bool(j, "residency_known", m->ex.have_residency);
	json_string(j, "residency_source", residency_source_name(m->ex.residency_source));
	if (m->ex.measured_anon != TARGET_RSS_UNKNOWN)
		json_uint(j, "measured_anon", m->ex.measured_anon);
	else
		json_null(j, "measured_anon");
	json_uint(j, "resident_anon", m->ex.resident_anon);
	json_array_begin(j, "regions");
	for (k = 0; k < RSS_KIND_COUNT; k++) {
		const struct rss_region *r = &m->ex.regions[k];
		json_object_begin(j, NULL);
		json_string(j, "kind", rss_kind_name((enum rss_kind)k));
		json_uint(j, "mapped", r->mapped);
		json_uint(j, "resident", r->resident);
		json_uint(j, "live", r->live);
		json_uint(j, "free", r->free);
		json_uint(j, "overhead", r->overhead);
		json_object_end(j);
		sum += r->resident;
	}
	json_array_end(j);
	json_array_begin(j, "live_by_owner");
	for (k = 0; k < m->ex.nowners; k++) {
		json_object_begin(j, NULL);
		json_string(j, "owner", m->ex.owners[k].owner);
		json_uint(j, "bytes", m->ex.owners[k].bytes);
		json_object_end(j);
	}
	json_array_end(j);
	if (m->ex.measured_anon != TARGET_RSS_UNKNOWN)
		json_int(j, "remainder", (int64_t)m->ex.measured_anon - (int64_t)sum);
	else
		json_null(j, "remainder");
	json_object_end(j);
}

static void trim_object(struct json *j, const struct heap_model *m)
{
	size_t a;
	json_object_begin(j, "trim");
	json_uint(j, "would_return", m->ex.trim_total);
	json_bool(j, "top_trim_blocked", m->ex.trim_top_blocked);
	json_array_begin(j, "by_arena");
	for (a = 0; a < m->narenas; a++) {
		json_object_begin(j, NULL);
		json_uint(j, "arena", a);
		json_uint(j, "top_trim", m->ex.trim[a].top_trim);
		json_uint(j, "madvise", m->ex.trim[a].madvise);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void pin_object(struct json *j, const struct heap_model *m, const struct pin *p)
{
	char what[512], release[512];
	explain_pin_text(m, p, what, sizeof what, release, sizeof release);
	json_object_begin(j, NULL);
	json_string(j, "kind", pin_kind_name((enum pin_kind)p->kind));
	json_uint(j, "bytes", p->bytes);
	json_uint(j, "resident", p->resident);
	json_uint(j, "addr", p->addr);
	json_uint(j, "size", p->size);
	if (p->state >= 0)
		json_string(j, "state", chunk_state_name((enum chunk_state)p->state));
	if (p->owner_type >= 0 && (size_t)p->owner_type < m->pym.ntypes) {
		json_string(j, "owner", m->pym.types[p->owner_type].name);
		json_uint(j, "owner_addr", p->owner_addr);
	} else {
		json_null(j, "owner");
	}
	if (p->owner_note)
		json_string(j, "owner_note", p->owner_note);
	if (p->arena >= 0)
		json_int(j, "arena", p->arena);
	if (p->kind == PIN_HEAP_TOP) {
		json_object_begin(j, "run");
		json_uint(j, "addr", p->run_addr);
		json_uint(j, "size", p->run_size);
		json_object_end(j);
		json_object_begin(j, "lid");
		json_uint(j, "count", p->lid_count);
		json_uint(j, "bytes", p->lid_bytes);
		json_object_end(j);
	} else {
		json_uint(j, "count", p->count);
	}
	json_string(j, "what", what);
	json_string(j, "release", release);
	json_object_end(j);
}

void explain_json(struct json *j, const struct heap_model *m)
{
	size_t i;
	if (!m->ex.done)
		return;
	json_object_begin(j, "explain");
	rss_object(j, m);
	trim_object(j, m);
	json_array_begin(j, "pins");
	for (i = 0; i < m->ex.npins; i++)
		pin_object(j, m, &m->ex.pins[i]);
	json_array_end(j);
	json_object_end(j);
}
