#include "imap/imap_session.h"
#include "imap/imap_internal.h"
#include "lib/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAP_MAX_BAD 20
/* A refused {N+} literal up to this size is read and thrown away. */
#define IMAP_MAX_DISCARD (1024 * 1024)
/* 30 * (quoted 30-octet name + SP + quoted 1024-octet value + SP), each
 * octet possibly escaped, plus tag and "ID ()": just under 64 KiB. */
#define IMAP_ID_MAX_LINE (64 * 1024)

static void imap_start(struct conn *c);

const struct proto imap_proto = {
	.name = "imap",
	.start = imap_start,
	.busy_reply = "* BYE [UNAVAILABLE] Too many connections, try again later\r\n",
};

void imap_tagged(struct imap_session *s, const char *tag, const char *status,
                 const char *code, const char *text)
{
	/* Untagged updates go out before the tagged reply of a command. */
	if (s->in_command && s->sel != NULL)
		imap_sel_flush_updates(s, s->expunge_ok);
	if (s->c->closed || s->c->closing)
		return;
	if (code != NULL)
		conn_printf(s->c, "%s %s [%s] %s\r\n", tag, status, code, text);
	else
		conn_printf(s->c, "%s %s %s\r\n", tag, status, text);
}

void imap_untagged(struct imap_session *s, const char *line)
{
	conn_printf(s->c, "* %s\r\n", line);
}

static void set_limits(struct imap_session *s)
{
	const struct config *cfg = runtime_config;
	struct imap_parser_limits lim = {
		.max_line = s->state == IMAP_STATE_NOT_AUTH ? cfg->max_line_preauth : cfg->max_line,
		/* After login APPEND checks the size itself (NO [TOOBIG]);
		 * other literals are bounded by max_line when kept. */
		.max_literal = s->state == IMAP_STATE_NOT_AUTH ? cfg->max_message_size : UINT64_MAX / 4,
		.max_discard = IMAP_MAX_DISCARD,
		.max_depth = s->state == IMAP_STATE_NOT_AUTH ? 2 : 16,
		.max_args = s->state == IMAP_STATE_NOT_AUTH ? 16 : 100000,
		/* ID before login may carry 30 pairs of up to 30 + 1024 octets
		 * (RFC 2971 3.3), quoted with every byte escaped at worst: room
		 * for that, for ID only; every other command keeps the tight
		 * pre-login limits. */
		.wide_cmd = s->state == IMAP_STATE_NOT_AUTH ? "ID" : NULL,
		.wide_max_line = IMAP_ID_MAX_LINE,
		.wide_max_args = 2 + 2 * 30,
	};
	imap_parser_set_limits(s->parser, &lim);
}

void imap_idle_timer(struct imap_session *s)
{
	const struct config *cfg = runtime_config;
	uint64_t secs = s->state == IMAP_STATE_NOT_AUTH ? cfg->preauth_timeout : cfg->imap_idle_timeout;
	conn_set_timeout(s->c, secs * 1000);
}

void imap_bye(struct imap_session *s, const char *code, const char *text, const char *reason)
{
	if (s->c->closed || s->c->closing)
		return;
	if (code != NULL)
		conn_printf(s->c, "* BYE [%s] %s\r\n", code, text);
	else
		conn_printf(s->c, "* BYE %s\r\n", text);
	conn_log(s->c, LOGL_INFO, "disconnected reason=%s", reason);
	s->state = IMAP_STATE_LOGOUT;
	conn_close(s->c);
}

static void run_command(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_command_def *def = imap_command_find(cmd->name);
	s->tag = cmd->tag;
	if (def == NULL || (cmd->uid && !def->uid_form)) {
		s->bad_count++;
		imap_tagged(s, cmd->tag, "BAD", NULL, "Unknown command");
		return;
	}
	if ((def->states & s->state) == 0) {
		s->bad_count++;
		imap_tagged(s, cmd->tag, "BAD", NULL,
		            s->state == IMAP_STATE_NOT_AUTH ? "Log in first" :
		            s->state == IMAP_STATE_AUTH && (def->states & IMAP_STATE_SELECTED) ?
		            "Select a mailbox first" : "Not allowed in this state");
		return;
	}
	/* RFC 9051 7.5.1: no EXPUNGE while answering FETCH, STORE, SEARCH
	 * (or COPY) by sequence number. */
	s->cmd_uid = cmd->uid;
	s->expunge_ok = cmd->uid || (strcmp(def->name, "FETCH") != 0 && strcmp(def->name, "STORE") != 0 &&
	                             strcmp(def->name, "SEARCH") != 0 && strcmp(def->name, "COPY") != 0);
	s->in_command = true;
	if (def->run(s, cmd) == IMAP_CMD_ASYNC)
		s->running = true;
	else
		s->in_command = false;
}

void imap_command_finish(struct imap_session *s)
{
	s->running = false;
	s->in_command = false;
	s->tag = NULL;
	free(s->idle_tag);
	s->idle_tag = NULL;
	set_limits(s);
	if (!s->c->closed) {
		imap_idle_timer(s);
		conn_resume_input(s->c);
	}
}

static void on_bad(struct imap_session *s, const struct imap_parse_result *res)
{
	const char *tag = res->cmd != NULL && res->cmd->tag != NULL ? res->cmd->tag : "*";
	const char *msg = res->error_msg != NULL ? res->error_msg : "Syntax error";
	bool toobig = res->error == IMAP_PARSE_ERR_TOOBIG;
	s->bad_count++;
	imap_append_abort(s);
	s->skipping = !imap_parser_idle(s->parser);
	s->skipped = 0;
	imap_tagged(s, tag, "BAD", toobig ? "TOOBIG" : NULL, msg);
	/* A line with no end in sight is not a client worth following. */
	if (toobig && strcasestr(msg, "line too long") != NULL)
		imap_bye(s, "TOOBIG", "Command line too long", "line-too-long");
	else if (s->bad_count >= IMAP_MAX_BAD)
		imap_bye(s, NULL, "Too many invalid commands", "too-many-errors");
	/* The parser never touches a BAD command's memory again: free it now,
	 * or a run of commands failing mid-line would pile up in one arena. */
	if (!s->running) {
		arena_reset(s->cmd_arena);
		imap_parser_set_arena(s->parser, s->cmd_arena);
	}
}

static void on_literal(struct imap_session *s, const struct imap_parse_result *res)
{
	/* APPEND streams its message literals to the store. */
	if (imap_append_literal(s, res))
		return;
	if (imap_parser_literal_keep(s->parser) < 0) {
		const char *tag = res->cmd != NULL && res->cmd->tag != NULL ? res->cmd->tag : "*";
		imap_tagged(s, tag, "BAD", "TOOBIG", "Literal too large for this command");
		if (imap_parser_literal_refuse(s->parser) < 0)
			imap_bye(s, "TOOBIG", "Literal too large", "literal-too-large");
		return;
	}
	if (res->literal_sync)
		conn_puts(s->c, "+ Ready for literal data\r\n");
}

static void input_commands(struct conn *c)
{
	struct imap_session *s = c->session;
	/* One command at a time; while AUTHENTICATE runs, its continuation
	 * lines are still read. */
	while (!c->closed && !c->closing && (!s->running || s->sasl_active || s->idling) && s->login == NULL &&
	       s->state != IMAP_STATE_LOGOUT && !conn_output_full(c) && c->in.len > 0) {
		if (!s->running && imap_parser_idle(s->parser)) {
			arena_reset(s->cmd_arena);
			imap_parser_set_arena(s->parser, s->cmd_arena);
		}
		struct imap_parse_result res;
		enum imap_parse_status st = imap_parser_feed(s->parser, buf_ptr(&c->in), c->in.len, &res);
		if (s->skipping) {
			/* Skipping the rest of a bad command is bounded too: a
			 * line with no end in sight is not worth following. */
			s->skipped += res.consumed;
			if (imap_parser_idle(s->parser)) {
				s->skipping = false;
			} else if (s->skipped > runtime_config->max_line + IMAP_MAX_DISCARD) {
				buf_consume(&c->in, res.consumed);
				imap_bye(s, "TOOBIG", "Command line too long", "line-too-long");
				return;
			}
		}
		switch (st) {
		case IMAP_PARSE_MORE:
			buf_consume(&c->in, res.consumed);
			return;
		case IMAP_PARSE_DONE:
			buf_consume(&c->in, res.consumed);
			run_command(s, res.cmd);
			if (!s->running && !c->closed)
				imap_idle_timer(s);
			break;
		case IMAP_PARSE_LITERAL:
			buf_consume(&c->in, res.consumed);
			on_literal(s, &res);
			break;
		case IMAP_PARSE_LITERAL_DATA:
			/* Only APPEND streams (the data points into c->in). */
			imap_append_data(s, &res);
			buf_consume(&c->in, res.consumed);
			break;
		case IMAP_PARSE_LINE:
			if (res.line_kind == IMAP_LINE_AUTH) {
				char line[SASL_LINE_MAX + 1];
				size_t n = res.line_len < SASL_LINE_MAX ? res.line_len : SASL_LINE_MAX;
				memcpy(line, res.line, n);
				line[n] = '\0';
				buf_consume(&c->in, res.consumed);
				imap_auth_line(s, line, n, res.line_cancel);
			} else {
				buf_consume(&c->in, res.consumed);
				imap_idle_line(s, true);
			}
			break;
		case IMAP_PARSE_BAD:
			buf_consume(&c->in, res.consumed);
			if (s->sasl_active) {
				/* A malformed AUTHENTICATE line ends the exchange. */
				imap_auth_end(s);
				imap_tagged(s, s->tag, "BAD", NULL, "Invalid response to challenge");
				imap_command_finish(s);
				break;
			}
			if (s->idling) {
				imap_idle_line(s, false);
				break;
			}
			on_bad(s, &res);
			break;
		case IMAP_PARSE_FATAL:
			imap_bye(s, "TOOBIG", res.error_msg ? res.error_msg : "Input too large", "stream-lost");
			return;
		}
	}
}

static void imap_input(struct conn *c)
{
	input_commands(c);
	struct imap_session *s = c->session;   /* NULL once closed */
	/* Nothing left to read: a session that waits for its client keeps no
	 * command memory (most connections of a server are idle ones). */
	if (s != NULL && !c->closed && !s->running && c->in.len == 0 && imap_parser_idle(s->parser))
		arena_release(s->cmd_arena);
}

/* Output fell under the limit: a suspended command (FETCH streaming a
 * big answer) writes its next part. */
static void imap_drained(struct conn *c)
{
	struct imap_session *s = c->session;
	if (s->running && s->on_drained != NULL)
		s->on_drained(s);
	/* In IDLE, updates held back by a full buffer go on. */
	else if (s->idling)
		imap_sel_flush_updates(s, true);
}

static void imap_timeout(struct conn *c)
{
	struct imap_session *s = c->session;
	imap_bye(s, NULL, "Autologout; idle for too long", "idle-timeout");
}

static void imap_shutdown(struct conn *c)
{
	struct imap_session *s = c->session;
	/* An IDLE waits for nothing but the client: it ends now. */
	if ((s->running && !s->idling) || s->login != NULL)
		return;  /* the server's deadline bounds it */
	imap_bye(s, "UNAVAILABLE", "Server shutting down", "shutdown");
}

static void imap_tls_done(struct conn *c)
{
	struct imap_session *s = c->session;
	/* The parser starts clean: nothing from before TLS survives. */
	imap_parser_reset(s->parser);
	set_limits(s);
}

static void imap_closed(struct conn *c)
{
	struct imap_session *s = c->session;
	if (s->login != NULL)
		auth_login_cancel(s->login);
	imap_auth_end(s);
	imap_session_cleanup(s);
	free(s->idle_tag);
	imap_parser_free(&s->parser);
	arena_free(&s->cmd_arena);
	free(s);
}

static const struct conn_ops imap_ops = {
	.input = imap_input,
	.drained = imap_drained,
	.timeout = imap_timeout,
	.tls_done = imap_tls_done,
	.shutdown = imap_shutdown,
	.closed = imap_closed,
};

static void imap_start(struct conn *c)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->state = IMAP_STATE_NOT_AUTH;
	s->cmd_arena = arena_new(8192);
	s->parser = imap_parser_new(&(struct imap_parser_limits){ 0 }, s->cmd_arena);
	set_limits(s);
	c->session = s;
	c->ops = &imap_ops;
	conn_printf(c, "* OK [CAPABILITY %s] mailkeep ready\r\n", imap_capabilities(s));
	imap_idle_timer(s);
}
