/*
 * utf7: IMAP modified UTF-7 (RFC 3501 section 5.1.3), the encoding of
 * mailbox names on the wire for clients that have not enabled UTF8=ACCEPT,
 * and strict UTF-8 validation.
 *
 * Modified UTF-7: printable ASCII (0x20..0x7e) stands for itself, except
 * "&", written "&-". Everything else is UTF-16BE in base64 (with "," for
 * "/", no padding) between "&" and "-".
 *
 * Only the canonical form is valid, the one utf8_to_utf7() produces, so
 * each name has exactly one spelling and utf7 -> utf8 -> utf7 is the
 * identity. Refused: printable ASCII inside a shift ("&AGE-" for "a"),
 * "&" encoded in base64, two shifts back to back ("&AOQ-&AOQ-"), a shift
 * without its closing "-", base64 padding bits that are not zero or a
 * trailing base64 character that carries no full 16-bit unit, unpaired
 * surrogates, U+0000, and raw bytes outside 0x20..0x7e.
 *
 * UTF-8 is strict (RFC 3629): no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF.
 *
 * Conversions append to a struct buf and return UTF7_OK, UTF7_INVALID (the
 * input is not valid) or UTF7_TOOBIG (the buffer's ceiling was hit); on
 * failure the buffer is left as it was. Pure functions, thread-safe.
 */
#ifndef MK_UTF7_H
#define MK_UTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/arena.h"
#include "lib/buf.h"

enum utf7_result { UTF7_OK = 0, UTF7_INVALID = -1, UTF7_TOOBIG = -2 };

bool utf7_is_valid(const char *s, size_t len);
bool utf8_is_valid(const char *s, size_t len);

/* Modified UTF-7 to UTF-8. */
int utf7_to_utf8(const char *s, size_t len, struct buf *out);
/* UTF-8 to modified UTF-7. UTF7_INVALID if s is not strict UTF-8 or holds
 * U+0000. */
int utf8_to_utf7(const char *s, size_t len, struct buf *out);

/* The same into an arena: a NUL-terminated string, or NULL if the input
 * is invalid. UTF-8 output is at most 9/8 of its UTF-7 input (a long run
 * of 3-byte characters costs 8/3 base64 characters each); UTF-7 output
 * is at most 5x its UTF-8 input (a lone control byte becomes "&AAE-"). So
 * the caller bounds memory by bounding the input; UTF7_MAX_UTF8_LEN() and
 * UTF7_MAX_UTF7_LEN() give buffer ceilings that always suffice. */
#define UTF7_MAX_UTF8_LEN(utf7_len) ((utf7_len) + (utf7_len) / 8 + 4)
#define UTF7_MAX_UTF7_LEN(utf8_len) ((utf8_len) * 5)
char *utf7_to_utf8_arena(struct arena *a, const char *s, size_t len);
char *utf8_to_utf7_arena(struct arena *a, const char *s, size_t len);

#endif
