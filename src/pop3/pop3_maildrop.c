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
#include "pop3/pop3_maildrop.h"
#include "pop3/pop3_session.h"
#include "auth/auth_thread.h"
#include "lib/runtime.h"
#include "lib/strutil.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	pop3_retr_close(s);
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

struct pop3_msg *pop3_msg_arg(struct pop3_session *s, const char *arg, size_t *num_r)
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
		struct pop3_msg *m = pop3_msg_arg(s, args, &num);
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

static void cmd_dele(struct pop3_session *s, char *args)
{
	size_t num;
	struct pop3_msg *m = pop3_msg_arg(s, args, &num);
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
		pop3_cmd_retr(s, args, false);
	else if (strcasecmp(cmd, "TOP") == 0)
		pop3_cmd_retr(s, args, true);
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
