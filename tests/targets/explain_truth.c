/*
 * explain_truth.c - C targets of tests/explain-seeds.test (checked by
 * tests/check_explain.py): glibc heaps that cannot give freed memory back.
 *
 * Usage: explain_truth MODE
 *   MODE lid        the main thread mallocs 100 MiB in 800-byte blocks
 *                   (816-byte chunks, contiguous in the brk heap), then one
 *                   64-byte "lid" block above them, then frees the 800-byte
 *                   blocks in allocation order: the first tcache_count go to
 *                   the tcache (the lowest addresses), the rest coalesce into
 *                   one free run that the lid keeps from the top chunk, so
 *                   free() never trims it.
 *   MODE thread     the same in a second thread's arena, 40 MiB: one heap of
 *                   a thread arena (HEAP_MAX_SIZE 64 MiB), which heap_trim
 *                   cannot shrink below the lid.  The thread then parks.
 *   MODE threshold  malloc(8 MiB) (an mmapped chunk) and free it, which
 *                   raises mp_.mmap_threshold to that chunk's size and
 *                   mp_.trim_threshold to twice that; then malloc(4 MiB),
 *                   which now comes from the brk heap, and write all of it.
 *
 * Truth, on stdout, one record per line (decimal unless 0x), then READY:
 *   scenario MODE
 *   pid PID
 *   chunk_size N                 lid/thread: the 816-byte chunks' size
 *   freed LOW HIGH N             lid/thread: the N freed chunks tile
 *                                [LOW, HIGH) exactly, in allocation order
 *   lid MEM HEAD                 lid/thread: the lid's user address and raw
 *                                size word (NON_MAIN_ARENA, bit 4: a thread
 *                                arena)
 *   mmap_freed HEAD              threshold: the raw size word of the freed
 *                                mmapped chunk (IS_MMAPPED bit 2 set)
 *   block MEM HEAD               threshold: the 4 MiB block, in the heap
 *   rss N                        RssAnon (bytes) of /proc/self/status, read
 *                                last before READY
 * Then it waits for SIGUSR1 (sigwait, every thread blocks it).  On SIGUSR1 it
 * reads RssAnon, calls malloc_trim(0), reads RssAnon again and prints
 *   trim BEFORE AFTER RESULT     (bytes, bytes, malloc_trim's return value)
 * and waits for SIGUSR1 again (each later one is answered the same way).
 *
 * Invariants: nothing allocates or frees after the scenario except
 * malloc_trim itself: output goes through write(2) from static buffers
 * (snprintf of integers does not allocate), /proc/self/status is read with
 * open/read into a static buffer.  If the heap is not laid out as the mode
 * needs (blocks not contiguous, the lid below them, the 8 MiB block not
 * mmapped or the 4 MiB one mmapped) it prints why on stderr and exits 1
 * before READY.  Any process may ptrace it (PR_SET_PTRACER_ANY).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MIB ((size_t) 1 << 20)
#define BLOCK 800                       /* request: an 816-byte chunk */
#define MAX_BLOCKS (100 * MIB / BLOCK)
#define IS_MMAPPED ((size_t) 2)
#define NON_MAIN_ARENA ((size_t) 4)
#define SIZE_BITS ((size_t) 7)

static void *blocks[MAX_BLOCKS];
static char line[256];
static char status[8192];
static pthread_barrier_t parked;

static void die(const char *why)
{
    static const char prefix[] = "explain_truth: ";
    if (write(2, prefix, sizeof prefix - 1) >= 0 &&
        write(2, why, strlen(why)) >= 0)
        (void) !write(2, "\n", 1);
    _exit(1);
}

static void out(void)
{
    size_t n = strlen(line), done = 0;
    while (done < n) {
        ssize_t w = write(1, line + done, n - done);
        if (w <= 0)
            die("cannot write stdout");
        done += (size_t) w;
    }
}

/* The chunk's raw size word, the word before the user memory. */
static size_t head(const void *mem)
{
    return *(const size_t *) ((uintptr_t) mem - sizeof(size_t));
}

static long rss_anon(void)
{
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = 0, r;
    char *p;
    if (fd < 0)
        die("cannot open /proc/self/status");
    while ((r = read(fd, status + n, sizeof status - 1 - (size_t) n)) > 0)
        n += r;
    close(fd);
    status[n] = 0;
    p = strstr(status, "\nRssAnon:");
    if (p == NULL)
        die("no RssAnon in /proc/self/status");
    return strtol(p + 9, NULL, 10) * 1024;
}

/* malloc N 800-byte blocks (each written), then a 64-byte lid, then free
   the blocks in allocation order; print the records. */
static void lidded_run(size_t n)
{
    size_t i, chunk;
    char *lid;
    for (i = 0; i < n; i++) {
        blocks[i] = malloc(BLOCK);
        if (blocks[i] == NULL)
            die("malloc failed");
        memset(blocks[i], 0x5a, BLOCK);
    }
    lid = malloc(64);
    if (lid == NULL)
        die("malloc failed");
    memset(lid, 0x6c, 64);
    chunk = head(blocks[0]) & ~SIZE_BITS;
    for (i = 1; i < n; i++)
        if ((char *) blocks[i] != (char *) blocks[i - 1] + chunk)
            die("the 800-byte blocks are not contiguous");
    if (lid != (char *) blocks[n - 1] + chunk)
        die("the lid is not right above the 800-byte blocks");
    for (i = 0; i < n; i++)
        free(blocks[i]);
    snprintf(line, sizeof line, "chunk_size %zu\n", chunk);
    out();
    snprintf(line, sizeof line, "freed %zu %zu %zu\n",
             (size_t) (uintptr_t) blocks[0] - 16,
             (size_t) (uintptr_t) blocks[n - 1] - 16 + chunk, n);
    out();
    snprintf(line, sizeof line, "lid %zu %#zx\n", (size_t) (uintptr_t) lid,
             head(lid));
    out();
}

static void *thread_main(void *arg)
{
    (void) arg;
    lidded_run(40 * MIB / BLOCK);
    if (!(head(blocks[0]) & NON_MAIN_ARENA))
        die("the thread's blocks are in the main arena");
    pthread_barrier_wait(&parked);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    sigset_t usr1;
    const char *mode = argc == 2 ? argv[1] : "";
    int sig;

    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &usr1, NULL) != 0)
        die("cannot block SIGUSR1");
    snprintf(line, sizeof line, "scenario %s\npid %ld\n", mode,
             (long) getpid());
    out();

    if (strcmp(mode, "lid") == 0) {
        lidded_run(MAX_BLOCKS);
    } else if (strcmp(mode, "thread") == 0) {
        pthread_t thread;
        pthread_barrier_init(&parked, NULL, 2);
        if (pthread_create(&thread, NULL, thread_main, NULL) != 0)
            die("cannot create the thread");
        pthread_barrier_wait(&parked);
    } else if (strcmp(mode, "threshold") == 0) {
        char *big = malloc(8 * MIB), *block;
        size_t big_head;
        if (big == NULL)
            die("malloc failed");
        big_head = head(big);
        if (!(big_head & IS_MMAPPED))
            die("the 8 MiB block is not mmapped");
        free(big);
        block = malloc(4 * MIB);
        if (block == NULL)
            die("malloc failed");
        if (head(block) & IS_MMAPPED)
            die("the 4 MiB block is mmapped: the threshold was not raised");
        memset(block, 0x42, 4 * MIB);
        snprintf(line, sizeof line, "mmap_freed %#zx\nblock %zu %#zx\n",
                 big_head, (size_t) (uintptr_t) block, head(block));
        out();
    } else {
        die("usage: explain_truth lid|thread|threshold");
    }

    snprintf(line, sizeof line, "rss %ld\nREADY\n", rss_anon());
    out();
    for (;;) {
        long before, after;
        int result;
        if (sigwait(&usr1, &sig) != 0)
            die("sigwait failed");
        before = rss_anon();
        result = malloc_trim(0);
        after = rss_anon();
        snprintf(line, sizeof line, "trim %ld %ld %d\n", before, after,
                 result);
        out();
    }
}
