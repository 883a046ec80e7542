/*
 * diff_target.c - a known change between two snapshots, for diff.test.
 *
 * Phase A: keeps 1000 malloc(40) and 300 malloc(3000) blocks, prints READY.
 * On SIGUSR1 (taken with sigwait, so nothing allocates behind our back):
 * allocates 700 malloc(200) and 50 malloc(300000) (mmapped) blocks first,
 * then frees 400 of the 40-byte and 100 of the 3000-byte blocks, and
 * prints READY again.  Then it waits to be killed.  Output is write(2) only.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_SMALL 1000
#define N_MID 300
#define N_NEW 700
#define N_HUGE 50

static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(2);
}

int main(void)
{
	/* volatile: the compiler may not drop allocations it sees unused */
	static void *volatile small[N_SMALL], *volatile mid[N_MID];
	static void *volatile fresh[N_NEW], *volatile huge[N_HUGE];
	sigset_t set;
	int i, sig;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < N_SMALL; i++)
		small[i] = malloc(40);
	for (i = 0; i < N_MID; i++)
		mid[i] = malloc(3000);
	say("READY\n");
	sigwait(&set, &sig);
	for (i = 0; i < N_NEW; i++)
		fresh[i] = malloc(200);
	for (i = 0; i < N_HUGE; i++)
		huge[i] = malloc(300000);
	for (i = 0; i < 400; i++)
		free(small[2 * i]);
	for (i = 0; i < 100; i++)
		free(mid[3 * i]);
	say(fresh[0] && huge[0] ? "READY\n" : "allocation failed\n");
	for (;;)
		pause();
	return 0;
}
