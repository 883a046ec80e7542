/*
 * thread_churn.c - a target that never stops creating and ending threads,
 * for target-churn.test: heapinspect must seize a thread group whose
 * membership changes while it lists and seizes it.
 *
 * SPAWNERS threads loop for ever: create a worker, then join it (even
 * rounds) or detach it (odd rounds, so that it is reaped by the kernel, not
 * by a join); they rest 1 ms every 16 rounds (still thousands of threads a
 * second, but a 2-CPU machine keeps some time for the inspector).  A worker lives a few microseconds: two in three malloc and
 * free a few blocks (the first malloc of a thread creates its tcache, and
 * may attach it to another arena), the rest end at once.  The main thread
 * prints READY, then on each SIGUSR1 (sigwait) writes "ops N": the workers
 * created so far, the heartbeat that proves the process runs on.
 *
 * Invariants: only the spawners and workers allocate; the main thread does
 * nothing but answer SIGUSR1, with write(2).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPAWNERS 3
#define BLOCKS 8

static volatile unsigned long created[SPAWNERS];

static void *worker(void *arg)
{
	unsigned long seed = (unsigned long)arg;
	void *block[BLOCKS];
	int i;
	if (seed % 3 == 0)
		return NULL;
	for (i = 0; i < BLOCKS; i++) {
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		block[i] = malloc(16 + (seed >> 40) % 4000);
		if (block[i])
			memset(block[i], i, 16);
	}
	for (i = 0; i < BLOCKS; i++)
		free(block[i]);
	return NULL;
}

static void *spawner(void *arg)
{
	unsigned long id = (unsigned long)arg, round;
	for (round = 0;; round++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, (void *)(round * SPAWNERS + id)))
			continue;	/* EAGAIN: too many detached ones still ending */
		if (round % 2)
			pthread_detach(t);
		else
			pthread_join(t, NULL);
		created[id]++;
		if (round % 16 == 15)	/* leave a small machine's CPUs to the inspector */
			usleep(1000);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	sigset_t set;
	char line[64];
	unsigned long i, sum;
	int sig, n;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < SPAWNERS; i++)
		if (pthread_create(&t, NULL, spawner, (void *)i))
			return 1;
	if (write(1, "READY\n", 6) != 6)
		return 1;
	for (;;) {
		sigwait(&set, &sig);
		for (sum = 0, i = 0; i < SPAWNERS; i++)
			sum += created[i];
		n = snprintf(line, sizeof line, "ops %lu\n", sum);
		if (write(1, line, (size_t)n) != n)
			return 1;
	}
}
