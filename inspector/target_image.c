/*
 * target_image.c - memory-image files: a target saved to disk.
 *
 * `heapinspect --dump-image FILE PID` writes what the live backend copied;
 * `--image FILE` reads it back, so walkers can be tested and fuzzed without
 * a process.  Format (little-endian, version 2; version 1 is the same
 * without the residency section, and is still read):
 *
 *   "HEAPIMG1"                        8-byte magic
 *   u32 format version (1), u32 pid
 *   u64 exe_len, maps_len, nthreads, nregions
 *   exe bytes, maps text bytes        (no terminators)
 *   nthreads x { u64 tid, u64 fs_base }
 *   nregions x { u64 start, u64 end, u64 file_offset }
 *   region bytes at their file offsets
 *   residency section (version 2), after the region bytes:
 *     u64 rss_anon, u64 nresidency,     (rss_anon: bytes; ~0 not measured, the
 *                                        residency coming from a core's dumped
 *                                        pages; ~0 - 1 no residency at all)
 *     nresidency x { u64 start, u64 end }   (sorted, page-aligned)
 *     nresidency bitmaps of (pages / 8 + 1) bytes each (bit i: page i resident)
 *   footer (version 2): u64 offset of the residency section, "HIRESID2"
 *
 * Invariants: the loader trusts nothing.  Every count and offset is checked
 * against the file size before use, regions must be sorted, page-aligned
 * and non-overlapping, and the maps text must parse; anything else is a
 * clear error, never a crash.  Region bytes are used in place (the file is
 * mapped read-only), so loading a large image costs no copy.
 */
#include "config.h"

#include "target.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMAGE_MAGIC "HEAPIMG1"
#define IMAGE_VERSION 2u
#define IMAGE_VERSION_OLDEST 1u
#define FOOTER_MAGIC "HIRESID2"

struct image_header {
	char magic[8];
	uint32_t version, pid;
	uint64_t exe_len, maps_len, nthreads, nregions;
};

struct image_region {
	uint64_t start, end, offset;
};

static int write_all(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static size_t bitmap_bytes(uint64_t start, uint64_t end)
{
	return (size_t)((end - start) / 4096 / 8 + 1);
}

#define IMAGE_NO_RESIDENCY (UINT64_MAX - 1)	/* in place of rss_anon */

static int write_residency(FILE *f, const struct target *t, uint64_t offset)
{
	uint64_t head[2] = { t->have_residency ? t->rss_anon : IMAGE_NO_RESIDENCY,
			     t->have_residency ? t->nresidency : 0 };
	size_t i;
	int bad = write_all(f, head, sizeof head);
	for (i = 0; i < head[1]; i++) {
		uint64_t range[2] = { t->residency[i].start, t->residency[i].end };
		bad |= write_all(f, range, sizeof range);
	}
	for (i = 0; i < head[1]; i++)
		bad |= write_all(f, t->residency[i].bits,
				 bitmap_bytes(t->residency[i].start, t->residency[i].end));
	bad |= write_all(f, &offset, sizeof offset);
	bad |= write_all(f, FOOTER_MAGIC, 8);
	return bad;
}

int target_write_image(const struct target *t, const char *path, char **err)
{
	struct image_header h = { IMAGE_MAGIC, IMAGE_VERSION, (uint32_t)t->pid,
				  strlen(t->exe), strlen(t->maps_text), t->nthreads,
				  t->nregions };
	uint64_t offset;
	size_t i;
	int bad = 0;
	FILE *f = fopen(path, "wb");
	if (!f) {
		*err = xasprintf("cannot write image %s: %s", path, strerror(errno));
		return -1;
	}
	bad |= write_all(f, &h, sizeof h);
	bad |= write_all(f, t->exe, h.exe_len);
	bad |= write_all(f, t->maps_text, h.maps_len);
	for (i = 0; i < t->nthreads; i++) {
		uint64_t rec[2] = { (uint64_t)t->threads[i].tid, t->threads[i].fs_base };
		bad |= write_all(f, rec, sizeof rec);
	}
	offset = sizeof h + h.exe_len + h.maps_len + t->nthreads * 16 + t->nregions * 24;
	for (i = 0; i < t->nregions; i++) {
		struct image_region r = { t->regions[i].start, t->regions[i].end, offset };
		bad |= write_all(f, &r, sizeof r);
		offset += r.end - r.start;
	}
	for (i = 0; i < t->nregions; i++)
		bad |= write_all(f, t->regions[i].bytes, t->regions[i].end - t->regions[i].start);
	bad |= write_residency(f, t, offset);
	if (fclose(f) != 0 || bad) {
		*err = xasprintf("cannot write image %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static char *image_error(const char *path, const char *what)
{
	return xasprintf("%s is not a valid heapinspect memory image: %s", path, what);
}

/* Check the fixed part and return the position after the strings, or 0. */
static uint64_t check_header(const struct image_header *h, uint64_t size,
			     const char *path, char **err)
{
	uint64_t need = sizeof *h;
	if (size < sizeof *h || memcmp(h->magic, IMAGE_MAGIC, 8) != 0) {
		*err = image_error(path, "bad magic");
		return 0;
	}
	if (h->version < IMAGE_VERSION_OLDEST || h->version > IMAGE_VERSION) {
		*err = xasprintf("%s: memory image format version %u is not supported "
				 "(this heapinspect reads versions %u to %u)", path, h->version,
				 IMAGE_VERSION_OLDEST, IMAGE_VERSION);
		return 0;
	}
	if (h->exe_len > size || h->maps_len > size || h->nthreads > size / 16 ||
	    h->nregions > size / 24) {
		*err = image_error(path, "counts larger than the file");
		return 0;
	}
	need += h->exe_len + h->maps_len + h->nthreads * 16 + h->nregions * 24;
	if (need > size) {
		*err = image_error(path, "truncated header");
		return 0;
	}
	return sizeof *h;
}

/* The residency section at POS (version 2). */
static int load_residency(struct target *t, const unsigned char *base, uint64_t size,
			  uint64_t pos, const char *path, char **err)
{
	uint64_t head[2], i, bits, prev_end = 0;
	if (pos > size || size - pos < sizeof head + 16) {
		*err = image_error(path, "truncated or missing residency section");
		return -1;
	}
	memcpy(head, base + pos, sizeof head);
	pos += sizeof head;
	if (head[1] > (size - pos) / 16) {
		*err = image_error(path, "residency count larger than the file");
		return -1;
	}
	bits = pos + head[1] * 16;
	t->residency = xcalloc(head[1] + 1, sizeof *t->residency);
	for (i = 0; i < head[1]; i++) {
		uint64_t range[2], len;
		memcpy(range, base + pos + i * 16, sizeof range);
		if (range[0] >= range[1] || range[0] % 4096 || range[1] % 4096 ||
		    range[0] < prev_end || range[1] - range[0] > (1ull << 47)) {
			*err = image_error(path, "a residency range is out of order");
			return -1;
		}
		len = bitmap_bytes(range[0], range[1]);
		if (bits > size || len > size - bits) {
			*err = image_error(path, "truncated residency bitmaps");
			return -1;
		}
		prev_end = range[1];
		t->residency[i] = (struct target_residency){ range[0], range[1], base + bits };
		bits += len;
	}
	t->nresidency = head[1];
	t->have_residency = head[0] != IMAGE_NO_RESIDENCY;
	t->rss_anon = t->have_residency ? head[0] : 0;
	t->residency_source = !t->have_residency ? RESIDENCY_NONE_SAVED :
			      head[0] == TARGET_RSS_UNKNOWN ? RESIDENCY_CORE_DUMPED : RESIDENCY_PAGEMAP;
	return 0;
}

static int load_regions(struct target *t, const unsigned char *base, uint64_t size,
			uint64_t pos, uint64_t nregions, const char *path, char **err)
{
	uint64_t i, prev_end = 0;
	for (i = 0; i < nregions; i++) {
		struct image_region r;
		memcpy(&r, base + pos + i * sizeof r, sizeof r);
		if (r.start >= r.end || r.start % 4096 || r.end % 4096 || r.start < prev_end ||
		    r.offset > size || r.end - r.start > size - r.offset) {
			*err = image_error(path, "a region is out of order or outside the file");
			return -1;
		}
		prev_end = r.end;
		target_add_region(t, r.start, r.end, base + r.offset);
	}
	return 0;
}

/* Where the footer says the residency section is (past the end if there
 * is no valid footer: load_residency() then says so). */
static uint64_t residency_offset(const unsigned char *base, off_t size)
{
	uint64_t offset;
	if (size < 16 || memcmp(base + size - 8, FOOTER_MAGIC, 8) != 0)
		return (uint64_t)size;
	memcpy(&offset, base + size - 16, 8);
	return offset <= (uint64_t)size - 16 ? offset : (uint64_t)size;
}

struct target *target_open_image(const char *path, char **err)
{
	struct image_header h;
	struct target *t;
	struct stat st;
	unsigned char *base;
	uint64_t pos, i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = xasprintf("cannot open image %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof h) {
		close(fd);
		*err = image_error(path, "too short");
		return NULL;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		*err = xasprintf("cannot map image %s: %s", path, strerror(errno));
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->kind = TARGET_IMAGE;
	t->storage = base;
	t->storage_len = (size_t)st.st_size;
	memcpy(&h, base, sizeof h);
	pos = check_header(&h, (uint64_t)st.st_size, path, err);
	if (!pos)
		goto fail;
	t->pid = (pid_t)h.pid;
	t->exe = xmalloc(h.exe_len + 1);
	memcpy(t->exe, base + pos, h.exe_len);
	t->exe[h.exe_len] = 0;
	pos += h.exe_len;
	t->maps_text = xmalloc(h.maps_len + 1);
	memcpy(t->maps_text, base + pos, h.maps_len);
	t->maps_text[h.maps_len] = 0;
	pos += h.maps_len;
	if (strlen(t->maps_text) != h.maps_len || target_parse_maps(t, t->maps_text) < 0) {
		*err = image_error(path, "malformed mappings");
		goto fail;
	}
	t->threads = xcalloc(h.nthreads ? h.nthreads : 1, sizeof *t->threads);
	for (i = 0; i < h.nthreads; i++, pos += 16) {
		uint64_t rec[2];
		memcpy(rec, base + pos, sizeof rec);
		t->threads[i] = (struct target_thread){ (pid_t)rec[0], rec[1] };
	}
	t->nthreads = h.nthreads;
	if (load_regions(t, base, (uint64_t)st.st_size, pos, h.nregions, path, err) < 0)
		goto fail;
	t->residency_source = RESIDENCY_NONE_FORMAT1;
	if (h.version >= 2 &&
	    load_residency(t, base, (uint64_t)st.st_size, residency_offset(base, st.st_size),
			   path, err) < 0)
		goto fail;
	if (target_finish_regions(t) < 0) {
		*err = image_error(path, "overlapping regions");
		goto fail;
	}
	return t;
fail:
	target_free(t);
	return NULL;
}
