/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny streaming JSON writer: enough for sipalgctl's machine-readable
 * output (objects, arrays, strings, integers, booleans, null), with commas
 * and escaping handled here so callers cannot produce invalid JSON.
 */
#ifndef SIPALG_JSON_H
#define SIPALG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this depth */
	bool after_key;
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
/* Bytes >= 0x80 and controls are written as \u00XX, so any input is valid JSON. */
void json_str_n(struct json *j, const char *s, size_t n);
void json_str(struct json *j, const char *s);
void json_int(struct json *j, long long v);
/* One decimal: seconds measured to a tenth. */
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* [offset, length] */
void json_span(struct json *j, unsigned int off, unsigned int len);
/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
