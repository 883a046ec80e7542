/*
 * glibc_truth.c - ground-truth target for the glibc walker acceptance test
 * (tests/glibc-walk.test, checked by tests/check_glibc.py).
 *
 * Usage: glibc_truth MODE TRUTHFILE
 *   MODE dyn      no mallopt; a 4 MiB mmapped chunk is freed first, so glibc
 *                 raises mp_.mmap_threshold dynamically, and a 1 MiB block is
 *                 then allocated that must come from the heap.
 *   MODE mallopt  mallopt(M_MXFAST, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD,
 *                 M_TOP_PAD) before anything else; this sets no_dyn_threshold,
 *                 so freeing a 4 MiB mmapped chunk changes nothing.
 *
 * The main thread and 8 worker threads (each on its own arena, with its own
 * tcache) run a fixed pseudo-random scenario (own xorshift64, fixed seeds):
 * thousands of sizes from 16 B to 64 MiB, frees in FIFO, LIFO and random
 * order, edge sizes (tcache/fastbin/smallbin/mmap boundaries), memalign,
 * calloc and realloc (mremap), then a final phase that leaves chunks in the
 * small and large bins, the unsorted bin, fastbins and tcache, and frees one
 * more mmapped chunk.  Workers then park forever (a thread exit would flush
 * its tcache); the main thread writes the truth file, prints "READY\n" on
 * fd 1 and sleeps until killed.
 *
 * Invariants:
 *   - The target's own records live in static arrays; it never mallocs for
 *     bookkeeping.  Usable sizes are taken right after each allocation.
 *   - The truth file is opened and given a static full buffer before the
 *     scenario, so writing it does not allocate.  mallinfo2() is taken before
 *     and after the snapshot and the program fails (exit 1) if they differ.
 *   - After "READY" nothing allocates or frees: the heap stays as described.
 *   - Any process may ptrace it (PR_SET_PTRACER_ANY), for Yama scope 1.
 *
 * Truth file format (one record per line, numbers decimal unless 0x):
 *   glibc-truth 1
 *   mode dyn|mallopt
 *   pid PID
 *   thread OWNER TID            OWNER 0 = main thread, 1..8 = workers
 *   mp mmap_threshold=N trim_threshold=N top_pad=N no_dyn_threshold=0|1
 *                               what mp_ must hold (derived from the frees of
 *                               mmapped chunks and the mallopt calls)
 *   mallinfo2 before arena=N ordblks=N smblks=N hblks=N hblkhd=N usmblks=N
 *                    fsmblks=N uordblks=N fordblks=N keepcost=N   (one line)
 *   <malloc version="1"> ... </malloc>    verbatim malloc_info(0, fp) output
 *   block 0xADDR USABLE KIND OWNER        every block still held;
 *                               USABLE = malloc_usable_size(ADDR);
 *                               KIND = heap|mmap (IS_MMAPPED bit at malloc)
 *   freed 0xADDR USABLE KIND OWNER        the last frees of each thread (no
 *                               malloc in that thread after them)
 *   mallinfo2 after ...          same fields as "before"; always equal to it
 *   end
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

enum {
    NTHREADS = 8,
    MAX_HELD = 8192,        /* per thread: blocks ever allocated */
    MAX_FREED = 128,        /* per thread: logged final frees */
    MAIN_ALLOCS = 4000,
    WORKER_ALLOCS = 800,
};

#define CHUNK_IS_MMAPPED ((size_t) 2)
#define CHUNK_FLAGS ((size_t) 7)
#define KIB ((size_t) 1024)
#define MIB (KIB * KIB)
#define DEFAULT_THRESHOLD (128 * KIB)       /* glibc mmap/trim default */
#define DEFAULT_TOP_PAD (128 * KIB)         /* malloc-machine.h default */
#define DYN_THRESHOLD_MAX (32 * MIB)        /* DEFAULT_MMAP_THRESHOLD_MAX */

/* mallopt mode settings */
#define OPT_MXFAST 160
#define OPT_MMAP_THRESHOLD (256 * KIB)
#define OPT_TRIM_THRESHOLD (8 * MIB)
#define OPT_TOP_PAD (64 * KIB)

#define OUT_BUFFER_SIZE (8 * MIB)

struct block {
    void *ptr;              /* NULL once freed */
    size_t usable;
    int mmapped;
};

struct pool {
    int owner;              /* 0 = main thread, 1..NTHREADS = workers */
    pid_t tid;
    uint64_t rng;
    int log_frees;
    size_t nheld;           /* used entries of held[] */
    struct block held[MAX_HELD];
    size_t order[MAX_HELD]; /* scratch for random free orders */
    size_t nfreed;
    struct block freed[MAX_FREED];
};

static struct pool pools[NTHREADS + 1];
static pthread_barrier_t all_done;
static int mode_mallopt;
static size_t max_freed_mmapped_head;    /* largest qualifying raw size */
static char out_buffer[OUT_BUFFER_SIZE];

static void die(const char *what)
{
    fprintf(stderr, "glibc_truth: %s\n", what);
    exit(1);
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* The chunk's raw size field, the word before the user memory.  Read through
   an integer address: the compiler must not treat it as an out-of-bounds
   access to the allocated object. */
static size_t chunk_head(const void *mem)
{
    uintptr_t field = (uintptr_t) mem - sizeof(size_t);
    return *(const size_t *) field;
}

/* Sizes from 16 B to just under 64 MiB, mostly small: per mille weights
   700 / 250 / 44 / 6 for 16 B-2 KiB, 2-128 KiB, 128 KiB-4 MiB, 4-64 MiB. */
static size_t random_size(uint64_t *rng)
{
    uint64_t r = next_random(rng) % 1000;
    unsigned lo = r < 700 ? 4 : r < 950 ? 11 : r < 994 ? 17 : 22;
    unsigned hi = r < 700 ? 11 : r < 950 ? 17 : r < 994 ? 22 : 26;
    unsigned e = lo + (unsigned) (next_random(rng) % (hi - lo));
    size_t base = (size_t) 1 << e;
    return base + (size_t) (next_random(rng) % base);
}

static void describe(struct block *b, void *ptr)
{
    if (ptr == NULL)
        die("allocation failed");
    b->ptr = ptr;
    b->usable = malloc_usable_size(ptr);
    b->mmapped = (chunk_head(ptr) & CHUNK_IS_MMAPPED) != 0;
}

static size_t record(struct pool *p, void *ptr)
{
    if (p->nheld == MAX_HELD)
        die("MAX_HELD too small");
    describe(&p->held[p->nheld], ptr);
    return p->nheld++;
}

static size_t take(struct pool *p, size_t size)
{
    return record(p, malloc(size));
}

static size_t take_aligned(struct pool *p, size_t alignment, size_t size)
{
    void *ptr = NULL;
    if (posix_memalign(&ptr, alignment, size) != 0)
        die("posix_memalign failed");
    return record(p, ptr);
}

static void regrow(struct pool *p, size_t i, size_t size)
{
    describe(&p->held[i], realloc(p->held[i].ptr, size));
}

/* glibc's __libc_free raises the threshold to the size of a freed mmapped
   chunk if that chunk's raw size field exceeds the threshold and is at most
   DEFAULT_MMAP_THRESHOLD_MAX.  Thresholds only grow, so the final value
   depends only on the largest such raw size, whatever the order of frees. */
static void note_mmapped_free(size_t head)
{
    if (!(head & CHUNK_IS_MMAPPED) || head > DYN_THRESHOLD_MAX)
        return;
    size_t seen = __atomic_load_n(&max_freed_mmapped_head, __ATOMIC_RELAXED);
    while (head > seen
           && !__atomic_compare_exchange_n(&max_freed_mmapped_head, &seen,
                                           head, 0, __ATOMIC_RELAXED,
                                           __ATOMIC_RELAXED))
        ;
}

static void give_back(struct pool *p, size_t i)
{
    struct block *b = &p->held[i];
    if (b->ptr == NULL)
        return;
    note_mmapped_free(chunk_head(b->ptr));
    if (p->log_frees) {
        if (p->nfreed == MAX_FREED)
            die("MAX_FREED too small");
        p->freed[p->nfreed++] = *b;
    }
    free(b->ptr);
    b->ptr = NULL;
}

static void alloc_random(struct pool *p, size_t count)
{
    for (size_t k = 0; k < count; k++)
        take(p, random_size(&p->rng));
}

static void free_every_other_fifo(struct pool *p, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i += 2)
        give_back(p, i);
}

static void free_upper_half_lifo(struct pool *p, size_t lo, size_t hi)
{
    for (size_t i = hi; i-- > lo + (hi - lo) / 2;)
        give_back(p, i);
}

static void free_random_half(struct pool *p, size_t lo, size_t hi)
{
    size_t n = hi - lo;
    for (size_t k = 0; k < n; k++)
        p->order[k] = lo + k;
    for (size_t k = n; k > 1; k--) {
        size_t j = (size_t) (next_random(&p->rng) % k);
        size_t t = p->order[k - 1];
        p->order[k - 1] = p->order[j];
        p->order[j] = t;
    }
    for (size_t k = 0; k < n / 2; k++)
        give_back(p, p->order[k]);
}

static void alloc_edge_sizes(struct pool *p)
{
    static const size_t sizes[] = {
        16, 24, 25, 40, 104, 120, 121, 136, 152, 1000, 1008, 1009, 1016,
        1032, 1033, 4096, 65536, 128 * KIB - 24, 128 * KIB, 128 * KIB + 1,
        256 * KIB, 1 * MIB, 4 * MIB, 32 * MIB - 4096, 32 * MIB, 64 * MIB,
    };
    static const size_t aligned[][2] = {
        { 64, 100 }, { 4096, 5000 }, { 64 * KIB, 70000 }, { 4096, 8 * MIB },
    };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        take(p, sizes[k]);
    for (size_t k = 0; k < sizeof aligned / sizeof aligned[0]; k++)
        take_aligned(p, aligned[k][0], aligned[k][1]);
    record(p, calloc(100, 33));
    record(p, calloc(1, 300 * KIB));
    regrow(p, take(p, 100), 5000);
    regrow(p, take(p, 300 * KIB), 600 * KIB);
}

/* Allocations in several patterns, frees in FIFO, LIFO and random order,
   leaving holes everywhere and a quarter of each batch untouched. */
static void run_scenario(struct pool *p, size_t count)
{
    size_t base = p->nheld;
    size_t quarter = count / 4;
    alloc_random(p, count);
    free_every_other_fifo(p, base, base + quarter);
    free_upper_half_lifo(p, base + quarter, base + 2 * quarter);
    free_random_half(p, base + 2 * quarter, base + 3 * quarter);
    size_t again = p->nheld;
    alloc_random(p, quarter);
    free_random_half(p, again, p->nheld);
    alloc_edge_sizes(p);
}

/* Free guarded chunks of small-bin and large-bin sizes, then make a large
   request: _int_malloc sorts the unsorted chunks into their bins. */
static void fill_small_and_large_bins(struct pool *p)
{
    size_t base = p->nheld;
    for (size_t k = 0; k < 10; k++) {
        take(p, 600);
        take(p, 24);
    }
    for (size_t k = 0; k < 6; k++) {
        take(p, 3000 + 512 * k);
        take(p, 24);
    }
    for (size_t i = base; i < p->nheld; i += 2)
        give_back(p, i);
    take(p, 100000);
}

/* Allocate everything first, then free: no malloc follows these frees, so
   they stay in the unsorted bin, fastbins and tcache as glibc put them. */
static void leave_final_frees(struct pool *p)
{
    size_t unsorted = p->nheld;
    for (size_t k = 0; k < 6; k++) {
        take(p, 2000 + 16 * k);
        take(p, 24);
    }
    size_t fast = p->nheld;
    for (size_t k = 0; k < 12; k++)
        take(p, 40);
    for (size_t k = 0; k < 10; k++)
        take(p, 150);       /* chunk 0xa0: fastbin only with M_MXFAST 160 */
    size_t cached = p->nheld;
    for (size_t k = 0; k < 5; k++)
        take(p, 300);
    size_t mapped = take(p, 40 * MIB);

    p->log_frees = 1;
    for (size_t i = unsorted; i < fast; i += 2)
        give_back(p, i);
    for (size_t i = fast; i < cached; i++)
        give_back(p, i);
    for (size_t i = cached; i < mapped; i++)
        give_back(p, i);
    give_back(p, mapped);
}

static void run_final_phase(struct pool *p)
{
    fill_small_and_large_bins(p);
    leave_final_frees(p);
}

static void park_forever(void)
{
    for (;;)
        pause();
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    p->tid = gettid();
    run_scenario(p, WORKER_ALLOCS);
    run_final_phase(p);
    pthread_barrier_wait(&all_done);
    park_forever();
    return NULL;
}

static void start_workers(void)
{
    static pthread_t threads[NTHREADS];
    if (pthread_barrier_init(&all_done, NULL, NTHREADS + 1) != 0)
        die("pthread_barrier_init failed");
    for (int t = 1; t <= NTHREADS; t++)
        if (pthread_create(&threads[t - 1], NULL, worker, &pools[t]) != 0)
            die("pthread_create failed");
}

static void init_pools(void)
{
    for (int t = 0; t <= NTHREADS; t++) {
        pools[t].owner = t;
        pools[t].rng = 0x9e3779b97f4a7c15ULL * (uint64_t) (t + 1);
    }
    pools[0].tid = getpid();
}

static void apply_mallopt(void)
{
    if (mallopt(M_MXFAST, OPT_MXFAST) != 1
        || mallopt(M_MMAP_THRESHOLD, OPT_MMAP_THRESHOLD) != 1
        || mallopt(M_TRIM_THRESHOLD, OPT_TRIM_THRESHOLD) != 1
        || mallopt(M_TOP_PAD, OPT_TOP_PAD) != 1)
        die("mallopt failed");
    if (!pools[0].held[take(&pools[0], 300 * KIB)].mmapped
        || pools[0].held[take(&pools[0], 200 * KIB)].mmapped)
        die("M_MMAP_THRESHOLD not in effect");
}

/* Free a 4 MiB mmapped chunk.  In dyn mode this raises the threshold and the
   following 1 MiB request must come from the heap. */
static void free_big_mmapped(void)
{
    struct pool *p = &pools[0];
    size_t big = take(p, 4 * MIB);
    if (!p->held[big].mmapped)
        die("4 MiB block is not mmapped");
    give_back(p, big);
    if (!mode_mallopt && p->held[take(p, 1 * MIB)].mmapped)
        die("1 MiB block after the threshold raise is mmapped");
}

static FILE *open_truth(const char *path)
{
    FILE *out = fopen(path, "w");
    if (out == NULL)
        die("cannot open truth file");
    if (setvbuf(out, out_buffer, _IOFBF, sizeof out_buffer) != 0)
        die("setvbuf failed");
    return out;
}

static void write_mp(FILE *out)
{
    size_t mmap_threshold = DEFAULT_THRESHOLD;
    size_t trim_threshold = DEFAULT_THRESHOLD;
    size_t top_pad = DEFAULT_TOP_PAD;
    if (mode_mallopt) {
        mmap_threshold = OPT_MMAP_THRESHOLD;
        trim_threshold = OPT_TRIM_THRESHOLD;
        top_pad = OPT_TOP_PAD;
    } else if (max_freed_mmapped_head > DEFAULT_THRESHOLD) {
        mmap_threshold = max_freed_mmapped_head & ~CHUNK_FLAGS;
        trim_threshold = 2 * mmap_threshold;
    }
    fprintf(out, "mp mmap_threshold=%zu trim_threshold=%zu top_pad=%zu "
            "no_dyn_threshold=%d\n", mmap_threshold, trim_threshold, top_pad,
            mode_mallopt);
}

static void write_mallinfo2(FILE *out, const char *tag,
                            const struct mallinfo2 *m)
{
    fprintf(out, "mallinfo2 %s arena=%zu ordblks=%zu smblks=%zu hblks=%zu "
            "hblkhd=%zu usmblks=%zu fsmblks=%zu uordblks=%zu fordblks=%zu "
            "keepcost=%zu\n", tag, m->arena, m->ordblks, m->smblks, m->hblks,
            m->hblkhd, m->usmblks, m->fsmblks, m->uordblks, m->fordblks,
            m->keepcost);
}

static void write_block(FILE *out, const char *tag, const struct block *b,
                        int owner)
{
    fprintf(out, "%s 0x%lx %zu %s %d\n", tag, (unsigned long) b->ptr,
            b->usable, b->mmapped ? "mmap" : "heap", owner);
}

static void write_blocks(FILE *out)
{
    for (int t = 0; t <= NTHREADS; t++)
        for (size_t i = 0; i < pools[t].nheld; i++)
            if (pools[t].held[i].ptr != NULL)
                write_block(out, "block", &pools[t].held[i], t);
    for (int t = 0; t <= NTHREADS; t++)
        for (size_t i = 0; i < pools[t].nfreed; i++)
            write_block(out, "freed", &pools[t].freed[i], t);
}

/* The snapshot: nothing here may allocate, which the mallinfo2 comparison
   confirms. */
static void write_truth(FILE *out)
{
    struct mallinfo2 before = mallinfo2();
    fprintf(out, "glibc-truth 1\nmode %s\npid %d\n",
            mode_mallopt ? "mallopt" : "dyn", (int) getpid());
    for (int t = 0; t <= NTHREADS; t++)
        fprintf(out, "thread %d %d\n", t, (int) pools[t].tid);
    write_mp(out);
    write_mallinfo2(out, "before", &before);
    if (malloc_info(0, out) != 0)
        die("malloc_info failed");
    write_blocks(out);
    struct mallinfo2 after = mallinfo2();
    write_mallinfo2(out, "after", &after);
    fputs("end\n", out);
    if (fflush(out) != 0 || ferror(out))
        die("cannot write truth file");
    if (memcmp(&before, &after, sizeof before) != 0)
        die("mallinfo2 changed while the truth was written");
}

static void announce_ready(void)
{
    static const char ready[] = "READY\n";
    if (write(STDOUT_FILENO, ready, sizeof ready - 1) != sizeof ready - 1)
        die("cannot write READY");
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "dyn") != 0
                      && strcmp(argv[1], "mallopt") != 0)) {
        fprintf(stderr, "usage: glibc_truth dyn|mallopt TRUTHFILE\n");
        return 2;
    }
    mode_mallopt = strcmp(argv[1], "mallopt") == 0;
    /* Let a non-ancestor (the inspector) attach under Yama ptrace_scope 1;
       fails harmlessly without Yama. */
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
    FILE *out = open_truth(argv[2]);
    init_pools();
    if (mode_mallopt)
        apply_mallopt();
    free_big_mmapped();
    start_workers();
    run_scenario(&pools[0], MAIN_ALLOCS);
    pthread_barrier_wait(&all_done);
    run_final_phase(&pools[0]);
    write_truth(out);
    announce_ready();
    park_forever();
    return 0;
}
