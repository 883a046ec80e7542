/*
 * render_json.c - the model as JSON, schema "heapinspect/1"
 * (doc/json-schema.md).  Reads only the model.
 */
#include "config.h"

#include "commands.h"
#include "json.h"
#include "render_explain.h"
#include "render_map.h"
#include "render_numpy.h"
#include "util.h"

#include <stdlib.h>

static void count_bytes(struct json *j, const char *key, const struct count_bytes *cb)
{
	json_object_begin(j, key);
	json_uint(j, "count", cb->count);
	json_uint(j, "bytes", cb->bytes);
	json_object_end(j);
}

static void modules(struct json *j, const struct heap_model *m)
{
	size_t i;
	json_array_begin(j, "modules");
	for (i = 0; i < m->nmodules; i++) {
		json_object_begin(j, NULL);
		json_string(j, "name", m->modules[i].name);
		json_string(j, "file", m->modules[i].file);
		json_string(j, "build_id", m->modules[i].build_id);
		json_object_end(j);
	}
	json_array_end(j);
}

static void header(struct json *j, const struct heap_model *m, const struct report *r)
{
	const struct glibc_info *g = &m->glibc;
	json_string(j, "schema", "heapinspect/1");
	json_string(j, "command", command_name(r->command));
	json_object_begin(j, "target");
	json_int(j, "pid", m->pid);
	json_string(j, "exe", m->exe);
	json_string(j, "source", m->source);
	json_double(j, "pause_seconds", m->pause_seconds);
	json_uint(j, "bytes_copied", m->bytes_copied);
	modules(j, m);
	json_object_end(j);
	json_object_begin(j, "glibc");
	json_string(j, "version", g->version);
	json_string(j, "libc", g->libc_path);
	json_string(j, "layout", g->layout ? g->layout->name : "");
	json_bool(j, "debuginfo", g->debuginfo);
	json_bool(j, "layout_from_dwarf", g->layout_from_dwarf);
	json_object_begin(j, "main_arena");
	json_uint(j, "addr", g->main_arena);
	json_string(j, "method", g->main_arena_method);
	json_object_end(j);
	json_object_begin(j, "mp");
	json_uint(j, "addr", m->mp.addr);
	json_string(j, "method", g->mp_method);
	json_object_end(j);
	json_string(j, "tcache_method", g->tcache_method ? g->tcache_method : "none");
	json_uint(j, "tcache_key", g->tcache_key);
	json_object_end(j);
}

static void mp_object(struct json *j, const struct mp_info *mp)
{
	json_object_begin(j, "mp");
	json_uint(j, "trim_threshold", mp->trim_threshold);
	json_uint(j, "mmap_threshold", mp->mmap_threshold);
	json_bool(j, "mmap_threshold_dynamic", mp->mmap_threshold_dynamic);
	json_uint(j, "no_dyn_threshold", mp->no_dyn_threshold);
	json_uint(j, "top_pad", mp->top_pad);
	json_uint(j, "n_mmaps", mp->n_mmaps);
	json_uint(j, "n_mmaps_max", mp->n_mmaps_max);
	json_uint(j, "max_n_mmaps", mp->max_n_mmaps);
	json_uint(j, "mmapped_mem", mp->mmapped_mem);
	json_uint(j, "max_mmapped_mem", mp->max_mmapped_mem);
	json_uint(j, "sbrk_base", mp->sbrk_base);
	json_uint(j, "arena_test", mp->arena_test);
	json_uint(j, "arena_max", mp->arena_max);
	json_uint(j, "tcache_count", mp->tcache_count);
	json_uint(j, "tcache_max_bytes", mp->tcache_max_bytes);
	json_object_end(j);
}

static void bin_rows(struct json *j, const struct arena *a, int with_chunks)
{
	size_t i, k;
	json_array_begin(j, "bins");
	for (i = 0; i < a->nbins; i++) {
		const struct bin_stat *b = &a->bins[i];
		json_object_begin(j, NULL);
		json_string(j, "kind", bin_kind_name(b->kind));
		json_uint(j, "index", b->index);
		json_uint(j, "count", b->count);
		json_uint(j, "bytes", b->bytes);
		json_uint(j, "min", b->min);
		json_uint(j, "max", b->max);
		if (with_chunks) {
			json_array_begin(j, "chunks");
			for (k = 0; k < b->count; k++)
				json_uint(j, NULL, b->chunks[k]);
			json_array_end(j);
		}
		json_object_end(j);
	}
	json_array_end(j);
}

static void arena_object(struct json *j, const struct arena *a, int index)
{
	size_t i;
	json_object_begin(j, NULL);
	json_int(j, "index", index);
	json_uint(j, "addr", a->addr);
	json_bool(j, "main", a->is_main);
	json_uint(j, "system_mem", a->system_mem);
	json_uint(j, "max_system_mem", a->max_system_mem);
	json_bool(j, "locked", a->mutex != 0);
	json_object_begin(j, "top");
	json_uint(j, "addr", a->top);
	json_uint(j, "size", a->top_size);
	json_object_end(j);
	json_array_begin(j, "heaps");
	for (i = 0; i < a->nheaps; i++) {
		json_object_begin(j, NULL);
		json_uint(j, "addr", a->heaps[i].addr);
		json_uint(j, "size", a->heaps[i].size);
		json_uint(j, "mprotect_size", a->heaps[i].mprotect_size);
		json_object_end(j);
	}
	json_array_end(j);
	count_bytes(j, "chunks", &a->chunks);
	count_bytes(j, "inuse", &a->by_state[CHUNK_INUSE]);
	count_bytes(j, "tcache", &a->by_state[CHUNK_TCACHE]);
	count_bytes(j, "fastbins", &a->by_state[CHUNK_FASTBIN]);
	count_bytes(j, "unsorted", &a->by_state[CHUNK_UNSORTED]);
	count_bytes(j, "smallbins", &a->by_state[CHUNK_SMALLBIN]);
	count_bytes(j, "largebins", &a->by_state[CHUNK_LARGEBIN]);
	bin_rows(j, a, 0);
	json_object_end(j);
}

static void tcache_object(struct json *j, const struct heap_model *m, const struct tcache *tc,
			  int with_bins)
{
	unsigned i;
	size_t k;
	json_object_begin(j, NULL);
	if (tc->tid)
		json_int(j, "thread", tc->tid);
	else
		json_null(j, "thread");
	json_uint(j, "addr", tc->addr);
	json_int(j, "arena", tc->arena);
	json_uint(j, "count", tc->total.count);
	json_uint(j, "bytes", tc->total.bytes);
	if (with_bins) {
		json_array_begin(j, "bins");
		for (i = 0; i < tc->nbins; i++) {
			if (!tc->bin_count[i])
				continue;
			json_object_begin(j, NULL);
			json_uint(j, "index", i);
			json_uint(j, "size", tcache_bin_chunk_size(m, i));
			json_uint(j, "count", tc->bin_count[i]);
			json_array_begin(j, "entries");
			for (k = 0; k < tc->bin_count[i]; k++)
				json_uint(j, NULL, tc->bin_entries[i][k]);
			json_array_end(j);
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
}

static void totals_object(struct json *j, const struct mallinfo_totals *t)
{
	json_object_begin(j, "totals");
	json_uint(j, "arena", t->arena);
	json_uint(j, "ordblks", t->ordblks);
	json_uint(j, "smblks", t->smblks);
	json_uint(j, "hblks", t->hblks);
	json_uint(j, "hblkhd", t->hblkhd);
	json_uint(j, "usmblks", t->usmblks);
	json_uint(j, "fsmblks", t->fsmblks);
	json_uint(j, "uordblks", t->uordblks);
	json_uint(j, "fordblks", t->fordblks);
	json_uint(j, "keepcost", t->keepcost);
	json_object_end(j);
}

static void chunk_object(struct json *j, const struct heap_model *m, const struct chunk *c)
{
	json_object_begin(j, NULL);
	json_uint(j, "addr", c->addr);
	json_uint(j, "mem", chunk_mem(m, c));
	json_uint(j, "size", c->size);
	json_uint(j, "usable", chunk_usable_size(m, c));
	json_string(j, "state", chunk_state_name(c->state));
	json_int(j, "arena", c->arena);
	if (c->state == CHUNK_TCACHE || c->state == CHUNK_FASTBIN || c->state == CHUNK_UNSORTED ||
	    c->state == CHUNK_SMALLBIN || c->state == CHUNK_LARGEBIN)
		json_uint(j, "bin", c->bin);
	if (c->state == CHUNK_TCACHE && c->tcache >= 0 && m->tcaches[c->tcache].tid)
		json_int(j, "thread", m->tcaches[c->tcache].tid);
	json_object_end(j);
}

static void chunks_array(struct json *j, const struct heap_model *m, const struct report *r)
{
	size_t i;
	json_array_begin(j, "chunks");
	for (i = 0; i < m->nchunks; i++)
		if (chunk_filter_match(&r->filter, &m->chunks[i]))
			chunk_object(j, m, &m->chunks[i]);
	json_array_end(j);
}

static void mmapped_object(struct json *j, const struct heap_model *m, int with_chunks)
{
	size_t i;
	json_object_begin(j, "mmapped");
	json_uint(j, "count", m->mmapped.count);
	json_uint(j, "bytes", m->mmapped.bytes);
	if (with_chunks) {
		json_array_begin(j, "chunks");
		for (i = 0; i < m->nchunks; i++) {
			const struct chunk *c = &m->chunks[i];
			if (c->state != CHUNK_MMAPPED)
				continue;
			json_object_begin(j, NULL);
			json_uint(j, "addr", c->addr);
			json_uint(j, "mem", chunk_mem(m, c));
			json_uint(j, "size", c->size);
			json_uint(j, "usable", chunk_usable_size(m, c));
			json_uint(j, "prev_size", c->mmap_prev_size);
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
}

static void python_object(struct json *j, const struct heap_model *m)
{
	const struct python_info *py = &m->py;
	json_object_begin(j, "python");
	json_string(j, "version", py->version);
	json_int(j, "hexversion", py->hexversion);
	json_string(j, "library", py->library);
	json_string(j, "layout", py->layout->name);
	json_bool(j, "free_threaded", py->free_threaded);
	json_object_begin(j, "state");
	json_string(j, "method", py->state_method);
	json_uint(j, "arenas_addr", py->arenas_vector);
	json_uint(j, "usedpools_addr", py->usedpools);
	json_object_end(j);
	json_uint(j, "arena_size", (uint64_t)py->layout->arena_size);
	json_uint(j, "pool_size", (uint64_t)py->layout->pool_size);
	json_uint(j, "alignment", (uint64_t)py->layout->alignment);
	json_uint(j, "size_classes", (uint64_t)py->layout->nb_small_size_classes);
	json_object_end(j);
}

static void holders_array(struct json *j, const struct heap_model *m, const struct py_arena *a)
{
	size_t i;
	json_array_begin(j, "held_by");
	for (i = 0; i < a->nholders; i++) {
		json_object_begin(j, NULL);
		json_string(j, "type", m->pym.types[a->holders[i].type].name);
		json_uint(j, "count", a->holders[i].count);
		json_uint(j, "bytes", a->holders[i].bytes);
		json_uint(j, "example", a->holders[i].example);
		json_object_end(j);
	}
	json_array_end(j);
	json_uint(j, "unrecognised_blocks", a->unknown_blocks);
}

static void pymalloc_object(struct json *j, const struct heap_model *m)
{
	const struct pymalloc_stats *s = &m->pym;
	unsigned i;
	size_t k;
	json_object_begin(j, "pymalloc");
	json_uint(j, "arenas_allocated_current", s->arenas_current);
	if (m->py.have_highwater)
		json_uint(j, "arenas_highwater", m->py.narenas_highwater);
	json_uint(j, "maxarenas", m->py.maxarenas);
	json_uint(j, "unused_pools", s->unused_pools);
	json_uint(j, "arena_alignment_loss", s->alignment_loss);
	json_uint(j, "bytes_in_allocated_blocks", s->bytes_in_allocated_blocks);
	json_uint(j, "bytes_in_available_blocks", s->bytes_in_available_blocks);
	json_uint(j, "pool_header_bytes", s->pool_header_bytes);
	json_uint(j, "quantization_bytes", s->quantization_bytes);
	json_array_begin(j, "classes");
	for (i = 0; i < s->nclasses; i++) {
		const struct py_class_stat *c = &s->classes[i];
		if (!c->pools)
			continue;
		json_object_begin(j, NULL);
		json_uint(j, "size", (uint64_t)(i + 1) * (uint64_t)m->py.layout->alignment);
		json_uint(j, "pools", c->pools);
		json_uint(j, "blocks_in_use", c->blocks_in_use);
		json_uint(j, "avail_blocks", c->avail_blocks);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "arenas");
	for (k = 0; k < s->narenas; k++) {
		const struct py_arena *a = &s->arenas[k];
		json_object_begin(j, NULL);
		json_uint(j, "addr", a->addr);
		json_uint(j, "index", a->index);
		json_uint(j, "pools", a->ntotalpools);
		json_uint(j, "free_pools", a->nfreepools);
		json_uint(j, "used_pools", a->used_pools);
		json_uint(j, "used_blocks", a->used_blocks);
		json_uint(j, "used_bytes", a->used_bytes);
		json_bool(j, "low_use", a->low_use);
		if (a->low_use)
			holders_array(j, m, a);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void types_array(struct json *j, const struct heap_model *m)
{
	size_t *order = types_by_bytes(m), i;
	json_object_begin(j, "census");
	json_uint(j, "objects", m->pym.objects);
	json_uint(j, "dead_objects", m->pym.dead_objects);
	json_uint(j, "unknown_blocks", m->pym.unknown_blocks);
	json_uint(j, "owned_buffers", m->pym.owned_buffers);
	json_object_end(j);
	if (m->pym.have_free_lists) {
		unsigned i;
		json_object_begin(j, "free_lists");
		json_uint(j, "float", m->pym.free_floats);
		json_uint(j, "list", m->pym.free_lists);
		json_uint(j, "dict", m->pym.free_dicts);
		json_uint(j, "dictkeys", m->pym.free_dictkeys);
		json_uint(j, "tuple_index_base", m->pym.free_tuple_base);
		json_array_begin(j, "tuple");
		for (i = 0; i < m->pym.free_tuple_sizes; i++)
			json_uint(j, NULL, m->pym.free_tuples[i]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_begin(j, "types");
	for (i = 0; i < m->pym.ntypes; i++) {
		const struct py_type_stat *ts = &m->pym.types[order[i]];
		if (!ts->count)
			continue;
		json_object_begin(j, NULL);
		json_string(j, "type", ts->name);
		json_uint(j, "addr", ts->type);
		json_uint(j, "count", ts->count);
		json_uint(j, "bytes", ts->bytes);
		json_bool(j, "gc", ts->gc);
		if (ts->gc)
			json_uint(j, "tracked", ts->tracked);
		json_uint(j, "immortal", ts->immortal);
		json_uint(j, "pymalloc", ts->in_pymalloc);
		json_uint(j, "glibc", ts->in_glibc);
		json_uint(j, "buffers", ts->buffers);
		json_uint(j, "buffer_bytes", ts->buffer_bytes);
		json_uint(j, "buffers_in_glibc", ts->buffers_in_glibc);
		json_object_end(j);
	}
	json_array_end(j);
	free(order);
}

static void where_object(struct json *j, const struct heap_model *m)
{
	static const char *const block_states[] = { "used", "free", "never-used", "pool-header" };
	const struct address_info *w = &m->where;
	json_object_begin(j, "obj");
	json_uint(j, "addr", w->query);
	if (w->mapped) {
		json_object_begin(j, "mapping");
		json_uint(j, "start", w->map_start);
		json_uint(j, "end", w->map_end);
		json_string(j, "perms", w->map_perms);
		json_string(j, "path", w->map_path);
		json_object_end(j);
	}
	if (w->chunk) {
		json_object_begin(j, "chunk");
		json_uint(j, "addr", w->chunk->addr);
		json_uint(j, "size", w->chunk->size);
		json_string(j, "state", chunk_state_name(w->chunk->state));
		json_int(j, "arena", w->chunk->arena);
		json_object_end(j);
	}
	if (w->in_pymalloc) {
		json_object_begin(j, "pymalloc");
		json_uint(j, "arena", w->arena);
		json_uint(j, "pool", w->pool);
		if (w->pool) {
			json_uint(j, "pool_blocks_used", w->pool_count);
			json_uint(j, "block", w->block);
			json_uint(j, "block_size", w->block_size);
			json_string(j, "block_state", block_states[w->block_state]);
		}
		json_object_end(j);
	}
	if (w->has_object) {
		json_object_begin(j, "object");
		json_uint(j, "addr", w->object.addr);
		json_string(j, "type", w->object.type_name);
		json_uint(j, "type_addr", w->object.type);
		json_uint(j, "refcnt", w->object.refcnt);
		json_bool(j, "gc_tracked", w->object.tracked);
		json_object_end(j);
	}
	json_object_end(j);
}

static void diagnostics(struct json *j, const struct heap_model *m)
{
	static const char *const sev[] = { "note", "warning", "error" };
	size_t i;
	json_array_begin(j, "diagnostics");
	for (i = 0; i < m->ndiags; i++) {
		json_object_begin(j, NULL);
		json_string(j, "severity", sev[m->diags[i].severity]);
		json_string(j, "message", m->diags[i].message);
		if (m->diags[i].addr)
			json_uint(j, "addr", m->diags[i].addr);
		if (m->diags[i].mid_update_arena >= 0)
			json_uint(j, "mid_update_arena", (uint64_t)m->diags[i].mid_update_arena);
		json_object_end(j);
	}
	json_array_end(j);
}

static void arenas_array(struct json *j, const struct heap_model *m, int bins_only)
{
	size_t i;
	json_array_begin(j, "arenas");
	for (i = 0; i < m->narenas; i++) {
		if (!bins_only) {
			arena_object(j, &m->arenas[i], (int)i);
			continue;
		}
		json_object_begin(j, NULL);
		json_int(j, "index", (int)i);
		json_uint(j, "addr", m->arenas[i].addr);
		bin_rows(j, &m->arenas[i], 1);
		json_object_end(j);
	}
	json_array_end(j);
}

static void tcaches_array(struct json *j, const struct heap_model *m, int with_bins)
{
	size_t i;
	json_array_begin(j, "tcaches");
	for (i = 0; i < m->ntcaches; i++)
		tcache_object(j, m, &m->tcaches[i], with_bins);
	json_array_end(j);
}

/* map: its rows as data (--svg is written by the caller). */
static void map_report(struct json *j, const struct heap_model *m, const struct report *r)
{
	render_map_json(j, m, r);
}

void render_json(FILE *out, const struct heap_model *m, const struct report *r)
{
	struct json j;
	json_init(&j, out);
	json_object_begin(&j, NULL);
	header(&j, m, r);
	if (m->py.found)
		python_object(&j, m);
	if (m->py.found)
		numpy_json_header(&j, m);
	switch (r->command) {
	case CMD_SUMMARY:
	case CMD_ARENAS:
		mp_object(&j, &m->mp);
		arenas_array(&j, m, 0);
		mmapped_object(&j, m, 0);
		tcaches_array(&j, m, 0);
		totals_object(&j, &m->totals);
		if (m->py.found && r->command == CMD_SUMMARY)
			pymalloc_object(&j, m);
		if (r->command == CMD_SUMMARY)
			explain_json(&j, m);
		break;
	case CMD_EXPLAIN:
		mp_object(&j, &m->mp);
		explain_json(&j, m);
		break;
	case CMD_PYMALLOC:
	case CMD_PYARENAS:
		if (m->py.found)
			pymalloc_object(&j, m);
		break;
	case CMD_TYPES:
		if (m->py.found)
			types_array(&j, m);
		break;
	case CMD_OBJ:
		where_object(&j, m);
		break;
	case CMD_CHUNKS:
		chunks_array(&j, m, r);
		break;
	case CMD_BINS:
		arenas_array(&j, m, 1);
		break;
	case CMD_TCACHE:
		tcaches_array(&j, m, 1);
		break;
	case CMD_MMAPPED:
		mmapped_object(&j, m, 1);
		break;
	case CMD_ARRAYS:
	case CMD_ARRAY:
	case CMD_VIEWS:
		numpy_json_report(&j, m, r);
		break;
	case CMD_MAP:
		map_report(&j, m, r);
		break;
	case CMD_DIFF:	/* two models: diff.c renders it */
	case CMD_MP:
	case CMD_COUNT:
		mp_object(&j, &m->mp);
		break;
	}
	diagnostics(&j, m);
	json_object_end(&j);
	json_finish(&j);
}
