/*
 * imap_resp: the one place that decides how a string the server emits is
 * written: atom, quoted string, literal or literal8. Everything a client or
 * a message supplied (mailbox names, header values, search strings) goes
 * through imap_resp_write_string/_nstring/_astring and is never written as
 * an atom: a quoted string when that is safe, else a literal.
 *
 * Quoted is safe when the bytes hold no CR, LF or NUL, are 7-bit (or valid
 * UTF-8 with IMAP_RESP_UTF8, for IMAP4rev2 / UTF8=ACCEPT sessions) and are
 * at most IMAP_RESP_QUOTED_MAX long; `"` and `\` are escaped. Otherwise a
 * literal "{n}\r\n" + bytes. A NUL can only travel in a literal8
 * ("~{n}\r\n", RFC 3516), written only with IMAP_RESP_BINARY; without it a
 * string with NUL is refused (-1) rather than sent broken.
 *
 * All functions append to `b` and return 0, or -1 if the bytes cannot be
 * written (buffer ceiling hit, NUL without BINARY, invalid atom/flag); on
 * -1 the buffer holds what it held before.
 */
#ifndef MK_IMAP_RESP_H
#define MK_IMAP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define IMAP_RESP_QUOTED_MAX 1024

enum imap_resp_flags {
	IMAP_RESP_UTF8 = 1 << 0,   /* quoted strings may carry UTF-8 */
	IMAP_RESP_BINARY = 1 << 1, /* NUL allowed: use literal8 (BINARY fetch) */
	IMAP_RESP_LITERAL = 1 << 2,/* always a literal (message bodies) */
};

/* string: quoted or literal. */
int imap_resp_write_string(struct buf *b, const char *s, size_t n, unsigned flags);
/* nstring: NIL when s is NULL. */
int imap_resp_write_nstring(struct buf *b, const char *s, size_t n, unsigned flags);
/* astring from client data (mailbox names): written as a string, never as
 * an atom, so nothing a client chose is ever parsed as syntax. */
int imap_resp_write_astring(struct buf *b, const char *s, size_t n, unsigned flags);

/* Server-chosen tokens (capabilities, response codes, keywords checked at
 * STORE): -1 unless s is a non-empty run of ATOM-CHARs. */
int imap_resp_write_atom(struct buf *b, const char *s);

/* "(\Seen $Junk)": each flag is "\" + atom, "\*", or an atom (keyword).
 * -1 if one is not. */
int imap_resp_write_flags(struct buf *b, const char *const *flags, size_t n);

/* The "{n}\r\n" / "~{n}\r\n" head of a literal whose bytes the caller
 * streams itself (FETCH BODY[] from a blob). */
int imap_resp_write_literal_head(struct buf *b, uint64_t n, bool binary);

/* Human-readable response text ("OK [CODE] text"): CR, LF, NUL and other
 * controls become spaces and 8-bit bytes '?' so a message or an error text
 * can never end the response line early. */
int imap_resp_write_text(struct buf *b, const char *s);

/* True if s[0..n) may be written as a quoted string under these flags. */
bool imap_resp_quoted_ok(const char *s, size_t n, unsigned flags);

#endif
