/*
 * imapstr: writing IMAP strings (RFC 9051 section 4.3) into a buffer.
 *
 * A value is sent as a quoted string when it can be one: 7-bit, no CR, LF
 * or NUL, at most IMAPSTR_QUOTED_MAX bytes ('"' and '\' escaped). Anything
 * else is sent as a synchronizing literal "{n}\r\n" + bytes, with NUL bytes
 * dropped (a literal cannot carry them). Every function returns 0, or -1
 * when the buffer's ceiling is reached.
 */
#ifndef MK_MIME_IMAPSTR_H
#define MK_MIME_IMAPSTR_H

#include <stddef.h>

struct buf;

#define IMAPSTR_QUOTED_MAX 1024

int imapstr_append(struct buf *b, const char *s, size_t n);
/* s NULL gives NIL. */
int imapstr_append_nstring(struct buf *b, const char *s);

#endif
