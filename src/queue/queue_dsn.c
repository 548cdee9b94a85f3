/* queue_dsn: RFC 3464 bounce messages (see queue_dsn.h). */
#include "queue/queue_dsn.h"
#include "lib/date.h"
#include "queue/queue_client.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int human_part(const struct queue_dsn *d, struct buf *out)
{
	const struct queue_env *env = d->env;
	int rc = 0;
	rc |= buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                 "Content-Transfer-Encoding: 8bit\r\n\r\n", d->boundary);
	rc |= buf_printf(out, "This is the mail system at %s.\r\n\r\n", d->hostname);
	if (d->expired)
		rc |= buf_append_str(out, "Your message could not be delivered to the recipients "
		                     "below within the time allowed,\r\nand the mail system has "
		                     "given up trying.\r\n\r\n");
	else
		rc |= buf_append_str(out, "Your message could not be delivered to the recipients "
		                     "below. This is a permanent\r\nerror; the mail system will not "
		                     "try again.\r\n\r\n");
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];
		if (r->state != QUEUE_RCPT_FAILED)
			continue;
		rc |= buf_printf(out, "<%s>:", r->addr);
		if (r->remote[0])
			rc |= buf_printf(out, " host %s said:", r->remote);
		rc |= buf_printf(out, " %s\r\n", r->diag[0] ? r->diag : "delivery failed");
	}
	rc |= buf_printf(out, "\r\nThe message's queue id was %s; its headers are attached.\r\n",
	                 env->id);
	return rc;
}

static int status_part(const struct queue_dsn *d, struct buf *out)
{
	const struct queue_env *env = d->env;
	char date[DATE_RFC5322_SIZE];
	int rc = 0;
	rc |= buf_printf(out, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n",
	                 d->boundary);
	date_format_rfc5322((time_t)env->created, 0, date);
	rc |= buf_printf(out, "Reporting-MTA: dns; %s\r\nX-Queue-ID: %s\r\nArrival-Date: %s\r\n",
	                 d->hostname, env->id, date);
	date_format_rfc5322((time_t)d->now, 0, date);
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];
		if (r->state != QUEUE_RCPT_FAILED)
			continue;
		char from_reply[16] = "";
		const char *status = r->status;
		if (status[0] == '\0' && is_smtp_reply(r->diag)) {
			qc_enhanced(r->diag, from_reply);
			status = from_reply[0] ? from_reply : queue_dsn_status_for_code(atoi(r->diag));
		}
		if (status[0] == '\0')
			status = d->expired ? "4.4.7" : "5.0.0";
		rc |= buf_printf(out, "\r\nFinal-Recipient: %s; %s\r\nAction: failed\r\nStatus: %s\r\n",
		                 env->smtputf8 ? "utf-8" : "rfc822", r->addr, status);
		if (r->remote[0])
			rc |= buf_printf(out, "Remote-MTA: dns; %s\r\n", r->remote);
		if (r->diag[0])
			rc |= buf_printf(out, "Diagnostic-Code: %s; %s\r\n",
			                 is_smtp_reply(r->diag) ? "smtp" : "x-mailkeep", r->diag);
		rc |= buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
		if (d->expired)
			rc |= buf_printf(out, "Will-Retry-Until: %s\r\n", date);
	}
	return rc;
}

int queue_dsn_compose(const struct queue_dsn *d, struct buf *out)
{
	const struct queue_env *env = d->env;
	char date[DATE_RFC5322_SIZE];
	date_format_rfc5322((time_t)d->now, 0, date);
	int rc = 0;
	rc |= buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", d->hostname);
	rc |= buf_printf(out, "To: <%s>\r\n", env->sender);
	rc |= buf_printf(out, "Subject: Undelivered Mail Returned to Sender\r\nDate: %s\r\n", date);
	if (d->message_id != NULL && d->message_id[0] != '\0')
		rc |= buf_printf(out, "Message-ID: <%s>\r\n", d->message_id);
	else
		rc |= buf_printf(out, "Message-ID: <dsn.%s.%" PRId64 "@%s>\r\n", env->id, d->now,
		                 d->hostname);
	rc |= buf_printf(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	                 "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	                 "\tboundary=\"%s\"\r\n\r\n"
	                 "This is a MIME-encapsulated message.\r\n\r\n", d->boundary);
	rc |= human_part(d, out);
	rc |= status_part(d, out);
	rc |= buf_printf(out, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
	                 d->boundary);
	rc |= buf_append(out, d->orig_headers, d->orig_headers_len);
	if (d->orig_headers_len > 0 && d->orig_headers[d->orig_headers_len - 1] != '\n')
		rc |= buf_append_str(out, "\r\n");
	rc |= buf_printf(out, "\r\n--%s--\r\n", d->boundary);
	return rc < 0 ? -1 : 0;
}
