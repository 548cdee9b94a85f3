/*
 * header: walking the fields of an RFC 5322 / MIME header held in memory.
 *
 * A field is "name:" and its value up to the end of the line, plus any
 * continuation lines (starting with SP or HT). Lines without a colon are
 * skipped (they are not fields). Both CRLF and bare LF end a line. Pure
 * functions, thread-safe.
 */
#ifndef MK_MIME_HEADER_H
#define MK_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

struct mime_field {
	const char *name;
	size_t name_len;     /* trailing whitespace before ':' excluded */
	const char *value;   /* raw: from after the colon to the end of the
	                      * last line, folds included, line end excluded */
	size_t value_len;
	size_t start, end;   /* the whole field incl. its last line end,
	                      * as offsets into the iterated buffer */
};

struct mime_header_iter {
	const char *data;
	size_t pos, end;
};

/* Iterate the fields in data[start, end). */
void mime_header_iter_init(struct mime_header_iter *it, const char *data,
                           size_t start, size_t end);
/* Next field, or false at the end. */
bool mime_header_next(struct mime_header_iter *it, struct mime_field *f);

/* The first field named `name` (case-insensitive) in data[start, end);
 * false if none. */
bool mime_header_find(const char *data, size_t start, size_t end,
                      const char *name, struct mime_field *f);

/* A value unfolded (CR and LF removed, as RFC 5322 unfolding does), with
 * leading and trailing whitespace trimmed and NUL bytes dropped. */
char *mime_unfold(struct arena *a, const char *v, size_t n);

/* Offset just past the line that starts at pos (after its LF, or len). */
size_t mime_line_next(const char *data, size_t pos, size_t len);

#endif
