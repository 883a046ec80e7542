/*
 * hammer.c - 32 threads doing malloc/free as fast as they can, for
 * threads-hammer.test.  Each thread keeps 64 live blocks of random sizes
 * (16 B to 64 KiB) and replaces one per iteration.  After all threads run
 * it prints READY; on SIGUSR1 (sigwait in the main thread) it writes
 * "ops N", the iterations done so far.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 32
#define SLOTS 64

static volatile unsigned long ops[THREADS];

static void *hammer(void *arg)
{
	unsigned long id = (unsigned long)arg, seed = id * 2654435761u + 1;
	void *slot[SLOTS] = { 0 };
	for (;;) {
		unsigned i;
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		i = (unsigned)(seed >> 33) % SLOTS;
		free(slot[i]);
		slot[i] = malloc(16 + (seed >> 20) % 65536);
		if (slot[i])
			memset(slot[i], (int)id, 16);
		ops[id]++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	sigset_t set;
	char line[64];
	unsigned long i, sum;
	int sig, n;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, (void *)i);
	if (write(1, "READY\n", 6) != 6)
		return 1;
	for (;;) {
		sigwait(&set, &sig);
		for (sum = 0, i = 0; i < THREADS; i++)
			sum += ops[i];
		n = snprintf(line, sizeof line, "ops %lu\n", sum);
		if (write(1, line, (size_t)n) != n)
			return 1;
	}
}
