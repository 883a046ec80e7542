/*
 * json.c - streaming JSON writer; see json.h.
 */
#include "config.h"

#include "json.h"

#include <assert.h>
#include <string.h>

/* The stream is only ever written from one thread: skip stdio's locking
 * (100 000 arrays make millions of calls). */
#define fputc putc_unlocked
#define fputs fputs_unlocked

static void write_decimal(FILE *f, uint64_t v, int negative)
{
	char digits[24];
	size_t n = sizeof digits;
	do
		digits[--n] = (char)('0' + v % 10);
	while (v /= 10);
	if (negative)
		digits[--n] = '-';
	fwrite_unlocked(digits + n, 1, sizeof digits - n, f);
}

void json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof *j);
	j->out = out;
}

static void write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void member(struct json *j, const char *key)
{
	int i;
	if (j->depth > 0) {
		if (j->has_members[j->depth])
			fputc(',', j->out);
		j->has_members[j->depth] = 1;
		fputc('\n', j->out);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	if (key) {
		write_string(j->out, key);
		fputs(": ", j->out);
	}
}

static void open_container(struct json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	assert(j->depth + 1 < JSON_MAX_DEPTH);
	j->depth++;
	j->has_members[j->depth] = 0;
}

static void close_container(struct json *j, char c)
{
	int i, had = j->has_members[j->depth];
	assert(j->depth > 0);
	j->depth--;
	if (had) {
		fputc('\n', j->out);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	fputc(c, j->out);
}

void json_object_begin(struct json *j, const char *key) { open_container(j, key, '{'); }
void json_object_end(struct json *j) { close_container(j, '}'); }
void json_array_begin(struct json *j, const char *key) { open_container(j, key, '['); }
void json_array_end(struct json *j) { close_container(j, ']'); }

void json_uint(struct json *j, const char *key, uint64_t v)
{
	member(j, key);
	write_decimal(j->out, v, 0);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	member(j, key);
	write_decimal(j->out, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void json_double(struct json *j, const char *key, double v)
{
	member(j, key);
	fprintf(j->out, "%.6f", v);
}

void json_string(struct json *j, const char *key, const char *s)
{
	member(j, key);
	write_string(j->out, s);
}

void json_bool(struct json *j, const char *key, int v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}

void json_finish(struct json *j)
{
	assert(j->depth == 0);
	fputc('\n', j->out);
}
