#include "lib/buf.h"
#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_deinit(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void buf_reset(struct buf *b, size_t keep)
{
	b->off = 0;
	b->len = 0;
	if (b->cap > keep) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	} else if (b->data != NULL) {
		b->data[0] = '\0';
	}
}

/* Ensure room for n more bytes after the live ones. */
static int ensure(struct buf *b, size_t n)
{
	if (n > b->max - b->len)
		return -1;
	/* data != NULL: even a zero-length append writes the NUL after it. */
	if (b->data != NULL && b->off + b->len + n <= b->cap)
		return 0;
	if (b->data != NULL && b->off > 0 && b->len + n <= b->cap) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		b->data[b->len] = '\0';
		return 0;
	}
	size_t want = b->cap ? b->cap : 256;
	while (want < b->len + n)
		want *= 2;
	if (want > b->max)
		want = b->max > b->len + n ? b->max : b->len + n;
	char *d = xmalloc(want + 1);
	if (b->len > 0)
		memcpy(d, b->data + b->off, b->len);
	d[b->len] = '\0';
	free(b->data);
	b->data = d;
	b->off = 0;
	b->cap = want;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (ensure(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
	b->data[b->off + b->len] = '\0';
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || ensure(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->off + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *buf_reserve(struct buf *b, size_t n)
{
	if (ensure(b, n) < 0)
		return NULL;
	return b->data + b->off + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	if (b->data == NULL)
		return;  /* nothing was reserved: n is 0 */
	b->len += n;
	b->data[b->off + b->len] = '\0';
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = 0;
		b->len = 0;
		if (b->data != NULL)
			b->data[0] = '\0';
		return;
	}
	b->off += n;
	b->len -= n;
}

char *buf_detach(struct buf *b, size_t *cap_r)
{
	char *d = b->data;
	*cap_r = b->cap;
	b->data = NULL;
	b->off = b->len = b->cap = 0;
	return d;
}

void buf_attach(struct buf *b, char *data, size_t cap)
{
	free(b->data);
	b->data = data;
	b->cap = cap;
	b->off = b->len = 0;
	data[0] = '\0';
}
