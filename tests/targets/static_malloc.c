/*
 * static_malloc - a statically linked glibc program with a live heap.
 *
 * Built with -static, so it has no program interpreter and no libc.so: the
 * inspector must refuse it with "does not use glibc" / "statically linked"
 * (exit 2) and leave it running.  It allocates a few blocks, prints "READY"
 * and sleeps forever.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static void *blocks[64];

	for (int i = 0; i < 64; i++) {
		blocks[i] = malloc(16 + (size_t)i * 40);
		if (!blocks[i])
			return 1;
		memset(blocks[i], i, 16);
	}
	for (int i = 0; i < 64; i += 3)
		free(blocks[i]);
	(void)!write(1, "READY\n", 6);
	for (;;)
		pause();
}
