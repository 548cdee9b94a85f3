#include "mime/header.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/internal.h"

size_t mime_line_next(const char *data, size_t pos, size_t len)
{
	const char *nl = memchr(data + pos, '\n', len - pos);
	return nl ? (size_t)(nl - data) + 1 : len;
}

void mime_header_iter_init(struct mime_header_iter *it, const char *data,
                           size_t start, size_t end)
{
	it->data = data;
	it->pos = start;
	it->end = end;
}

/* Length of the line content without its CRLF / LF. */
static size_t content_end(const char *d, size_t start, size_t next)
{
	size_t e = next;
	if (e > start && d[e - 1] == '\n')
		e--;
	if (e > start && d[e - 1] == '\r')
		e--;
	return e;
}

bool mime_header_next(struct mime_header_iter *it, struct mime_field *f)
{
	const char *d = it->data;
	while (it->pos < it->end) {
		size_t start = it->pos;
		size_t next = mime_line_next(d, start, it->end);
		/* The field continues over lines starting with WSP. */
		while (next < it->end && (d[next] == ' ' || d[next] == '\t'))
			next = mime_line_next(d, next, it->end);
		it->pos = next;
		const char *colon = memchr(d + start, ':', content_end(d, start, next) - start);
		if (colon == NULL || colon == d + start)
			continue;
		size_t nlen = (size_t)(colon - (d + start));
		while (nlen > 0 && (d[start + nlen - 1] == ' ' || d[start + nlen - 1] == '\t'))
			nlen--;
		if (nlen == 0)
			continue;
		/* A name with whitespace or a line that starts with WSP (a
		 * continuation with no field before it) is not a field. */
		if (memchr(d + start, ' ', nlen) || memchr(d + start, '\t', nlen))
			continue;
		f->name = d + start;
		f->name_len = nlen;
		f->value = colon + 1;
		f->value_len = content_end(d, start, next) - (size_t)(colon + 1 - d);
		f->start = start;
		f->end = next;
		return true;
	}
	return false;
}

bool mime_header_find(const char *data, size_t start, size_t end,
                      const char *name, struct mime_field *f)
{
	struct mime_header_iter it;
	mime_header_iter_init(&it, data, start, end);
	while (mime_header_next(&it, f))
		if (str_ieq_n(f->name, f->name_len, name))
			return true;
	return false;
}

char *mime_unfold(struct arena *a, const char *v, size_t n)
{
	char *out = arena_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n' && v[i] != '\0')
			out[o++] = v[i];
	size_t s = 0;
	while (s < o && (out[s] == ' ' || out[s] == '\t'))
		s++;
	while (o > s && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	memmove(out, out + s, o - s);
	out[o - s] = '\0';
	return out;
}

void mime_buf_init(struct buf *b, size_t max)
{
	buf_init(b, max < 1 ? 1 : max);
	(void)buf_reserve(b, 1);
}
