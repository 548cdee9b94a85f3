/*
 * reencode: a message that arrived as binary (IMAP APPEND with a literal8,
 * RFC 3516) made storable as CRLF text without losing a byte.
 *
 * The store keeps messages as CRLF text (bare LF becomes CRLF at append,
 * see mime.h), so a part whose body holds NUL, bare CR or bare LF bytes, or
 * that declares Content-Transfer-Encoding: binary, would come back changed.
 * RFC 3516 4.4 lets the server change the CTE of appended data as long as
 * nothing is lost. So each such *leaf* part is rewritten: its
 * Content-Transfer-Encoding field(s) replaced by one
 * "Content-Transfer-Encoding: base64" at the end of its header, its body
 * base64 in lines of 76 characters joined by CRLF (plus a final CRLF when
 * the body ends the message). Every other byte is kept as it is, so a
 * message that is already CRLF text is not changed at all. FETCH BINARY[n]
 * then decodes the part to the original bytes, BODY[n] is the base64 form.
 *
 * A part is re-encoded when it is a leaf with a non-empty body, declares an
 * identity CTE (none, 7bit, 8bit, binary), is not itself a multipart or
 * message type (those may not be base64, RFC 2046 5.1/5.2; they are leaves
 * only past the parser's limits), and either declares "binary" or has a
 * NUL, a CR not followed by LF or an LF not preceded by CR. 8-bit bytes and
 * long lines alone are left alone: the store keeps them unchanged.
 *
 * What no re-encoding can keep is refused: a NUL anywhere outside the body
 * of a part that is re-encoded (in a header, a multipart preamble or
 * epilogue, a part declared base64 or quoted-printable). IMAP answers that
 * with NO [UNKNOWN-CTE] (RFC 3516 4.4). Bare CR/LF outside re-encoded
 * bodies are kept; the store turns bare LF into CRLF there, which changes
 * no header's meaning and no base64/quoted-printable content.
 *
 * Input is the parsed message (mime_parse over all of it; the caller maps
 * a spool file, as the store maps blobs), not a stream of chunks: whether a
 * part needs base64 is known only at the end of its body, but its header
 * comes first, and the part boundaries must be exactly the ones mime_parse
 * will find again when FETCH reads the stored message. Output is streamed
 * through a callback in pieces of at most MIME_REENCODE_CHUNK bytes; no
 * copy of the message is ever built in memory.
 *
 * Pure functions, thread-safe.
 */
#ifndef MK_MIME_REENCODE_H
#define MK_MIME_REENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime/mime.h"

#define MIME_REENCODE_CHUNK (16 * 1024)
/* Characters of base64 per line (RFC 2045 6.8), and the bytes they hold. */
#define MIME_REENCODE_LINE 76
#define MIME_REENCODE_LINE_IN 57

enum mime_reencode_status {
	MIME_REENCODE_UNCHANGED = 0,  /* storable as it is: write it unchanged */
	MIME_REENCODE_CHANGED = 1,    /* some parts need base64 */
	MIME_REENCODE_REFUSED = -1,   /* a NUL that no re-encoding can keep */
};

struct mime_reencode_plan {
	enum mime_reencode_status status;
	unsigned parts;         /* leaf parts to re-encode */
	uint64_t out_size;      /* bytes mime_reencode_write() will produce */
	/* REFUSED: where the first NUL that cannot be kept is, and whether it
	 * is inside a header section (of the message or of a part). */
	size_t nul_at;
	bool nul_in_header;
};

/* Does part p of m get re-encoded (the rule above)? */
bool mime_reencode_part(const struct mime_message *m, const struct mime_part *p);

/* Decide, without writing anything. Returns plan->status. */
enum mime_reencode_status mime_reencode_check(const struct mime_message *m,
                                              struct mime_reencode_plan *plan);

/* Receives the output in order; a non-zero return stops the writing and is
 * returned by mime_reencode_write(). */
typedef int mime_reencode_write_fn(void *ctx, const char *data, size_t len);

/* Write the message with the parts mime_reencode_part() selects re-encoded
 * (all of it unchanged if there are none). Call mime_reencode_check()
 * first and do not store a REFUSED message: write() itself copies such a
 * NUL through. Returns 0 or the callback's first non-zero value. */
int mime_reencode_write(const struct mime_message *m, mime_reencode_write_fn *fn, void *ctx);

#endif
