/*
 * target_image.c - memory-image files: a target saved to disk.
 *
 * `heapinspect --dump-image FILE PID` writes what the live backend copied;
 * `--image FILE` reads it back, so walkers can be tested and fuzzed without
 * a process.  Format (little-endian, version 1):
 *
 *   "HEAPIMG1"                        8-byte magic
 *   u32 format version (1), u32 pid
 *   u64 exe_len, maps_len, nthreads, nregions
 *   exe bytes, maps text bytes        (no terminators)
 *   nthreads x { u64 tid, u64 fs_base }
 *   nregions x { u64 start, u64 end, u64 file_offset }
 *   region bytes at their file offsets
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
#define IMAGE_VERSION 1u

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
	if (h->version != IMAGE_VERSION) {
		*err = xasprintf("%s: memory image format version %u is not supported "
				 "(this heapinspect reads version %u)", path, h->version,
				 IMAGE_VERSION);
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
	if (target_finish_regions(t) < 0) {
		*err = image_error(path, "overlapping regions");
		goto fail;
	}
	return t;
fail:
	target_free(t);
	return NULL;
}
