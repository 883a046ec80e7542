/*
 * util.c - allocation, growable arrays, messages and number formatting.
 */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
	fputs("heapinspect: out of memory\n", stderr);
	exit(2);	/* exit handlers detach from a live target */
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		out_of_memory();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory();
	va_end(ap);
	return s;
}

void grow_array(void **array, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap;
	if (need <= *cap)
		return;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	*array = xrealloc(*array, ncap * elsize);
	*cap = ncap;
}

void warnx_(const char *fmt, ...)
{
	va_list ap;
	fputs("heapinspect: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *human_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned u = 0;
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* "1,234,567 B (1.2 MiB)"; BUF at least 64 bytes. */
const char *format_bytes(uint64_t n, char *buf, size_t len)
{
	char digits[32], grouped[48], human[32];
	size_t nd, i, o = 0;
	snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
	nd = strlen(digits);
	for (i = 0; i < nd; i++) {
		if (i && (nd - i) % 3 == 0)
			grouped[o++] = ',';
		grouped[o++] = digits[i];
	}
	grouped[o] = 0;
	if (n < 1024)
		snprintf(buf, len, "%s B", grouped);
	else
		snprintf(buf, len, "%s B (%s)", grouped, human_size(n, human, sizeof human));
	return buf;
}
