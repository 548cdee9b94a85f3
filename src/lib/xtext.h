/*
 * xtext: the encoding of the DSN parameters ENVID and ORCPT (RFC 3461
 * section 4).
 *
 *   xtext   = *( xchar / hexchar )
 *   xchar   = any ASCII from "!" (33) to "~" (126) except "+" and "="
 *   hexchar = "+" followed by two upper-case hexadecimal digits
 *
 * Decoding is strict (lower-case hex digits, a lone "+" or any byte outside
 * 33..126 is an error), so a sender's mistake is refused at MAIL/RCPT
 * rather than passed on. Encoding writes the canonical form: only "+",
 * "=" and bytes outside 33..126 become hexchars, so encode(decode(x)) == x
 * for every canonical x.
 *
 * The DSN parameters built on it are checked here too, for the SMTP
 * parser and the queue alike: ENVID is xtext, ORCPT is addr-type ";"
 * xtext (addr-type an atom such as "rfc822" or "utf-8"), and the decoded
 * text of both must be printable ASCII, because it is written into a
 * DSN's fields (RFC 3464 Original-Envelope-Id, Original-Recipient).
 *
 * Pure functions, no allocation; thread-safe.
 */
#ifndef MK_XTEXT_H
#define MK_XTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Is s[0..n) well-formed xtext? */
bool xtext_valid(const char *s, size_t n);

/* Decode s[0..n) into out (room for outn bytes; n + 1 is always enough),
 * NUL-terminated. Returns the decoded length (the bytes may include NUL
 * from "+00": callers that want text check them), or -1 if s is not
 * xtext or out is too small. */
int xtext_decode(const char *s, size_t n, char *out, size_t outn);

/* Encode s[0..n) into out (room for outn bytes; 3n + 1 is always enough),
 * NUL-terminated. Returns the encoded length, or -1 if out is too small. */
int xtext_encode(const char *s, size_t n, char *out, size_t outn);

/* ENVID: xtext of at most max characters decoding to printable ASCII. */
bool xtext_envid_valid(const char *s, size_t n, size_t max);
/* ORCPT: "type;xtext", at most max characters, the xtext not empty and
 * decoding to printable ASCII. */
bool xtext_orcpt_valid(const char *s, size_t n, size_t max);

#endif
