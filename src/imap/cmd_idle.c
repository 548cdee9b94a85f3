/*
 * IDLE (RFC 2177, RFC 9051 6.3.13): "+ idling", then untagged updates as
 * they happen until the client sends DONE.
 *
 * Changes made on this thread (other sessions of the user, POP3, local
 * SMTP delivery) reach the watcher at once; it defers a flush to after
 * the store call (imap_sel_flush_updates may read the store, a watcher
 * must not). Changes by other processes (`mailkeep deliver`, tools) are
 * seen only when the store is polled: an idling session polls every
 * IMAP_IDLE_POLL_MS, so their latency is at most that.
 */
#include "imap/imap_internal.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_IDLE_POLL_MS 1000

static void idle_flush(struct ev_loop *loop, struct ev_defer *d)
{
	(void)loop;
	struct imap_session *s = d->data;
	if (s->idling)
		imap_sel_flush_updates(s, true);
}

static void idle_poll(struct ev_loop *loop, struct ev_timer *t)
{
	struct imap_session *s = t->data;
	if (!s->idling || s->c->closed || s->c->closing)
		return;
	if (s->store != NULL)
		store_user_poll(s->store);
	/* Output that piles up for a client that does not read waits. */
	if (!conn_output_full(s->c))
		imap_sel_flush_updates(s, true);
	ev_timer_start(loop, t, IMAP_IDLE_POLL_MS);
}

void imap_session_cleanup(struct imap_session *s)
{
	s->idling = false;
	if (s->c->loop != NULL) {
		ev_timer_stop(s->c->loop, &s->poll_timer);
		if (s->notify_defer.queued)
			ev_defer_cancel(s->c->loop, &s->notify_defer);
	}
	imap_append_abort(s);
	imap_quota_cancel(s);
	imap_sel_close(s);
	if (s->store != NULL)
		store_user_close(&s->store);
}

enum imap_cmd_result imap_cmd_idle(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "IDLE takes no arguments");
		return IMAP_CMD_DONE;
	}
	if (s->store != NULL)
		store_user_poll(s->store);
	imap_sel_flush_updates(s, true);
	if (s->c->closing || s->c->closed)
		return IMAP_CMD_DONE;
	s->idling = true;
	s->notify_defer.cb = idle_flush;
	s->notify_defer.data = s;
	s->poll_timer.cb = idle_poll;
	s->poll_timer.data = s;
	if (s->sel != NULL)
		ev_timer_start(s->c->loop, &s->poll_timer, IMAP_IDLE_POLL_MS);
	conn_puts(s->c, "+ idling\r\n");
	imap_parser_expect_line(s->parser, IMAP_LINE_IDLE);
	/* The autologout runs from here: an IDLE that outlasts it gets BYE. */
	imap_idle_timer(s);
	/* An IDLE may last for hours: keep its tag, not the command's arena. */
	s->idle_tag = xstrdup(cmd->tag);
	s->tag = s->idle_tag;
	arena_release(s->cmd_arena);
	return IMAP_CMD_ASYNC;
}

void imap_idle_line(struct imap_session *s, bool ok)
{
	if (!s->idling)
		return;
	s->idling = false;
	ev_timer_stop(s->c->loop, &s->poll_timer);
	if (ok)
		imap_tagged(s, s->tag, "OK", NULL, "IDLE terminated");
	else
		imap_tagged(s, s->tag, "BAD", NULL, "Expected DONE");
	imap_command_finish(s);
}
