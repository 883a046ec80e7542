/*
 * demo_target.c - the bundled target of tools/demo.
 *
 * Builds the heap shape heapinspect exists to explain: 200,000 small
 * records allocated and then freed except one in every 1,000, so ~50 MB of
 * the brk heap is free yet cannot be returned (live chunks sit above the
 * free runs); a 4 MiB buffer allocated and freed (glibc then raises its
 * mmap threshold); a 1 MiB buffer kept (now served from the heap, not
 * mmap); a 64 MiB buffer kept (mmapped); two threads with their own arenas
 * and tcaches.  Prints "READY" and waits until killed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORDS 200000

static void *records[RECORDS];
static void *volatile kept[4];	/* volatile: the compiler must not elide them */
static pthread_barrier_t parked;

static void *worker(void *arg)
{
	void *mine[64];
	int i;
	for (i = 0; i < 64; i++)
		mine[i] = malloc(24 + 40 * (size_t)i + (size_t)arg);
	for (i = 0; i < 64; i += 3)
		free(mine[i]);
	pthread_barrier_wait(&parked);
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t threads[2];
	int i;
	for (i = 0; i < RECORDS; i++) {
		records[i] = malloc(200 + (size_t)(i % 7) * 16);
		memset(records[i], 0x5a, 16);
	}
	for (i = 0; i < RECORDS; i++)
		if (i % 1000 != 999)
			free(records[i]);
	kept[2] = malloc(4 << 20);
	memset(kept[2], 1, 4096);
	free(kept[2]);			/* raises mp_.mmap_threshold to 4 MiB */
	kept[0] = malloc(1 << 20);	/* now from the heap */
	kept[1] = malloc(64 << 20);	/* still mmapped */
	memset(kept[0], 2, 4096);
	memset(kept[1], 3, 4096);
	pthread_barrier_init(&parked, NULL, 3);
	for (i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(size_t)(i * 8));
	pthread_barrier_wait(&parked);
	printf("READY\n");
	fflush(stdout);
	for (;;)
		pause();
}
