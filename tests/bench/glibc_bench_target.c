/*
 * glibc_bench_target.c - a heap of a given size for bench/glibc.sh.
 *
 * Usage: glibc_bench_target LIVE FREE MAXSIZE
 * Allocates LIVE + FREE chunks of mixed sizes (24..24+MAXSIZE bytes),
 * interleaved, frees FREE of them (every other one while both last), so the
 * free ones cannot coalesce and fill tcache, fastbins, unsorted, small and
 * large bins.  Prints "ready" and waits until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long live, nfree, total, i, freed = 0, maxsize;
	void **p;
	if (argc != 4)
		return 2;
	live = atol(argv[1]);
	nfree = atol(argv[2]);
	maxsize = atol(argv[3]);
	total = live + nfree;
	p = malloc((size_t)total * sizeof *p);
	if (!p)
		return 1;
	for (i = 0; i < total; i++)
		p[i] = malloc(24 + (size_t)(i * 7919 % maxsize));
	for (i = 1; i < total && freed < nfree; i += 2, freed++)
		free(p[i]);
	for (i = total - 1; i >= 0 && freed < nfree; i -= 2, freed++)
		free(p[i]);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
