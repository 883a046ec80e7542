/*
 * json.h - a small streaming JSON writer (no parser: heapinspect never
 * reads JSON back).
 *
 * Invariants: output is always well-formed if begin/end calls pair up
 * (checked by assert in debug builds); strings are escaped per RFC 8259;
 * keys are given for members of objects and NULL for elements of arrays.
 */
#ifndef HEAPINSPECT_JSON_H
#define HEAPINSPECT_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	int depth;
	int has_members[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);
void json_string(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
/* Finish the document (newline). */
void json_finish(struct json *j);

#endif
