#include "pop3/pop3_session.h"
#include "pop3/pop3_internal.h"
#include "pop3/pop3_parse.h"
#include "auth/auth_login.h"
#include "lib/arena.h"
#include "lib/runtime.h"
#include "lib/strutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POP3_MAX_BAD 10
#define POP3_AUTH_LINE_MAX 4096

static void pop3_start(struct conn *c);

const struct proto pop3_proto = {
	.name = "pop3",
	.start = pop3_start,
	.busy_reply = "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
};

void pop3_reply(struct pop3_session *s, const char *line)
{
	conn_puts(s->c, line);
	conn_puts(s->c, "\r\n");
}

void pop3_send_capa(struct pop3_session *s)
{
	struct conn *c = s->c;
	bool auth_ok = runtime_plaintext_auth_ok(c);
	conn_puts(c, "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
	             "AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUTF8\r\n");
	if (s->state == POP3_AUTHORIZATION) {
		if (auth_ok)
			conn_puts(c, "USER\r\nSASL PLAIN LOGIN\r\n");
		if (c->tls == CONN_TLS_NONE)
			conn_puts(c, "STLS\r\n");
	}
	conn_puts(c, "IMPLEMENTATION mailkeep\r\n.\r\n");
}

static void login_done(struct conn *c, enum auth_login_result r, int64_t uid, const char *addr)
{
	struct pop3_session *s = c->session;
	s->login = NULL;
	switch (r) {
	case AUTH_LOGIN_OK:
		conn_set_user(c, addr);
		conn_log(c, LOGL_INFO, "login ok");
		if (pop3_maildrop_open(s, uid, addr) < 0)
			break;  /* the maildrop code replied and closed */
		s->state = POP3_TRANSACTION;
		conn_set_timeout(c, runtime_config->pop3_idle_timeout * 1000);
		break;
	case AUTH_LOGIN_DISABLED:
		pop3_reply(s, "-ERR [AUTH] Account disabled");
		break;
	case AUTH_LOGIN_TEMPFAIL:
		pop3_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure, try again later");
		break;
	default:
		pop3_reply(s, "-ERR [AUTH] Authentication failed");
		break;
	}
	s->have_user = false;
	conn_resume_input(c);
}

void pop3_login_begin(struct pop3_session *s, const char *user, const char *pass, size_t plen)
{
	s->login = auth_login_start(s->c, user, pass, plen, login_done);
}

/* USER/PASS and AUTH are refused on a cleartext connection, unless the
 * client's network is trusted. */
static bool auth_allowed(struct pop3_session *s)
{
	if (runtime_plaintext_auth_ok(s->c))
		return true;
	pop3_reply(s, "-ERR [AUTH] Plaintext authentication is not allowed without TLS; use STLS first");
	return false;
}

static void cmd_auth(struct pop3_session *s, char *args)
{
	if (args == NULL) {
		/* Old clients list mechanisms this way (before RFC 5034). */
		conn_puts(s->c, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
		return;
	}
	if (!auth_allowed(s))
		return;
	char *mech = args, *ir = strchr(args, ' ');
	if (ir != NULL)
		*ir++ = '\0';
	pop3_sasl_begin(s, mech, ir);
}

static void handle_authorization(struct pop3_session *s, char *cmd, char *args)
{
	if (strcasecmp(cmd, "CAPA") == 0) {
		pop3_send_capa(s);
	} else if (strcasecmp(cmd, "QUIT") == 0) {
		pop3_reply(s, "+OK mailkeep POP3 server signing off");
		conn_close(s->c);
	} else if (strcasecmp(cmd, "STLS") == 0) {
		if (s->c->tls != CONN_TLS_NONE) {
			pop3_reply(s, "-ERR TLS is already active");
		} else {
			pop3_reply(s, "+OK Begin TLS negotiation");
			if (conn_starttls(s->c) < 0)
				pop3_reply(s, "-ERR [SYS/TEMP] TLS is not available");
		}
	} else if (strcasecmp(cmd, "USER") == 0) {
		if (args == NULL || strlen(args) > 255) {
			pop3_reply(s, "-ERR Usage: USER name");
		} else if (auth_allowed(s)) {
			snprintf(s->user, sizeof(s->user), "%s", args);
			s->have_user = true;
			pop3_reply(s, "+OK Send your password");
		}
	} else if (strcasecmp(cmd, "PASS") == 0) {
		if (!s->have_user) {
			pop3_reply(s, "-ERR Send USER first");
		} else if (args == NULL) {
			pop3_reply(s, "-ERR Usage: PASS password");
		} else if (auth_allowed(s)) {
			pop3_login_begin(s, s->user, args, strlen(args));
		}
	} else if (strcasecmp(cmd, "AUTH") == 0) {
		cmd_auth(s, args);
	} else if (strcasecmp(cmd, "UTF8") == 0) {
		/* RFC 6856: messages go out as stored; names may be UTF-8. */
		pop3_reply(s, "+OK UTF8 enabled");
	} else if (strcasecmp(cmd, "APOP") == 0) {
		pop3_reply(s, "-ERR APOP is not enabled on this server");
	} else {
		s->bad++;
		pop3_reply(s, "-ERR Unknown command or not allowed before login");
	}
}

static void handle_line(struct pop3_session *s, char *line, size_t len)
{
	if (s->sasl_active) {
		pop3_sasl_line(s, line);
		return;
	}
	struct pop3_cmd cmd;
	enum pop3_parse_status st = pop3_parse_line(line, len, &cmd);
	if (st != POP3_PARSE_OK) {
		s->bad++;
		pop3_reply(s, st == POP3_PARSE_BAD_CHAR ? "-ERR Control characters in command"
		                                         : "-ERR Unknown command");
		return;
	}
	if (s->state == POP3_AUTHORIZATION)
		handle_authorization(s, cmd.keyword, cmd.rest);
	else
		pop3_transaction_command(s, cmd.keyword, cmd.rest);
}

static void pop3_input(struct conn *c)
{
	struct pop3_session *s = c->session;
	size_t max = s->state == POP3_AUTHORIZATION ? runtime_config->max_line_preauth
	                                            : runtime_config->max_line;
	while (!c->closed && !c->closing && s->login == NULL && !conn_output_full(c) && !s->busy) {
		size_t len, total;
		int r = conn_line(c, max, &len, &total);
		if (r == 0)
			return;
		if (r < 0) {
			pop3_reply(s, "-ERR Line too long");
			conn_log(c, LOGL_INFO, "disconnected reason=line-too-long");
			conn_close(c);
			return;
		}
		char *line = arena_strndup(s->cmd_arena, buf_ptr(&c->in), len);
		buf_consume(&c->in, total);
		handle_line(s, line, len);
		arena_reset(s->cmd_arena);
		if (s->bad >= POP3_MAX_BAD) {
			pop3_reply(s, "-ERR Too many bad commands, closing");
			conn_log(c, LOGL_INFO, "disconnected reason=too-many-errors");
			conn_close(c);
			return;
		}
		if (s->state == POP3_AUTHORIZATION || s->login != NULL)
			conn_set_timeout(c, runtime_config->preauth_timeout * 1000);
		else
			conn_set_timeout(c, runtime_config->pop3_idle_timeout * 1000);
	}
}

static void pop3_tls_done(struct conn *c)
{
	struct pop3_session *s = c->session;
	/* RFC 2595: forget everything learned before TLS. */
	s->have_user = false;
	memset(s->user, 0, sizeof(s->user));
}

static void pop3_timeout(struct conn *c)
{
	struct pop3_session *s = c->session;
	pop3_reply(s, "-ERR Autologout; idle for too long");
	conn_log(c, LOGL_INFO, "disconnected reason=idle-timeout");
	conn_close(c);
}

static void pop3_shutdown(struct conn *c)
{
	struct pop3_session *s = c->session;
	if (s->login != NULL || s->busy)
		return;  /* answered when the work ends; the deadline covers it */
	pop3_reply(s, "-ERR [SYS/TEMP] Server shutting down");
	conn_close(c);
}

static void pop3_closed(struct conn *c)
{
	struct pop3_session *s = c->session;
	if (s->login != NULL)
		auth_login_cancel(s->login);
	pop3_maildrop_close(s);
	sasl_reset(&s->sasl);
	arena_free(&s->cmd_arena);
	free(s);
}

static void pop3_drained(struct conn *c)
{
	struct pop3_session *s = c->session;
	pop3_transaction_resume(s);
}

static const struct conn_ops pop3_ops = {
	.input = pop3_input,
	.drained = pop3_drained,
	.timeout = pop3_timeout,
	.tls_done = pop3_tls_done,
	.shutdown = pop3_shutdown,
	.closed = pop3_closed,
};

static void pop3_start(struct conn *c)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->cmd_arena = arena_new(4096);
	s->state = POP3_AUTHORIZATION;
	c->session = s;
	c->ops = &pop3_ops;
	conn_log(c, LOGL_DEBUG, "session start");
	pop3_reply(s, "+OK mailkeep POP3 server ready");
	conn_set_timeout(c, runtime_config->preauth_timeout * 1000);
}
