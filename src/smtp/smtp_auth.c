/* AUTH (RFC 4954) on submission: SMTP framing over auth/sasl, the login
 * step of auth/auth_login. */
#include "smtp/smtp_internal.h"
#include "lib/runtime.h"

#include <stdio.h>
#include <string.h>

static void login_done(struct conn *c, enum auth_login_result r, int64_t uid, const char *addr)
{
	struct smtp_session *s = c->session;
	s->login = NULL;
	switch (r) {
	case AUTH_LOGIN_OK:
		s->authed = true;
		s->user_id = uid;
		snprintf(s->user, sizeof(s->user), "%s", addr);
		conn_set_user(c, addr);
		conn_log(c, LOGL_INFO, "login ok");
		smtp_reply(s, "235 2.7.0 Authentication successful");
		break;
	case AUTH_LOGIN_TEMPFAIL:
		smtp_reply(s, "454 4.7.0 Temporary authentication failure, try again later");
		break;
	case AUTH_LOGIN_DISABLED:
	default:
		s->bad++;
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		break;
	}
	smtp_resume(s);
}

static void sasl_outcome(struct smtp_session *s, enum sasl_status st, const char *text)
{
	switch (st) {
	case SASL_CONTINUE:
		s->sasl_active = true;
		smtp_replyf(s, "334 %s", text);
		return;
	case SASL_DONE:
		s->sasl_active = false;
		s->phase = SMTP_PH_WAIT;
		s->login = auth_login_start(s->c, s->sasl.username, s->sasl.password,
		                            s->sasl.password_len, login_done);
		sasl_reset(&s->sasl);
		return;
	case SASL_CANCEL:
		s->sasl_active = false;
		sasl_reset(&s->sasl);
		smtp_reply(s, "501 5.7.0 Authentication cancelled");
		return;
	case SASL_FAIL:
	default:
		s->sasl_active = false;
		sasl_reset(&s->sasl);
		s->bad++;
		conn_log(s->c, LOGL_INFO, "auth failed reason=\"%s\"", text);
		smtp_reply(s, "501 5.5.2 Malformed authentication exchange");
		return;
	}
}

void smtp_cmd_auth(struct smtp_session *s, const char *arg, size_t len)
{
	if (s->mode != SMTP_MODE_SUBMISSION || !s->esmtp) {
		s->bad++;
		smtp_reply(s, "503 5.5.1 AUTH is not available here");
		return;
	}
	if (s->authed) {
		smtp_reply(s, "503 5.5.1 Already authenticated");
		return;
	}
	if (s->have_mail) {
		smtp_reply(s, "503 5.5.1 AUTH not allowed during a mail transaction");
		return;
	}
	if (!runtime_plaintext_auth_ok(s->c)) {
		smtp_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	char mech[32], initial[SASL_LINE_MAX + 1];
	size_t m = 0;
	while (m < len && arg[m] != ' ')
		m++;
	size_t i = m;
	while (i < len && arg[i] == ' ')
		i++;
	if (m == 0 || m >= sizeof(mech) || len - i > SASL_LINE_MAX) {
		smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memcpy(mech, arg, m);
	mech[m] = '\0';
	if (sasl_mech_by_name(mech) == SASL_MECH_NONE) {
		smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	memcpy(initial, arg + i, len - i);
	initial[len - i] = '\0';
	const char *text = NULL;
	enum sasl_status st = sasl_start(&s->sasl, mech, i < len ? initial : NULL, &text);
	sasl_outcome(s, st, text);
}

void smtp_sasl_line(struct smtp_session *s, const char *line, size_t len)
{
	const char *text = NULL;
	enum sasl_status st = sasl_step(&s->sasl, line, len, &text);
	sasl_outcome(s, st, text);
}
