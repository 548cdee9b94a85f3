/* store_select.c: mailbox handles (SELECT/EXAMINE), STATUS, LIST,
 * \Recent, watchers. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

bool store_uidset_has(const struct store_uidset *set, uint32_t uid)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->r[mid].hi < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < set->n && set->r[lo].lo <= uid;
}

/* Gives this handle the messages nobody has claimed as \Recent yet.
 * Every session of a user runs on one thread and shares the view, so the
 * claim is made there, in memory; store.db gets it with the next change
 * to the mailbox, or when the view's last handle closes (store_view.c).
 * A crash before that only makes those
 * messages \Recent once more: \Recent is best effort (and gone from
 * IMAP4rev2). */
static void claim_recent(struct store_mailbox *mb)
{
	struct view *v = mb->v;
	if (v->recent_uid >= v->uidnext)
		return;
	uint32_t lo = v->recent_uid, hi = v->uidnext - 1;
	v->recent_uid = hi + 1;
	if (mb->n_recent > 0 && mb->recent[mb->n_recent - 1].hi + 1 == lo) {
		mb->recent[mb->n_recent - 1].hi = hi;
		return;
	}
	mb->recent = xrealloc(mb->recent, (mb->n_recent + 1) * sizeof(*mb->recent));
	mb->recent[mb->n_recent++] = (struct store_range){ lo, hi };
}

int store_mailbox_open(struct store_user *u, const char *name, unsigned flags,
                       struct store_mailbox **mb_r)
{
	char nm[STORE_NAME_MAX + 1];
	*mb_r = NULL;
	if (store_name_normalize(name, nm) < 0)
		return store_fail(u, STORE_E_BADNAME, "invalid mailbox name");
	int rc = account_sync(u);
	if (rc < 0)
		return rc;
	int64_t id;
	bool noselect;
	if ((rc = mailbox_lookup(u, nm, &id, &noselect)) < 0)
		return rc;
	if (noselect)
		return store_fail(u, STORE_E_NOSELECT, "mailbox is \\Noselect");
	struct view *v = view_get(u, id);
	if (v == NULL)
		return store_fail(u, STORE_E_INTERNAL, "cannot load mailbox: %s", u->err);
	struct store_mailbox *mb = xcalloc(1, sizeof(*mb));
	mb->user = u;
	mb->v = v;
	mb->flags = flags;
	mb->next = u->boxes;
	u->boxes = mb;
	if ((flags & STORE_OPEN_RECENT) && !(flags & STORE_OPEN_READONLY))
		claim_recent(mb);   /* \Recent is best effort: no failure for it */
	*mb_r = mb;
	return STORE_OK;
}

void store_mailbox_close(struct store_mailbox **mbp)
{
	struct store_mailbox *mb = *mbp;
	if (mb == NULL)
		return;
	*mbp = NULL;
	for (struct store_mailbox **p = &mb->user->boxes; *p != NULL; p = &(*p)->next) {
		if (*p == mb) {
			*p = mb->next;
			break;
		}
	}
	snapshot_close(mb);
	if (mb->v->handles == 1)
		view_save_recent(mb->user, mb->v);
	view_release(mb->v);
	free(mb->recent);
	free(mb);
}

const struct store_msg *store_mailbox_msgs(struct store_mailbox *mb, size_t *n_r)
{
	account_sync(mb->user);
	view_usable(mb->user, mb->v);
	*n_r = mb->v->n;
	return mb->v->msgs;
}

const uint32_t *store_mailbox_uids(struct store_mailbox *mb, size_t *n_r)
{
	account_sync(mb->user);
	view_usable(mb->user, mb->v);
	*n_r = mb->v->n;
	return mb->v->uids;
}

const struct store_msg *store_mailbox_msgs_nopoll(struct store_mailbox *mb, size_t *n_r)
{
	view_usable(mb->user, mb->v);
	*n_r = mb->v->n;
	return mb->v->msgs;
}

const struct store_msg *store_mailbox_find(struct store_mailbox *mb, uint32_t uid)
{
	struct view *v = mb->v;
	size_t i = view_index(v, uid);
	return i < v->n && v->msgs[i].uid == uid ? &v->msgs[i] : NULL;
}

const char *store_mailbox_name(const struct store_mailbox *mb)
{
	return mb->v->name;
}

const char *const *store_mailbox_keywords(struct store_mailbox *mb, size_t *n_r)
{
	*n_r = STORE_KEYWORDS_MAX;
	return (const char *const *)mb->v->kw;
}

bool store_msg_recent(const struct store_mailbox *mb, uint32_t uid)
{
	for (size_t i = 0; i < mb->n_recent; i++)
		if (uid >= mb->recent[i].lo && uid <= mb->recent[i].hi)
			return true;
	return false;
}

uint32_t store_mailbox_claim_recent(struct store_mailbox *mb)
{
	if (!(mb->flags & STORE_OPEN_READONLY))
		claim_recent(mb);
	uint32_t n = 0;
	struct view *v = mb->v;
	for (size_t i = 0; i < mb->n_recent; i++) {
		size_t a = view_index(v, mb->recent[i].lo);
		size_t b = mb->recent[i].hi == UINT32_MAX ? v->n : view_index(v, mb->recent[i].hi + 1);
		n += (uint32_t)(b - a);
	}
	return n;
}

static void view_status(struct view *v, struct store_status *st)
{
	memset(st, 0, sizeof(*st));
	st->uidvalidity = v->uidvalidity;
	st->uidnext = v->uidnext;
	st->highestmodseq = v->highestmodseq;
	st->messages = (uint32_t)v->n;
	st->attrs = v->special_use;
	/* A pass over every message, done again only after a change: a
	 * second SELECT of a big mailbox reads no message. */
	if (!v->counts_ok) {
		v->unseen = v->first_unseen = 0;
		v->size = 0;
		for (size_t i = 0; i < v->n; i++) {
			if (!(v->msgs[i].flags & STORE_SEEN)) {
				v->unseen++;
				if (v->first_unseen == 0)
					v->first_unseen = (uint32_t)i + 1;
			}
			v->size += v->msgs[i].size;
		}
		v->counts_ok = true;
	}
	st->unseen = v->unseen;
	st->first_unseen = v->first_unseen;
	st->size = v->size;
	st->recent = (uint32_t)(v->n - view_index(v, v->recent_uid));
}

void store_mailbox_get_status(struct store_mailbox *mb, struct store_status *st)
{
	account_sync(mb->user);
	view_usable(mb->user, mb->v);
	view_status(mb->v, st);
}

int store_mailbox_check(struct store_user *u, const char *name)
{
	char nm[STORE_NAME_MAX + 1];
	if (store_name_normalize(name, nm) < 0)
		return store_fail(u, STORE_E_BADNAME, "invalid mailbox name");
	int64_t id;
	bool noselect;
	int rc = mailbox_lookup(u, nm, &id, &noselect);
	if (rc == STORE_OK && noselect)
		return store_fail(u, STORE_E_NOSELECT, "mailbox is \\Noselect");
	return rc;
}

int store_mailbox_status(struct store_user *u, const char *name, struct store_status *st)
{
	char nm[STORE_NAME_MAX + 1];
	if (store_name_normalize(name, nm) < 0)
		return store_fail(u, STORE_E_BADNAME, "invalid mailbox name");
	int rc = account_sync(u);
	int64_t id;
	bool noselect;
	if (rc < 0 || (rc = mailbox_lookup(u, nm, &id, &noselect)) < 0)
		return rc;
	if (noselect)
		return store_fail(u, STORE_E_NOSELECT, "mailbox is \\Noselect");
	struct view *v = view_find_loaded(u->acct, id);
	if (v != NULL && view_usable(u, v)) {
		view_status(v, st);
		return STORE_OK;
	}
	/* Not loaded: aggregate in SQL rather than load a view for STATUS. */
	bool owned;
	sqlite3_stmt *s = stmt_cached(u->acct,
	    "SELECT b.uidvalidity, b.uidnext, b.highestmodseq, b.special_use, count(m.uid),"
	    " total(m.flags & 1 = 0), total(m.size), total(m.uid >= b.recent_uid)"
	    " FROM mailbox b LEFT JOIN message m ON m.mailbox_id = b.id WHERE b.id = ?1", &owned);
	if (s == NULL)
		return store_dbfail(u, "status");
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_dbfail(u, "status");
		stmt_release(s, owned);
		return rc;
	}
	memset(st, 0, sizeof(*st));
	st->uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
	st->uidnext = (uint32_t)sqlite3_column_int64(s, 1);
	st->highestmodseq = (uint64_t)sqlite3_column_int64(s, 2);
	st->attrs = (unsigned)sqlite3_column_int(s, 3);
	st->messages = (uint32_t)sqlite3_column_int64(s, 4);
	st->unseen = (uint32_t)sqlite3_column_double(s, 5);
	st->size = (uint64_t)sqlite3_column_double(s, 6);
	st->recent = (uint32_t)sqlite3_column_double(s, 7);
	stmt_release(s, owned);
	return STORE_OK;
}

void store_watch(struct store_mailbox *mb, store_watch_fn *fn, void *ctx)
{
	mb->watch = fn;
	mb->watch_ctx = ctx;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct store_mbox_entry *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;
	if (xi || yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

/* First entry at or after name in the sorted list [from, n). */
static size_t lower_bound(struct store_mbox_entry *l, size_t from, size_t n, const char *name)
{
	while (from < n) {
		size_t mid = from + (n - from) / 2;
		if (strcmp(l[mid].name, name) < 0)
			from = mid + 1;
		else
			n = mid;
	}
	return from;
}

int store_mailbox_list(struct store_user *u, struct arena *a,
                       struct store_mbox_entry **list_r, size_t *n_r)
{
	bool owned;
	sqlite3_stmt *s = stmt_cached(u->acct,
	    "SELECT name, special_use | (noselect * 1) | (EXISTS (SELECT 1 FROM subscription"
	    " WHERE subscription.name = mailbox.name) * 8) FROM mailbox"
	    " UNION ALL SELECT name, 8 | 16 FROM subscription WHERE name NOT IN"
	    " (SELECT name FROM mailbox) ORDER BY 1", &owned);
	if (s == NULL)
		return store_dbfail(u, "list");
	size_t n = 0, cap = 16;
	struct store_mbox_entry *l = xmalloc(cap * sizeof(*l));
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap)
			l = xrealloc(l, (cap *= 2) * sizeof(*l));
		l[n].name = arena_strdup(a, (const char *)sqlite3_column_text(s, 0));
		l[n].attrs = (unsigned)sqlite3_column_int(s, 1);
		n++;
	}
	stmt_release(s, owned);
	/* Children: the names after "name/" in byte order that start with it. */
	for (size_t i = 0; i < n; i++) {
		if (l[i].attrs & STORE_MB_NONEXISTENT)
			continue;
		char *prefix = arena_printf(a, "%s/", l[i].name);
		size_t k = lower_bound(l, 0, n, prefix);
		bool kids = false;
		for (; k < n && strncmp(l[k].name, prefix, strlen(prefix)) == 0 && !kids; k++)
			kids = !(l[k].attrs & STORE_MB_NONEXISTENT);
		l[i].attrs |= kids ? STORE_MB_HASCHILDREN : STORE_MB_HASNOCHILDREN;
	}
	qsort(l, n, sizeof(*l), cmp_entry);
	*list_r = arena_memdup(a, l, (n ? n : 1) * sizeof(*l));
	*n_r = n;
	free(l);
	return STORE_OK;
}
