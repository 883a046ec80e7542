/*
 * exit_race.c - a busy multithreaded target that exits when told, for
 * target-churn.test: heapinspect must cope with a process ending while it
 * is being paused, copied or walked.
 *
 * Usage: exit_race MS MODE.  WORKERS threads malloc and free for ever
 * (resting 1 ms every 32 operations or so, to leave a small machine's
 * CPUs to the inspector).  The main thread prints READY, waits for SIGUSR2
 * (the test sends it as it starts heapinspect), sleeps MS ms and then ends
 * the process by MODE:
 *   exit    a worker calls exit(0): atexit handlers and stdio run while
 *           the other workers are still inside malloc and free;
 *   return  the main thread returns from main;
 *   leader  the main thread calls pthread_exit (the thread group leader
 *           becomes a zombie while the workers run on), and MS ms later a
 *           worker calls _exit(0).
 *
 * Invariants: the heap is built before READY; nothing but the workers
 * allocates; the process ends only by MODE (or a signal from outside).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define BLOCKS 4000

/* What worker 0 is to do: 0 nothing, 1 exit(0), 2 sleep delay_ms then _exit(0). */
static volatile int exit_now;
static long delay_ms;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
	unsigned long id = (unsigned long)arg, s = id * 2654435761u + 7;
	void *block[32] = { 0 };
	for (;;) {
		unsigned i;
		if (id == 0 && exit_now == 1)
			exit(0);
		if (id == 0 && exit_now == 2) {
			sleep_ms(delay_ms);
			_exit(0);
		}
		s = s * 6364136223846793005ul + 1442695040888963407ul;
		i = (unsigned)(s >> 33) % 32;
		free(block[i]);
		block[i] = malloc(16 + (s >> 20) % 5000);
		if (i == 0)	/* leave the inspector some CPU on small machines */
			sleep_ms(1);
	}
	return NULL;
}

static void usage(void)
{
	(void)!write(2, "usage: exit_race MS exit|return|leader\n", 39);
	exit(1);
}

int main(int argc, char **argv)
{
	static void *heap[BLOCKS];
	pthread_t t;
	sigset_t set;
	long i;
	int sig;
	if (argc != 3 || (strcmp(argv[2], "exit") && strcmp(argv[2], "return") &&
			  strcmp(argv[2], "leader")))
		usage();
	delay_ms = atol(argv[1]);
	for (i = 0; i < BLOCKS; i++)
		heap[i] = malloc(16 + (size_t)(i * 37) % 1500);
	for (i = 0; i < BLOCKS; i += 3)
		free(heap[i]);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < WORKERS; i++)
		if (pthread_create(&t, NULL, worker, (void *)i))
			return 1;
	(void)!write(1, "READY\n", 6);
	sigwait(&set, &sig);
	sleep_ms(delay_ms);
	if (!strcmp(argv[2], "exit")) {
		exit_now = 1;
		for (;;)
			pause();
	}
	if (!strcmp(argv[2], "leader")) {
		exit_now = 2;
		pthread_exit(NULL);
	}
	return 0;
}
