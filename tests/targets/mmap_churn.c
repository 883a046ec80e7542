/*
 * mmap_churn.c - a target whose threads never stop replacing glibc mmapped
 * chunks, for mmap-churn.test: the copy plan heapinspect makes before the
 * pause (which pages are bodies of mmapped chunks, not to be copied) goes
 * stale while it is made, and must be caught and made again in the pause.
 *
 * M_MMAP_THRESHOLD is fixed at 64 KiB (so frees do not raise it).  THREADS
 * threads each keep SLOTS chunks and loop for ever: free a random slot,
 * allocate it again to span 256 KiB, 1 MiB or 2 MiB, half of the time
 * with posix_memalign (alignment 4, 8 or 16 KiB, which moves the chunk
 * header inside its mapping), and write the first and last byte.
 * They rest 1 ms every 64 rounds.  The main thread prints "live ADDRESS
 * THREADS SLOTS" (where the published chunks are, see live[]) and READY, then on
 * each SIGUSR1 (sigwait) writes "ops N": the rounds done so far, the
 * heartbeat that proves the process runs on.
 *
 * Invariants: every chunk is mmapped (its size is above the fixed
 * threshold); only the churning threads allocate.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define SLOTS 16
#define THRESHOLD (64 << 10)

static volatile unsigned long rounds[THREADS];

/* The chunks each thread holds, published for the test: {pointer,
 * requested size}.  A slot is cleared before its chunk is freed and set
 * after the new one is allocated, so a non-zero pointer is always a live
 * chunk; at most one chunk per thread is live but unpublished. */
static volatile unsigned long live[THREADS][SLOTS][2];

static unsigned long next_random(unsigned long *seed)
{
	*seed = *seed * 6364136223846793005ul + 1442695040888963407ul;
	return *seed >> 33;
}

/* Few spans, so that a freed mapping's hole is often refilled by a chunk
 * of the same span at the same address; a plain chunk and a memaligned one
 * are both sized to fill exactly SPAN bytes, so that both leave the same
 * header at the mapping start (glibc 2.36 malloc.c: an mmapped chunk maps
 * ALIGN_UP(request2size(n) + SIZE_SZ, pagesize); _int_memalign asks for
 * request2size(n) + alignment + MINSIZE).  A plan whose mapping bounds
 * still match must then be caught by the other places it read. */
static const size_t spans[] = { 256 << 10, 1 << 20, 2 << 20 };

static void *allocate(unsigned long *seed, size_t *requested)
{
	size_t span = spans[next_random(seed) % (sizeof spans / sizeof *spans)], size;
	void *p = NULL;
	if (next_random(seed) % 2) {
		size_t align = (size_t)4096 << (next_random(seed) % 3);
		size = span - align - 4096;
		if (posix_memalign(&p, align, size) != 0)
			p = NULL;
	} else {
		size = span - 64;
		p = malloc(size);
	}
	if (p) {
		((volatile char *)p)[0] = 1;
		((volatile char *)p)[size - 1] = 1;
	}
	*requested = size;
	return p;
}

static void *churn(void *arg)
{
	unsigned long id = (unsigned long)arg, seed = id * 7919 + 17;
	volatile unsigned long (*slot)[2] = live[id];
	for (;;) {
		unsigned long i = next_random(&seed) % SLOTS;
		void *old = (void *)slot[i][0], *p;
		size_t size;
		slot[i][0] = 0;
		free(old);
		p = allocate(&seed, &size);
		slot[i][1] = size;
		slot[i][0] = (unsigned long)p;
		rounds[id]++;
		if (rounds[id] % 64 == 0)
			usleep(1000);
	}
	return NULL;
}

int main(void)
{
	pthread_t thread;
	sigset_t usr1;
	unsigned long i;
	int sig, n;
	char line[64];
	mallopt(M_MMAP_THRESHOLD, THRESHOLD);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);	/* inherited by the threads */
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&thread, NULL, churn, (void *)i) != 0)
			return 1;
	n = snprintf(line, sizeof line, "live %p %d %d\nREADY\n", (void *)live, THREADS, SLOTS);
	if (write(1, line, (size_t)n) != n)
		return 1;
	for (;;) {
		unsigned long total = 0;
		if (sigwait(&usr1, &sig) != 0)
			continue;
		for (i = 0; i < THREADS; i++)
			total += rounds[i];
		n = snprintf(line, sizeof line, "ops %lu\n", total);
		if (write(1, line, (size_t)n) != n)
			return 1;
	}
}
