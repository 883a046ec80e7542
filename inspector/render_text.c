/*
 * render_text.c - the model as text for people.  Sizes are printed exact
 * (bytes, with thousands separators) and human (KiB/MiB) side by side.
 * Reads only the model.
 */
#include "config.h"

#include "commands.h"
#include "render_explain.h"
#include "render_map.h"
#include "render_numpy.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The modules whose files the walkers read: the executable, libc,
 * libpython and NumPy's core. */
static int module_is_key(const struct heap_model *m, const struct module_info *mi)
{
	static const char *const prefixes[] = { "libc.so", "libpython", "_multiarray_umath" };
	const char *base = strrchr(mi->name, '/') ? strrchr(mi->name, '/') + 1 : mi->name;
	size_t i;
	if (!strcmp(mi->name, m->exe) || !strcmp(mi->file, m->exe))
		return 1;
	for (i = 0; i < NELEM(prefixes); i++)
		if (!strncmp(base, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

/* A core's key modules: which file stood for each, by build-id. */
static void core_modules(FILE *out, const struct heap_model *m)
{
	size_t i;
	for (i = 0; i < m->nmodules; i++) {
		const struct module_info *mi = &m->modules[i];
		if (!module_is_key(m, mi))
			continue;
		fprintf(out, "  module %s, build-id %s: %s%s\n", mi->name,
			mi->build_id[0] ? mi->build_id : "unknown",
			mi->file[0] ? "read from " : "no matching file found",
			mi->file);
	}
}

static void header(FILE *out, const struct heap_model *m)
{
	const struct glibc_info *g = &m->glibc;
	char b[64];
	fprintf(out, "process %d (%s), %s", (int)m->pid, m->exe[0] ? m->exe : "?", m->source);
	if (!strcmp(m->source, "live"))
		fprintf(out, ": paused %.1f ms, copied %s", m->pause_seconds * 1000.0,
			format_bytes(m->bytes_copied, b, sizeof b));
	fputc('\n', out);
	if (!strcmp(m->source, "core"))
		core_modules(out, m);
	fprintf(out, "glibc %s (%s), layout %s%s\n", g->version, g->libc_path,
		g->layout->name, g->layout_from_dwarf ? ", offsets checked against DWARF" : "");
	fprintf(out, "  main_arena 0x%llx (%s), mp_ 0x%llx (%s), tcache by %s\n",
		(unsigned long long)g->main_arena, g->main_arena_method,
		(unsigned long long)m->mp.addr, g->mp_method ? g->mp_method : "-",
		g->tcache_method ? g->tcache_method : "-");
}

static void mp_section(FILE *out, const struct heap_model *m)
{
	const struct mp_info *mp = &m->mp;
	char b[64];
	fprintf(out, "\nmalloc parameters (mp_ at 0x%llx)\n", (unsigned long long)mp->addr);
	fprintf(out, "  mmap_threshold   %s%s\n", format_bytes(mp->mmap_threshold, b, sizeof b),
		mp->no_dyn_threshold ? "  fixed by mallopt/tunable" :
		mp->mmap_threshold_dynamic ? "  raised dynamically by a free of an mmapped chunk:"
					     " smaller requests now come from the heap" : "  default");
	fprintf(out, "  trim_threshold   %s\n", format_bytes(mp->trim_threshold, b, sizeof b));
	fprintf(out, "  top_pad          %s\n", format_bytes(mp->top_pad, b, sizeof b));
	fprintf(out, "  mmapped chunks   %llu now (max %llu, limit %llu), %s now",
		(unsigned long long)mp->n_mmaps, (unsigned long long)mp->max_n_mmaps,
		(unsigned long long)mp->n_mmaps_max, format_bytes(mp->mmapped_mem, b, sizeof b));
	fprintf(out, ", max %s\n", format_bytes(mp->max_mmapped_mem, b, sizeof b));
	fprintf(out, "  tcache           %llu bins of up to %llu chunks, up to %llu-byte requests\n",
		(unsigned long long)mp->tcache_bins, (unsigned long long)mp->tcache_count,
		(unsigned long long)mp->tcache_max_bytes);
}

static void state_row(FILE *out, const char *label, const struct count_bytes *cb)
{
	char b[64];
	if (cb->count)
		fprintf(out, "    %-11s %10llu chunks  %s\n", label,
			(unsigned long long)cb->count, format_bytes(cb->bytes, b, sizeof b));
}

static void arena_section(FILE *out, const struct arena *a, size_t index)
{
	char b[64];
	size_t i;
	fprintf(out, "\narena %zu%s at 0x%llx: system %s", index, a->is_main ? " (main)" : "",
		(unsigned long long)a->addr, format_bytes(a->system_mem, b, sizeof b));
	fprintf(out, ", max %s%s\n", format_bytes(a->max_system_mem, b, sizeof b),
		a->mutex ? ", LOCKED at pause" : "");
	for (i = 0; i < a->nheaps; i++)
		fprintf(out, "  heap 0x%llx-0x%llx (%s)\n", (unsigned long long)a->heaps[i].addr,
			(unsigned long long)(a->heaps[i].addr + a->heaps[i].size),
			format_bytes(a->heaps[i].size, b, sizeof b));
	state_row(out, "in use", &a->by_state[CHUNK_INUSE]);
	state_row(out, "tcache", &a->by_state[CHUNK_TCACHE]);
	state_row(out, "fastbins", &a->by_state[CHUNK_FASTBIN]);
	state_row(out, "unsorted", &a->by_state[CHUNK_UNSORTED]);
	state_row(out, "small bins", &a->by_state[CHUNK_SMALLBIN]);
	state_row(out, "large bins", &a->by_state[CHUNK_LARGEBIN]);
	state_row(out, "fenceposts", &a->by_state[CHUNK_FENCEPOST]);
	state_row(out, "UNBINNED", &a->by_state[CHUNK_FREE_UNBINNED]);
	fprintf(out, "    %-11s at 0x%llx  %s\n", "top", (unsigned long long)a->top,
		format_bytes(a->top_size, b, sizeof b));
}

static void totals_section(FILE *out, const struct heap_model *m)
{
	const struct mallinfo_totals *t = &m->totals;
	char b[64];
	fprintf(out, "\nmmapped chunks: %llu, %s\n", (unsigned long long)m->mmapped.count,
		format_bytes(m->mmapped.bytes, b, sizeof b));
	fprintf(out, "\ntotals (the figures of mallinfo2):\n");
	fprintf(out, "  arena (brk + heaps)  %s\n", format_bytes(t->arena, b, sizeof b));
	fprintf(out, "  in use (uordblks)    %s\n", format_bytes(t->uordblks, b, sizeof b));
	fprintf(out, "  free (fordblks)      %s in %llu free chunks\n",
		format_bytes(t->fordblks, b, sizeof b), (unsigned long long)t->ordblks);
	fprintf(out, "  of which fastbins    %s in %llu chunks\n",
		format_bytes(t->fsmblks, b, sizeof b), (unsigned long long)t->smblks);
	fprintf(out, "  mmapped (hblkhd)     %s in %llu chunks\n",
		format_bytes(t->hblkhd, b, sizeof b), (unsigned long long)t->hblks);
	fprintf(out, "  releasable top       %s (keepcost)\n", format_bytes(t->keepcost, b, sizeof b));
}

static void tcache_section(FILE *out, const struct heap_model *m, int with_bins)
{
	char b[64];
	size_t i, k;
	unsigned bin;
	fprintf(out, "\ntcaches: %zu\n", m->ntcaches);
	for (i = 0; i < m->ntcaches; i++) {
		const struct tcache *tc = &m->tcaches[i];
		fprintf(out, "  thread %d: tcache 0x%llx (arena %d), %llu chunks, %s\n",
			(int)tc->tid, (unsigned long long)tc->addr, tc->arena,
			(unsigned long long)tc->total.count, format_bytes(tc->total.bytes, b, sizeof b));
		for (bin = 0; with_bins && bin < tc->nbins; bin++) {
			if (!tc->bin_count[bin])
				continue;
			fprintf(out, "    bin %2u (%4llu B): %u:", bin,
				(unsigned long long)tcache_bin_chunk_size(m, bin), tc->bin_count[bin]);
			for (k = 0; k < tc->bin_count[bin]; k++)
				fprintf(out, " 0x%llx", (unsigned long long)tc->bin_entries[bin][k]);
			fputc('\n', out);
		}
	}
}

static void pymalloc_section(FILE *out, const struct heap_model *m)
{
	const struct python_info *py = &m->py;
	const struct pymalloc_stats *s = &m->pym;
	char b[64];
	unsigned i;
	if (!py->found) {
		fprintf(out, "\nno CPython pymalloc in this process\n");
		return;
	}
	fprintf(out, "\nCPython %s (%s), layout %s, pymalloc state by %s\n", py->version,
		py->library, py->layout->name, py->state_method);
	fprintf(out, "  arenas: %llu of %s each (vector 0x%llx, %llu slots)",
		(unsigned long long)s->arenas_current,
		format_bytes((uint64_t)py->layout->arena_size, b, sizeof b),
		(unsigned long long)py->arenas_vector, (unsigned long long)py->maxarenas);
	if (py->have_highwater)
		fprintf(out, ", high-water mark %llu", (unsigned long long)py->narenas_highwater);
	fprintf(out, "\n  unused pools: %llu of %s\n", (unsigned long long)s->unused_pools,
		format_bytes((uint64_t)py->layout->pool_size, b, sizeof b));
	fprintf(out, "  in allocated blocks  %s\n", format_bytes(s->bytes_in_allocated_blocks, b, sizeof b));
	fprintf(out, "  in available blocks  %s\n", format_bytes(s->bytes_in_available_blocks, b, sizeof b));
	fprintf(out, "  pool headers         %s\n", format_bytes(s->pool_header_bytes, b, sizeof b));
	fprintf(out, "  quantization         %s\n", format_bytes(s->quantization_bytes, b, sizeof b));
	fprintf(out, "  arena alignment      %s\n", format_bytes(s->alignment_loss, b, sizeof b));
	fprintf(out, "  %5s %6s %12s %12s\n", "class", "pools", "blocks used", "blocks free");
	for (i = 0; i < s->nclasses; i++)
		if (s->classes[i].pools)
			fprintf(out, "  %5llu %6llu %12llu %12llu\n",
				(unsigned long long)((i + 1) * (uint64_t)py->layout->alignment),
				(unsigned long long)s->classes[i].pools,
				(unsigned long long)s->classes[i].blocks_in_use,
				(unsigned long long)s->classes[i].avail_blocks);
}

static const struct heap_model *arena_sort_model;

static int by_use(const void *x, const void *y)
{
	const struct py_arena *a = &arena_sort_model->pym.arenas[*(const size_t *)x];
	const struct py_arena *b = &arena_sort_model->pym.arenas[*(const size_t *)y];
	return a->used_bytes < b->used_bytes ? -1 : a->used_bytes > b->used_bytes;
}

static void pyarenas_section(FILE *out, const struct heap_model *m)
{
	uint64_t asize, pinned = 0, live = 0;
	size_t *order, i, h, nlow = 0;
	char b[64], b2[64];
	if (!m->py.found) {
		fprintf(out, "no CPython pymalloc in this process\n");
		return;
	}
	asize = (uint64_t)m->py.layout->arena_size;
	order = xmalloc((m->pym.narenas + 1) * sizeof *order);
	for (i = 0; i < m->pym.narenas; i++)
		order[i] = i;
	arena_sort_model = m;
	sort_items(order, m->pym.narenas, sizeof *order, by_use);
	for (i = 0; i < m->pym.narenas; i++) {
		const struct py_arena *a = &m->pym.arenas[order[i]];
		fprintf(out, "arena 0x%llx: %s live in %llu blocks, %.1f%% of %s\n",
			(unsigned long long)a->addr, format_bytes(a->used_bytes, b, sizeof b),
			(unsigned long long)a->used_blocks, 100.0 * (double)a->used_bytes / (double)asize,
			format_bytes(asize, b2, sizeof b2));
		if (!a->low_use)
			continue;
		nlow++;
		pinned += asize;
		live += a->used_bytes;
		for (h = 0; h < a->nholders; h++)
			fprintf(out, "    kept by %llu %s (%s), e.g. 0x%llx\n",
				(unsigned long long)a->holders[h].count,
				m->pym.types[a->holders[h].type].name,
				format_bytes(a->holders[h].bytes, b, sizeof b),
				(unsigned long long)a->holders[h].example);
		if (a->unknown_blocks)
			fprintf(out, "    and %llu blocks that are not objects (buffers)\n",
				(unsigned long long)a->unknown_blocks);
	}
	fprintf(out, "%zu of %zu arenas are under 1/4 used: %s of arenas mapped for %s live\n",
		nlow, m->pym.narenas, format_bytes(pinned, b, sizeof b), format_bytes(live, b2, sizeof b2));
	free(order);
}

static void types_section(FILE *out, const struct heap_model *m)
{
	size_t *order, i;
	char b[64];
	if (!m->py.found) {
		fprintf(out, "no CPython in this process\n");
		return;
	}
	order = types_by_bytes(m);
	fprintf(out, "%llu live Python objects (%llu more on free lists, %llu blocks not "
		"objects or not recognised)\n", (unsigned long long)m->pym.objects,
		(unsigned long long)m->pym.dead_objects, (unsigned long long)m->pym.unknown_blocks);
	if (m->pym.have_free_lists) {
		uint64_t tuples = 0;
		unsigned k;
		for (k = 0; k < m->pym.free_tuple_sizes; k++)
			tuples += m->pym.free_tuples[k];
		fprintf(out, "CPython free lists (dead to Python, allocated to pymalloc): %llu float, "
			"%llu list, %llu dict, %llu dict keys, %llu tuple\n",
			(unsigned long long)m->pym.free_floats, (unsigned long long)m->pym.free_lists,
			(unsigned long long)m->pym.free_dicts, (unsigned long long)m->pym.free_dictkeys,
			(unsigned long long)tuples);
	}
	fprintf(out, "%10s %10s %10s  %-28s %-40s %s\n", "objects", "tracked", "pymalloc", "bytes",
		"+ owned buffers", "type");
	for (i = 0; i < m->pym.ntypes; i++) {
		const struct py_type_stat *ts = &m->pym.types[order[i]];
		char tracked[24];
		if (!ts->count)
			continue;
		snprintf(tracked, sizeof tracked, ts->gc ? "%llu" : "-", (unsigned long long)ts->tracked);
		char owned[64] = "";
		if (ts->buffers) {
			char b2[64];
			snprintf(owned, sizeof owned, "%llu (%llu in glibc) %s",
				 (unsigned long long)ts->buffers,
				 (unsigned long long)ts->buffers_in_glibc,
				 format_bytes(ts->buffer_bytes, b2, sizeof b2));
		}
		fprintf(out, "%10llu %10s %10llu  %-28s %-40s %s\n", (unsigned long long)ts->count,
			tracked, (unsigned long long)ts->in_pymalloc, format_bytes(ts->bytes, b, sizeof b),
			owned, ts->name);
	}
	free(order);
}

static void where_section(FILE *out, const struct heap_model *m)
{
	static const char *const block_states[] = { "in use", "free (on the pool's free list)",
						    "never used", "the pool header" };
	const struct address_info *w = &m->where;
	char b[64];
	fprintf(out, "0x%llx:\n", (unsigned long long)w->query);
	if (!w->mapped) {
		fprintf(out, "  not mapped in this process\n");
		return;
	}
	fprintf(out, "  mapping 0x%llx-0x%llx %s %s\n", (unsigned long long)w->map_start,
		(unsigned long long)w->map_end, w->map_perms, w->map_path[0] ? w->map_path : "(anonymous)");
	if (w->chunk)
		fprintf(out, "  glibc chunk 0x%llx, %s, %s, arena %d\n",
			(unsigned long long)w->chunk->addr, format_bytes(w->chunk->size, b, sizeof b),
			chunk_state_name(w->chunk->state), w->chunk->arena);
	if (w->in_pymalloc && !w->pool)
		fprintf(out, "  pymalloc arena 0x%llx, outside its carved pools\n",
			(unsigned long long)w->arena);
	else if (w->in_pymalloc)
		fprintf(out, "  pymalloc arena 0x%llx, pool 0x%llx (%u blocks used), block 0x%llx "
			"of %llu bytes: %s\n", (unsigned long long)w->arena,
			(unsigned long long)w->pool, w->pool_count, (unsigned long long)w->block,
			(unsigned long long)w->block_size, block_states[w->block_state]);
	if (w->has_object)
		fprintf(out, "  Python object 0x%llx of type %s, refcount %llu%s\n",
			(unsigned long long)w->object.addr, w->object.type_name,
			(unsigned long long)w->object.refcnt, w->object.tracked ? ", GC-tracked" : "");
	else if (!w->chunk && !w->in_pymalloc)
		fprintf(out, "  not in any glibc chunk or pymalloc arena\n");
}

static void diagnostics_section(FILE *out, const struct heap_model *m)
{
	static const char *const sev[] = { "note", "warning", "error" };
	size_t i;
	if (!m->ndiags)
		return;
	fprintf(out, "\ndiagnostics:\n");
	for (i = 0; i < m->ndiags; i++)
		fprintf(out, "  %s: %s\n", sev[m->diags[i].severity], m->diags[i].message);
}

static void chunks_listing(FILE *out, const struct heap_model *m, const struct report *r)
{
	size_t i;
	uint64_t rows = 0;
	fprintf(out, "%-18s %-18s %12s %12s %-10s %5s %s\n", "chunk", "mem", "size", "usable",
		"state", "arena", "bin/thread");
	for (i = 0; i < m->nchunks; i++) {
		const struct chunk *c = &m->chunks[i];
		if (!chunk_filter_match(&r->filter, c) || !report_row_shown(r, rows++))
			continue;
		fprintf(out, "0x%-16llx 0x%-16llx %12llu %12llu %-10s %5d", (unsigned long long)c->addr,
			(unsigned long long)chunk_mem(m, c), (unsigned long long)c->size,
			(unsigned long long)chunk_usable_size(m, c), chunk_state_name(c->state),
			c->arena);
		if (c->state == CHUNK_TCACHE && c->tcache >= 0)
			fprintf(out, " %u/thread %d", c->bin, (int)m->tcaches[c->tcache].tid);
		else if (c->state >= CHUNK_FASTBIN && c->state <= CHUNK_LARGEBIN)
			fprintf(out, " %u", c->bin);
		fputc('\n', out);
	}
	report_page_footer(out, r, rows, "chunks");
}

static void bins_listing(FILE *out, const struct heap_model *m)
{
	char b[64];
	size_t i, k;
	for (i = 0; i < m->narenas; i++) {
		const struct arena *a = &m->arenas[i];
		fprintf(out, "arena %zu at 0x%llx: %zu non-empty bins\n", i,
			(unsigned long long)a->addr, a->nbins);
		for (k = 0; k < a->nbins; k++) {
			const struct bin_stat *bs = &a->bins[k];
			fprintf(out, "  %-8s %3u  %8llu chunks  %s  sizes %llu..%llu\n",
				bin_kind_name(bs->kind), bs->index, (unsigned long long)bs->count,
				format_bytes(bs->bytes, b, sizeof b), (unsigned long long)bs->min,
				(unsigned long long)bs->max);
		}
	}
}

static void mmapped_listing(FILE *out, const struct heap_model *m)
{
	char b[64];
	size_t i;
	fprintf(out, "mmapped chunks: %llu, %s\n", (unsigned long long)m->mmapped.count,
		format_bytes(m->mmapped.bytes, b, sizeof b));
	for (i = 0; i < m->nchunks; i++)
		if (m->chunks[i].state == CHUNK_MMAPPED)
			fprintf(out, "  0x%llx  %s\n", (unsigned long long)m->chunks[i].addr,
				format_bytes(m->chunks[i].size, b, sizeof b));
}

/* map: the text map (--svg is written by the caller, which owns the exit
 * status). */
static void map_report(FILE *out, const struct heap_model *m, const struct report *r)
{
	render_map_text(out, m, r);
}

void render_text(FILE *out, const struct heap_model *m, const struct report *r)
{
	size_t i;
	switch (r->command) {
	case CMD_SUMMARY:
	case CMD_ARENAS:
		header(out, m);
		mp_section(out, m);
		for (i = 0; i < m->narenas; i++)
			arena_section(out, &m->arenas[i], i);
		if (r->command == CMD_SUMMARY)
			tcache_section(out, m, 0);
		totals_section(out, m);
		if (r->command == CMD_SUMMARY && m->py.found)
			pymalloc_section(out, m);
		if (r->command == CMD_SUMMARY) {
			numpy_text_summary(out, m);
			explain_text_top(out, m, 5);
		}
		break;
	case CMD_EXPLAIN:
		header(out, m);
		explain_text(out, m);
		break;
	case CMD_ARRAYS:
	case CMD_ARRAY:
	case CMD_VIEWS:
		numpy_text_report(out, m, r);
		break;
	case CMD_PYMALLOC:
		pymalloc_section(out, m);
		break;
	case CMD_PYARENAS:
		pyarenas_section(out, m);
		break;
	case CMD_TYPES:
		types_section(out, m);
		break;
	case CMD_OBJ:
		where_section(out, m);
		break;
	case CMD_CHUNKS:
		chunks_listing(out, m, r);
		break;
	case CMD_BINS:
		bins_listing(out, m);
		break;
	case CMD_TCACHE:
		tcache_section(out, m, 1);
		break;
	case CMD_MMAPPED:
		mmapped_listing(out, m);
		break;
	case CMD_MAP:
		map_report(out, m, r);
		break;
	case CMD_DIFF:	/* two models: diff.c renders it */
	case CMD_MP:
	case CMD_COUNT:
		mp_section(out, m);
		break;
	}
	diagnostics_section(out, m);
}
