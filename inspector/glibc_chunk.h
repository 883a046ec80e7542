/*
 * glibc_chunk.h - the few facts about a glibc chunk header that have not
 * changed in any glibc version (malloc/malloc.c, every tag 2.26-2.43):
 * the flag bits of the size field and how sysmalloc_mmap lays out an
 * mmapped chunk.  Everything version-dependent is in glibc_layout.h; the
 * one version-dependent part of an mmapped chunk's extent (2.43 maps 16
 * bytes past the chunk: layout field mmap_chunk_tail) is passed in.
 */
#ifndef HEAPINSPECT_GLIBC_CHUNK_H
#define HEAPINSPECT_GLIBC_CHUNK_H

#include <stdint.h>

#define CHUNK_PREV_INUSE 0x1ull		/* PREV_INUSE */
#define CHUNK_IS_MMAPPED 0x2ull		/* IS_MMAPPED */
#define CHUNK_NON_MAIN_ARENA 0x4ull	/* NON_MAIN_ARENA */
#define CHUNK_FLAGS 0x7ull		/* SIZE_BITS */
#define ARENA_NONCONTIGUOUS 0x2u	/* NONCONTIGUOUS_BIT in malloc_state.flags */

/*
 * An mmapped chunk as sysmalloc_mmap makes it: the mapping starts at
 * chunk - prev_size (prev_size is the alignment correction, below a page),
 * size has IS_MMAPPED and neither other flag, and prev_size + size + TAIL
 * is whole pages.  Given the two header words found at PAGE (a page start
 * inside a mapping ending at MAP_END), returns the mapping length the chunk
 * spans, or 0 if the words do not describe such a chunk.
 */
static inline uint64_t mmapped_chunk_span(uint64_t prev_size, uint64_t size_field,
					  uint64_t page, uint64_t map_end,
					  uint64_t page_size, uint64_t tail)
{
	uint64_t size = size_field & ~CHUNK_FLAGS, span;
	if ((size_field & CHUNK_FLAGS) != CHUNK_IS_MMAPPED || size < page_size ||
	    prev_size >= page_size || prev_size % 16)
		return 0;
	span = prev_size + size + tail;
	if (span % page_size || span > map_end - page)
		return 0;
	return span;
}

/*
 * _int_memalign on an mmapped chunk (malloc.c, every version) moves the
 * chunk up to the aligned address and leaves the original header at the
 * mapping start untouched: the real chunk is at MAP + K with prev_size = K
 * and size = (SPAN - K - tail) | IS_MMAPPED, where MAP + K + 2*SIZE_SZ is
 * the first multiple of some power of two above MAP + 2*SIZE_SZ.  These are
 * the offsets K to look at, for alignments 32 .. SPAN; returns how many
 * (at most 64) were stored in OUT.
 */
static inline unsigned mmapped_memalign_offsets(uint64_t map, uint64_t span, uint64_t out[64])
{
	uint64_t align, n = 0;
	if (span > (1ull << 48))
		return 0;	/* no mapping is that large */
	for (align = 32; align && align < span && n < 64; align *= 2) {
		uint64_t mem = (map + 16 + align) & ~(align - 1);	/* first above map+16 */
		uint64_t k = mem - 16 - map;
		if (k + 32 < span && (n == 0 || out[n - 1] != k))
			out[n++] = k;
	}
	return (unsigned)n;
}

/* Is (PREV_SIZE, SIZE_FIELD) at MAP + K the moved header of a memaligned
 * mmapped chunk spanning SPAN bytes from MAP? */
static inline int is_memaligned_header(uint64_t k, uint64_t prev_size, uint64_t size_field,
				       uint64_t span, uint64_t tail)
{
	return prev_size == k && (size_field & CHUNK_FLAGS) == CHUNK_IS_MMAPPED &&
	       (size_field & ~CHUNK_FLAGS) + k + tail == span;
}

#endif
