/*
 * glibc.c - walk glibc malloc: arenas, heaps, chunks, bins, tcaches,
 * mmapped chunks, and the mallinfo2 figures they add up to.
 *
 * Order of work:
 *   1. mp_ and the arena ring (main_arena.next, bounded, cycle-checked);
 *   2. every arena's heap segments (main: sbrk_base .. end of top;
 *      others: the heap_info chain from heap_for_ptr(top) back via prev);
 *   3. one linear pass over segments and the rest of anonymous memory in
 *      address order: chunks by boundary tags (free iff the next chunk's
 *      PREV_INUSE is clear), mmapped chunks at page starts elsewhere;
 *   4. the lists: fastbins, unsorted/small/large bins, every thread's
 *      tcache; each list entry must be a chunk the linear pass found, in
 *      the state the boundary tags imply; a chunk met twice is a cycle;
 *   5. per-arena figures and mallinfo2 totals, computed as int_mallinfo.
 *
 * Invariants: every loop is bounded by the bytes or chunks it walks; every
 * pointer is looked up in the chunk index or the target's regions before it
 * is followed; a structure that does not check out ends that walk with a
 * DIAG_ERROR and the rest goes on.
 *
 * Arenas locked at the pause: a thread stopped while it held an arena's
 * mutex may be halfway through a list or chunk update (a chunk marked in
 * use but still binned, a split whose remainder header is not written
 * yet, a top not yet resized).  Whatever does not check out inside such an
 * arena (its heaps, its bins, its chunks; tcache links into its heaps) is
 * reported by arena_diag as a warning tagged mid-update, with its address,
 * never as an error; the same finding in an arena that was not locked is
 * an error.  The arena ring (list_lock) and mp_ are not covered.
 *
 * tcaches are per thread and change without any lock, but glibc 2.36's
 * tcache_put stores key, next, entries[i], then counts[i], and tcache_get
 * entries[i], counts[i], then key: a thread paused anywhere inside them
 * leaves a well-formed list whose count is off by one, which is only a
 * warning ("counts say N, the list has M").  Other glibc builds may order
 * those stores differently; threads' registers are not consulted.
 */
#include "config.h"

#include "glibc.h"
#include "glibc_chunk.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE_BYTES 4096ull
#define MAX_ARENAS 32767		/* arena indexes are int16_t in the model */
#define MAX_HEAPS_PER_ARENA 16384
#define TLS_SCAN_BYTES 0x4000

struct walk {
	const struct target *t;
	const struct glibc_layout *L;
	struct heap_model *m;
	const struct target_region *region;	/* cache for read_word */
};

static int read_word(struct walk *w, uint64_t addr, uint64_t *out)
{
	const struct target_region *r = w->region;
	if (!r || addr < r->start || addr >= r->end || r->end - addr < 8) {
		r = target_region_at(w->t, addr);
		if (!r || r->end - addr < 8)
			return -1;
		w->region = r;
	}
	memcpy(out, r->bytes + (addr - r->start), 8);
	return 0;
}

static uint64_t read_word_or_zero(struct walk *w, uint64_t addr)
{
	uint64_t v = 0;
	read_word(w, addr, &v);
	return v;
}

static uint64_t read_field(struct walk *w, uint64_t base, long off, int width)
{
	uint64_t v;
	if (off == LAYOUT_ABSENT || read_word(w, base + (uint64_t)off, &v) < 0)
		return 0;
	return width == 4 ? (v & 0xffffffffu) : width == 2 ? (v & 0xffff) :
	       width == 1 ? (v & 0xff) : v;
}

/* Safe-linking (glibc >= 2.32): stored = (address of the field >> 12) ^ ptr. */
static uint64_t reveal_ptr(const struct glibc_layout *L, uint64_t field_addr, uint64_t stored)
{
	return L->safe_linking ? (field_addr >> 12) ^ stored : stored;
}

/* ---- diagnostics inside an arena --------------------------------------- */

static int arena_was_locked(const struct heap_model *m, int idx)
{
	return idx >= 0 && (size_t)idx < m->narenas && m->arenas[idx].mutex != 0;
}

/* An inconsistency of severity SEV found inside arena IDX (-1: none
 * known).  If that arena was locked at the pause it may be a list caught
 * mid-update: then a warning that says so and names the arena, never an
 * error. */
static void arena_diag(struct heap_model *m, int idx, enum diag_severity sev, uint64_t addr,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void arena_diag(struct heap_model *m, int idx, enum diag_severity sev, uint64_t addr,
		       const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!arena_was_locked(m, idx)) {
		model_diag(m, sev, addr, "%s", msg ? msg : fmt);
	} else {
		model_diag(m, DIAG_WARNING, addr, "arena %d was locked at the pause (caught "
			   "mid-update?): %s", idx, msg ? msg : fmt);
		m->diags[m->ndiags - 1].mid_update_arena = idx;
	}
	free(msg);
}

/* The arena whose heap holds ADDR: the arena of the chunk there, else of
 * the heap segment around it; -1 if none. */
static int arena_holding(const struct heap_model *m, uint64_t addr)
{
	const struct chunk *c = model_chunk_containing(m, addr);
	size_t i, j;
	if (c && c->arena >= 0)
		return c->arena;
	for (i = 0; i < m->narenas; i++)
		for (j = 0; j < m->arenas[i].nheaps; j++)
			if (addr >= m->arenas[i].heaps[j].addr &&
			    addr < m->arenas[i].heaps[j].chunks_end)
				return (int)i;
	return -1;
}

/* ---- 1. mp_ ------------------------------------------------------------ */

static void read_mp(struct walk *w)
{
	const struct glibc_layout *L = w->L;
	struct mp_info *mp = &w->m->mp;
	uint64_t a = mp->addr;
	if (!a)
		return;
	mp->trim_threshold = read_field(w, a, L->malloc_par_trim_threshold, 8);
	mp->top_pad = read_field(w, a, L->malloc_par_top_pad, 8);
	mp->mmap_threshold = read_field(w, a, L->malloc_par_mmap_threshold, 8);
	mp->arena_test = read_field(w, a, L->malloc_par_arena_test, 8);
	mp->arena_max = read_field(w, a, L->malloc_par_arena_max, 8);
	mp->hp_pagesize = read_field(w, a, L->malloc_par_hp_pagesize, 8);
	mp->n_mmaps = read_field(w, a, L->malloc_par_n_mmaps, 4);
	mp->n_mmaps_max = read_field(w, a, L->malloc_par_n_mmaps_max, 4);
	mp->max_n_mmaps = read_field(w, a, L->malloc_par_max_n_mmaps, 4);
	mp->no_dyn_threshold = read_field(w, a, L->malloc_par_no_dyn_threshold, 4);
	mp->mmapped_mem = read_field(w, a, L->malloc_par_mmapped_mem, 8);
	mp->max_mmapped_mem = read_field(w, a, L->malloc_par_max_mmapped_mem, 8);
	mp->sbrk_base = read_field(w, a, L->malloc_par_sbrk_base, 8);
	mp->tcache_bins = read_field(w, a, L->malloc_par_tcache_bins, 8);
	mp->tcache_max_bytes = read_field(w, a, L->malloc_par_tcache_max_bytes, 8);
	mp->tcache_count = read_field(w, a, L->malloc_par_tcache_count, 8);
	/* __libc_free raises the threshold to the size of a freed mmapped
	 * chunk unless mallopt/tunables froze it (no_dyn_threshold). */
	mp->mmap_threshold_dynamic = !mp->no_dyn_threshold &&
				     mp->mmap_threshold != (uint64_t)L->default_mmap_threshold;
}

static uint64_t heap_max_size(const struct walk *w)
{
	/* arena.c heap_max_size(): 4 huge pages when glibc.malloc.hugetlb set
	 * one (a power of two, 2 MiB or 1 GiB in practice) */
	uint64_t hp = w->m->mp.hp_pagesize;
	if (w->L->malloc_par_hp_pagesize != LAYOUT_ABSENT && hp && !(hp & (hp - 1)) &&
	    hp <= (1ull << 30))
		return hp * 4;
	return (uint64_t)w->L->heap_max_size;
}

/* ---- 2. arenas and their heap segments ---------------------------------- */

static int arena_index_of(const struct heap_model *m, uint64_t addr)
{
	size_t i;
	for (i = 0; i < m->narenas; i++)
		if (m->arenas[i].addr == addr)
			return (int)i;
	return -1;
}

static void read_arena(struct walk *w, struct arena *a)
{
	const struct glibc_layout *L = w->L;
	a->mutex = (int)read_field(w, a->addr, L->malloc_state_mutex, 4);
	a->flags = (uint32_t)read_field(w, a->addr, L->malloc_state_flags, 4);
	a->top = read_field(w, a->addr, L->malloc_state_top, 8);
	a->system_mem = read_field(w, a->addr, L->malloc_state_system_mem, 8);
	a->max_system_mem = read_field(w, a->addr, L->malloc_state_max_system_mem, 8);
	a->attached_threads = read_field(w, a->addr, L->malloc_state_attached_threads, 8);
	a->top_size = read_word_or_zero(w, a->top + (uint64_t)L->chunk_size) & ~CHUNK_FLAGS;
}

/* Has malloc never run in this process (or has the loader not finished
 * with libc)?  malloc_init_state, on the first allocation, points top and
 * every bin at the arena itself; before it all of them are 0. */
static int arena_never_initialized(struct walk *w, const struct arena *a)
{
	const struct glibc_layout *L = w->L;
	long i, words = (L->malloc_state_nbins - 1) * 2;
	if (a->top)
		return 0;
	for (i = 0; i < words; i++)
		if (read_field(w, a->addr, L->malloc_state_bins + i * L->size_sz, 8))
			return 0;
	return 1;
}

static void collect_arenas(struct walk *w)
{
	struct heap_model *m = w->m;
	uint64_t addr = m->glibc.main_arena;
	size_t cap = 0;
	while (m->narenas < MAX_ARENAS) {
		struct arena *a = ARRAY_PUSH(m->arenas, m->narenas, cap);
		memset(a, 0, sizeof *a);
		a->addr = addr;
		a->is_main = m->narenas == 1;
		if (!target_view(w->t, addr, (size_t)w->L->malloc_state_sizeof)) {
			model_diag(m, DIAG_ERROR, addr, "arena %zu at 0x%llx is not readable",
				   m->narenas - 1, (unsigned long long)addr);
			m->narenas--;
			return;
		}
		read_arena(w, a);
		if (a->is_main && arena_never_initialized(w, a)) {
			model_diag(m, DIAG_NOTE, addr, "malloc has not run in this process yet "
				   "(main_arena is not initialized: no heap to walk)");
			return;	/* no other arena can exist: next may not even be relocated */
		}
		if (a->mutex)
			model_diag(m, DIAG_WARNING, addr, "arena %zu was locked when the process "
				   "was paused: its lists may be mid-update", m->narenas - 1);
		addr = read_field(w, addr, w->L->malloc_state_next, 8);
		if (addr == m->glibc.main_arena)
			return;
		if (arena_index_of(m, addr) >= 0) {
			model_diag(m, DIAG_ERROR, addr, "arena ring does not return to "
				   "main_arena (cycle at 0x%llx)", (unsigned long long)addr);
			return;
		}
	}
	model_diag(m, DIAG_ERROR, 0, "more than %d arenas: ring walk stopped", MAX_ARENAS);
}

static uint64_t first_chunk_after(const struct glibc_layout *L, uint64_t ptr)
{
	/* _int_new_arena / new_heap: bump so that chunk2mem() is aligned */
	uint64_t align = (uint64_t)L->malloc_alignment;
	uint64_t misalign = (ptr + 2 * (uint64_t)L->size_sz) & (align - 1);
	return misalign ? ptr + align - misalign : ptr;
}

static void main_arena_segment(struct walk *w, struct arena *a)
{
	int idx = (int)(a - w->m->arenas);
	struct heap_segment *s;
	if (!w->m->mp.sbrk_base || a->top == a->addr + (uint64_t)w->L->malloc_state_bins -
						   (uint64_t)w->L->chunk_fd)
		return;		/* no brk heap yet: top is still the initial bin */
	if (a->flags & ARENA_NONCONTIGUOUS)
		model_diag(w->m, DIAG_WARNING, a->addr, "main arena is non-contiguous (brk "
			   "failed); only its part from sbrk_base to top is walked");
	a->heaps = xcalloc(1, sizeof *a->heaps);
	a->nheaps = 1;
	s = &a->heaps[0];
	s->addr = w->m->mp.sbrk_base;
	s->chunks_start = align_up(w->m->mp.sbrk_base, (uint64_t)w->L->malloc_alignment);
	s->chunks_end = a->top + a->top_size;
	{
		const struct target_mapping *mp = target_mapping_at(w->t, a->top);
		if (!mp || a->top_size > mp->end - a->top) {
			arena_diag(w->m, idx, DIAG_ERROR, a->top,
				   "main arena top 0x%llx has size %llu, "
				   "beyond its mapping: corrupt top", (unsigned long long)a->top,
				   (unsigned long long)a->top_size);
			s->chunks_end = mp ? mp->end : a->top;
		}
	}
	s->size = s->mprotect_size = s->chunks_end - s->addr;
	if (s->chunks_end < s->chunks_start) {
		arena_diag(w->m, idx, DIAG_ERROR, a->top, "main arena top 0x%llx lies below "
			   "sbrk_base", (unsigned long long)a->top);
		a->nheaps = 0;
	}
}

static int read_heap_info(struct walk *w, uint64_t h, struct heap_segment *s, uint64_t *prev,
			  uint64_t arena, int idx)
{
	const struct glibc_layout *L = w->L;
	uint64_t ar_ptr = read_field(w, h, L->heap_info_ar_ptr, 8);
	s->addr = h;
	s->size = read_field(w, h, L->heap_info_size, 8);
	s->mprotect_size = read_field(w, h, L->heap_info_mprotect_size, 8);
	*prev = read_field(w, h, L->heap_info_prev, 8);
	if (ar_ptr != arena || !s->size || s->size > heap_max_size(w) ||
	    !target_view(w->t, h, (size_t)L->heap_info_sizeof)) {
		arena_diag(w->m, idx, DIAG_ERROR, h, "heap_info at 0x%llx does not belong to arena "
			   "0x%llx (ar_ptr 0x%llx, size %llu)", (unsigned long long)h,
			   (unsigned long long)arena, (unsigned long long)ar_ptr,
			   (unsigned long long)s->size);
		return -1;
	}
	s->chunks_start = h + (uint64_t)L->heap_info_sizeof;
	if (s->chunks_start == arena)	/* the arena's first heap holds the arena */
		s->chunks_start += (uint64_t)L->malloc_state_sizeof;
	s->chunks_start = first_chunk_after(L, s->chunks_start);
	s->chunks_end = h + s->size;
	return 0;
}

static void thread_arena_segments(struct walk *w, struct arena *a)
{
	int idx = (int)(a - w->m->arenas);
	uint64_t hmax = heap_max_size(w), h = align_down(a->top, hmax), prev;
	uint64_t tortoise = h, power = 1, lam = 0;	/* Brent's cycle check */
	struct heap_segment *segs = NULL;
	size_t n = 0, cap = 0, i;
	while (h && n < MAX_HEAPS_PER_ARENA) {
		struct heap_segment *s = ARRAY_PUSH(segs, n, cap);
		if (read_heap_info(w, h, s, &prev, a->addr, idx) < 0) {
			n--;
			break;
		}
		if (h + (uint64_t)w->L->heap_info_sizeof == a->addr)
			break;	/* the first heap: the chain ends here */
		if (prev && align_down(prev, hmax) != prev) {
			arena_diag(w->m, idx, DIAG_ERROR, h, "heap_info.prev 0x%llx is not aligned",
				   (unsigned long long)prev);
			break;
		}
		h = prev;
		if (h == tortoise) {
			arena_diag(w->m, idx, DIAG_ERROR, h, "heap_info.prev chain of arena 0x%llx "
				   "loops back to 0x%llx", (unsigned long long)a->addr,
				   (unsigned long long)h);
			break;
		}
		if (++lam == power) {
			tortoise = h;
			power *= 2;
			lam = 0;
		}
	}
	/* oldest first, so that segments are in the order they were made */
	for (i = 0; i < n / 2; i++) {
		struct heap_segment tmp = segs[i];
		segs[i] = segs[n - 1 - i];
		segs[n - 1 - i] = tmp;
	}
	a->heaps = segs;
	a->nheaps = n;
}

/* ---- 3. the linear pass ---------------------------------------------- */

static void add_chunk(struct heap_model *m, uint64_t addr, uint64_t size, int state, int arena)
{
	struct chunk *c = ARRAY_PUSH(m->chunks, m->nchunks, m->chunks_cap);
	c->addr = addr;
	c->size = size;
	c->state = (uint8_t)state;
	c->bin = 0;
	c->arena = (int16_t)arena;
	c->tcache = state == CHUNK_MMAPPED ? 0 : -1;
}

/* Size field of the chunk at P, from the segment's bytes when they are all
 * held (the fast path), else through the region lookup. */
struct segment_bytes {
	const unsigned char *base;	/* bytes of the region holding the segment */
	uint64_t start, end;
};

static int size_field_at(struct walk *w, const struct segment_bytes *sb, uint64_t p,
			 uint64_t *out)
{
	uint64_t at = p + (uint64_t)w->L->chunk_size;
	if (sb->base && at >= sb->start && at < sb->end && sb->end - at >= 8) {
		memcpy(out, sb->base + (at - sb->start), 8);
		return 0;
	}
	return read_word(w, at, out);
}

static void bad_chunk(struct walk *w, int arena_idx, uint64_t p, uint64_t raw, uint64_t end)
{
	arena_diag(w->m, arena_idx, DIAG_ERROR, p, "corrupt chunk at 0x%llx: size field 0x%llx is "
		   "impossible here; the rest of this heap (%llu bytes) is not walked",
		   (unsigned long long)p, (unsigned long long)raw,
		   (unsigned long long)(end - p));
}

/* sysmalloc() (glibc 2.36 malloc.c, "Setup fencepost and free the old
 * top chunk") closes a full non-main heap with a 0|PREV_INUSE header; when
 * the old top is too small to free (under MINSIZE once the posts are
 * taken) the old top itself, MINSIZE bytes marked in use, is the post
 * before it.  If the last chunk walked is that, call it a fencepost. */
static int ends_with_small_fencepost(struct heap_model *m, uint64_t minsize)
{
	struct chunk *c = m->nchunks ? &m->chunks[m->nchunks - 1] : NULL;
	if (!c || c->state != CHUNK_INUSE || c->size != minsize)
		return 0;
	c->state = CHUNK_FENCEPOST;
	return 1;
}

/* Walk one heap segment by boundary tags: a chunk is free iff the next
 * chunk's PREV_INUSE bit is clear (tcache and fastbin chunks are sorted out
 * later, from their lists). */
static void walk_segment(struct walk *w, const struct arena *a, int arena_idx,
			 const struct heap_segment *s)
{
	const struct glibc_layout *L = w->L;
	uint64_t p = s->chunks_start, minsize = (uint64_t)L->minsize;
	uint64_t fencepost = 2 * (uint64_t)L->size_sz, align = (uint64_t)L->malloc_alignment;
	const struct target_region *r = target_region_at(w->t, s->chunks_start);
	struct segment_bytes sb = { r ? r->bytes : NULL, r ? r->start : 0, r ? r->end : 0 };
	while (p < s->chunks_end) {
		uint64_t raw, size, next_raw;
		if (size_field_at(w, &sb, p, &raw) < 0) {
			arena_diag(w->m, arena_idx, DIAG_ERROR, p,
				   "chunk header at 0x%llx was not copied "
				   "(unreadable memory)", (unsigned long long)p);
			return;
		}
		size = raw & ~CHUNK_FLAGS;
		if (p == a->top) {
			add_chunk(w->m, p, size <= s->chunks_end - p ? size : s->chunks_end - p,
				  CHUNK_TOP, arena_idx);
			if (size != s->chunks_end - p)
				arena_diag(w->m, arena_idx, DIAG_ERROR, p,
					   "top chunk at 0x%llx has size %llu "
					   "but its heap ends at 0x%llx", (unsigned long long)p,
					   (unsigned long long)size, (unsigned long long)s->chunks_end);
			return;
		}
		if (size == 0 && !a->is_main && w->m->nchunks &&
		    w->m->chunks[w->m->nchunks - 1].state == CHUNK_FENCEPOST)
			return;	/* the 0|PREV_INUSE header after a fencepost */
		if (raw == CHUNK_PREV_INUSE && !a->is_main && p + fencepost == s->chunks_end &&
		    ends_with_small_fencepost(w->m, minsize))
			return;	/* the same after an old top too small to free */
		if (size == fencepost && !a->is_main) {
			add_chunk(w->m, p, size, CHUNK_FENCEPOST, arena_idx);
			p += size;
			continue;
		}
		if (size < minsize || size % align || size > s->chunks_end - p) {
			bad_chunk(w, arena_idx, p, raw, s->chunks_end);
			return;
		}
		if (sb.base)	/* headers ahead are on lines the walk will want */
			__builtin_prefetch(sb.base + (p - sb.start) + 2048);
		if (size_field_at(w, &sb, p + size, &next_raw) < 0)
			next_raw = CHUNK_PREV_INUSE;
		add_chunk(w->m, p, size, (next_raw & CHUNK_PREV_INUSE) ? CHUNK_INUSE
								       : CHUNK_FREE_UNBINNED, arena_idx);
		p += size;
	}
	if (a->is_main || p != s->chunks_end)
		arena_diag(w->m, arena_idx, DIAG_ERROR, s->chunks_end,
			   "heap at 0x%llx ended without "
			   "reaching its top chunk", (unsigned long long)s->addr);
}

/* The real header of the mmapped chunk whose mapping starts at PAGE and
 * spans SPAN bytes: PAGE itself, or where memalign moved it. */
static uint64_t mmapped_chunk_header(struct walk *w, uint64_t page, uint64_t span,
				     const uint64_t hdr[2])
{
	uint64_t offs[64], tail = (uint64_t)w->L->mmap_chunk_tail;
	unsigned i, n;
	if (hdr[0] != 0)
		return page + hdr[0];
	n = mmapped_memalign_offsets(page, span, offs);
	for (i = 0; i < n; i++) {
		uint64_t h[2];
		if (target_read(w->t, page + offs[i], h, 16) == 0 &&
		    is_memaligned_header(offs[i], h[0], h[1], span, tail))
			return page + offs[i];
	}
	return page;
}

/* Scan the copied parts of [start,end) (an anonymous mapping) for mmapped
 * chunks at page starts; a chunk's uncopied body is skipped whole. */
static void scan_mmapped(struct walk *w, uint64_t start, uint64_t end)
{
	uint64_t page = align_up(start, PAGE_SIZE_BYTES);
	while (page >= start && page < end && end - page >= 16) {
		const struct target_region *r = target_region_at(w->t, page);
		uint64_t hdr[2], span;
		if (!r) {	/* not copied: go to the next copied region */
			const struct target_region *next = target_next_region(w->t, page);
			page = next ? align_up(next->start, PAGE_SIZE_BYTES) : end;
			continue;
		}
		/* copied (images: at any file offset), so read, never cast */
		span = target_read(w->t, page, hdr, 16) == 0 ?
			       mmapped_chunk_span(hdr[0], hdr[1], page, end, PAGE_SIZE_BYTES,
						  (uint64_t)w->L->mmap_chunk_tail) : 0;
		if (span) {
			uint64_t real = mmapped_chunk_header(w, page, span, hdr), rh[2];
			if (target_read(w->t, real, rh, 16) < 0 ||
			    (rh[1] & ~CHUNK_FLAGS) > span - (real - page)) {
				memcpy(rh, hdr, sizeof rh);
				real = page;
			}
			add_chunk(w->m, real, rh[1] & ~CHUNK_FLAGS, CHUNK_MMAPPED, -1);
			w->m->chunks[w->m->nchunks - 1].mmap_prev_size = (uint32_t)rh[0];
			w->m->mmapped.count++;
			w->m->mmapped.bytes += span;
			page += span;
		} else {
			page += PAGE_SIZE_BYTES;
		}
	}
}

struct walk_item {
	uint64_t start, end;
	int arena;			/* -1: scan for mmapped chunks */
	const struct heap_segment *seg;
};

static int item_cmp(const void *a, const void *b)
{
	const struct walk_item *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Anonymous private writable memory minus the arena heaps (whole
 * reservations, heap_info included) is where mmapped chunks live. */
static void add_mmap_scan_items(struct walk *w, struct walk_item **items, size_t *n, size_t *cap,
				const struct walk_item *heaps, size_t nheaps)
{
	size_t i, j;
	for (i = 0; i < w->t->nmaps; i++) {
		const struct target_mapping *mp = &w->t->maps[i];
		uint64_t start = mp->start;
		if ((mp->path[0] && strncmp(mp->path, "[anon:", 6)) || mp->shared ||
		    (mp->prot & 3) != 3)
			continue;
		for (j = 0; j < nheaps && start < mp->end; j++) {
			if (heaps[j].end <= start || heaps[j].start >= mp->end)
				continue;
			if (heaps[j].start > start)
				*ARRAY_PUSH(*items, *n, *cap) =
					(struct walk_item){ start, heaps[j].start, -1, NULL };
			start = heaps[j].end;
		}
		if (start >= mp->end)
			continue;
		/* madvise() on part of a chunk (NumPy's MADV_HUGEPAGE on buffers of
		 * 4 MiB+) splits its mapping, and the pieces may merge with their
		 * neighbours: scan touching mappings as one range */
		if (*n && (*items)[*n - 1].arena == -1 && (*items)[*n - 1].end == start)
			(*items)[*n - 1].end = mp->end;
		else
			*ARRAY_PUSH(*items, *n, *cap) = (struct walk_item){ start, mp->end, -1, NULL };
	}
}

static void linear_pass(struct walk *w)
{
	struct heap_model *m = w->m;
	struct walk_item *items = NULL, *heaps = NULL;
	size_t n = 0, cap = 0, nheaps = 0, hcap = 0, i, j;
	for (i = 0; i < m->narenas; i++) {
		struct arena *a = &m->arenas[i];
		for (j = 0; j < a->nheaps; j++) {
			const struct heap_segment *s = &a->heaps[j];
			uint64_t reserved = a->is_main ? s->chunks_end : s->addr + heap_max_size(w);
			*ARRAY_PUSH(items, n, cap) =
				(struct walk_item){ s->chunks_start, s->chunks_end, (int)i, s };
			*ARRAY_PUSH(heaps, nheaps, hcap) =
				(struct walk_item){ s->addr, reserved, (int)i, s };
		}
	}
	sort_items(heaps, nheaps, sizeof *heaps, item_cmp);
	add_mmap_scan_items(w, &items, &n, &cap, heaps, nheaps);
	sort_items(items, n, sizeof *items, item_cmp);
	for (i = 0; i < n; i++) {
		if (items[i].arena >= 0)
			walk_segment(w, &m->arenas[items[i].arena], items[i].arena, items[i].seg);
		else
			scan_mmapped(w, items[i].start, items[i].end);
	}
	free(items);
	free(heaps);
}

/* ---- 4. lists ---------------------------------------------------------- */

static struct bin_stat *new_bin(struct arena *a, size_t *cap, enum bin_kind kind, unsigned index)
{
	struct bin_stat *b = ARRAY_PUSH(a->bins, a->nbins, *cap);
	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->index = index;
	b->min = UINT64_MAX;
	return b;
}

static void bin_add(struct bin_stat *b, size_t *chunks_cap, uint64_t addr, uint64_t size)
{
	*ARRAY_PUSH(b->chunks, b->count, *chunks_cap) = addr;
	b->bytes += size;
	if (size < b->min)
		b->min = size;
	if (size > b->max)
		b->max = size;
}

static void drop_empty_bin(struct arena *a)
{
	struct bin_stat *b = &a->bins[a->nbins - 1];
	if (b->count)
		return;
	free(b->chunks);
	a->nbins--;
}

static void walk_fastbin(struct walk *w, struct arena *a, int arena_idx, unsigned i,
			 size_t *bins_cap)
{
	const struct glibc_layout *L = w->L;
	uint64_t p = read_field(w, a->addr, L->malloc_state_fastbinsY + (long)i * L->size_sz, 8);
	uint64_t expect = (uint64_t)(i + 2) * (uint64_t)L->malloc_alignment; /* fastbin_index */
	struct bin_stat *b = new_bin(a, bins_cap, BIN_FAST, i);
	size_t ccap = 0, steps = 0;
	while (p && steps++ <= w->m->nchunks) {
		struct chunk *c = model_chunk_at(w->m, p);
		uint64_t stored;
		if (!c || c->arena != arena_idx || c->size != expect || c->state != CHUNK_INUSE) {
			arena_diag(w->m, arena_idx, DIAG_ERROR, p,
				   "fastbin %u of arena %d links to 0x%llx, "
				   "%s", i, arena_idx, (unsigned long long)p,
				   !c ? "which is not a chunk" :
				   c->state == CHUNK_FASTBIN ? "already in a fastbin (cycle)" :
				   c->size != expect ? "a chunk of the wrong size" :
				   "a chunk whose boundary tag says free");
			break;
		}
		c->state = CHUNK_FASTBIN;
		c->bin = (uint8_t)i;
		bin_add(b, &ccap, p, c->size);
		stored = read_word_or_zero(w, p + (uint64_t)L->chunk_fd);
		p = reveal_ptr(L, p + (uint64_t)L->chunk_fd, stored);
		if (p % (uint64_t)L->malloc_alignment) {
			arena_diag(w->m, arena_idx, DIAG_ERROR, c->addr,
				   "fastbin %u: misaligned link after "
				   "0x%llx (corrupt)", i, (unsigned long long)c->addr);
			break;
		}
	}
	drop_empty_bin(a);
}

static enum chunk_state bin_state(unsigned i)
{
	return i == 1 ? CHUNK_UNSORTED : i < 64 ? CHUNK_SMALLBIN : CHUNK_LARGEBIN;
}

static void walk_bin(struct walk *w, struct arena *a, int arena_idx, unsigned i, size_t *bins_cap)
{
	const struct glibc_layout *L = w->L;
	uint64_t head = a->addr + (uint64_t)L->malloc_state_bins +
			(uint64_t)(i - 1) * 2 * (uint64_t)L->size_sz - (uint64_t)L->chunk_fd;
	uint64_t p = read_field(w, head, L->chunk_fd, 8), prev = head;
	enum chunk_state state = bin_state(i);
	struct bin_stat *b = new_bin(a, bins_cap, i == 1 ? BIN_UNSORTED :
					       i < 64 ? BIN_SMALL : BIN_LARGE, i);
	size_t ccap = 0, steps = 0;
	while (p != head && steps++ <= w->m->nchunks) {
		struct chunk *c = model_chunk_at(w->m, p);
		if (!c || c->arena != arena_idx || c->state != CHUNK_FREE_UNBINNED) {
			arena_diag(w->m, arena_idx, DIAG_ERROR, p,
				   "bin %u of arena %d links to 0x%llx, %s",
				   i, arena_idx, (unsigned long long)p,
				   !c ? "which is not a chunk" :
				   c->state == state ? "already in this bin (cycle)" :
				   c->arena != arena_idx ? "a chunk of another arena" :
				   "a chunk that is not free by its boundary tag");
			break;
		}
		if (read_word_or_zero(w, p + (uint64_t)L->chunk_bk) != prev)
			arena_diag(w->m, arena_idx, DIAG_WARNING, p,
				   "bin %u: chunk 0x%llx's bk does not point "
				   "back to its predecessor", i, (unsigned long long)p);
		c->state = (uint8_t)state;
		c->bin = (uint8_t)i;
		bin_add(b, &ccap, p, c->size);
		prev = p;
		p = read_word_or_zero(w, p + (uint64_t)L->chunk_fd);
	}
	drop_empty_bin(a);
}

static void walk_arena_bins(struct walk *w, int arena_idx)
{
	struct arena *a = &w->m->arenas[arena_idx];
	size_t bins_cap = 0;
	unsigned i;
	if (arena_never_initialized(w, a))
		return;
	for (i = 0; i < (unsigned)w->L->malloc_state_nfastbins; i++)
		walk_fastbin(w, a, arena_idx, i, &bins_cap);
	for (i = 1; i < (unsigned)w->L->malloc_state_nbins; i++)
		walk_bin(w, a, arena_idx, i, &bins_cap);
}

/* ---- 4b. tcaches -------------------------------------------------------- */

static uint64_t tcache_chunk_size(const struct glibc_layout *L)
{
	return align_up((uint64_t)L->tcache_sizeof + (uint64_t)L->size_sz,
			(uint64_t)L->malloc_alignment);
}

/* csize2tidx(): the tcache bin of a chunk size. */
static uint64_t tcache_index(const struct glibc_layout *L, uint64_t size)
{
	return (size - (uint64_t)L->minsize + (uint64_t)L->malloc_alignment - 1) /
	       (uint64_t)L->malloc_alignment;
}

static uint64_t tcache_bin_count(struct walk *w, uint64_t tc, unsigned i)
{
	const struct glibc_layout *L = w->L;
	uint64_t v = read_field(w, tc, L->tcache_counts + (long)i * L->tcache_count_width,
				(int)L->tcache_count_width);
	if (L->tcache_counts_inverted)	/* 2.42+: num_slots counts down from tcache_count */
		v = v <= w->m->mp.tcache_count ? w->m->mp.tcache_count - v : 0;
	return v;
}

/* Walk bin I of the tcache at TC; returns 0, or -1 if the list is bad. */
static int walk_tcache_bin(struct walk *w, struct tcache *tc, int tc_idx, unsigned i)
{
	const struct glibc_layout *L = w->L;
	uint64_t e = read_field(w, tc->addr, L->tcache_entries + (long)i * L->size_sz, 8);
	uint64_t want = tcache_bin_count(w, tc->addr, i), n = 0, cap = 0;
	uint64_t hdr = 2 * (uint64_t)L->size_sz;
	while (e && n <= want) {
		struct chunk *c = model_chunk_at(w->m, e - hdr);
		if (!c || c->state != CHUNK_INUSE || tcache_index(L, c->size) != i) {
			arena_diag(w->m, arena_holding(w->m, e - hdr), DIAG_ERROR, e,
				   "tcache of thread %d, bin %u links to "
				   "0x%llx, %s", (int)tc->tid, i, (unsigned long long)e,
				   !c ? "which is not a chunk" :
				   c->state == CHUNK_TCACHE ? "already in a tcache (cycle)" :
				   c->state != CHUNK_INUSE ? "a chunk that is free in a bin" :
				   "a chunk of the wrong size");
			return -1;
		}
		if (L->tcache_key_is_random && L->tcache_entry_key != LAYOUT_ABSENT) {
			uint64_t key = read_word_or_zero(w, e + (uint64_t)L->tcache_entry_key);
			if (!w->m->glibc.tcache_key)
				w->m->glibc.tcache_key = key;
			else if (key != w->m->glibc.tcache_key)
				model_diag(w->m, DIAG_WARNING, e, "tcache entry 0x%llx has a key "
					   "different from the process's tcache_key",
					   (unsigned long long)e);
		}
		c->state = CHUNK_TCACHE;
		c->bin = (uint8_t)i;
		c->tcache = tc_idx;
		*ARRAY_PUSH(tc->bin_entries[i], n, cap) = e;
		tc->total.count++;
		tc->total.bytes += c->size;
		e = reveal_ptr(L, e + (uint64_t)L->tcache_entry_next,
			       read_word_or_zero(w, e + (uint64_t)L->tcache_entry_next));
		if (e % (uint64_t)L->malloc_alignment) {
			arena_diag(w->m, c->arena, DIAG_ERROR, c->addr,
				   "tcache bin %u: misaligned link "
				   "after 0x%llx (corrupt)", i, (unsigned long long)c->addr);
			break;
		}
	}
	tc->bin_count[i] = (uint32_t)n;
	if (n != want)
		model_diag(w->m, DIAG_WARNING, tc->addr, "tcache of thread %d, bin %u: counts "
			   "say %llu entries, the list has %llu", (int)tc->tid, i,
			   (unsigned long long)want, (unsigned long long)n);
	return 0;
}

static int tcache_known(const struct heap_model *m, uint64_t addr)
{
	size_t i;
	for (i = 0; i < m->ntcaches; i++)
		if (m->tcaches[i].addr == addr)
			return 1;
	return 0;
}

static void add_tcache(struct walk *w, pid_t tid, const struct chunk *holder)
{
	struct heap_model *m = w->m;
	struct tcache *tc = ARRAY_PUSH(m->tcaches, m->ntcaches, m->tcaches_cap);
	unsigned i, nbins = (unsigned)w->L->tcache_bins;
	int idx = (int)(m->ntcaches - 1);
	memset(tc, 0, sizeof *tc);
	tc->tid = tid;
	tc->addr = holder->addr + 2 * (uint64_t)w->L->size_sz;
	tc->arena = holder->arena;
	tc->nbins = nbins;
	tc->bin_count = xcalloc(nbins, sizeof *tc->bin_count);
	tc->bin_entries = xcalloc(nbins, sizeof *tc->bin_entries);
	for (i = 0; i < nbins; i++)
		walk_tcache_bin(w, tc, idx, i);
}

/* Every count of the tcache_perthread_struct at TC within mp_.tcache_count
 * (or TCACHE_FILL_COUNT when mp_ is unknown)? */
static int tcache_counts_plausible(struct walk *w, uint64_t tc)
{
	uint64_t limit = w->m->mp.tcache_count ? w->m->mp.tcache_count
					       : (uint64_t)w->L->tcache_fill_count;
	unsigned i;
	for (i = 0; i < (unsigned)w->L->tcache_bins; i++)
		if (tcache_bin_count(w, tc, i) > limit)
			return 0;
	return 1;
}

/* The `tcache` TLS variable sits just below each thread's %fs base (x86-64
 * TLS variant II).  Look there for a pointer to an in-use chunk of
 * sizeof(tcache_perthread_struct): pwndbg's method, made exact by requiring
 * the chunk to have precisely that size. */
static const struct chunk *tcache_in_tls(struct walk *w, uint64_t fs_base)
{
	uint64_t want = tcache_chunk_size(w->L), hdr = 2 * (uint64_t)w->L->size_sz, a, lo;
	const struct target_region *r = fs_base >= 8 ? target_region_at(w->t, fs_base - 8) : NULL;
	if (!r)
		return NULL;
	lo = fs_base - r->start > TLS_SCAN_BYTES ? fs_base - TLS_SCAN_BYTES : r->start;
	for (a = align_down(fs_base - 8, 8); a >= lo && a >= r->start; a -= 8) {
		uint64_t v;	/* nearest the TCB first */
		const struct chunk *c;
		memcpy(&v, r->bytes + (a - r->start), 8);
		if (v >= hdr && v % 16 == 0 && (c = model_chunk_at(w->m, v - hdr)) &&
		    c->size == want && c->state == CHUNK_INUSE && c->arena >= 0 &&
		    tcache_counts_plausible(w, v))
			return c;
		if (a < 8)
			break;
	}
	return NULL;
}

static void walk_tcaches(struct walk *w)
{
	size_t i;
	if (!w->L->tcache_present)
		return;
	w->m->glibc.tcache_method = "tls-scan";
	for (i = 0; i < w->t->nthreads; i++) {
		const struct chunk *c = tcache_in_tls(w, w->t->threads[i].fs_base);
		if (c && !tcache_known(w->m, c->addr + 2 * (uint64_t)w->L->size_sz))
			add_tcache(w, w->t->threads[i].tid, c);
	}
}

/* ---- 5. figures -------------------------------------------------------- */

static void add_count(struct count_bytes *cb, uint64_t bytes)
{
	cb->count++;
	cb->bytes += bytes;
}

static void arena_figures(struct heap_model *m)
{
	size_t i;
	for (i = 0; i < m->nchunks; i++) {
		const struct chunk *c = &m->chunks[i];
		struct arena *a;
		if (c->arena < 0)
			continue;
		a = &m->arenas[c->arena];
		add_count(&a->by_state[c->state], c->size);
		add_count(&a->chunks, c->size);
		if (c->state == CHUNK_FREE_UNBINNED)
			arena_diag(m, c->arena, DIAG_ERROR, c->addr, "chunk 0x%llx (%llu bytes) of "
				   "arena %d is free by its boundary tag but in no bin",
				   (unsigned long long)c->addr, (unsigned long long)c->size,
				   c->arena);
	}
}

/* int_mallinfo(), summed over arenas as __libc_mallinfo2 does. */
static void mallinfo_totals(struct heap_model *m)
{
	struct mallinfo_totals *t = &m->totals;
	size_t i, j;
	memset(t, 0, sizeof *t);
	for (i = 0; i < m->narenas; i++) {
		const struct arena *a = &m->arenas[i];
		uint64_t avail = a->top_size, nblocks = 1;
		for (j = 0; j < a->nbins; j++) {
			const struct bin_stat *b = &a->bins[j];
			avail += b->bytes;
			if (b->kind == BIN_FAST) {
				t->smblks += b->count;
				t->fsmblks += b->bytes;
			} else {
				nblocks += b->count;
			}
		}
		t->ordblks += nblocks;
		t->fordblks += avail;
		t->uordblks += a->system_mem - avail;
		t->arena += a->system_mem;
		if (a->is_main)
			t->keepcost = a->top_size;
	}
	t->hblks = m->mp.n_mmaps;
	t->hblkhd = m->mp.mmapped_mem;
}

static void check_mmapped_counters(struct heap_model *m)
{
	if (!m->mp.addr)
		return;
	if (m->mmapped.count != m->mp.n_mmaps || m->mmapped.bytes != m->mp.mmapped_mem)
		model_diag(m, DIAG_WARNING, 0, "found %llu mmapped chunks (%llu bytes) but mp_ "
			   "counts %llu (%llu bytes)", (unsigned long long)m->mmapped.count,
			   (unsigned long long)m->mmapped.bytes, (unsigned long long)m->mp.n_mmaps,
			   (unsigned long long)m->mp.mmapped_mem);
}

void glibc_walk(const struct target *t, struct heap_model *m)
{
	struct walk w = { t, m->glibc.layout, m, NULL };
	size_t i;
	read_mp(&w);
	collect_arenas(&w);
	for (i = 0; i < m->narenas; i++) {
		if (m->arenas[i].is_main)
			main_arena_segment(&w, &m->arenas[i]);
		else
			thread_arena_segments(&w, &m->arenas[i]);
	}
	linear_pass(&w);
	model_index_chunks(m);
	for (i = 0; i < m->narenas; i++)
		walk_arena_bins(&w, (int)i);
	walk_tcaches(&w);
	arena_figures(m);
	mallinfo_totals(m);
	check_mmapped_counters(m);
}
