/* queue_dsn: RFC 3464 delivery status notifications (see queue_dsn.h). */
#include "queue/queue_dsn.h"
#include "lib/date.h"
#include "lib/xtext.h"
#include "queue/queue_client.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_ACTIONS 4

const char *queue_dsn_status_for_code(int code)
{
	if (code >= 500)
		return "5.0.0";
	if (code >= 400)
		return "4.0.0";
	return "2.0.0";
}

/* Does the diagnostic look like an SMTP reply ("550 ...")? */
static bool is_smtp_reply(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
	       s[2] <= '9' && (s[3] == ' ' || s[3] == '\0');
}

static bool has_action(const struct queue_dsn *d, enum queue_dsn_action a)
{
	for (size_t i = 0; i < d->n_rcpts; i++)
		if (d->rcpts[i].action == a)
			return true;
	return false;
}

static const char *action_name(enum queue_dsn_action a)
{
	static const char *const names[N_ACTIONS] = { "failed", "delayed", "delivered", "relayed" };
	return (unsigned)a < N_ACTIONS ? names[a] : "failed";
}

/* The Status: of one recipient (out has room for 16). */
static const char *status_of(const struct queue_dsn *d, const struct queue_dsn_rcpt *r,
                             char out[16])
{
	const char *diag = r->diag != NULL ? r->diag : "";
	const char *st = r->status != NULL ? r->status : "";
	char want = r->action == QUEUE_DSN_FAILED ? 0 : r->action == QUEUE_DSN_DELAYED ? '4' : '2';
	if (st[0] == '\0' && is_smtp_reply(diag)) {
		qc_enhanced(diag, out);
		st = out[0] ? out : queue_dsn_status_for_code(atoi(diag));
	}
	/* The class must match the action (RFC 3464 2.3.4): a success is 2.x.x,
	 * a delay 4.x.x; a failure is whatever failed it. */
	if (st[0] != '\0' && (want == 0 || st[0] == want))
		return st;
	switch (r->action) {
	case QUEUE_DSN_DELAYED:
		return "4.0.0";
	case QUEUE_DSN_DELIVERED:
	case QUEUE_DSN_RELAYED:
		return "2.0.0";
	default:
		return d->expired ? "4.4.7" : "5.0.0";
	}
}

static int paragraph(const struct queue_dsn *d, enum queue_dsn_action a, struct buf *out)
{
	int rc = 0;
	char until[DATE_RFC5322_SIZE];
	switch (a) {
	case QUEUE_DSN_FAILED:
		if (d->expired)
			rc |= buf_append_str(out, "Your message could not be delivered to the "
			                     "recipients below within the time allowed,\r\nand the mail "
			                     "system has given up trying.\r\n\r\n");
		else
			rc |= buf_append_str(out, "Your message could not be delivered to the "
			                     "recipients below. This is a permanent\r\nerror; the mail "
			                     "system will not try again.\r\n\r\n");
		break;
	case QUEUE_DSN_DELAYED:
		date_format_rfc5322((time_t)d->retry_until, 0, until);
		rc |= buf_printf(out, "Your message has not been delivered to the recipients below "
		                 "yet. The mail\r\nsystem will keep trying until %s;\r\nyou do not "
		                 "need to send it again.\r\n\r\n", until);
		break;
	case QUEUE_DSN_DELIVERED:
		rc |= buf_append_str(out, "Your message was delivered to the recipients below.\r\n\r\n");
		break;
	case QUEUE_DSN_RELAYED:
		rc |= buf_append_str(out, "Your message was passed on for the recipients below to a "
		                     "mail system that\r\ndoes not report deliveries: no further "
		                     "notice will come.\r\n\r\n");
		break;
	}
	for (size_t i = 0; i < d->n_rcpts; i++) {
		const struct queue_dsn_rcpt *r = &d->rcpts[i];
		if (r->action != a)
			continue;
		rc |= buf_printf(out, "<%s>:", r->addr);
		if (r->remote != NULL && r->remote[0])
			rc |= buf_printf(out, " host %s said:", r->remote);
		if (r->diag != NULL && r->diag[0])
			rc |= buf_printf(out, " %s\r\n", r->diag);
		else
			rc |= buf_printf(out, " %s\r\n", a == QUEUE_DSN_FAILED ? "delivery failed"
			                                 : a == QUEUE_DSN_DELAYED ? "delivery delayed"
			                                                          : a == QUEUE_DSN_DELIVERED
			                                                                ? "delivered"
			                                                                : "relayed");
	}
	return rc | buf_append_str(out, "\r\n");
}

static int human_part(const struct queue_dsn *d, struct buf *out)
{
	int rc = 0;
	rc |= buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                 "Content-Transfer-Encoding: 8bit\r\n\r\n", d->boundary);
	rc |= buf_printf(out, "This is the mail system at %s.\r\n\r\n", d->hostname);
	static const enum queue_dsn_action order[N_ACTIONS] = {
		QUEUE_DSN_FAILED, QUEUE_DSN_DELAYED, QUEUE_DSN_RELAYED, QUEUE_DSN_DELIVERED,
	};
	for (size_t k = 0; k < N_ACTIONS; k++)
		if (has_action(d, order[k]))
			rc |= paragraph(d, order[k], out);
	if (d->queue_id != NULL && d->queue_id[0])
		rc |= buf_printf(out, "The message's queue id was %s. ", d->queue_id);
	rc |= buf_printf(out, "%s attached.\r\n", d->orig_full ? "A copy of it is"
	                                                       : "Its headers are");
	return rc;
}

/* "Name: <decoded xtext>\r\n"; nothing when the value is empty or bad. */
static int decoded_field(struct buf *out, const char *name, const char *prefix, size_t plen,
                         const char *xt, size_t xn)
{
	char text[512];
	if (xt == NULL || xn == 0 || xtext_decode(xt, xn, text, sizeof(text)) < 0)
		return 0;
	return buf_printf(out, "%s: %.*s%s\r\n", name, (int)plen, prefix, text);
}

static int status_part(const struct queue_dsn *d, struct buf *out)
{
	char date[DATE_RFC5322_SIZE], now[DATE_RFC5322_SIZE], until[DATE_RFC5322_SIZE];
	int rc = 0;
	rc |= buf_printf(out, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n",
	                 d->boundary);
	if (d->envid != NULL)
		rc |= decoded_field(out, "Original-Envelope-Id", "", 0, d->envid, strlen(d->envid));
	rc |= buf_printf(out, "Reporting-MTA: dns; %s\r\n", d->hostname);
	if (d->queue_id != NULL && d->queue_id[0])
		rc |= buf_printf(out, "X-Queue-ID: %s\r\n", d->queue_id);
	date_format_rfc5322((time_t)d->arrival, 0, date);
	rc |= buf_printf(out, "Arrival-Date: %s\r\n", date);
	date_format_rfc5322((time_t)d->now, 0, now);
	date_format_rfc5322((time_t)d->retry_until, 0, until);
	for (size_t i = 0; i < d->n_rcpts; i++) {
		const struct queue_dsn_rcpt *r = &d->rcpts[i];
		char from_reply[16] = "";
		rc |= buf_append_str(out, "\r\n");
		if (r->orcpt != NULL && r->orcpt[0]) {
			const char *semi = strchr(r->orcpt, ';');
			if (semi != NULL)
				rc |= decoded_field(out, "Original-Recipient", r->orcpt,
				                    (size_t)(semi + 1 - r->orcpt), semi + 1, strlen(semi + 1));
		}
		rc |= buf_printf(out, "Final-Recipient: %s; %s\r\nAction: %s\r\nStatus: %s\r\n",
		                 d->utf8 ? "utf-8" : "rfc822", r->addr, action_name(r->action),
		                 status_of(d, r, from_reply));
		if (r->remote != NULL && r->remote[0])
			rc |= buf_printf(out, "Remote-MTA: dns; %s\r\n", r->remote);
		if (r->diag != NULL && r->diag[0])
			rc |= buf_printf(out, "Diagnostic-Code: %s; %s\r\n",
			                 is_smtp_reply(r->diag) ? "smtp" : "x-mailkeep", r->diag);
		rc |= buf_printf(out, "Last-Attempt-Date: %s\r\n", now);
		if (r->action == QUEUE_DSN_DELAYED)
			rc |= buf_printf(out, "Will-Retry-Until: %s\r\n", until);
	}
	return rc;
}

static const char *subject(const struct queue_dsn *d)
{
	if (has_action(d, QUEUE_DSN_FAILED))
		return "Undelivered Mail Returned to Sender";
	if (has_action(d, QUEUE_DSN_DELAYED))
		return "Delayed Mail (still being retried)";
	if (has_action(d, QUEUE_DSN_RELAYED))
		return "Delivery Status Notification (relayed)";
	return "Successful Mail Delivery Report";
}

int queue_dsn_compose(const struct queue_dsn *d, struct buf *out)
{
	char date[DATE_RFC5322_SIZE];
	date_format_rfc5322((time_t)d->now, 0, date);
	int rc = 0;
	rc |= buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", d->hostname);
	rc |= buf_printf(out, "To: <%s>\r\n", d->sender);
	rc |= buf_printf(out, "Subject: %s\r\nDate: %s\r\n", subject(d), date);
	if (d->message_id != NULL && d->message_id[0] != '\0')
		rc |= buf_printf(out, "Message-ID: <%s>\r\n", d->message_id);
	else if (d->queue_id != NULL && d->queue_id[0] != '\0')
		rc |= buf_printf(out, "Message-ID: <dsn.%s.%" PRId64 "@%s>\r\n", d->queue_id, d->now,
		                 d->hostname);
	else
		rc |= buf_printf(out, "Message-ID: <dsn.%" PRId64 ".%s@%s>\r\n", d->now, d->boundary,
		                 d->hostname);
	rc |= buf_printf(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	                 "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	                 "\tboundary=\"%s\"\r\n\r\n"
	                 "This is a MIME-encapsulated message.\r\n\r\n", d->boundary);
	rc |= human_part(d, out);
	rc |= status_part(d, out);
	rc |= buf_printf(out, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", d->boundary,
	                 d->orig_full ? "message/rfc822" : "text/rfc822-headers");
	rc |= buf_append(out, d->orig, d->orig_len);
	if (d->orig_len > 0 && d->orig[d->orig_len - 1] != '\n')
		rc |= buf_append_str(out, "\r\n");
	rc |= buf_printf(out, "\r\n--%s--\r\n", d->boundary);
	return rc < 0 ? -1 : 0;
}
