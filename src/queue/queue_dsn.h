/*
 * queue_dsn: composing a delivery status notification (RFC 3464) for the
 * DSN extension (RFC 3461). A pure function: it writes the whole message
 * into a buf; the queue (queue_bounce.c) and the SMTP sessions (success
 * DSNs for local deliveries) decide when to send one and to whom.
 *
 *   multipart/report; report-type=delivery-status
 *     1. text/plain: what happened, in words, one line per recipient
 *     2. message/delivery-status: [Original-Envelope-Id], Reporting-MTA,
 *        [X-Queue-ID], Arrival-Date; then per recipient:
 *        [Original-Recipient], Final-Recipient, Action, Status,
 *        [Remote-MTA], [Diagnostic-Code], Last-Attempt-Date,
 *        [Will-Retry-Until] (delayed only)
 *     3. text/rfc822-headers (the original header section) or, when the
 *        caller passes the whole message (RET=FULL or no RET on a failure),
 *        message/rfc822
 *
 * ENVID and ORCPT are given as the xtext the client sent; the DSN shows
 * them decoded (RFC 3461 6.3). One DSN may report several recipients, each
 * with its own action. Lines end with CRLF. The caller never sends a DSN
 * for the null sender (RFC 5321 6.1, RFC 3461 6.1: a DSN must not cause
 * another); the DSN itself goes out from the null sender.
 */
#ifndef MK_QUEUE_DSN_H
#define MK_QUEUE_DSN_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum queue_dsn_action {
	QUEUE_DSN_FAILED,
	QUEUE_DSN_DELAYED,
	QUEUE_DSN_DELIVERED,
	QUEUE_DSN_RELAYED,
};

struct queue_dsn_rcpt {
	enum queue_dsn_action action;
	const char *addr;             /* Final-Recipient */
	const char *orcpt;            /* ORCPT "type;xtext", NULL or "" = none */
	const char *status;           /* "5.1.1"; "" = from diag, else by action */
	const char *remote;           /* Remote-MTA host, "" = none */
	const char *diag;             /* the reply or reason, "" = none */
};

struct queue_dsn {
	const char *hostname;         /* Reporting-MTA and the From: domain */
	const char *sender;           /* To: (the original sender) */
	const char *queue_id;         /* X-Queue-ID and the Message-ID; "" = none */
	const char *envid;            /* ENVID xtext; NULL or "" = none */
	bool utf8;                    /* addresses may be UTF-8 ("utf-8" type) */
	int64_t arrival;              /* Arrival-Date */
	int64_t now;                  /* Date:, Last-Attempt-Date */
	int64_t retry_until;          /* delayed: Will-Retry-Until */
	const char *boundary;         /* unique; must not occur in orig */
	const char *message_id;       /* without <>; "" = derived from queue_id + now */
	bool expired;                 /* failures: the explanation says it timed out */
	const struct queue_dsn_rcpt *rcpts;
	size_t n_rcpts;
	const char *orig;             /* the original header section, or the message */
	size_t orig_len;
	bool orig_full;               /* orig is the whole message (message/rfc822) */
};

/* Write the DSN. 0, or -1 if out's ceiling was hit. */
int queue_dsn_compose(const struct queue_dsn *d, struct buf *out);

/* "5.0.0" / "4.0.0"-style status for an SMTP reply code when the reply
 * had no enhanced status code. */
const char *queue_dsn_status_for_code(int code);

#endif
