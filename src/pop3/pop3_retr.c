/*
 * RETR and TOP (RFC 1939): a message that fits one stream step is read
 * into the answer's buffer and dot-stuffed there, whole; a larger one is
 * streamed from a mapping while the client reads.
 *
 * Reads share a store snapshot held for SNAPSHOT_HOLD_MS from the first
 * RETR of a run. After a RETR, the answer to the next message is made
 * ahead, after this one's output is flushed and before the loop waits
 * again: download clients (fetchmail, getmail, a phone's "download all")
 * send RETR 1, 2, 3... one at a time, so the store's part of the next
 * answer is done while this one crosses the network and the client reads
 * it. The answer made ahead comes from the held snapshot and is dropped
 * with it, so it is never older than what a RETR would read.
 */
#include "pop3/pop3_internal.h"
#include "pop3/pop3_maildrop.h"
#include "pop3/pop3_stream.h"
#include "lib/runtime.h"
#include "lib/strutil.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* How long a snapshot is held: long enough for a client's run of RETRs
 * to share one read transaction, short enough that the account's WAL is
 * not kept from restarting for any time a user would notice. */
#define SNAPSHOT_HOLD_MS 250

static void stream_finished(struct pop3_session *s)
{
	pop3_stream_free(&s->drop->stream);
	s->busy = false;
	conn_resume_input(s->c);
}

void pop3_transaction_resume(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	if (d == NULL || d->stream == NULL)
		return;
	if (pop3_stream_run(d->stream, s->c) == 1)
		stream_finished(s);
}

/* The first line of the answer to RETR / TOP (out: RETR_HEAD_MAX). By
 * hand, not snprintf: that was a fiftieth of a RETR. */
#define RETR_HEAD_MAX 48
static size_t retr_head(char *out, bool top, uint64_t size)
{
	static const char top_line[] = "+OK Top of message follows\r\n";
	if (top) {
		memcpy(out, top_line, sizeof(top_line) - 1);
		return sizeof(top_line) - 1;
	}
	char digits[20];
	size_t nd = 0;
	do
		digits[nd++] = (char)('0' + size % 10);
	while ((size /= 10) != 0);
	size_t n = 0;
	memcpy(out, "+OK ", 4);
	n += 4;
	while (nd > 0)
		out[n++] = digits[--nd];
	memcpy(out + n, " octets\r\n", 9);
	return n + 9;
}

/* Room for the whole answer to message m. */
static size_t whole_room(const struct pop3_msg *m)
{
	return RETR_HEAD_MAX + POP3_STUFFED_ROOM(m->size);
}

/* Downloaded is read: marked now, set when the session ends. */
static void retrieved(struct pop3_msg *m, bool top)
{
	if (!top && runtime_config->pop3_delete != POP3_DELETE_FLAG && !m->seen)
		m->seen = m->mark_seen = true;
}

/* What stuff_whole, retr_whole and retr_stream did, besides a store
 * error (< 0). */
enum {
	RETR_LEFT = 0,    /* nothing: answer it another way */
	RETR_SENT = 1,    /* queued, or streaming (stuff_whole: made) */
	RETR_GONE = 2,    /* the connection is gone; the session may be too */
};

/* The whole answer into out (room: whole_room(m)): the message read
 * straight into it after the first line, then stuffed in place; *len_r
 * its length. */
static int stuff_whole(struct pop3_maildrop *d, struct pop3_msg *m, int64_t top_lines,
                       char *out, size_t *len_r)
{
	size_t h = retr_head(out, top_lines >= 0, m->size), n = 0;
	/* The size known at login made the room; a message that says
	 * otherwise is streamed instead. */
	int rc = store_message_read(d->inbox, m->uid, out + h, m->size, &n);
	if (rc == STORE_E_LIMIT)
		return RETR_LEFT;
	if (rc != STORE_OK)
		return rc;
	*len_r = h + pop3_stuff_message(out + h, n, top_lines);
	return RETR_SENT;
}

/* Into room reserved in the output before, so nothing done while the
 * bytes are lent can close the session. */
static int retr_whole(struct pop3_session *s, struct pop3_msg *m, int64_t top_lines)
{
	size_t room = whole_room(m), n = 0;
	char *out = conn_reserve(s->c, room);
	if (out == NULL)
		return RETR_GONE;
	int rc = stuff_whole(s->drop, m, top_lines, out, &n);
	if (rc != RETR_SENT)
		return rc;
	conn_commit(s->c, n);
	retrieved(m, top_lines >= 0);
	return RETR_SENT;
}

/* A larger message is streamed from a mapping, while the client reads. */
static int retr_stream(struct pop3_session *s, struct pop3_msg *m, int64_t top_lines)
{
	struct pop3_maildrop *d = s->drop;
	const char *data;
	size_t len;
	int rc = store_message_map(d->inbox, m->uid, &data, &len);
	if (rc != STORE_OK)
		return rc;
	d->stream = pop3_stream_new(data, len, top_lines);
	char head[RETR_HEAD_MAX];
	conn_write(s->c, head, retr_head(head, top_lines >= 0, m->size));
	retrieved(m, top_lines >= 0);
	s->busy = true;
	rc = pop3_stream_run(d->stream, s->c);
	if (rc == 1)
		stream_finished(s);
	return rc < 0 ? RETR_GONE : RETR_SENT;
}

static void ahead_drop(struct pop3_maildrop *d)
{
	free(d->ahead.buf);
	d->ahead.buf = NULL;
	d->ahead.num = d->ahead.len = d->ahead.cap = 0;
}

static void snapshot_expired(struct ev_loop *loop, struct ev_timer *t)
{
	(void)loop;
	struct pop3_maildrop *d = t->data;
	ahead_drop(d);
	store_snapshot_release(d->inbox);
}

/* Reads go through a held snapshot; without one (it could not be opened)
 * they go through the shared connection, only slower. */
static void snapshot_hold(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	if (ev_timer_active(&d->snapshot_timer))
		return;
	if (store_snapshot_hold(d->inbox) != STORE_OK) {
		conn_log(s->c, LOGL_WARN, "store snapshot: %s", store_error(d->store));
		return;
	}
	d->loop = s->c->loop;
	d->snapshot_timer.cb = snapshot_expired;
	d->snapshot_timer.data = d;
	ev_timer_start(d->loop, &d->snapshot_timer, SNAPSHOT_HOLD_MS);
}

/* Answers are made ahead for messages up to output_buffer_limit, not
 * only those sent whole by RETR (one stream step, a quarter of it): a
 * larger message read and stuffed in the round trip (mapped, faulted in,
 * copied): with the 4% of messages over 64 KiB in bench/run's corpus, a
 * download was 0-16% slower. The answer, at most about twice the
 * limit, still fits the output under its ceiling (it is sent only when
 * the output is under the limit), and a session holds it only while its
 * snapshot is held. */
static size_t ahead_max(void)
{
	return (size_t)runtime_config->output_buffer_limit;
}

/* Deferred after a RETR: the next message's answer, when a snapshot is
 * held. Any failure leaves nothing: that RETR
 * then reads, and reports, as usual. */
static void ahead_make(struct ev_loop *loop, struct ev_defer *df)
{
	(void)loop;
	struct pop3_maildrop *d = df->data;
	size_t num = d->ahead.num;
	d->ahead.num = d->ahead.len = 0;
	if (num == 0 || num > d->n || d->stream != NULL || !ev_timer_active(&d->snapshot_timer))
		return;
	struct pop3_msg *m = &d->msgs[num - 1];
	if (m->deleted || m->size > ahead_max())
		return;
	size_t room = whole_room(m), len = 0;
	if (d->ahead.cap < room) {
		free(d->ahead.buf);
		d->ahead.buf = xmalloc(room);
		d->ahead.cap = room;
	}
	if (stuff_whole(d, m, -1, d->ahead.buf, &len) != RETR_SENT)
		return;
	d->ahead.len = len;
	d->ahead.num = num;
}

/* After RETR num: make num + 1's answer once this loop pass has flushed
 * (defers run in order, and the output's flush is queued already). */
static void ahead_plan(struct pop3_session *s, size_t num)
{
	struct pop3_maildrop *d = s->drop;
	d->ahead.num = num + 1;
	d->ahead.len = 0;
	d->ahead.defer.cb = ahead_make;
	d->ahead.defer.data = d;
	ev_defer(s->c->loop, &d->ahead.defer);
}

/* RETR num from the answer made ahead, if there is one for it. */
static int ahead_send(struct pop3_session *s, struct pop3_msg *m, size_t num)
{
	struct pop3_maildrop *d = s->drop;
	if (d->ahead.num != num || d->ahead.len == 0 || conn_output_full(s->c))
		return RETR_LEFT;
	d->ahead.num = 0;
	if (conn_write(s->c, d->ahead.buf, d->ahead.len) < 0)
		return RETR_GONE;
	retrieved(m, false);
	return RETR_SENT;
}

void pop3_cmd_retr(struct pop3_session *s, char *args, bool top)
{
	struct pop3_maildrop *d = s->drop;
	char *lines_arg = NULL;
	uint64_t lines = 0;
	if (top) {
		lines_arg = args != NULL ? strchr(args, ' ') : NULL;
		if (lines_arg == NULL || str_parse_u64(lines_arg + 1, &lines) < 0) {
			pop3_reply(s, "-ERR Usage: TOP message lines");
			return;
		}
		*lines_arg = '\0';
	}
	size_t num;
	struct pop3_msg *m = pop3_msg_arg(s, args, &num);
	if (m == NULL)
		return;
	int64_t top_lines = top ? (int64_t)lines : -1;
	snapshot_hold(s);
	int rc = top ? RETR_LEFT : ahead_send(s, m, num);
	if (rc == RETR_LEFT && m->size <= pop3_stream_step() && !conn_output_full(s->c))
		rc = retr_whole(s, m, top_lines);
	if (rc == RETR_LEFT)
		rc = retr_stream(s, m, top_lines);
	if (rc == RETR_SENT && !top)
		ahead_plan(s, num);
	if (rc == RETR_SENT || rc == RETR_GONE)
		return;
	if (rc == STORE_E_EXPUNGED || rc == STORE_E_NOTFOUND) {
		pop3_reply(s, "-ERR Message was deleted by another session");
		return;
	}
	conn_log(s->c, LOGL_ERROR, "retr uid=%u: %s", m->uid, store_error(d->store));
	pop3_reply(s, "-ERR [SYS/TEMP] Cannot read the message now");
}

void pop3_retr_close(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	pop3_stream_free(&d->stream);
	if (d->loop != NULL)
		ev_timer_stop(d->loop, &d->snapshot_timer);
	if (d->ahead.defer.queued)
		ev_defer_cancel(s->c->loop, &d->ahead.defer);
	ahead_drop(d);
}
