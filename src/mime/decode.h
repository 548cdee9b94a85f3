/*
 * decode: Content-Transfer-Encoding decoding (base64, quoted-printable) for
 * IMAP BINARY (RFC 3516) and for the search text.
 *
 * The decoder is streaming: feed it the part's body in chunks of any size
 * (split anywhere) and it gives the same bytes as one call would. Decoding
 * is lenient, as mail needs: base64 skips bytes outside the alphabet and
 * restarts after padding; quoted-printable keeps a malformed "=" as is,
 * accepts lowercase hex and drops trailing whitespace of each line. Line
 * ends are kept as they are in the body.
 */
#ifndef MK_MIME_DECODE_H
#define MK_MIME_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "mime/mime.h"

enum mime_cte {
	MIME_CTE_IDENTITY,   /* 7bit, 8bit, binary, absent; and any multipart
	                      * or message part, whose body is not encoded */
	MIME_CTE_BASE64,
	MIME_CTE_QP,
	MIME_CTE_UNKNOWN,    /* IMAP answers NO [UNKNOWN-CTE] */
};

enum mime_cte mime_part_cte(const struct mime_part *p);

/* Extra room the output needs beyond the input length of one call. */
#define MIME_DECODER_SLACK 80

struct mime_decoder {
	enum mime_cte cte;
	int state;
	unsigned acc, bits;      /* base64 */
	unsigned char hex;       /* quoted-printable: first hex digit */
	unsigned char ws[MIME_DECODER_SLACK - 8];
	size_t nws;              /* pending whitespace (maybe trailing) */
};

void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte);
/* Decode in[0..n) into out, which has room for n + MIME_DECODER_SLACK
 * bytes; returns the bytes written. */
size_t mime_decoder_feed(struct mime_decoder *d, const char *in, size_t n, char *out);
/* End of input: write what is held back (room MIME_DECODER_SLACK). */
size_t mime_decoder_finish(struct mime_decoder *d, char *out);

/* The decoded size of part p's body (BINARY.SIZE), decoding in bounded
 * memory. 0, or -1 if the encoding is unknown. */
int mime_binary_size(const struct mime_message *m, const struct mime_part *p, uint64_t *size_r);

/* Decode at most max_in bytes of p's body into an arena buffer
 * (NUL-terminated; *len_r its length). NULL if the encoding is unknown. */
char *mime_decode_body(struct arena *a, const struct mime_message *m,
                       const struct mime_part *p, size_t max_in, size_t *len_r);

#endif
