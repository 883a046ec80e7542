/*
 * short_lived MS - a target that exits on its own MS milliseconds after READY.
 *
 * It builds a heap of some 20000 chunks (so a walk takes a while), starts a
 * second thread, prints "READY" and waits.  The second thread sleeps MS ms
 * after READY and then ends the whole process with _exit(0): if an
 * inspector stops only some threads, the process exits while it is being
 * walked.  The heap does not change after READY.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int ready;
static long delay_ms;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *exiter(void *arg)
{
	(void)arg;
	while (!ready)
		sleep_ms(1);
	sleep_ms(delay_ms);
	_exit(0);
}

int main(int argc, char **argv)
{
	static void *blocks[20000];
	pthread_t thread;

	if (argc != 2) {
		(void)!write(2, "usage: short_lived MS\n", 22);
		return 1;
	}
	delay_ms = atol(argv[1]);
	for (int i = 0; i < 20000; i++) {
		blocks[i] = malloc(16 + (size_t)(i * 37) % 1200);
		if (!blocks[i])
			return 1;
		memset(blocks[i], i, 16);
	}
	for (int i = 0; i < 20000; i += 3)
		free(blocks[i]);
	if (pthread_create(&thread, NULL, exiter, NULL))
		return 1;
	(void)!write(1, "READY\n", 6);
	ready = 1;
	for (;;)
		pause();
}
