/*
 * queue_dsn: the bounce message (RFC 3464 delivery status notification)
 * sent to the sender of a message that could not be delivered to some of
 * its recipients. A pure function: it writes the whole message into a buf.
 *
 *   multipart/report; report-type=delivery-status
 *     1. text/plain: what happened, in words, one line per recipient
 *     2. message/delivery-status: Reporting-MTA, Arrival-Date (+ X-Queue-ID)
 *        then per recipient: Final-Recipient, Action: failed, Status,
 *        Remote-MTA, Diagnostic-Code, Last-Attempt-Date
 *     3. text/rfc822-headers: the original message's header section
 *
 * Lines end with CRLF. The caller never sends a DSN for the null sender
 * (RFC 5321 section 6.1: a bounce must not bounce); the DSN itself goes out
 * with the null sender.
 */
#ifndef MK_QUEUE_DSN_H
#define MK_QUEUE_DSN_H

#include "lib/buf.h"
#include "queue/queue_env.h"

#include <stddef.h>
#include <stdint.h>

struct queue_dsn {
	const char *hostname;         /* Reporting-MTA and the From: domain */
	const struct queue_env *env;  /* id, sender, created */
	int64_t now;                  /* Date: and Last-Attempt-Date */
	const char *boundary;         /* unique; must not occur in the headers */
	const char *message_id;       /* without <>; "" = derived from id + now */
	bool expired;                 /* the explanation says it timed out */
	const char *orig_headers;     /* the failed message's header section */
	size_t orig_headers_len;
};

/* Writes the DSN for every recipient of env in state QUEUE_RCPT_FAILED.
 * 0, or -1 if out's ceiling was hit. */
int queue_dsn_compose(const struct queue_dsn *d, struct buf *out);

/* "5.0.0" / "4.0.0"-style status for an SMTP reply code when the reply
 * had no enhanced status code. */
const char *queue_dsn_status_for_code(int code);

#endif
