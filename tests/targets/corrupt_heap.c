/*
 * corrupt_heap MODE - a target whose glibc heap is deliberately corrupted.
 *
 * It builds a small heap, corrupts it as MODE says, prints "READY" and
 * pauses forever.  After the corruption it never calls malloc or free
 * (glibc would abort), so the process keeps running with a broken heap for
 * an inspector to walk.  Tcache next pointers hold user addresses, fastbin
 * and bin fd pointers chunk addresses; since glibc 2.32 tcache and fastbin
 * pointers are safe-linked: stored = (field address >> 12) ^ pointer.  Modes:
 *   size       a free (unsorted) chunk's size field becomes 0x123: misaligned,
 *              IS_MMAPPED set, and the "next chunk" it implies has size 0
 *   hugesize   a free chunk's size field becomes 2^40 | PREV_INUSE
 *   cycle      a tcache list of three chunks is made cyclic (c -> b -> a -> c)
 *   fastcycle  a fastbin list of three chunks is made cyclic
 *   bincycle   the unsorted bin's forward list is made cyclic (b -> a -> b)
 *   smashtop   the top chunk's size becomes 0xfffffffffffffff1
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *msg)
{
	(void)!write(1, msg, strlen(msg));
}

static void die(const char *msg)
{
	(void)!write(2, msg, strlen(msg));
	_exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("corrupt_heap: malloc failed\n");
	memset(p, 0, n);
	return p;
}

/* Freed blocks are handled by address only, captured before free(). */
static uintptr_t addr(void *p)
{
	return (uintptr_t)p;
}

/* The size field of the chunk whose user memory starts at mem. */
static size_t *size_field(uintptr_t mem)
{
	return (size_t *)mem - 1;
}

/* Store ptr in the safe-linked tcache/fastbin pointer at the start of mem. */
static void set_next(uintptr_t mem, uintptr_t ptr)
{
	*(uintptr_t *)mem = (mem >> 12) ^ ptr;
}

/*
 * Allocate n blocks of size bytes, recording their addresses, with an in-use
 * guard after each (guarded) or after the last one only, so that freeing
 * them neither merges them with each other (guarded) nor with the top chunk.
 */
static void alloc_blocks(void **p, uintptr_t *a, int n, size_t size,
			 int guarded)
{
	for (int i = 0; i < n; i++) {
		p[i] = xmalloc(size);
		a[i] = addr(p[i]);
		if (guarded)
			xmalloc(0x18);
	}
	xmalloc(0x18);
}

int main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "";
	void *p[10];
	uintptr_t a[10], guard;
	size_t *top_size;

	if (!strcmp(mode, "size") || !strcmp(mode, "hugesize")) {
		alloc_blocks(p, a, 1, 0x500, 1);
		free(p[0]);		/* a 0x510 chunk in the unsorted bin */
		*size_field(a[0]) = !strcmp(mode, "size") ? 0x123 : ((size_t)1 << 40) | 1;
	} else if (!strcmp(mode, "cycle")) {
		alloc_blocks(p, a, 3, 0x48, 0);
		for (int i = 0; i < 3; i++)
			free(p[i]);	/* tcache: a2 -> a1 -> a0 -> NULL */
		set_next(a[0], a[2]);	/* a2 -> a1 -> a0 -> a2 */
	} else if (!strcmp(mode, "fastcycle")) {
		alloc_blocks(p, a, 10, 0x28, 0);
		for (int i = 0; i < 10; i++)
			free(p[i]);	/* 7 to the tcache, then fastbin a9 -> a8 -> a7 */
		set_next(a[7], a[9] - 16);	/* a9 -> a8 -> a7 -> a9 */
	} else if (!strcmp(mode, "bincycle")) {
		alloc_blocks(p, a, 2, 0x500, 1);
		free(p[0]);
		free(p[1]);		/* unsorted: bin -> a1 -> a0 -> bin */
		*(uintptr_t *)a[0] = a[1] - 16;	/* a1 -> a0 -> a1 */
	} else if (!strcmp(mode, "smashtop")) {
		alloc_blocks(p, a, 1, 0x88, 0);	/* the guard is the last chunk before top */
		guard = a[0] + (*size_field(a[0]) & ~(size_t)7);
		top_size = size_field(guard + (*size_field(guard) & ~(size_t)7));
		if ((*top_size & ~(size_t)7) != mallinfo2().keepcost)
			die("corrupt_heap: top chunk not found after the last block\n");
		*top_size = 0xfffffffffffffff1;
	} else {
		die("usage: corrupt_heap size|hugesize|cycle|fastcycle|bincycle|smashtop\n");
	}

	say("READY\n");
	for (;;)
		pause();
}
