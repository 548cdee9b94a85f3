#include "pop3/pop3_internal.h"

#include <stdio.h>
#include <string.h>

/* The state machine lives in auth/sasl; here only POP3's framing:
 * challenges as "+ <base64>", the client's "*" cancels (RFC 5034). */

static void sasl_outcome(struct pop3_session *s, enum sasl_status st, const char *text)
{
	switch (st) {
	case SASL_CONTINUE:
		s->sasl_active = true;
		conn_printf(s->c, "+ %s\r\n", text);
		return;
	case SASL_DONE:
		s->sasl_active = false;
		pop3_login_begin(s, s->sasl.username, s->sasl.password, s->sasl.password_len);
		sasl_reset(&s->sasl);
		return;
	case SASL_CANCEL:
		s->sasl_active = false;
		sasl_reset(&s->sasl);
		pop3_reply(s, "-ERR Authentication cancelled");
		return;
	case SASL_FAIL:
	default:
		s->sasl_active = false;
		sasl_reset(&s->sasl);
		s->bad++;
		conn_log(s->c, LOGL_INFO, "auth failed reason=\"%s\"", text);
		pop3_reply(s, "-ERR [AUTH] Authentication failed: malformed exchange");
		return;
	}
}

void pop3_sasl_begin(struct pop3_session *s, const char *mech, const char *initial)
{
	if (sasl_mech_by_name(mech) == SASL_MECH_NONE) {
		pop3_reply(s, "-ERR Unsupported authentication mechanism");
		return;
	}
	const char *text = NULL;
	enum sasl_status st = sasl_start(&s->sasl, mech, initial, &text);
	sasl_outcome(s, st, text);
}

void pop3_sasl_line(struct pop3_session *s, const char *line)
{
	const char *text = NULL;
	enum sasl_status st = sasl_step(&s->sasl, line, strlen(line), &text);
	sasl_outcome(s, st, text);
}
