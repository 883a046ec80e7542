/*
 * util.h - small helpers shared by every part of heapinspect: allocation
 * that never returns NULL, growable arrays, error messages, size formatting.
 *
 * Invariants: nothing here touches the target; xmalloc and friends abort
 * the inspector (never the target) on exhaustion, after the live backend's
 * exit hook has detached.
 */
#ifndef HEAPINSPECT_UTIL_H
#define HEAPINSPECT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *ARRAY (of *CAP elements of ELSIZE bytes) so that it holds at least
 * NEED elements. */
void grow_array(void **array, size_t *cap, size_t need, size_t elsize);
#define ARRAY_PUSH(arr, n, cap) \
	(grow_array((void **)&(arr), &(cap), (n) + 1, sizeof *(arr)), &(arr)[(n)++])

/* "heapinspect: MESSAGE" on stderr. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format N bytes as "812.8 MiB" into BUF (at least 32 bytes). */
const char *human_size(uint64_t n, char *buf, size_t len);

/* "1,234,567 B (1.2 MiB)": exact with thousands separators, and human
 * beside it from 1 KiB; BUF at least 64 bytes. */
const char *format_bytes(uint64_t n, char *buf, size_t len);

/* Parse a decimal or 0x-hex unsigned number; 0 on success. */
int parse_u64(const char *s, uint64_t *out);

/* qsort() that accepts an empty array with a NULL base (qsort may not). */
static inline void sort_items(void *base, size_t n, size_t size,
			      int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static inline uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

/* Elements in array A. */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
