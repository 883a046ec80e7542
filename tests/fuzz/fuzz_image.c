/*
 * fuzz_image.c - libFuzzer harnesses over memory images (`make fuzz`).
 *
 * Two entry points, chosen at build time:
 *   FUZZ_RAW    the input is a whole memory image file: the loader
 *               (target_image.c) and, if it loads, every walker and
 *               analysis on it.
 *   FUZZ_PATCH  the input is a list of patches {u32 offset, u8 length,
 *               bytes} applied to a real image ($FUZZ_BASE_IMAGE, dumped
 *               from a test target): the walkers see a realistic heap with
 *               hostile words in it (sizes, links, type pointers, array
 *               fields), which a raw image rarely reaches.
 * Either input may also be an ELF core file (a gcore of a test target as
 * $FUZZ_BASE_IMAGE): it is then read by the core loader (target_core.c),
 * program headers, notes and memory alike.
 * Each run builds the model without debuginfo (offline, deterministic),
 * renders every report into /dev/null, and frees everything: a crash, a
 * sanitizer report, a leak or a hang (libFuzzer's -timeout) is a bug.
 */
#include "config.h"

#include "analyze.h"
#include "commands.h"
#include "explain.h"
#include "target.h"
#include "util.h"
#include "who.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_all(const struct heap_model *m)
{
	static FILE *devnull;
	struct report r;
	int c;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	memset(&r, 0, sizeof r);
	chunk_filter_init(&r.filter);
	for (c = 0; c < CMD_COUNT; c++) {
		if (c == CMD_DIFF || c == CMD_OBJ || c == CMD_ARRAY)
			continue;
		r.command = (enum command)c;
		render_text(devnull, m, &r);
		render_json(devnull, m, &r);
	}
}

/* Walk the image in FD (a memfd), render, free. */
static void inspect_fd(int fd)
{
	char path[64], *err = NULL;
	struct target *t;
	struct heap_model *m;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	t = target_is_core_file(path) ? target_open_core(path, NULL, &err)
				      : target_open_image(path, &err);
	if (!t) {
		free(err);
		return;
	}
	m = analyze_target(t, "/nonexistent", &err);
	if (m) {
		address_describe(t, m, m->nchunks ? m->chunks[m->nchunks / 2].addr + 16 : 0x1000);
		render_all(m);
		model_free(m);
	}
	free(err);
	target_free(t);
}

static int image_fd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	return fd;
}

#ifdef FUZZ_PATCH
static uint8_t *base;
static size_t base_size;

static void load_base(void)
{
	const char *path = getenv("FUZZ_BASE_IMAGE");
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (!f) {
		fprintf(stderr, "fuzz_patch: set FUZZ_BASE_IMAGE to a memory image\n");
		abort();
	}
	fseek(f, 0, SEEK_END);
	base_size = (size_t)ftell(f);
	rewind(f);
	base = xmalloc(base_size);
	if (fread(base, 1, base_size, f) != base_size)
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img;
	size_t i = 0;
	int fd;
	if (!base)
		load_base();
	img = xmalloc(base_size);
	memcpy(img, base, base_size);
	while (i + 5 <= size) {	/* {u32 offset, u8 length, bytes} */
		uint32_t off;
		size_t len = data[i + 4];
		memcpy(&off, data + i, 4);
		i += 5;
		len = len < size - i ? len : size - i;
		off = (uint32_t)(off % base_size);
		if (len > base_size - off)
			len = base_size - off;
		memcpy(img + off, data + i, len);
		i += len;
	}
	fd = image_fd(img, base_size);
	free(img);
	if (fd >= 0) {
		inspect_fd(fd);
		close(fd);
	}
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = image_fd(data, size);
	if (fd >= 0) {
		inspect_fd(fd);
		close(fd);
	}
	return 0;
}
#endif
