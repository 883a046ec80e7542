/*
 * glibc_locate.c - find glibc in the target: which libc, which version,
 * which layout row, and where main_arena and mp_ are.
 *
 * Symbols first (libc6-dbg's symtab through libdwfl), then heuristics over
 * libc's writable data, so a stripped libc works too:
 *   main_arena: a malloc_state whose 126 bins are each either empty (fd and
 *     bk point back at the bin itself, which only the real address can
 *     satisfy) or link into writable memory, whose top lies in writable
 *     memory, and whose `next` ring returns to it;
 *   mp_: a malloc_par whose counters are consistent (n_mmaps <= max_n_mmaps,
 *     page-multiple mmapped_mem, thresholds within glibc's limits) and that
 *     matches malloc.c's static defaults and sbrk_base = start of [heap].
 * A symbol-found address is validated the same way; a mismatch is reported.
 *
 * Invariant: every word is read through target_view(); a candidate whose
 * bytes are not all held is rejected, never guessed.
 */
#include "config.h"

#include "glibc.h"
#include "dwarf_layout.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARENA_RING 1024	/* arenas a heuristic candidate may link to */

/* libc.so.6 or libc-2.NN.so, also when replaced on disk ("... (deleted)"). */
static int is_libc_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so.6", 9) ? (!base[9] || !strcmp(base + 9, " (deleted)")) :
	       (!strncmp(base, "libc-2.", 7) && strstr(base, ".so"));
}

static const char *find_libc_path(const struct target *t)
{
	size_t i;
	for (i = 0; i < t->nmaps; i++)
		if (is_libc_path(t->maps[i].path))
			return t->maps[i].path;
	return NULL;
}

/* Copy up to LEN-1 bytes from P (not past END) into OUT, terminated. */
static int copy_bounded(const char *p, const char *end, char *out, size_t len)
{
	size_t n = (size_t)(end - p) < len - 1 ? (size_t)(end - p) : len - 1;
	if (p >= end)
		return 0;
	memcpy(out, p, n);
	out[n] = 0;
	return 1;
}

/* Version from the banner "GNU C Library ... release version 2.36" in
 * libc's read-only data, as copied from the target. */
static long find_version(const struct target *t, const char *libc_path, char *out, size_t outlen)
{
	size_t i;
	for (i = 0; i < t->nmaps; i++) {
		const struct target_mapping *mp = &t->maps[i];
		const unsigned char *bytes;
		const char *hit, *ver;
		char digits[16];
		int major, minor;
		if (strcmp(mp->path, libc_path) || (mp->prot & TARGET_PROT_WRITE))
			continue;
		bytes = target_view(t, mp->start, mp->end - mp->start);
		if (!bytes)
			continue;
		hit = memmem(bytes, mp->end - mp->start, "GNU C Library", 13);
		if (!hit)
			continue;
		ver = memmem(hit, (const char *)bytes + (mp->end - mp->start) - hit,
			     "release version ", 16);
		if (ver && copy_bounded(ver + 16, (const char *)bytes + (mp->end - mp->start),
					digits, sizeof digits) &&
		    sscanf(digits, "%d.%d", &major, &minor) == 2) {
			snprintf(out, outlen, "%d.%d", major, minor);
			return major * 1000L + minor;
		}
	}
	return 0;
}

static int writable_at(const struct target *t, uint64_t addr)
{
	const struct target_mapping *mp = target_mapping_at(t, addr);
	return mp && (mp->prot & TARGET_PROT_WRITE);
}

static uint64_t word(const unsigned char *base, long off)
{
	uint64_t v;
	memcpy(&v, base + off, sizeof v);
	return v;
}

/* Score a malloc_state candidate at A: the number of empty bins, or -1. */
static int arena_score(const struct target *t, const struct glibc_layout *L, uint64_t A)
{
	const unsigned char *s = target_view(t, A, (size_t)L->malloc_state_sizeof);
	uint64_t top, next, bin0;
	int i, empty = 0;
	uint32_t mutex;
	if (!s)
		return -1;
	memcpy(&mutex, s + L->malloc_state_mutex, 4);
	top = word(s, L->malloc_state_top);
	next = word(s, L->malloc_state_next);
	bin0 = A + (uint64_t)L->malloc_state_bins - (uint64_t)L->chunk_fd;
	if (mutex > 2 || !next || next % 8 || !writable_at(t, next))
		return -1;
	if (top != bin0 && (top % (uint64_t)L->malloc_alignment || !writable_at(t, top)))
		return -1;
	for (i = 1; i < L->malloc_state_nbins; i++) {
		long off = L->malloc_state_bins + (i - 1) * 2 * L->size_sz;
		uint64_t fd = word(s, off), bk = word(s, off + L->size_sz);
		uint64_t self = A + (uint64_t)off - (uint64_t)L->chunk_fd;
		if (fd == self && bk == self)
			empty++;
		else if (!fd || !bk || fd % 16 || bk % 16 || !writable_at(t, fd) ||
			 !writable_at(t, bk))
			return -1;
	}
	if (word(s, L->malloc_state_max_system_mem) < word(s, L->malloc_state_system_mem))
		return -1;
	return empty;
}

/* Does following `next` from A come back to A with plausible arenas? */
static int ring_closes(const struct target *t, const struct glibc_layout *L, uint64_t A)
{
	uint64_t p = A;
	int n;
	for (n = 0; n < MAX_ARENA_RING; n++) {
		if (target_read_u64(t, p + (uint64_t)L->malloc_state_next, &p) < 0 || !p)
			return 0;
		if (p == A)
			return 1;
		if (arena_score(t, L, p) < 0)
			return 0;
	}
	return 0;
}

/* Visit every 8-byte-aligned candidate in libc's writable regions. */
typedef int (*candidate_score_fn)(const struct target *, const struct glibc_layout *, uint64_t);

static uint64_t best_candidate(const struct target *t, const struct glibc_layout *L,
			       const char *libc_path, long struct_size, candidate_score_fn score,
			       int min_score)
{
	uint64_t best = 0;
	int best_score = min_score - 1;
	size_t i;
	for (i = 0; i < t->nmaps; i++) {
		const struct target_mapping *mp = &t->maps[i];
		uint64_t a;
		int continues_libc = i > 0 && !mp->path[0] && !strcmp(t->maps[i - 1].path, libc_path);
		/* libc's .bss continues into the anonymous mapping right after it */
		if (!(mp->prot & TARGET_PROT_WRITE) ||
		    (strcmp(mp->path, libc_path) && !continues_libc))
			continue;
		for (a = mp->start; a + (uint64_t)struct_size <= mp->end; a += 8) {
			int s = score(t, L, a);
			if (s > best_score) {
				best_score = s;
				best = a;
			}
		}
	}
	return best;
}

static int arena_candidate_score(const struct target *t, const struct glibc_layout *L, uint64_t A)
{
	int s = arena_score(t, L, A);
	if (s < 1 || !ring_closes(t, L, A))
		return -1;
	return s;
}

uint64_t glibc_find_main_arena(const struct target *t, const struct glibc_layout *L,
			       const char *libc_path)
{
	return best_candidate(t, L, libc_path, L->malloc_state_sizeof, arena_candidate_score, 1);
}

static const struct target_mapping *brk_heap(const struct target *t)
{
	size_t i;
	for (i = 0; i < t->nmaps; i++)
		if (!strcmp(t->maps[i].path, "[heap]"))
			return &t->maps[i];
	return NULL;
}

static uint64_t field(const unsigned char *s, long off, int width)
{
	uint32_t v32;
	if (off == LAYOUT_ABSENT)
		return 0;
	if (width == 4) {
		memcpy(&v32, s + off, 4);
		return v32;
	}
	return word(s, off);
}

/* Score a malloc_par candidate: -1 if inconsistent, else how many fields
 * equal malloc.c's defaults (+4 if sbrk_base is the start of [heap]). */
static int mp_score(const struct target *t, const struct glibc_layout *L, uint64_t A)
{
	const unsigned char *s = target_view(t, A, (size_t)L->malloc_par_sizeof);
	const struct target_mapping *heap = brk_heap(t);
	uint64_t n_mmaps, max_n_mmaps, mem, max_mem, sbrk, mmap_thr, tc_bins, tc_count;
	int score = 0;
	if (!s)
		return -1;
	n_mmaps = field(s, L->malloc_par_n_mmaps, 4);
	max_n_mmaps = field(s, L->malloc_par_max_n_mmaps, 4);
	mem = field(s, L->malloc_par_mmapped_mem, 8);
	max_mem = field(s, L->malloc_par_max_mmapped_mem, 8);
	sbrk = field(s, L->malloc_par_sbrk_base, 8);
	mmap_thr = field(s, L->malloc_par_mmap_threshold, 8);
	tc_bins = field(s, L->malloc_par_tcache_bins, 8);
	tc_count = field(s, L->malloc_par_tcache_count, 8);
	if (n_mmaps > max_n_mmaps || mem > max_mem || mem % 4096 || max_mem % 4096 ||
	    (int32_t)n_mmaps < 0 || field(s, L->malloc_par_no_dyn_threshold, 4) > 1 ||
	    mmap_thr > (uint64_t)L->heap_max_size || (n_mmaps == 0) != (mem == 0))
		return -1;
	if (L->tcache_present && (tc_bins > (uint64_t)L->tcache_bins || tc_count > 65535))
		return -1;
	if (sbrk && !target_mapping_at(t, sbrk) && !(heap && sbrk <= heap->start))
		return -1;
	score += field(s, L->malloc_par_top_pad, 8) == (uint64_t)L->default_top_pad;
	score += field(s, L->malloc_par_n_mmaps_max, 4) == (uint64_t)L->default_n_mmaps_max;
	score += field(s, L->malloc_par_arena_test, 8) == (uint64_t)L->default_arena_test;
	score += L->tcache_present && tc_bins == (uint64_t)L->tcache_small_bins;
	score += L->tcache_present && tc_count == (uint64_t)L->tcache_fill_count;
	if (heap && sbrk == heap->start)
		score += 4;
	return score;
}

uint64_t glibc_find_mp(const struct target *t, const struct glibc_layout *L,
		       const char *libc_path)
{
	return best_candidate(t, L, libc_path, L->malloc_par_sizeof, mp_score, 3);
}

static char *static_or_foreign_message(const struct target *t)
{
	size_t i;
	for (i = 0; i < t->nmaps; i++)
		if (strstr(t->maps[i].path, "/ld-linux") || strstr(t->maps[i].path, "/ld-musl") ||
		    strstr(t->maps[i].path, "/ld.so"))
			return xasprintf("process %d does not use glibc: no libc.so.6 is mapped "
					 "(another C library?)", (int)t->pid);
	return xasprintf("process %d does not use glibc's shared library: %s is statically "
			 "linked (no dynamic loader is mapped), so there is no libc.so.6 to walk",
			 (int)t->pid, t->exe[0] ? t->exe : "its executable");
}

static void record_dwarf_mismatch(void *ctx, const char *fieldname, long table, long dwarf)
{
	model_diag(ctx, DIAG_WARNING, 0,
		   "layout table says %s = %ld but libc's DWARF says %ld; using DWARF",
		   fieldname, table, dwarf);
}

static void choose_layout(struct heap_model *m, const struct glibc_layout *row,
			  Dwfl_Module *libc)
{
	Dwarf *dw = libc ? symbols_dwarf(libc) : NULL;
	m->glibc.layout_value = *row;
	m->glibc.layout = &m->glibc.layout_value;
	m->glibc.debuginfo = dw != NULL;
	if (dw && glibc_layout_from_dwarf(dw, row, &m->glibc.layout_value,
					  record_dwarf_mismatch, m) > 0)
		m->glibc.layout_from_dwarf = 1;
	if (dw)
		dwarf_layout_forget(dw);
}

typedef uint64_t (*heuristic_fn)(const struct target *, const struct glibc_layout *,
				 const char *libc_path);

/* Address of libc's static SYMBOL: from the symbol table (then checked as
 * the heuristic would check a candidate), else by the heuristic FIND.
 * *METHOD says which. */
static uint64_t locate_static(const struct target *t, Dwfl_Module *libc, struct heap_model *m,
			      const char *symbol, candidate_score_fn check, heuristic_fn find,
			      const char **method)
{
	uint64_t addr;
	if (libc && symbols_lookup(libc, symbol, &addr) == 0) {
		*method = "symbol";
		if (check(t, m->glibc.layout, addr) < 0)
			model_diag(m, DIAG_WARNING, addr, "%s from the symbol table fails the "
				   "checks the heuristic applies: its layout or memory is not "
				   "what glibc %s should have", symbol, m->glibc.version);
		return addr;
	}
	*method = "heuristic";
	return find(t, m->glibc.layout, m->glibc.libc_path);
}

int glibc_locate(const struct target *t, struct symbols *syms, struct heap_model *m,
		 char **err)
{
	const char *libc_path = find_libc_path(t);
	const struct glibc_layout *row;
	Dwfl_Module *libc;
	if (!libc_path) {
		*err = static_or_foreign_message(t);
		return -1;
	}
	m->glibc.libc_path = xstrdup(libc_path);
	m->glibc.version_code = find_version(t, libc_path, m->glibc.version,
					     sizeof m->glibc.version);
	if (!m->glibc.version_code) {
		*err = xasprintf("cannot tell the glibc version of %s (no release banner "
				 "in its read-only data)", libc_path);
		return -1;
	}
	row = glibc_layout_for_version(m->glibc.version_code);
	if (!row) {
		*err = xasprintf("glibc %s is not supported: glibc-layouts/ has rows for "
				 "%ld.%ld to %ld.%ld", m->glibc.version,
				 glibc_layouts[0].version_min / 1000, glibc_layouts[0].version_min % 1000,
				 glibc_layouts[glibc_layouts_count - 1].version_max / 1000,
				 glibc_layouts[glibc_layouts_count - 1].version_max % 1000);
		return -1;
	}
	libc = syms ? symbols_module(syms, strrchr(libc_path, '/') ? strrchr(libc_path, '/') + 1
								 : libc_path) : NULL;
	choose_layout(m, row, libc);
	m->glibc.main_arena = locate_static(t, libc, m, "main_arena", arena_score,
					    glibc_find_main_arena, &m->glibc.main_arena_method);
	if (!m->glibc.main_arena) {
		*err = xasprintf("no malloc_state found in %s's data: the process may not "
				 "have called malloc yet, or its libc is not what it seems",
				 libc_path);
		return -1;
	}
	m->mp.addr = locate_static(t, libc, m, "mp_", mp_score, glibc_find_mp,
				   &m->glibc.mp_method);
	if (!m->mp.addr)
		model_diag(m, DIAG_ERROR, 0, "mp_ (malloc parameters) not found: mmapped "
			   "chunk counters and thresholds are unknown");
	m->glibc.found = 1;
	return 0;
}
