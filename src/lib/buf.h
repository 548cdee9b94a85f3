/*
 * buf: a growable byte buffer with a hard ceiling set at creation.
 *
 * Bytes live in data[off .. off+len). Appending past `max` fails with -1 and
 * leaves the buffer unchanged: hitting the ceiling is a protocol error for
 * the client that caused it, never a silent realloc. buf_consume() drops
 * bytes from the front (cheap: it moves an offset, compacting lazily).
 * The storage is always NUL-terminated after the last byte, so a buffer that
 * holds text can be passed to string functions.
 */
#ifndef MK_BUF_H
#define MK_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t off;  /* start of live bytes */
	size_t len;  /* live bytes */
	size_t cap;  /* allocated, excluding the NUL slot */
	size_t max;  /* ceiling for len */
};

void buf_init(struct buf *b, size_t max);
void buf_deinit(struct buf *b);
/* Drop all bytes and give back memory beyond `keep` bytes of capacity. */
void buf_reset(struct buf *b, size_t keep);

static inline char *buf_ptr(const struct buf *b) { return b->data ? b->data + b->off : (char *)""; }
static inline size_t buf_len(const struct buf *b) { return b->len; }
static inline size_t buf_room(const struct buf *b) { return b->max - b->len; }

/* 0 on success, -1 if the result would exceed max. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Make room for at least n more bytes at the tail and return a pointer to it
 * (NULL if that would exceed max); commit what was written with
 * buf_commit(). For read(2)-style filling. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

void buf_consume(struct buf *b, size_t n);

/* Storage reuse (conn.c keeps a few drained buffers per thread, so a busy
 * connection does not malloc and regrow its buffers for every command). buf_detach: an empty buffer gives up its storage (NULL if it
 * has none), *cap_r its capacity. buf_attach: an empty, unallocated
 * buffer takes storage of cap bytes (plus the NUL slot) from
 * buf_detach. */
char *buf_detach(struct buf *b, size_t *cap_r);
void buf_attach(struct buf *b, char *data, size_t cap);

#endif
