/*
 * heap_checksum - a target whose glibc heap is varied and then frozen.
 *
 * Setup builds a heap with in-use chunks of many sizes, chunks in the
 * tcache, fastbins, unsorted, small and large bins, a few mmapped chunks,
 * and a second thread whose allocations live in a thread arena.  It then
 * records the memory to watch (the [heap] mapping, the thread arena's heap
 * and the mmapped chunks), prints "READY" and never allocates again.
 *
 * The watched memory also includes libc's writable data mapping, which holds
 * main_arena and mp_.  The main loop increments a heartbeat counter every
 * 10 ms.  On SIGUSR1 the handler computes an FNV-1a checksum over every
 * watched byte and writes
 *     sum HEX heartbeat N
 * to stdout with write(2).  Only async-signal-safe code runs after READY, so
 * the checksum changes only if someone else writes to the heap, and the
 * heartbeat advances only while the process is running.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEAP_MAX_SIZE (64UL << 20)	/* glibc's thread heap size on x86-64 */
#define MAX_REGIONS 16

struct region {
	uintptr_t start, end;
};

static struct region regions[MAX_REGIONS];
static int nregions;
static volatile unsigned long heartbeat;
static volatile int thread_ready;
static void *thread_block;	/* one of the thread arena's chunks */
static char maps[1 << 16];

static void die(const char *msg)
{
	(void)!write(2, msg, strlen(msg));
	_exit(1);
}

static void add_region(uintptr_t start, uintptr_t end)
{
	if (nregions == MAX_REGIONS)
		die("heap_checksum: too many regions\n");
	regions[nregions].start = start;
	regions[nregions].end = end;
	nregions++;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Fill a block with a pattern that depends on its address. */
static void *alloc(size_t n)
{
	unsigned char *p = malloc(n);

	if (!p)
		die("heap_checksum: malloc failed\n");
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(((uintptr_t)p >> 4) + i * 7);
	return p;
}

static void *thread_main(void *arg)
{
	static void *blocks[120];

	(void)arg;
	for (int i = 0; i < 120; i++)
		blocks[i] = alloc(16 + (size_t)(i * 53) % 1800);
	for (int i = 1; i < 120; i += 2)
		free(blocks[i]);
	alloc(30000);		/* sorts the unsorted chunks into bins */
	free(blocks[118]);
	thread_block = blocks[0];
	thread_ready = 1;
	for (;;)
		sleep_ms(1000);
	return NULL;
}

/* Read /proc/self/maps into maps[] without stdio (which would allocate). */
static void read_maps(void)
{
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/maps", O_RDONLY);

	if (fd < 0)
		die("heap_checksum: cannot open /proc/self/maps\n");
	while ((n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len == sizeof(maps) - 1)
		die("heap_checksum: /proc/self/maps too long\n");
	maps[len] = '\0';
}

/*
 * Record [heap], the rw part of the thread heap holding thread_block and
 * libc's rw data mapping (main_arena, mp_).
 */
static void find_heap_regions(void)
{
	uintptr_t tb = (uintptr_t)thread_block;
	uintptr_t theap = tb & ~(HEAP_MAX_SIZE - 1);
	int have_heap = 0, have_thread = 0, have_libc = 0;

	read_maps();
	for (char *line = maps; *line; ) {
		char *nl = strchr(line, '\n');
		char *p;
		uintptr_t start = strtoul(line, &p, 16);
		uintptr_t end = strtoul(p + 1, &p, 16);

		if (nl)
			*nl = '\0';
		if (strstr(line, "[heap]")) {
			add_region(start, end);
			have_heap = 1;
		} else if (tb >= start && tb < end) {
			add_region(start > theap ? start : theap,
				   end < theap + HEAP_MAX_SIZE ? end : theap + HEAP_MAX_SIZE);
			have_thread = 1;
		} else if (strstr(line, " rw-p ") && strstr(line, "/libc.so.6")) {
			add_region(start, end);
			have_libc = 1;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!have_heap || !have_thread || !have_libc)
		die("heap_checksum: [heap], thread heap or libc data not found\n");
}

static char *put_hex(char *p, unsigned long v)
{
	for (int shift = 60; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(v >> shift) & 15];
	return p;
}

static char *put_dec(char *p, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void on_usr1(int sig)
{
	uint64_t h = 14695981039346656037ULL;
	char line[64], *p = line;

	(void)sig;
	for (int r = 0; r < nregions; r++)
		for (const unsigned char *b = (const unsigned char *)regions[r].start;
		     b < (const unsigned char *)regions[r].end; b++)
			h = (h ^ *b) * 1099511628211ULL;
	memcpy(p, "sum ", 4);
	p = put_hex(p + 4, h);
	memcpy(p, " heartbeat ", 11);
	p = put_dec(p + 11, heartbeat);
	*p++ = '\n';
	(void)!write(1, line, (size_t)(p - line));
}

int main(void)
{
	static void *small[200], *medium[60], *large[20], *late[8];
	static const size_t small_sizes[] = { 24, 40, 56, 72, 100 };
	struct sigaction sa;
	sigset_t usr1;
	pthread_t thread;

	/* In-use chunks everywhere; odd indices are freed below, so each
	 * freed chunk sits between two in-use ones and cannot coalesce. */
	for (int i = 0; i < 200; i++)
		small[i] = alloc(small_sizes[(i / 2) % 5]);
	for (int i = 0; i < 60; i++)
		medium[i] = alloc(i < 30 ? 200 : 600);
	for (int i = 0; i < 20; i++)
		large[i] = alloc(1100 + (size_t)i * 350);
	for (int i = 0; i < 8; i++)
		late[i] = alloc(i % 2 ? 24 : 1500);
	for (size_t n = 200000; n <= 800000; n += 300000) {
		unsigned char *m = alloc(n);

		add_region((uintptr_t)m - 16, (uintptr_t)m + n);
	}

	/* tcache (7 per size), then unsorted; a big request sorts the
	 * unsorted chunks into the small and large bins. */
	for (int i = 1; i < 60; i += 2)
		free(medium[i]);
	for (int i = 1; i < 20; i += 2)
		free(large[i]);
	alloc(20000);
	/* tcache, then fastbins (after the big request, which would have
	 * consolidated them) and a few chunks left in the unsorted bin. */
	for (int i = 1; i < 200; i += 2)
		free(small[i]);
	for (int i = 0; i < 8; i += 2)
		free(late[i]);

	/* The thread starts with SIGUSR1 blocked, so the main thread takes it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (pthread_create(&thread, NULL, thread_main, NULL))
		die("heap_checksum: pthread_create failed\n");
	while (!thread_ready)
		sleep_ms(1);
	find_heap_regions();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);

	(void)!write(1, "READY\n", 6);
	for (;;) {
		sleep_ms(10);
		heartbeat++;
	}
}
