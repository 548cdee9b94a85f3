/* STARTTLS, LOGIN and AUTHENTICATE (RFC 9051 6.2, SASL-IR RFC 4959). */
#include "imap/imap_internal.h"
#include "lib/arena.h"
#include "lib/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum imap_cmd_result imap_cmd_starttls(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "STARTTLS takes no arguments");
		return IMAP_CMD_DONE;
	}
	if (s->c->tls != CONN_TLS_NONE) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "TLS is already active");
		return IMAP_CMD_DONE;
	}
	imap_tagged(s, cmd->tag, "OK", NULL, "Begin TLS negotiation now");
	/* Drops anything the client pipelined after the command. */
	if (conn_starttls(s->c) < 0)
		imap_tagged(s, "*", "BAD", NULL, "TLS is not available");
	return IMAP_CMD_DONE;
}

static void login_done(struct conn *c, enum auth_login_result r, int64_t uid, const char *addr)
{
	struct imap_session *s = c->session;
	s->login = NULL;
	switch (r) {
	case AUTH_LOGIN_OK:
		s->state = IMAP_STATE_AUTH;
		s->user_id = uid;
		snprintf(s->user, sizeof(s->user), "%s", addr);
		conn_set_user(c, addr);
		conn_log(c, LOGL_INFO, "login ok");
		conn_printf(c, "%s OK [CAPABILITY %s] Logged in\r\n", s->tag, imap_capabilities(s));
		break;
	case AUTH_LOGIN_DISABLED:
		imap_tagged(s, s->tag, "NO", "AUTHENTICATIONFAILED", "Account disabled");
		break;
	case AUTH_LOGIN_TEMPFAIL:
		imap_tagged(s, s->tag, "NO", "UNAVAILABLE", "Temporary authentication failure, try again later");
		break;
	default:
		conn_log(c, LOGL_INFO, "login failed");
		imap_tagged(s, s->tag, "NO", "AUTHENTICATIONFAILED", "Authentication failed");
		break;
	}
	imap_command_finish(s);
}

static bool privacy_ok(struct imap_session *s, const char *tag)
{
	if (runtime_plaintext_auth_ok(s->c))
		return true;
	imap_tagged(s, tag, "NO", "PRIVACYREQUIRED", "Use STARTTLS or port 993 before sending a password");
	return false;
}

enum imap_cmd_result imap_cmd_login(struct imap_session *s, const struct imap_command *cmd)
{
	const char *user, *pass;
	size_t ulen, plen;
	if (cmd->nargs != 2 || !imap_arg_get_astring(&cmd->args[0], &user, &ulen) ||
	    !imap_arg_get_astring(&cmd->args[1], &pass, &plen)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: LOGIN user password");
		return IMAP_CMD_DONE;
	}
	if (!privacy_ok(s, cmd->tag))
		return IMAP_CMD_DONE;
	if (ulen == 0 || ulen > 255 || memchr(user, '\0', ulen) != NULL || plen > SASL_PASSWORD_MAX) {
		imap_tagged(s, cmd->tag, "NO", "AUTHENTICATIONFAILED", "Authentication failed");
		return IMAP_CMD_DONE;
	}
	s->login = auth_login_start(s->c, user, pass, plen, login_done);
	return IMAP_CMD_ASYNC;
}

/* The exchange is over: the credentials are wiped and its memory given
 * back (a session holds none outside AUTHENTICATE). */
void imap_auth_end(struct imap_session *s)
{
	s->sasl_active = false;
	if (s->sasl != NULL) {
		sasl_reset(s->sasl);
		free(s->sasl);
		s->sasl = NULL;
	}
}

static enum imap_cmd_result sasl_outcome(struct imap_session *s, enum sasl_status st, const char *text)
{
	switch (st) {
	case SASL_CONTINUE:
		s->sasl_active = true;
		conn_printf(s->c, "+ %s\r\n", text);
		imap_parser_expect_line(s->parser, IMAP_LINE_AUTH);
		return IMAP_CMD_ASYNC;
	case SASL_DONE:
		s->login = auth_login_start(s->c, s->sasl->username, s->sasl->password,
		                            s->sasl->password_len, login_done);
		imap_auth_end(s);
		return IMAP_CMD_ASYNC;
	case SASL_CANCEL:
		imap_auth_end(s);
		imap_tagged(s, s->tag, "BAD", NULL, "Authentication cancelled");
		return IMAP_CMD_DONE;
	case SASL_FAIL:
	default:
		/* text is static here, never in the struct being freed. */
		imap_auth_end(s);
		conn_log(s->c, LOGL_INFO, "auth failed reason=\"%s\"", text);
		imap_tagged(s, s->tag, "NO", "AUTHENTICATIONFAILED", "Authentication failed");
		return IMAP_CMD_DONE;
	}
}

enum imap_cmd_result imap_cmd_authenticate(struct imap_session *s, const struct imap_command *cmd)
{
	const char *mech, *ir = NULL;
	if (cmd->nargs < 1 || cmd->nargs > 2 || !imap_arg_get_atom(&cmd->args[0], &mech) ||
	    (cmd->nargs == 2 && !imap_arg_get_atom(&cmd->args[1], &ir))) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: AUTHENTICATE mechanism [initial-response]");
		return IMAP_CMD_DONE;
	}
	if (sasl_mech_by_name(mech) == SASL_MECH_NONE) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", "Unsupported authentication mechanism");
		return IMAP_CMD_DONE;
	}
	if (!privacy_ok(s, cmd->tag))
		return IMAP_CMD_DONE;
	const char *text = NULL;
	s->sasl = xcalloc(1, sizeof(*s->sasl));
	enum sasl_status st = sasl_start(s->sasl, mech, ir, &text);
	return sasl_outcome(s, st, text);
}

void imap_auth_line(struct imap_session *s, const char *line, size_t len, bool cancel)
{
	const char *text = NULL;
	enum sasl_status st = cancel ? SASL_CANCEL : sasl_step(s->sasl, line, len, &text);
	if (sasl_outcome(s, st, text) == IMAP_CMD_DONE)
		imap_command_finish(s);
}
