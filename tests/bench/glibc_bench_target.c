/*
 * glibc_bench_target.c - a glibc heap of a given size for the benchmark
 * (tests/bench/bench.py), with a heartbeat that measures, from inside the
 * process, how long it was paused.
 *
 * Usage: glibc_bench_target LIVE FREE
 *
 * Allocates LIVE + FREE chunks of mixed sizes and frees FREE of them, every
 * other one while both last, so the free chunks cannot coalesce and fill
 * tcache, fastbins, the unsorted, small and large bins.  The main thread
 * makes half of them, two threads a quarter each (so there are two thread
 * arenas); those threads then stay alive, blocked.  A few chunks above the
 * mmap threshold make mmapped chunks.
 *
 * A heartbeat thread loops on clock_gettime(CLOCK_MONOTONIC) and a short
 * nanosleep, and keeps the longest gap between two ticks: while every
 * thread is stopped by ptrace, the heartbeat does not tick, so the gap it
 * sees after the resume is the pause as the process lived it.
 *
 * Control on stdin, one command a line, each answered by one line:
 *   reset   zero the longest gap              -> "ok"
 *   gap     the longest gap since the reset   -> "gap NANOSECONDS"
 *           (answered after two more ticks, so a pause that just ended
 *           has been seen)
 * On "ready LIVE FREE" on stdout the heap is built; EOF on stdin ends it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_NS 200000L	/* heartbeat sleep: 200 us, well under any pause */
#define LARGE_EVERY 64	/* one chunk in 64 is large (large bins) */
#define MMAPPED_CHUNKS 16	/* above the 128 KiB default mmap threshold */
#define MMAPPED_SIZE (256 * 1024)
#define SORT_MALLOCS 8	/* each sorts up to 10000 unsorted chunks into bins */

static uint64_t max_gap_ns;	/* atomic: the longest gap since the reset */
static uint64_t ticks;		/* atomic: heartbeat ticks so far */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note_gap(uint64_t gap)
{
	uint64_t cur = __atomic_load_n(&max_gap_ns, __ATOMIC_RELAXED);
	while (gap > cur && !__atomic_compare_exchange_n(&max_gap_ns, &cur, gap, 0,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void *heartbeat(void *arg)
{
	const struct timespec tick = { 0, TICK_NS };
	uint64_t last = now_ns();
	(void)arg;
	for (;;) {
		uint64_t t;
		nanosleep(&tick, NULL);
		t = now_ns();
		note_gap(t - last);
		last = t;
		__atomic_add_fetch(&ticks, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Request size of chunk I: 24..280 bytes, one in LARGE_EVERY 1..4 KiB. */
static size_t chunk_request(long i)
{
	if (i % LARGE_EVERY == LARGE_EVERY - 1)
		return 1024 + (size_t)(i * 7919 % 3072);
	return 24 + (size_t)(i * 7919 % 256);
}

/* Free chunk I of P (odd indices first, then even ones from the end)
 * until FREED reaches NFREE; stop at index LIMIT. */
static void free_some(void **p, long total, long limit, long nfree, long *freed)
{
	long i;
	for (i = 1 + 2 * *freed; i < limit && *freed < nfree; i += 2, ++*freed)
		free(p[i]);
	if (limit < total)
		return;
	for (i = (total - 1) & ~1L; i >= 0 && *freed < nfree; i -= 2, ++*freed)
		free(p[i]);
}

/* LIVE + FREE chunks from the calling thread's arena, FREE of them freed:
 * three quarters of the frees, then a few large mallocs that sort the
 * unsorted bin into the small and large bins, then the rest (which stay
 * in tcache, fastbins and the unsorted bin). */
static void build_heap(long live, long nfree)
{
	long total = live + nfree, i, freed = 0;
	void **p = malloc((size_t)(total > 0 ? total : 1) * sizeof *p);
	if (!p)
		exit(1);
	for (i = 0; i < total; i++)
		if (!(p[i] = malloc(chunk_request(i))))
			exit(1);
	free_some(p, total, total * 3 / 4, nfree, &freed);
	for (i = 0; i < SORT_MALLOCS; i++)	/* leaves them in use */
		if (!malloc(4096 + (size_t)i * 16))
			exit(1);
	free_some(p, total, total, nfree, &freed);
	/* p is kept: the live chunks stay reachable */
}

struct share {
	long live, nfree;
	pthread_barrier_t *built;
};

/* A thread arena: build its share, then block forever. */
static void *arena_thread(void *arg)
{
	struct share *s = arg;
	build_heap(s->live, s->nfree);
	pthread_barrier_wait(s->built);
	for (;;) {
		const struct timespec hour = { 3600, 0 };
		nanosleep(&hour, NULL);
	}
	return NULL;
}

/* Answer "reset" and "gap" on stdin until EOF. */
static int serve(void)
{
	char line[64];
	while (fgets(line, sizeof line, stdin)) {
		if (!strncmp(line, "reset", 5)) {
			__atomic_store_n(&max_gap_ns, 0, __ATOMIC_RELAXED);
			puts("ok");
		} else if (!strncmp(line, "gap", 3)) {
			const struct timespec wait = { 0, TICK_NS / 4 };
			uint64_t t0 = __atomic_load_n(&ticks, __ATOMIC_ACQUIRE);
			while (__atomic_load_n(&ticks, __ATOMIC_ACQUIRE) < t0 + 2)
				nanosleep(&wait, NULL);
			printf("gap %llu\n",
			       (unsigned long long)__atomic_load_n(&max_gap_ns, __ATOMIC_RELAXED));
		} else {
			puts("error unknown command");
		}
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long live, nfree;
	pthread_t hb, th[2];
	pthread_barrier_t built;
	struct share quarter;
	int i;
	if (argc != 3)
		return 2;
	live = atol(argv[1]);
	nfree = atol(argv[2]);
	quarter = (struct share){ live / 4, nfree / 4, &built };
	pthread_barrier_init(&built, NULL, 3);
	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, arena_thread, &quarter))
			return 1;
	build_heap(live - 2 * quarter.live, nfree - 2 * quarter.nfree);
	for (i = 0; i < MMAPPED_CHUNKS; i++)
		if (!malloc(MMAPPED_SIZE))
			return 1;
	pthread_barrier_wait(&built);
	if (pthread_create(&hb, NULL, heartbeat, NULL))
		return 1;
	printf("ready %ld %ld\n", live, nfree);
	fflush(stdout);
	return serve();
}
