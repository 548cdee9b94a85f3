/*
 * charset: converting text in a MIME charset to UTF-8 (iconv), and UTF-8
 * validation.
 *
 * Conversion never fails the text: bytes that are invalid in the charset
 * become U+FFFD, and an unknown charset is treated as UTF-8 (valid UTF-8
 * kept, anything else U+FFFD). Common mislabels are mapped to the superset
 * mail clients really use (iso-8859-1 -> windows-1252, gb2312 -> GBK,
 * shift_jis -> CP932, euc-kr / ks_c_5601-1987 -> CP949).
 *
 * Thread-safe: iconv descriptors are cached per thread (a few charsets,
 * never closed; bounded).
 */
#ifndef MK_MIME_CHARSET_H
#define MK_MIME_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* Append s[0..n) converted from `charset` (NULL or "" = us-ascii, which is
 * handled as UTF-8) to b. 0, or -1 when b's ceiling is reached (b then
 * holds a prefix of the result ending at a character boundary). */
int charset_to_utf8(struct buf *b, const char *charset, const char *s, size_t n);

/* Append s[0..n) with invalid UTF-8 replaced by U+FFFD. 0 or -1 as above. */
int utf8_sanitize(struct buf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Largest k <= max such that s[0..k) does not end inside a UTF-8 sequence. */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
