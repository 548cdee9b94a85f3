/*
 * encword: RFC 2047 encoded words ("=?charset?B|Q?text?=") decoded to UTF-8.
 *
 * Lenient as mail needs: encoded words are recognized anywhere, not only as
 * whole tokens; whitespace between two adjacent encoded words is dropped;
 * the bytes of adjacent words in the same charset are joined before
 * conversion (senders split multibyte characters across words); a language
 * suffix ("utf-8*en") is ignored. Text outside encoded words is kept: as
 * UTF-8 if it is valid UTF-8, else read as windows-1252 (raw 8-bit headers
 * of old mailers). Never fails on input. Thread-safe.
 */
#ifndef MK_MIME_ENCWORD_H
#define MK_MIME_ENCWORD_H

#include <stddef.h>

struct arena;
struct buf;

/* Append the decoded s[0..n) to b: 0, or -1 if b's ceiling was reached. */
int encword_decode(struct buf *b, const char *s, size_t n);

/* The same into a NUL-terminated arena string (never NULL). */
char *encword_decode_arena(struct arena *a, const char *s, size_t n);

/* Lenient base64 (non-alphabet bytes skipped, stops at '=') and RFC 2047
 * Q decoding of s[0..n) into out (room for n bytes). Returns the length. */
size_t encword_b_decode(const char *s, size_t n, unsigned char *out);
size_t encword_q_decode(const char *s, size_t n, unsigned char *out);

#endif
