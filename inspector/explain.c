/*
 * explain.c - the explain analysis: runs the trim simulation
 * (explain_trim.c), the pins (explain_pins.c) and the RSS attribution
 * (explain_rss.c), and words a pin for people.  Shared helpers for those
 * files live here too.
 */
#include "config.h"

#include "explain_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pin_kinds[PIN_KIND_COUNT] = {
	[PIN_HEAP_TOP] = "heap-top", [PIN_PYMALLOC_ARENA] = "pymalloc-arena",
	[PIN_NUMPY_VIEW] = "numpy-view", [PIN_NUMPY_CACHE] = "numpy-cache",
	[PIN_MMAP_THRESHOLD] = "mmap-threshold",
};

static const char *const rss_kinds[RSS_KIND_COUNT] = {
	[RSS_BRK_HEAP] = "brk-heap", [RSS_ARENA_HEAPS] = "arena-heaps",
	[RSS_MMAPPED_CHUNKS] = "mmapped-chunks", [RSS_PYMALLOC_ARENAS] = "pymalloc-arenas",
	[RSS_OTHER_ANON] = "other-anon", [RSS_FILE_COW] = "file-cow",
};

const char *pin_kind_name(enum pin_kind k)
{
	return k < PIN_KIND_COUNT ? pin_kinds[k] : "?";
}

const char *rss_kind_name(enum rss_kind k)
{
	return k < RSS_KIND_COUNT ? rss_kinds[k] : "?";
}

const char *residency_source_name(int source)
{
	switch ((enum residency_source)source) {
	case RESIDENCY_PAGEMAP: return "pagemap";
	case RESIDENCY_CORE_DUMPED: return "core-dumped-pages";
	case RESIDENCY_NONE_FORMAT1: return "none:format-1-image";
	case RESIDENCY_NONE_GDB_CORE: return "none:gdb-core";
	case RESIDENCY_NONE_DENSE_CORE: return "none:dense-core";
	case RESIDENCY_NONE_SAVED: return "none:saved-without";
	}
	return "?";
}

const char *residency_missing_reason(int source)
{
	switch ((enum residency_source)source) {
	case RESIDENCY_NONE_FORMAT1:
		return "a format-1 memory image holds no page residency";
	case RESIDENCY_NONE_GDB_CORE:
		return "gdb's gcore writes every page, resident or not; a kernel core dump "
		       "(ulimit -c) records which were";
	case RESIDENCY_NONE_DENSE_CORE:
		return "this core has no holes: written through a pipe or copied without them, "
		       "it cannot tell pages never touched from resident ones";
	case RESIDENCY_NONE_SAVED:
		return "the image was saved from a target without page residency";
	default:
		return "no page residency";
	}
}

void segment_chunks(const struct heap_model *m, const struct heap_segment *s, size_t *first,
		    size_t *end)
{
	size_t lo = 0, hi = m->nchunks;
	while (lo < hi) {	/* first chunk at or above the segment's start */
		size_t mid = lo + (hi - lo) / 2;
		if (m->chunks[mid].addr < s->chunks_start)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < m->nchunks && m->chunks[hi].addr < s->chunks_end)
		hi++;
	*end = hi;
}

int chunk_free_for_trim(enum chunk_state s)
{
	return s == CHUNK_FASTBIN || s == CHUNK_UNSORTED || s == CHUNK_SMALLBIN ||
	       s == CHUNK_LARGEBIN;
}

int chunk_free_for_shrink(enum chunk_state s)
{
	return s == CHUNK_UNSORTED || s == CHUNK_SMALLBIN || s == CHUNK_LARGEBIN;
}

void explain_analyse(const struct target *t, struct heap_model *m)
{
	explain_trim(t, m);
	explain_pins(t, m);
	explain_rss(t, m);
	m->ex.done = 1;
}

static const char *owner_name(const struct heap_model *m, const struct pin *p)
{
	return p->owner_type >= 0 && (size_t)p->owner_type < m->pym.ntypes ?
		       m->pym.types[p->owner_type].name : NULL;
}

/* ", list 0x7f.." or ", data buffer of numpy.ndarray 0x7f.." or "". */
static const char *owner_text(const struct heap_model *m, const struct pin *p, char *buf,
			      size_t len)
{
	const char *owner = owner_name(m, p);
	if (!owner && p->owner_note && p->kind == PIN_HEAP_TOP)
		snprintf(buf, len, ", %s", p->owner_note);
	else if (!owner)
		snprintf(buf, len, "%s", "");
	else if (p->owner_note)
		snprintf(buf, len, ", %s of %s 0x%llx", p->owner_note, owner,
			 (unsigned long long)p->owner_addr);
	else
		snprintf(buf, len, ", %s 0x%llx", owner, (unsigned long long)p->owner_addr);
	return buf;
}

static void heap_top_text(const struct heap_model *m, const struct pin *p, char *what,
			  size_t wl, char *release, size_t rl)
{
	char run[64], lid[64], owner[160];
	snprintf(what, wl, "%s chunk 0x%llx (%llu B%s) sits above a free run of %s at 0x%llx "
		 "in arena %d's heap; %llu in-use chunks (%s) lie between that run and the top",
		 chunk_state_name((enum chunk_state)p->state), (unsigned long long)p->addr,
		 (unsigned long long)p->size, owner_text(m, p, owner, sizeof owner),
		 format_bytes(p->run_size, run, sizeof run), (unsigned long long)p->run_addr,
		 p->arena, (unsigned long long)p->lid_count, format_bytes(p->lid_bytes, lid, sizeof lid));
	snprintf(release, rl, "freeing those %llu chunks lets the heap shrink by the run; "
		 "malloc_trim(0) would drop its whole resident pages now without moving the top",
		 (unsigned long long)p->lid_count);
}

void explain_pin_text(const struct heap_model *m, const struct pin *p, char *what,
		      size_t what_len, char *release, size_t release_len)
{
	const char *owner = owner_name(m, p);
	char b[64];
	switch ((enum pin_kind)p->kind) {
	case PIN_HEAP_TOP:
		heap_top_text(m, p, what, what_len, release, release_len);
		return;
	case PIN_PYMALLOC_ARENA:
		snprintf(what, what_len, "pymalloc arena 0x%llx is kept mapped by %llu live blocks "
			 "(mostly %s, e.g. 0x%llx)", (unsigned long long)p->addr,
			 (unsigned long long)p->count, owner ? owner : "unrecognised",
			 (unsigned long long)p->owner_addr);
		snprintf(release, release_len, "an arena is unmapped only when every pool in it "
			 "is empty: free those %llu objects", (unsigned long long)p->count);
		return;
	case PIN_NUMPY_VIEW:
		snprintf(what, what_len, "%llu view(s) starting with array 0x%llx show %s of the "
			 "buffer of %s 0x%llx (%s)", (unsigned long long)p->count,
			 (unsigned long long)p->addr, format_bytes(p->size, b, sizeof b),
			 owner ? owner : "object", (unsigned long long)p->owner_addr, p->owner_note);
		snprintf(release, release_len, "copy what is needed (view.copy()) and drop the "
			 "views; the base buffer is then freed");
		return;
	case PIN_NUMPY_CACHE:
		snprintf(what, what_len, "%llu small buffers parked in NumPy's datacache/dimcache",
			 (unsigned long long)p->count);
		snprintf(release, release_len, "reused by NumPy's next small allocations; never "
			 "given back while the module is loaded");
		return;
	case PIN_MMAP_THRESHOLD:
		snprintf(what, what_len, "mmap threshold raised to %s by a free of an mmapped chunk: "
			 "%llu heap chunks of %ld B or more (largest 0x%llx) would have had their "
			 "own mmap under the default", format_bytes(p->size, b, sizeof b),
			 (unsigned long long)p->count, m->glibc.layout->default_mmap_threshold,
			 (unsigned long long)p->addr);
		snprintf(release, release_len, "setting the threshold (mallopt(M_MMAP_THRESHOLD, N) "
			 "or MALLOC_MMAP_THRESHOLD_=N) stops the raising: blocks above N then go "
			 "back to the OS when freed");
		return;
	case PIN_KIND_COUNT:
		break;
	}
	snprintf(what, what_len, "?");
	snprintf(release, release_len, "?");
}
