/*
 * exec_loop.c - a target that executes a new program over and over, for
 * target-churn.test: heapinspect must survive an execve racing its pause.
 *
 * Usage: exec_loop [GEN [MAX_MS [WORKERS]]].  Each generation writes
 * "gen GEN" to stdout (generation 0 then "READY"): the heartbeat, counted
 * by the test; the pid stays the same across every exec.  A generation
 * builds a small heap, starts WORKERS threads (default 3) that malloc and
 * free for ever (resting 1 ms every 16 operations or so), lives 1 to
 * MAX_MS ms (default 20) and then execs generation GEN + 1:
 *   - from the main thread or from a worker, chosen at random: an exec from
 *     a worker kills every other thread, the thread group leader included,
 *     and the exec'ing thread takes over the leader's thread id;
 *   - every fourth generation through /bin/sh (another program, whose own
 *     exec brings exec_loop back), the others directly.
 *
 * Invariants: the program is re-executed by its resolved path (not
 * /proc/self/exe, which would name the shell in the shell's turn); every
 * output line is one write(2).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 1000
#define BLOCKS 256

static char self[4096];
static long generation, max_ms = 20, workers = 3;
static unsigned long seed;
static long exec_by;	/* 0: the main thread, 1..workers: that worker */

static unsigned long next_random(void)
{
	seed = seed * 6364136223846793005ul + 1442695040888963407ul;
	return seed >> 33;
}

static void say(const char *text)
{
	(void)!write(1, text, strlen(text));
}

static void die(const char *why)
{
	(void)!write(2, why, strlen(why));
	_exit(1);
}

static void exec_next_generation(void)
{
	char gen[32], ms[32], nworkers[32];
	struct timespec ts;
	long delay = 1 + (long)(next_random() % (unsigned long)max_ms);
	ts.tv_sec = delay / 1000;
	ts.tv_nsec = (delay % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	snprintf(gen, sizeof gen, "%ld", generation + 1);
	snprintf(ms, sizeof ms, "%ld", max_ms);
	snprintf(nworkers, sizeof nworkers, "%ld", workers);
	if (generation % 4 == 3)
		execl("/bin/sh", "sh", "-c", "exec \"$0\" \"$@\"", self, gen, ms, nworkers,
		      (char *)NULL);
	else
		execl(self, "exec_loop", gen, ms, nworkers, (char *)NULL);
	die("exec_loop: exec failed\n");
}

static void *worker(void *arg)
{
	long id = (long)arg;
	void *block[16] = { 0 };
	unsigned long s = (unsigned long)id * 2654435761u + (unsigned long)generation;
	if (id == exec_by)
		exec_next_generation();
	for (;;) {
		unsigned i;
		s = s * 6364136223846793005ul + 1442695040888963407ul;
		i = (unsigned)(s >> 33) % 16;
		free(block[i]);
		block[i] = malloc(16 + (s >> 20) % 3000);
		if (i == 0)	/* leave the inspector some CPU on small machines */
			usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static void *heap[BLOCKS];
	char line[64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	pthread_t t;
	long i;
	if (n <= 0)
		die("exec_loop: cannot read /proc/self/exe\n");
	self[n] = 0;
	generation = argc > 1 ? atol(argv[1]) : 0;
	if (argc > 2 && atol(argv[2]) > 0)
		max_ms = atol(argv[2]);
	if (argc > 3 && atol(argv[3]) > 0 && atol(argv[3]) <= MAX_WORKERS)
		workers = atol(argv[3]);
	seed = (unsigned long)getpid() * 40503u + (unsigned long)generation * 977u +
	       (unsigned long)time(NULL);
	exec_by = (long)(next_random() % (unsigned long)(workers + 1));
	for (i = 0; i < BLOCKS; i++)
		heap[i] = malloc(16 + (size_t)(i * 53) % 2000);
	for (i = 0; i < BLOCKS; i += 3)
		free(heap[i]);
	snprintf(line, sizeof line, "gen %ld\n", generation);
	say(line);
	if (generation == 0)
		say("READY\n");
	/* a worker may exec before all are created: creating more then fails
	 * (EAGAIN) while the exec kills us, so stop trying */
	for (i = 1; i <= workers; i++)
		if (pthread_create(&t, NULL, worker, (void *)i))
			break;
	if (exec_by == 0)
		exec_next_generation();
	for (;;)
		pause();
}
