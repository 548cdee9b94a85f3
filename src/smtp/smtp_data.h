/*
 * smtp_data: the message bytes of DATA (RFC 5321 4.1.1.4, 4.5.2) and BDAT
 * (RFC 3030), as a resumable byte state machine. Pure: no I/O, no
 * allocation; the caller feeds whatever arrived and writes out what comes
 * back.
 *
 * DATA mode: lines end with CRLF; a line starting with "." loses that dot
 * (dot-unstuffing); CRLF "." CRLF ends the message (that CRLF belongs to
 * the message, the dot line does not). BDAT mode: the bytes are taken as
 * they are (the session counts the chunk sizes); no terminator.
 *
 * Both modes refuse a bare LF or a bare CR (not part of a CRLF), which RFC
 * 5321 forbids and which hides "SMTP smuggling": after one, nothing more
 * is output (err is set) but DATA keeps looking for the strict CRLF.CRLF
 * end, so the session can answer 5xx and go on. A client that ends its
 * message with a bare LF "." LF, or LF "." CRLF, after using bare LFs
 * sets `must_close`: where its message ends cannot be told safely.
 *
 * Size: at most `max` message bytes are output (0 = no limit); beyond it
 * err becomes SMTP_DATA_TOO_BIG and the rest is counted and dropped.
 */
#ifndef MK_SMTP_DATA_H
#define MK_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_data_mode { SMTP_DATA_DOT, SMTP_DATA_CHUNK };

enum smtp_data_err {
	SMTP_DATA_OK,
	SMTP_DATA_BARE_LF,   /* LF not preceded by CR */
	SMTP_DATA_BARE_CR,   /* CR not followed by LF */
	SMTP_DATA_TOO_BIG,   /* more than max bytes */
};

struct smtp_data {
	enum smtp_data_mode mode;
	int state;             /* private */
	uint64_t max;
	uint64_t size;         /* message bytes seen (after unstuffing), output or not */
	enum smtp_data_err err;
	bool done;             /* DATA: the end marker was read */
	bool must_close;       /* DATA: ended ambiguously after bare LFs */
	unsigned lf_run;       /* private: bare-LF end detection */
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode, uint64_t max);

/* Consume in[0..n) up to the end of the message (DATA) or all of it
 * (BDAT); message bytes go to out (room for n + 1 bytes: a CR held
 * back from the previous call comes out with its LF), their count to
 * *out_n. Returns the bytes of `in` consumed: less than n only when the
 * DATA end marker was reached (d->done); what follows is commands. */
size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t n, char *out, size_t *out_n);

/* BDAT LAST: the message is complete. A CR left pending at the very end is
 * a bare CR. */
void smtp_data_finish_chunks(struct smtp_data *d);

/* The reply for an error (complete line, no CRLF), or NULL for OK. */
const char *smtp_data_err_reply(enum smtp_data_err err);

/* Dot-stuff msg[0..n) for DATA into out (room for 2n + 5 bytes), adding the
 * terminating ".\r\n" (and a CRLF first when msg does not end with one).
 * Returns the length. For tests and the outbound side. */
size_t smtp_data_stuff(const char *msg, size_t n, char *out);

#endif
