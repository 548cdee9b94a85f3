/*
 * The POP3 maildrop (RFC 1939 TRANSACTION and UPDATE states) over the
 * store: INBOX as it was at login, numbered 1..n in UID order. DELE only
 * marks; QUIT applies the marks in one store transaction (expunge, move to
 * Trash, or set \Deleted: config pop3_delete). A session that ends any
 * other way deletes nothing.
 *
 * UIDLs are the INBOX UIDVALIDITY and the message UID, so they are stable
 * across sessions and restarts ("leave a copy on the server").
 */
#include "pop3/pop3_internal.h"
#include "pop3/pop3_session.h"
#include "pop3/pop3_stream.h"
#include "auth/auth_thread.h"
#include "lib/runtime.h"
#include "lib/strutil.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pop3_msg {
	uint32_t uid;
	uint64_t size;
	bool deleted;
	bool seen;        /* \Seen at login, or marked since */
	bool mark_seen;   /* retrieved: \Seen still to be set in the store */
};

struct pop3_maildrop {
	int64_t user_id;
	struct store_user *store;
	struct store_mailbox *inbox;
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	size_t n;
	struct pop3_stream *stream;   /* RETR/TOP in progress */
	/* Messages are read from a store snapshot held from the first RETR
	 * until this timer ends it (store_snapshot_hold). */
	struct ev_timer snapshot_timer;
	struct ev_loop *loop;
};

/* How long a snapshot is held: long enough for a client's run of RETRs
 * to share one read transaction, short enough that the account's WAL is
 * not kept from restarting for any time a user would notice. */
#define SNAPSHOT_HOLD_MS 250

/* RFC 1939: one POP3 session per maildrop. All sessions of a user run on
 * the user's worker thread, so a per-thread list is the whole lock table. */
static _Thread_local int64_t *locked;
static _Thread_local size_t nlocked, caplocked;

static bool lock_user(int64_t id)
{
	for (size_t i = 0; i < nlocked; i++)
		if (locked[i] == id)
			return false;
	if (nlocked == caplocked) {
		caplocked = caplocked ? caplocked * 2 : 8;
		locked = xrealloc(locked, caplocked * sizeof(*locked));
	}
	locked[nlocked++] = id;
	return true;
}

static void unlock_user(int64_t id)
{
	for (size_t i = 0; i < nlocked; i++) {
		if (locked[i] == id) {
			locked[i] = locked[--nlocked];
			return;
		}
	}
}

void pop3_thread_exit(void)
{
	free(locked);
	locked = NULL;
	nlocked = caplocked = 0;
}

static void fail_open(struct pop3_session *s, const char *reply, const char *why)
{
	conn_log(s->c, LOGL_ERROR, "maildrop open failed: %s", why);
	pop3_reply(s, reply);
	conn_close(s->c);
}

int pop3_maildrop_open(struct pop3_session *s, int64_t user_id, const char *address)
{
	if (!lock_user(user_id)) {
		pop3_reply(s, "-ERR [IN-USE] Mailbox is locked by another POP3 session");
		conn_close(s->c);
		return -1;
	}
	struct pop3_maildrop *d = xcalloc(1, sizeof(*d));
	d->user_id = user_id;
	s->drop = d;
	const char *err = "unknown";
	struct store_quota q = { 0 };
	if (auth_account_quota(user_id, &q.max_bytes, &q.max_messages, &err) < 0) {
		fail_open(s, "-ERR [SYS/TEMP] Cannot open the mailbox now, try again later", err);
		return -1;
	}
	char id[32];
	snprintf(id, sizeof(id), "%lld", (long long)user_id);
	if (store_user_open(runtime_config->data_dir, id, &q, &d->store, &err) != STORE_OK) {
		fail_open(s, "-ERR [SYS/TEMP] Cannot open the mailbox now, try again later", err);
		return -1;
	}
	if (store_mailbox_open(d->store, "INBOX", 0, &d->inbox) != STORE_OK) {
		fail_open(s, "-ERR [SYS/TEMP] Cannot open the mailbox now, try again later",
		          store_error(d->store));
		return -1;
	}
	struct store_status st;
	store_mailbox_get_status(d->inbox, &st);
	d->uidvalidity = st.uidvalidity;
	size_t n;
	const struct store_msg *m = store_mailbox_msgs(d->inbox, &n);
	d->msgs = xcalloc(n ? n : 1, sizeof(*d->msgs));
	uint64_t total = 0;
	/* With pop3_delete = flag, a POP3 delete is \Deleted: POP3 no longer
	 * shows the message, IMAP users can still undelete it. */
	bool hide_deleted = runtime_config->pop3_delete == POP3_DELETE_FLAG;
	for (size_t i = 0; i < n; i++) {
		if (hide_deleted && (m[i].flags & STORE_DELETED))
			continue;
		d->msgs[d->n].uid = m[i].uid;
		d->msgs[d->n].size = m[i].size;
		d->msgs[d->n].seen = (m[i].flags & STORE_SEEN) != 0;
		d->n++;
		total += m[i].size;
	}
	conn_printf(s->c, "+OK Logged in, %zu messages (%llu octets)\r\n", d->n,
	            (unsigned long long)total);
	return 0;
}

/* The UIDs of msgs[] marked deleted (or else marked to be seen), as
 * ranges (arena); *count_r how many. */
static struct store_uidset marked(struct pop3_session *s, bool deleted, size_t *count_r)
{
	struct pop3_maildrop *d = s->drop;
	struct store_range *r = arena_alloc(s->cmd_arena, (d->n ? d->n : 1) * sizeof(*r));
	size_t n = 0;
	*count_r = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (deleted ? !d->msgs[i].deleted : !d->msgs[i].mark_seen)
			continue;
		if (n > 0 && r[n - 1].hi + 1 == d->msgs[i].uid)
			r[n - 1].hi = d->msgs[i].uid;
		else
			r[n++] = (struct store_range){ d->msgs[i].uid, d->msgs[i].uid };
		(*count_r)++;
	}
	return (struct store_uidset){ n, r };
}

/* Retrieved messages become \Seen ("downloaded is read": other devices
 * see it too) in one store change when the session ends, not one durable
 * transaction per RETR: nothing the client asked for waits on it, so it
 * needs no fsync of its own per message (Dovecot's POP3 also sets them
 * at the end). */
static int apply_seen(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	size_t count;
	struct store_uidset set = marked(s, false, &count);
	if (count == 0)
		return STORE_OK;
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_SEEN };
	struct store_flags_result res;
	int rc = store_flags(d->inbox, &set, &req, s->cmd_arena, &res);
	if (rc == STORE_OK)
		for (size_t i = 0; i < d->n; i++)
			d->msgs[i].mark_seen = false;
	return rc;
}

void pop3_maildrop_close(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	if (d == NULL)
		return;
	pop3_stream_free(&d->stream);
	if (d->loop != NULL)
		ev_timer_stop(d->loop, &d->snapshot_timer);
	/* A session that ends without QUIT deletes nothing, but what it
	 * downloaded is still read. */
	if (d->inbox != NULL && apply_seen(s) != STORE_OK)
		conn_log(s->c, LOGL_ERROR, "marking retrieved messages seen failed: %s",
		         store_error(d->store));
	if (d->store != NULL) {
		store_mailbox_close(&d->inbox);
		store_user_close(&d->store);
	}
	unlock_user(d->user_id);
	free(d->msgs);
	free(d);
	s->drop = NULL;
}

/* "n" naming a message that exists and is not marked deleted. */
static struct pop3_msg *msg_arg(struct pop3_session *s, const char *arg, size_t *num_r)
{
	struct pop3_maildrop *d = s->drop;
	uint64_t v;
	if (arg == NULL || str_parse_u64(arg, &v) < 0 || v == 0 || v > d->n) {
		pop3_reply(s, "-ERR No such message");
		return NULL;
	}
	if (d->msgs[v - 1].deleted) {
		pop3_reply(s, "-ERR Message is deleted");
		return NULL;
	}
	*num_r = (size_t)v;
	return &d->msgs[v - 1];
}

static void cmd_stat(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	size_t n = 0;
	uint64_t size = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (!d->msgs[i].deleted) {
			n++;
			size += d->msgs[i].size;
		}
	}
	conn_printf(s->c, "+OK %zu %llu\r\n", n, (unsigned long long)size);
}

/* LIST and UIDL: one message, or all not deleted. */
static void cmd_list(struct pop3_session *s, char *args, bool uidl)
{
	struct pop3_maildrop *d = s->drop;
	size_t num;
	if (args != NULL) {
		struct pop3_msg *m = msg_arg(s, args, &num);
		if (m == NULL)
			return;
		if (uidl)
			conn_printf(s->c, "+OK %zu %08x%08x\r\n", num, d->uidvalidity, m->uid);
		else
			conn_printf(s->c, "+OK %zu %llu\r\n", num, (unsigned long long)m->size);
		return;
	}
	conn_puts(s->c, uidl ? "+OK Unique-ID listing follows\r\n" : "+OK Scan listing follows\r\n");
	for (size_t i = 0; i < d->n; i++) {
		if (d->msgs[i].deleted)
			continue;
		if (uidl)
			conn_printf(s->c, "%zu %08x%08x\r\n", i + 1, d->uidvalidity, d->msgs[i].uid);
		else
			conn_printf(s->c, "%zu %llu\r\n", i + 1, (unsigned long long)d->msgs[i].size);
	}
	conn_puts(s->c, ".\r\n");
}

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

/* Downloaded is read: marked now, set when the session ends. */
static void retrieved(struct pop3_msg *m, bool top)
{
	if (!top && runtime_config->pop3_delete != POP3_DELETE_FLAG && !m->seen)
		m->seen = m->mark_seen = true;
}

/* A message the output can take in one step is sent whole, stuffed
 * straight from the store's bytes (store_message_lend: no copy of an
 * inline message) into room reserved before, so nothing done while the
 * bytes are lent can close the session. */
struct retr_whole {
	char *out;
	size_t room, n;
	int64_t top_lines;
	bool done;
};

static void stuff_lent(void *arg, const char *data, size_t len)
{
	struct retr_whole *w = arg;
	/* The size known at login made the room; a message that says
	 * otherwise is streamed instead. */
	if (w->room - w->n < POP3_STUFFED_ROOM(len))
		return;
	w->n += pop3_stuff_message(data, len, w->top_lines, w->out + w->n);
	w->done = true;
}

/* What retr_whole and retr_stream did, besides a store error (< 0). */
enum {
	RETR_LEFT = 0,    /* nothing: for retr_stream */
	RETR_SENT = 1,    /* queued, or streaming */
	RETR_GONE = 2,    /* the connection is gone; the session may be too */
};

static int retr_whole(struct pop3_session *s, struct pop3_msg *m, int64_t top_lines)
{
	struct retr_whole w = { .room = RETR_HEAD_MAX + POP3_STUFFED_ROOM(m->size),
	                        .top_lines = top_lines };
	if ((w.out = conn_reserve(s->c, w.room)) == NULL)
		return RETR_GONE;
	w.n = retr_head(w.out, top_lines >= 0, m->size);
	int rc = store_message_lend(s->drop->inbox, m->uid, stuff_lent, &w);
	if (rc != STORE_OK)
		return rc;
	if (!w.done)
		return RETR_LEFT;
	conn_commit(s->c, w.n);
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

static void snapshot_expired(struct ev_loop *loop, struct ev_timer *t)
{
	(void)loop;
	struct pop3_maildrop *d = t->data;
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

/* RETR n, TOP n lines. */
static void cmd_retr(struct pop3_session *s, char *args, bool top)
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
	struct pop3_msg *m = msg_arg(s, args, &num);
	if (m == NULL)
		return;
	int64_t top_lines = top ? (int64_t)lines : -1;
	snapshot_hold(s);
	int rc = RETR_LEFT;
	if (m->size <= pop3_stream_step() && !conn_output_full(s->c))
		rc = retr_whole(s, m, top_lines);
	if (rc == RETR_LEFT)
		rc = retr_stream(s, m, top_lines);
	if (rc == RETR_SENT || rc == RETR_GONE)
		return;
	if (rc == STORE_E_EXPUNGED || rc == STORE_E_NOTFOUND) {
		pop3_reply(s, "-ERR Message was deleted by another session");
		return;
	}
	conn_log(s->c, LOGL_ERROR, "retr uid=%u: %s", m->uid, store_error(d->store));
	pop3_reply(s, "-ERR [SYS/TEMP] Cannot read the message now");
}

static void cmd_dele(struct pop3_session *s, char *args)
{
	size_t num;
	struct pop3_msg *m = msg_arg(s, args, &num);
	if (m == NULL)
		return;
	m->deleted = true;
	conn_printf(s->c, "+OK Message %zu deleted\r\n", num);
}

static void cmd_rset(struct pop3_session *s)
{
	struct pop3_maildrop *d = s->drop;
	for (size_t i = 0; i < d->n; i++)
		d->msgs[i].deleted = false;
	conn_printf(s->c, "+OK %zu messages\r\n", d->n);
}

/* The UPDATE state: apply DELE marks in one transaction. */
static int apply_deletes(struct pop3_session *s, size_t *ndel_r)
{
	struct pop3_maildrop *d = s->drop;
	struct store_uidset set = marked(s, true, ndel_r);
	if (set.n == 0)
		return STORE_OK;
	switch (runtime_config->pop3_delete) {
	case POP3_DELETE_TRASH: {
		struct store_copy_result res;
		return store_copy(d->inbox, &set, pop3_trash_name(d->store, s->cmd_arena), true,
		                  s->cmd_arena, &res);
	}
	case POP3_DELETE_FLAG: {
		struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_DELETED };
		struct store_flags_result res;
		return store_flags(d->inbox, &set, &req, s->cmd_arena, &res);
	}
	default: {
		uint32_t *uids;
		size_t nu;
		return store_expunge(d->inbox, STORE_EXPUNGE_SET, &set, s->cmd_arena, &uids, &nu);
	}
	}
}

static void cmd_quit(struct pop3_session *s)
{
	size_t ndel = 0;
	/* \Seen first, so messages moved to Trash carry it. */
	if (apply_seen(s) != STORE_OK)
		conn_log(s->c, LOGL_ERROR, "marking retrieved messages seen failed: %s",
		         store_error(s->drop->store));
	int rc = apply_deletes(s, &ndel);
	if (rc != STORE_OK) {
		conn_log(s->c, LOGL_ERROR, "quit: deleting failed: %s", store_error(s->drop->store));
		pop3_reply(s, "-ERR [SYS/TEMP] Some deleted messages were not removed, try again");
	} else {
		conn_log(s->c, LOGL_INFO, "logout deleted=%zu", ndel);
		conn_printf(s->c, "+OK Logging out, %zu messages deleted\r\n", ndel);
	}
	conn_close(s->c);
}

void pop3_transaction_command(struct pop3_session *s, const char *cmd, char *args)
{
	if (strcasecmp(cmd, "STAT") == 0)
		cmd_stat(s);
	else if (strcasecmp(cmd, "LIST") == 0)
		cmd_list(s, args, false);
	else if (strcasecmp(cmd, "UIDL") == 0)
		cmd_list(s, args, true);
	else if (strcasecmp(cmd, "RETR") == 0)
		cmd_retr(s, args, false);
	else if (strcasecmp(cmd, "TOP") == 0)
		cmd_retr(s, args, true);
	else if (strcasecmp(cmd, "DELE") == 0)
		cmd_dele(s, args);
	else if (strcasecmp(cmd, "RSET") == 0)
		cmd_rset(s);
	else if (strcasecmp(cmd, "NOOP") == 0)
		pop3_reply(s, "+OK");
	else if (strcasecmp(cmd, "QUIT") == 0)
		cmd_quit(s);
	else if (strcasecmp(cmd, "CAPA") == 0)
		pop3_send_capa(s);
	else {
		s->bad++;
		pop3_reply(s, "-ERR Unknown command");
	}
}

const char *pop3_trash_name(struct store_user *user, struct arena *a)
{
	struct store_mbox_entry *list;
	size_t n;
	if (store_mailbox_list(user, a, &list, &n) == STORE_OK)
		for (size_t i = 0; i < n; i++)
			if (list[i].attrs & STORE_MB_TRASH)
				return list[i].name;
	return "Trash";
}
