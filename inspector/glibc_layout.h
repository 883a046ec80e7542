/*
 * glibc_layout.h - the shape of glibc malloc's data structures, per version.
 *
 * Every offset a walker uses comes from one of these rows.  The rows are
 * generated at build time from the data files in glibc-layouts/ (one file
 * per range of glibc versions whose x86-64 layout is identical, each naming
 * the glibc source file and tag it was read from) by glibc-layouts/gen.awk.
 *
 * Invariants:
 *   - A field that does not exist in a version is LAYOUT_ABSENT (-1), never 0
 *     (0 is a valid offset).
 *   - Field C types never change across versions except where a row says so
 *     (tcache_count_width); the walkers read size_t/pointer fields as 8 bytes
 *     and the int fields of malloc_par (hp_flags, n_mmaps, n_mmaps_max,
 *     max_n_mmaps, no_dyn_threshold) and malloc_state (mutex, flags,
 *     have_fastchunks, binmap words) as 4 bytes.
 *   - Versions are encoded as major * 1000 + minor (2.36 -> 2036).
 */
#ifndef HEAPINSPECT_GLIBC_LAYOUT_H
#define HEAPINSPECT_GLIBC_LAYOUT_H

#include <stddef.h>

#define LAYOUT_ABSENT (-1L)

struct glibc_layout {
	const char *name;	/* data file it came from, e.g. "glibc-2.35-2.41" */
	const char *source;	/* "malloc/malloc.c, malloc/arena.c at glibc-2.35" */
	long version_min, version_max;	/* inclusive, major*1000+minor */

	/* chunk geometry */
	long size_sz, malloc_alignment, minsize;
	long chunk_prev_size, chunk_size, chunk_fd, chunk_bk;
	long chunk_fd_nextsize, chunk_bk_nextsize;
	/* an mmapped chunk's mapping is prev_size + chunksize + this many
	 * bytes: 0 before 2.43, CHUNK_HDR_SZ (16) from 2.43 */
	long mmap_chunk_tail;

	/* struct malloc_state */
	long malloc_state_mutex, malloc_state_flags, malloc_state_have_fastchunks;
	long malloc_state_fastbinsY, malloc_state_nfastbins;
	long malloc_state_top, malloc_state_last_remainder;
	long malloc_state_bins, malloc_state_nbins, malloc_state_binmap;
	long malloc_state_next, malloc_state_next_free;
	long malloc_state_attached_threads, malloc_state_system_mem;
	long malloc_state_max_system_mem, malloc_state_sizeof;

	/* struct malloc_par (mp_) */
	long malloc_par_trim_threshold, malloc_par_top_pad, malloc_par_mmap_threshold;
	long malloc_par_arena_test, malloc_par_arena_max;
	long malloc_par_thp_pagesize, malloc_par_hp_pagesize, malloc_par_hp_flags;
	long malloc_par_n_mmaps, malloc_par_n_mmaps_max, malloc_par_max_n_mmaps;
	long malloc_par_no_dyn_threshold, malloc_par_mmapped_mem;
	long malloc_par_max_mmapped_mem, malloc_par_sbrk_base;
	long malloc_par_tcache_bins, malloc_par_tcache_max_bytes;
	long malloc_par_tcache_count, malloc_par_tcache_unsorted_limit;
	long malloc_par_sizeof;

	/* static defaults of mp_ (malloc.c's initialiser), used to recognise
	 * mp_ in libc's .data without symbols */
	long default_top_pad, default_mmap_threshold, default_trim_threshold;
	long default_n_mmaps_max, default_arena_test;
	long default_mmap_threshold_max;

	/* struct heap_info (non-main arenas), arena.c */
	long heap_info_ar_ptr, heap_info_prev, heap_info_size;
	long heap_info_mprotect_size, heap_info_pagesize, heap_info_sizeof;
	long heap_max_size;

	/* tcache: tcache_perthread_struct and tcache_entry */
	long tcache_present;		/* 0 before 2.26 */
	long tcache_count_width;	/* 1 (char) before 2.30, 2 (uint16_t) after */
	long tcache_counts_inverted;	/* 2.42+: num_slots = tcache_count - count */
	long tcache_lazy_init;		/* 2.42+: allocated on first tcache-sized malloc */
	long tcache_bins;		/* TCACHE_MAX_BINS */
	long tcache_small_bins;		/* bins indexed by csize2tidx (64) */
	long tcache_counts, tcache_entries, tcache_sizeof;
	long tcache_entry_next, tcache_entry_key;
	long tcache_key_is_random;	/* 2.34+: key is the random tcache_key */
	long tcache_fill_count;		/* TCACHE_FILL_COUNT default */
	long safe_linking;		/* 2.32+: PROTECT_PTR on tcache/fastbin links */
};

/* All rows, oldest first; generated from glibc-layouts/ by gen.awk. */
extern const struct glibc_layout glibc_layouts[];
extern const size_t glibc_layouts_count;

/* The row covering VERSION (major*1000+minor), or NULL if none does. */
const struct glibc_layout *glibc_layout_for_version(long version);

#endif
