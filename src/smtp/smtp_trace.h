/*
 * smtp_trace: the header lines the server adds to a message it accepts,
 * and what it reads from the message's own header.
 *
 *   Received: (RFC 5321 4.4) on every accepted message, first line;
 *   Date:, Message-ID: added by submission when missing (RFC 6409 8.2, 8.3).
 *
 * The client's HELO name goes into Received with every byte outside
 * printable ASCII, and the characters ( ) \ , replaced by '?', and cut to
 * 100 bytes, so it cannot break the field. Lines are folded before 78
 * columns where the parts allow.
 *
 * Pure functions (the time and ids are passed in); thread-safe.
 */
#ifndef MK_SMTP_TRACE_H
#define MK_SMTP_TRACE_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct arena;

struct smtp_received {
	const char *helo;       /* as the client sent it ("" if none) */
	const char *ip;         /* the client's address ("local" for unix) */
	const char *by;         /* our hostname */
	const char *with;       /* "ESMTPSA", "ESMTPS", "ESMTP", "SMTP", "LMTP"...
	                           (RFC 3848) */
	const char *id;         /* our id for the message */
	const char *for_addr;   /* the one recipient, or NULL (several: not
	                           disclosed) */
	time_t now;
	int tz_minutes;
};

/* Append "Received: ...\r\n". 0, or -1 at b's ceiling. */
int smtp_received_write(struct buf *b, const struct smtp_received *r);

/* The RFC 3848 protocol name for a session. */
const char *smtp_with_name(bool lmtp, bool esmtp, bool tls, bool auth, bool utf8);

/* Is there a field `name` in the header section hdr[0..len) (the bytes up
 * to the empty line, or all of them if it was not seen)? */
bool smtp_header_has(const char *hdr, size_t len, const char *name);

/* The mailboxes ("local@domain", arena strings) of every field `name`
 * (From, Sender) in hdr[0..len), at most max; their count, or -1 if a
 * mailbox has no domain. */
int smtp_header_mailboxes(struct arena *a, const char *hdr, size_t len, const char *name,
                          const char **out, size_t max);

/* "Message-ID: <hex.hex@host>\r\n" from the given random bits. */
int smtp_message_id_write(struct buf *b, const char *host, unsigned long long r1,
                          unsigned long long r2);

#endif
