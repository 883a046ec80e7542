/*
 * rawcopy.c - the physical limit for the benchmark (tests/bench/bench.py):
 * how long a bare process_vm_readv of exactly the memory heapinspect copied
 * takes, with nothing else around it (no ptrace stop, no pagemap, no walk).
 *
 * Usage: rawcopy IMAGE PID [RUNS]
 *
 * IMAGE is a memory image written by `heapinspect --save IMAGE PID` (format:
 * doc/json-schema.md, inspector/target_image.c); its region table is the
 * list of ranges heapinspect copied.  Of those ranges, heapinspect reads
 * only the pages /proc/PID/pagemap says have contents (present and not the
 * shared zero page, or swapped: inspector/pagemap.c, which rawcopy uses
 * too; the rest read as zeros or from the file without a copy), so rawcopy
 * does the same: it reads the pagemap once, outside the timing, and copies
 * the runs of those pages.
 *
 * Each of RUNS runs (default 5) copies into a fresh buffer:
 *   copy:  the buffer is faulted in first (as heapinspect does before its
 *          pause), and only the process_vm_readv calls are timed;
 *   fault: the buffer is not faulted in, so the time includes our own page
 *          faults (the cost of a copy nobody prepared for).
 * Prints one JSON object: region and present byte counts, the number of
 * runs and system calls, and the median (and every) time of each kind.
 */
#define _GNU_SOURCE	/* process_vm_readv, MADV_POPULATE_WRITE */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pagemap.h"

#define PAGE 4096ull
#define BATCH 1024	/* IOV_MAX: remote iovecs per process_vm_readv */
#define MAX_RUNS 99
#define HEADER_BYTES 48	/* magic 8, version 4, pid 4, four u64 counts */

struct range {
	uint64_t start, end;
};

static struct range *ranges;	/* runs of present pages, sorted */
static size_t nranges, cap;

/* Fatal errors: a failed system call (die) or bad input (fail). */
static void fail(const char *what)
{
	fprintf(stderr, "rawcopy: %s\n", what);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "rawcopy: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Read LEN bytes at OFF or fail with WHAT. */
static void read_exact(int fd, void *buf, size_t len, uint64_t off, const char *what)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n <= 0)
			fail(what);
		done += (size_t)n;
	}
}

/* Append [start,end), merged with the last range when they touch. */
static void add_range(uint64_t start, uint64_t end)
{
	if (nranges && ranges[nranges - 1].end == start) {
		ranges[nranges - 1].end = end;
		return;
	}
	if (nranges == cap) {
		cap = cap ? 2 * cap : 1024;
		if (!(ranges = realloc(ranges, cap * sizeof *ranges)))
			fail("out of memory");
	}
	ranges[nranges++] = (struct range){ start, end };
}

/* The pages of [start,end) of the target with contents, as ranges. */
static void add_present(int pagemap, uint64_t start, uint64_t end)
{
	size_t npages = (end - start) / PAGE, i = 0;
	uint64_t *pm = malloc((npages ? npages : 1) * sizeof *pm);
	if (!pm)
		fail("out of memory");
	read_exact(pagemap, pm, npages * sizeof *pm, start / PAGE * sizeof *pm,
		   "short read of the target's pagemap (did it exit?)");
	while (i < npages) {
		size_t j = i;
		if (!pagemap_has_contents(pm[i])) {
			i++;
			continue;
		}
		while (j < npages && pagemap_has_contents(pm[j]))
			j++;
		add_range(start + i * PAGE, start + j * PAGE);
		i = j;
	}
	free(pm);
}

/* Read IMAGE's region table; returns the bytes it covers. */
static uint64_t load_regions(const char *image, int pagemap, uint64_t *nregions)
{
	unsigned char h[HEADER_BYTES];
	uint64_t exe_len, maps_len, nthreads, off, total = 0, i;
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(image);
	read_exact(fd, h, sizeof h, 0, "the image is shorter than its header");
	if (memcmp(h, "HEAPIMG1", 8))
		fail("not a heapinspect memory image");
	memcpy(&exe_len, h + 16, 8);
	memcpy(&maps_len, h + 24, 8);
	memcpy(&nthreads, h + 32, 8);
	memcpy(nregions, h + 40, 8);
	off = HEADER_BYTES + exe_len + maps_len + nthreads * 16;	/* {tid, fs_base} */
	for (i = 0; i < *nregions; i++) {
		uint64_t r[3];	/* start, end, file offset */
		read_exact(fd, r, sizeof r, off + i * sizeof r, "the region table is cut short");
		if (r[1] <= r[0] || r[0] % PAGE || r[1] % PAGE)
			fail("bad region in the image");
		add_present(pagemap, r[0], r[1]);
		total += r[1] - r[0];
	}
	close(fd);
	return total;
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Copy every range into BUF, BATCH remote iovecs a call; returns the
 * number of calls.  A short read (the target changed) is fatal. */
static size_t copy_all(pid_t pid, unsigned char *buf)
{
	size_t i = 0, calls = 0;
	struct iovec remote[BATCH];
	while (i < nranges) {
		size_t n = 0, bytes = 0;
		struct iovec local;
		for (; i < nranges && n < BATCH; i++, n++) {
			uint64_t len = ranges[i].end - ranges[i].start;
			remote[n] = (struct iovec){ (void *)(uintptr_t)ranges[i].start, len };
			bytes += len;
		}
		local = (struct iovec){ buf, bytes };
		if (process_vm_readv(pid, &local, 1, remote, n, 0) != (ssize_t)bytes)
			die("process_vm_readv");
		buf += bytes;
		calls++;
	}
	return calls;
}

/* One timed copy into a fresh buffer of LEN bytes, faulted in first or not. */
static double timed_copy(pid_t pid, uint64_t len, int prefault, size_t *calls)
{
	double t0, t;
	unsigned char *buf = mmap(NULL, len ? len : PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	if (prefault && madvise(buf, len, MADV_POPULATE_WRITE) < 0)
		for (uint64_t o = 0; o < len; o += PAGE)
			buf[o] = 0;
	t0 = seconds_now();
	*calls = copy_all(pid, buf);
	t = seconds_now() - t0;
	munmap(buf, len ? len : PAGE);
	return t;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void print_times(const char *name, double *t, int runs)
{
	int i;
	printf("\"%s_seconds_all\": [", name);
	for (i = 0; i < runs; i++)
		printf("%s%.6f", i ? ", " : "", t[i]);
	qsort(t, (size_t)runs, sizeof *t, by_value);
	printf("], \"%s_seconds\": %.6f", name, t[runs / 2]);
}

int main(int argc, char **argv)
{
	double copy[MAX_RUNS], fault[MAX_RUNS];
	uint64_t region_bytes, present = 0, nregions;
	size_t i, calls = 0;
	char path[64];
	int runs, r, pm;
	pid_t pid;
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: rawcopy IMAGE PID [RUNS]\n");
		return 1;
	}
	pid = (pid_t)atoi(argv[2]);
	runs = argc == 4 ? atoi(argv[3]) : 5;
	if (pid <= 0 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "rawcopy: bad PID or RUNS (1..%d)\n", MAX_RUNS);
		return 1;
	}
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
	if ((pm = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		die(path);
	region_bytes = load_regions(argv[1], pm, &nregions);
	close(pm);
	for (i = 0; i < nranges; i++)
		present += ranges[i].end - ranges[i].start;
	for (r = 0; r < runs; r++) {	/* alternate, so drift hits both alike */
		copy[r] = timed_copy(pid, present, 1, &calls);
		fault[r] = timed_copy(pid, present, 0, &calls);
	}
	printf("{\"regions\": %" PRIu64 ", \"region_bytes\": %" PRIu64
	       ", \"present_bytes\": %" PRIu64 ", \"ranges\": %zu, \"calls\": %zu, ",
	       nregions, region_bytes, present, nranges, calls);
	print_times("copy", copy, runs);
	printf(", ");
	print_times("fault", fault, runs);
	printf("}\n");
	return 0;
}
