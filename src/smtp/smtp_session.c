#include "smtp/smtp.h"
#include "smtp/smtp_internal.h"
#include "lib/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void smtp_start(struct conn *c);

const struct proto smtp_submission_proto = {
	.name = "submission",
	.start = smtp_start,
	.busy_reply = "421 4.7.0 Too many connections, try again later\r\n",
};
const struct proto smtp_inbound_proto = {
	.name = "smtp",
	.start = smtp_start,
	.busy_reply = "421 4.7.0 Too many connections, try again later\r\n",
};
const struct proto smtp_lmtp_proto = {
	.name = "lmtp",
	.start = smtp_start,
	.busy_reply = "421 4.7.0 Too many connections, try again later\r\n",
};

void smtp_reply(struct smtp_session *s, const char *line)
{
	conn_puts(s->c, line);
	conn_puts(s->c, "\r\n");
}

void smtp_replyf(struct smtp_session *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	smtp_reply(s, line);
}

static bool auth_offered(const struct smtp_session *s)
{
	return s->mode == SMTP_MODE_SUBMISSION && !s->authed && runtime_plaintext_auth_ok(s->c);
}

unsigned smtp_extensions(const struct smtp_session *s)
{
	if (!s->esmtp)
		return 0;
	/* DSN (RFC 3461): its parameters travel into the queue's envelope and
	 * on to the next hop, and decide which DSNs are sent (smtp_dsn.c,
	 * queue.h). LMTP offers it too: RFC 2033 section 5 asks LMTP servers
	 * to implement DSN. */
	unsigned e = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | SMTP_EXT_CHUNKING |
	             SMTP_EXT_DSN;
	if (s->mode == SMTP_MODE_SUBMISSION)
		e |= SMTP_EXT_AUTH;
	return e;
}

static void set_timeout(struct smtp_session *s)
{
	uint64_t secs = s->mode == SMTP_MODE_SUBMISSION && !s->authed
	                    ? runtime_config->preauth_timeout : runtime_config->smtp_timeout;
	conn_set_timeout(s->c, secs * 1000);
}

static void cmd_hello(struct smtp_session *s, enum smtp_verb v, const char *arg, size_t len)
{
	const char *name = smtp_verb_name(v);
	if (len == 0 || len >= sizeof(s->helo) || memchr(arg, ' ', len) != NULL) {
		smtp_replyf(s, "501 5.5.4 Syntax: %s hostname", name);
		return;
	}
	smtp_txn_reset(s);
	memcpy(s->helo, arg, len);
	s->helo[len] = '\0';
	s->greeted = true;
	s->esmtp = v != SMTP_CMD_HELO;
	const char *host = runtime_config->hostname;
	if (!s->esmtp) {
		smtp_replyf(s, "250 %s", host);
		return;
	}
	struct conn *c = s->c;
	conn_printf(c, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n250-8BITMIME\r\n"
	               "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n",
	            host, (unsigned long long)runtime_config->max_message_size);
	if (s->mode != SMTP_MODE_LMTP && c->tls == CONN_TLS_NONE)
		conn_puts(c, "250-STARTTLS\r\n");
	if (auth_offered(s))
		conn_puts(c, "250-AUTH PLAIN LOGIN\r\n");
	conn_puts(c, "250 CHUNKING\r\n");
}

static void cmd_starttls(struct smtp_session *s, size_t len)
{
	if (s->mode == SMTP_MODE_LMTP) {
		smtp_reply(s, "502 5.5.1 STARTTLS is not offered here");
	} else if (s->c->tls != CONN_TLS_NONE) {
		smtp_reply(s, "503 5.5.1 TLS is already active");
	} else if (len != 0) {
		smtp_reply(s, "501 5.5.4 Syntax: STARTTLS");
	} else if (s->have_mail) {
		smtp_reply(s, "503 5.5.1 STARTTLS not allowed during a mail transaction");
	} else {
		smtp_reply(s, "220 2.0.0 Ready to start TLS");
		if (conn_starttls(s->c) < 0)
			smtp_reply(s, "454 4.7.0 TLS not available");
	}
}

/* Check then proceed: the state rules every command shares. */
static void dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_cmd cmd;
	smtp_cmd_parse(line, len, &cmd);
	bool lmtp = s->mode == SMTP_MODE_LMTP;
	switch (cmd.verb) {
	case SMTP_CMD_HELO:
	case SMTP_CMD_EHLO:
		if (lmtp) {
			s->bad++;
			smtp_reply(s, "500 5.5.1 This is LMTP: use LHLO");
		} else {
			cmd_hello(s, cmd.verb, cmd.arg, cmd.arg_len);
		}
		return;
	case SMTP_CMD_LHLO:
		if (!lmtp) {
			s->bad++;
			smtp_reply(s, "500 5.5.2 Command unrecognized");
		} else {
			cmd_hello(s, cmd.verb, cmd.arg, cmd.arg_len);
		}
		return;
	case SMTP_CMD_QUIT:
		smtp_replyf(s, "221 2.0.0 %s closing connection", runtime_config->hostname);
		conn_close(s->c);
		return;
	case SMTP_CMD_RSET:
		smtp_txn_reset(s);
		smtp_reply(s, "250 2.0.0 Ok");
		return;
	case SMTP_CMD_NOOP:
		smtp_reply(s, "250 2.0.0 Ok");
		return;
	case SMTP_CMD_HELP:
		smtp_reply(s, "214 2.0.0 mailkeep: see RFC 5321");
		return;
	case SMTP_CMD_VRFY:
	case SMTP_CMD_EXPN:
		smtp_replyf(s, "502 5.5.1 %s is disabled", smtp_verb_name(cmd.verb));
		return;
	case SMTP_CMD_STARTTLS:
		cmd_starttls(s, cmd.arg_len);
		return;
	case SMTP_CMD_BDAT:
		/* Checks its state itself: its chunk must be read either way. */
		smtp_cmd_bdat(s, cmd.arg, cmd.arg_len);
		return;
	case SMTP_CMD_UNKNOWN:
		s->bad++;
		smtp_reply(s, "500 5.5.2 Command unrecognized");
		return;
	default:
		break;
	}
	if (!s->greeted) {
		s->bad++;
		smtp_reply(s, lmtp ? "503 5.5.1 Send LHLO first" : "503 5.5.1 Send EHLO or HELO first");
		return;
	}
	switch (cmd.verb) {
	case SMTP_CMD_AUTH:
		smtp_cmd_auth(s, cmd.arg, cmd.arg_len);
		return;
	case SMTP_CMD_MAIL:
		smtp_cmd_mail(s, cmd.arg, cmd.arg_len);
		return;
	case SMTP_CMD_RCPT:
		smtp_cmd_rcpt(s, cmd.arg, cmd.arg_len);
		return;
	case SMTP_CMD_DATA:
		smtp_cmd_data(s, cmd.arg, cmd.arg_len);
		return;
	default:
		smtp_reply(s, "500 5.5.2 Command unrecognized");
		return;
	}
}

/* One command line; false to stop reading for now. */
static bool line_input(struct smtp_session *s)
{
	struct conn *c = s->c;
	size_t max = runtime_config->max_line_preauth, len, total;
	int r = conn_line(c, max, &len, &total);
	if (r == 0)
		return false;
	if (r < 0 || s->skip_line) {
		/* Too long: drop it up to its end, then say so and go on. */
		const char *lf = memchr(buf_ptr(&c->in), '\n', buf_len(&c->in));
		if (lf == NULL) {
			s->skip_line = true;
			buf_consume(&c->in, buf_len(&c->in));
			return false;
		}
		buf_consume(&c->in, (size_t)(lf - buf_ptr(&c->in)) + 1);
		s->skip_line = false;
		s->bad++;
		conn_log(c, LOGL_INFO, "line too long");
		smtp_reply(s, "500 5.5.2 Line too long");
		return true;
	}
	char *line = arena_strndup(s->arena, buf_ptr(&c->in), len);
	buf_consume(&c->in, total);
	if (s->sasl_active)
		smtp_sasl_line(s, line, len);
	else
		dispatch(s, line, len);
	arena_reset(s->arena);
	return true;
}

static void smtp_input(struct conn *c)
{
	struct smtp_session *s = c->session;
	/* Once closing, nothing more the client sent is acted on: after a
	 * "421 cannot tell where the message ended" the rest of the input may
	 * be a smuggled transaction. */
	while (!c->closed && !c->closing && s->phase != SMTP_PH_WAIT && !conn_output_full(c)) {
		bool more = s->phase == SMTP_PH_CMD ? line_input(s) : smtp_body_input(s);
		if (c->closed || c->closing)
			return;
		if (s->bad >= SMTP_MAX_BAD) {
			smtp_reply(s, "421 4.7.0 Too many errors, closing connection");
			conn_log(c, LOGL_INFO, "disconnected reason=too-many-errors");
			conn_close(c);
			return;
		}
		set_timeout(s);
		if (!more)
			return;
	}
}

void smtp_resume(struct smtp_session *s)
{
	s->phase = SMTP_PH_CMD;
	if (s->shutdown_pending) {
		smtp_reply(s, "421 4.3.2 Server shutting down");
		conn_close(s->c);
		return;
	}
	set_timeout(s);
	conn_resume_input(s->c);
}

static void smtp_drained(struct conn *c)
{
	struct smtp_session *s = c->session;
	if (s->phase != SMTP_PH_WAIT)
		conn_resume_input(c);
}

static void smtp_tls_done(struct conn *c)
{
	struct smtp_session *s = c->session;
	/* RFC 3207 4.2: forget everything learned before TLS. */
	smtp_txn_reset(s);
	s->greeted = s->esmtp = false;
	s->helo[0] = '\0';
	s->authed = false;
	s->user_id = 0;
	s->user[0] = '\0';
	set_timeout(s);
}

static void smtp_timeout(struct conn *c)
{
	struct smtp_session *s = c->session;
	smtp_replyf(s, "421 4.4.2 %s Error: timeout exceeded", runtime_config->hostname);
	conn_log(c, LOGL_INFO, "disconnected reason=timeout");
	conn_close(c);
}

static void smtp_shutdown(struct conn *c)
{
	struct smtp_session *s = c->session;
	if (s->phase == SMTP_PH_WAIT) {
		s->shutdown_pending = true;  /* answered when the work ends */
		return;
	}
	smtp_reply(s, "421 4.3.2 Server shutting down");
	conn_close(c);
}

static void smtp_closed(struct conn *c)
{
	struct smtp_session *s = c->session;
	if (s->login != NULL)
		auth_login_cancel(s->login);
	if (s->job != NULL)
		smtp_job_cancel(s->job);
	s->job = NULL;
	smtp_txn_reset(s);
	sasl_reset(&s->sasl);
	buf_deinit(&s->hdr);
	free(s->rcpts);
	free(s->targets);
	arena_free(&s->arena);
	free(s);
}

static const struct conn_ops smtp_ops = {
	.input = smtp_input,
	.drained = smtp_drained,
	.timeout = smtp_timeout,
	.tls_done = smtp_tls_done,
	.shutdown = smtp_shutdown,
	.closed = smtp_closed,
};

static void smtp_start(struct conn *c)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->mode = c->proto == &smtp_submission_proto ? SMTP_MODE_SUBMISSION
	          : c->proto == &smtp_lmtp_proto     ? SMTP_MODE_LMTP
	                                             : SMTP_MODE_INBOUND;
	s->arena = arena_new(4096);
	/* Never NULL, even for a transaction with only remote recipients:
	 * the delivery job copies it with memcpy (n may be 0). */
	s->cap_targets = 4;
	s->targets = xcalloc(s->cap_targets, sizeof(*s->targets));
	s->spool.fd = -1;
	buf_init(&s->hdr, SMTP_HEADER_MAX);
	c->session = s;
	c->ops = &smtp_ops;
	conn_log(c, LOGL_DEBUG, "session start");
	smtp_replyf(s, "220 %s %s mailkeep", runtime_config->hostname,
	            s->mode == SMTP_MODE_LMTP ? "LMTP" : "ESMTP");
	set_timeout(s);
}
