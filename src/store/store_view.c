/* store_view.c: the in-memory view of a mailbox (uid, flags, modseq,
 * size per message), shared by the handles of one thread, kept current by
 * the store's own changes and refreshed from other connections' commits. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

#define VIEWS_KEPT_UNUSED 8   /* closed views kept for a fast re-SELECT */

#define GROW(arr, n, cap) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 16; \
		(arr) = xrealloc((arr), (cap) * sizeof(*(arr))); \
	} \
} while (0)

void view_free(struct view *v)
{
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		free(v->kw[i]);
	free(v->name);
	free(v->msgs);
	free(v->uids);
	free(v->added);
	free(v->changed);
	free(v->expunged);
	free(v);
}

/* Room for one more message in msgs and uids (same capacity). */
static void msgs_grow(struct view *v)
{
	if (v->n < v->cap)
		return;
	v->cap = v->cap ? v->cap * 2 : 16;
	v->msgs = xrealloc(v->msgs, v->cap * sizeof(*v->msgs));
	v->uids = xrealloc(v->uids, v->cap * sizeof(*v->uids));
}

size_t view_index(const struct view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Reads the mailbox row; STORE_E_NOTFOUND if it is gone or \Noselect. */
static int read_row(struct store_user *u, struct view *v)
{
	sqlite3_stmt *s = stmt(u->acct, ST_MB_BY_ID);
	if (s == NULL)
		return store_dbfail(u, "mailbox");
	sqlite3_bind_int64(s, 1, v->id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? STORE_E_NOTFOUND : store_dbfail(u, "mailbox");
	}
	free(v->name);
	v->name = xstrdup((const char *)sqlite3_column_text(s, 0));
	uint32_t uidvalidity = (uint32_t)sqlite3_column_int64(s, 1);
	v->uidnext = (uint32_t)sqlite3_column_int64(s, 2);
	v->highestmodseq = (uint64_t)sqlite3_column_int64(s, 3);
	/* \Recent claims not yet written (store_select.c) stay claimed,
	 * unless this is another mailbox under the same id. */
	uint32_t recent = (uint32_t)sqlite3_column_int64(s, 4);
	if (uidvalidity != v->uidvalidity || recent > v->recent_uid)
		v->recent_uid = recent;
	v->recent_saved = recent;
	v->uidvalidity = uidvalidity;
	v->special_use = (unsigned)sqlite3_column_int(s, 5);
	bool noselect = sqlite3_column_int(s, 6) != 0;
	sqlite3_reset(s);
	return noselect ? STORE_E_NOTFOUND : STORE_OK;
}

static void read_msg(sqlite3_stmt *s, struct store_msg *m)
{
	m->uid = (uint32_t)sqlite3_column_int64(s, 0);
	m->flags = (uint32_t)sqlite3_column_int64(s, 1);
	m->keywords = (uint64_t)sqlite3_column_int64(s, 2);
	m->modseq = (uint64_t)sqlite3_column_int64(s, 3);
	m->size = (uint64_t)sqlite3_column_int64(s, 4);
	m->day = sqlite3_column_int64(s, 5);
}

int view_reload(struct store_user *u, struct view *v)
{
	int rc = read_row(u, v);
	if (rc < 0)
		return rc;
	if ((rc = keywords_load(u, v)) < 0)
		return rc;
	bool owned;
	sqlite3_stmt *s = stmt_cached(u->acct, "SELECT uid, flags, keywords, modseq, size,"
	                              " internal_day FROM message WHERE mailbox_id = ?1"
	                              " ORDER BY uid", &owned);
	if (s == NULL)
		return store_dbfail(u, "load");
	sqlite3_bind_int64(s, 1, v->id);
	v->n = 0;
	v->counts_ok = false;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		msgs_grow(v);
		read_msg(s, &v->msgs[v->n]);
		v->uids[v->n] = v->msgs[v->n].uid;
		v->n++;
	}
	stmt_release(s, owned);
	if (rc != SQLITE_DONE)
		return store_dbfail(u, "load");
	v->dirty = false;
	return STORE_OK;
}

struct view *view_find_loaded(struct store_account *acct, int64_t id)
{
	for (struct view *v = acct->views; v != NULL; v = v->next)
		if (v->id == id)
			return v;
	return NULL;
}

static void evict_unused(struct store_account *acct)
{
	if (acct->notifying)
		return;   /* views_notify is walking the list */
	unsigned unused = 0;
	struct view **last = NULL;
	for (struct view **p = &acct->views; *p != NULL; p = &(*p)->next) {
		if ((*p)->handles == 0) {
			unused++;
			last = p;
		}
	}
	if (unused > VIEWS_KEPT_UNUSED && last != NULL) {
		struct view *v = *last;
		*last = v->next;
		view_free(v);
	}
}

struct view *view_get(struct store_user *u, int64_t id)
{
	struct view *v = view_find_loaded(u->acct, id);
	if (v != NULL && v->dirty && view_reload(u, v) < 0)
		return NULL;
	if (v == NULL) {
		v = xcalloc(1, sizeof(*v));
		v->acct = u->acct;
		v->id = id;
		if (view_reload(u, v) < 0) {
			view_free(v);
			return NULL;
		}
		v->next = u->acct->views;
		u->acct->views = v;
	}
	v->handles++;
	return v;
}

bool view_usable(struct store_user *u, struct view *v)
{
	if (v->dirty && view_reload(u, v) < 0) {
		v->n = 0;
		return false;
	}
	return true;
}

void view_release(struct view *v)
{
	if (--v->handles == 0)
		evict_unused(v->acct);
}

static void set_origin(struct view *v, struct store_user *origin)
{
	bool pending = v->n_added || v->n_changed || v->n_expunged || v->kw_changed || v->gone;
	if (!pending)
		v->origin = origin;
	else if (v->origin != origin)
		v->origin = NULL;
}

void view_note_added(struct view *v, struct store_user *origin, const struct store_msg *m)
{
	set_origin(v, origin);
	size_t i = view_index(v, m->uid);
	msgs_grow(v);
	memmove(&v->msgs[i + 1], &v->msgs[i], (v->n - i) * sizeof(*m));
	memmove(&v->uids[i + 1], &v->uids[i], (v->n - i) * sizeof(*v->uids));
	v->msgs[i] = *m;
	v->uids[i] = m->uid;
	v->n++;
	v->counts_ok = false;
	if (m->uid >= v->uidnext)
		v->uidnext = m->uid + 1;
	GROW(v->added, v->n_added, v->cap_added);
	v->added[v->n_added++] = *m;
}

void view_note_changed(struct view *v, struct store_user *origin, size_t idx)
{
	set_origin(v, origin);
	v->counts_ok = false;
	GROW(v->changed, v->n_changed, v->cap_changed);
	v->changed[v->n_changed++] = v->msgs[idx];
}

void view_note_expunged(struct view *v, struct store_user *origin, size_t idx)
{
	set_origin(v, origin);
	GROW(v->expunged, v->n_expunged, v->cap_expunged);
	v->expunged[v->n_expunged++] = v->msgs[idx].uid;
	memmove(&v->msgs[idx], &v->msgs[idx + 1], (v->n - idx - 1) * sizeof(v->msgs[0]));
	memmove(&v->uids[idx], &v->uids[idx + 1], (v->n - idx - 1) * sizeof(v->uids[0]));
	v->n--;
	v->counts_ok = false;
}

void view_expunge_sorted(struct view *v, struct store_user *origin, const uint32_t *uids,
                         size_t n)
{
	if (n == 0)
		return;
	set_origin(v, origin);
	size_t j = 0, out = 0;
	for (size_t i = 0; i < v->n; i++) {
		while (j < n && uids[j] < v->msgs[i].uid)
			j++;
		if (j < n && uids[j] == v->msgs[i].uid) {
			GROW(v->expunged, v->n_expunged, v->cap_expunged);
			v->expunged[v->n_expunged++] = uids[j];
			continue;
		}
		v->uids[out] = v->msgs[i].uid;
		v->msgs[out++] = v->msgs[i];
	}
	v->n = out;
	v->counts_ok = false;
}

void view_note_gone(struct view *v, struct store_user *origin)
{
	set_origin(v, origin);
	v->gone = true;
	v->dirty = true;
}

void view_note_keyword(struct view *v, struct store_user *origin)
{
	set_origin(v, origin);
	v->kw_changed = true;
}

/* \Recent claims are made in memory (they are best effort, and a write
 * transaction with its fsync for every message arriving in front of an
 * IMAP4rev1 session was the price); the next change to the mailbox
 * carries them into store.db. Inside the open write transaction. */
static int recent_save(struct store_user *u, struct view *v)
{
	if (v->recent_uid <= v->recent_saved)
		return STORE_OK;
	bool owned;
	sqlite3_stmt *s = stmt_cached(u->acct, "UPDATE mailbox SET recent_uid = ?2 WHERE id = ?1",
	                              &owned);
	if (s == NULL)
		return store_dbfail(u, "recent");
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, v->recent_uid);
	int rc = sqlite3_step(s);
	stmt_release(s, owned);
	if (rc != SQLITE_DONE)
		return store_dbfail(u, "recent");
	v->recent_saved = v->recent_uid;
	return STORE_OK;
}

int view_save_recent(struct store_user *u, struct view *v)
{
	struct store_account *acct = u->acct;
	if (v->recent_uid <= v->recent_saved || acct->notifying ||
	    (acct->txn_depth > 0 && acct->txn_owner != u))
		return STORE_OK;
	int rc = txn_begin(u);
	if (rc < 0)
		return rc;
	if ((rc = recent_save(u, v)) < 0) {
		txn_rollback(u);
		return rc;
	}
	return txn_commit(u);
}

int mailbox_bump_modseq(struct store_user *u, struct view *v, uint64_t *modseq_r)
{
	sqlite3_stmt *s = stmt(u->acct, ST_MB_BUMP);
	if (s == NULL)
		return store_dbfail(u, "modseq");
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, (int64_t)(v->highestmodseq + 1));
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "modseq");
	v->highestmodseq++;
	*modseq_r = v->highestmodseq;
	return recent_save(u, v);
}

/* Applies another connection's commits: rows with a newer modseq and
 * newer tombstones. */
int view_refresh(struct store_user *u, struct view *v, struct store_user *origin)
{
	if (v->dirty)
		return STORE_OK;   /* reloaded on next use */
	uint64_t since = v->highestmodseq;
	unsigned nkw = 0;
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		nkw += v->kw[i] != NULL;
	int rc = read_row(u, v);
	if (rc == STORE_E_NOTFOUND) {
		view_note_gone(v, origin);
		return STORE_OK;
	}
	if (rc < 0)
		return rc;
	if (v->highestmodseq == since)
		return STORE_OK;
	if ((rc = keywords_load(u, v)) < 0)
		return rc;
	unsigned nkw2 = 0;
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		nkw2 += v->kw[i] != NULL;
	if (nkw2 != nkw)
		view_note_keyword(v, origin);
	bool owned;
	sqlite3_stmt *s = stmt_cached(u->acct, "SELECT uid FROM tombstone WHERE mailbox_id = ?1"
	                              " AND modseq > ?2 ORDER BY uid", &owned);
	if (s == NULL)
		return store_dbfail(u, "refresh");
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, (int64_t)since);
	uint32_t *gone = NULL;
	size_t n = 0, cap = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		GROW(gone, n, cap);
		gone[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	stmt_release(s, owned);
	view_expunge_sorted(v, origin, gone, n);
	free(gone);
	s = stmt_cached(u->acct, "SELECT uid, flags, keywords, modseq, size, internal_day"
	                " FROM message"
	                " WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid", &owned);
	if (s == NULL)
		return store_dbfail(u, "refresh");
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, (int64_t)since);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct store_msg m;
		read_msg(s, &m);
		size_t i = view_index(v, m.uid);
		if (i < v->n && v->msgs[i].uid == m.uid) {
			v->msgs[i] = m;
			view_note_changed(v, origin, i);
		} else {
			view_note_added(v, origin, &m);
		}
	}
	stmt_release(s, owned);
	return STORE_OK;
}

static int cmp_msg(const void *a, const void *b)
{
	const struct store_msg *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Report each pending uid once, with its current state. */
static size_t settle(struct view *v, struct store_msg *list, size_t n)
{
	if (n > 1)
		qsort(list, n, sizeof(*list), cmp_msg);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && list[out - 1].uid == list[i].uid)
			continue;
		size_t k = view_index(v, list[i].uid);
		if (k < v->n && v->msgs[k].uid == list[i].uid)
			list[out++] = v->msgs[k];
	}
	return out;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool handle_open(struct store_account *acct, const struct store_mailbox *h)
{
	for (struct store_user *u = acct->users; u != NULL; u = u->next)
		for (struct store_mailbox *mb = u->boxes; mb != NULL; mb = mb->next)
			if (mb == h)
				return true;
	return false;
}

void views_notify(struct store_account *acct)
{
	acct->notifying = true;
	for (struct view *v = acct->views; v != NULL; v = v->next) {
		if (!(v->n_added || v->n_changed || v->n_expunged || v->kw_changed || v->gone))
			continue;
		struct store_event ev = {
			.mailbox_gone = v->gone,
			.keywords_changed = v->kw_changed,
			.highestmodseq = v->highestmodseq,
			.added = v->added,
			.changed = v->changed,
			.expunged = v->expunged,
			.n_expunged = v->n_expunged,
		};
		/* Added messages are reported as added even if changed since. */
		for (size_t i = 0; i < v->n_added; i++) {
			size_t k = view_index(v, v->added[i].uid);
			if (k < v->n && v->msgs[k].uid == v->added[i].uid)
				v->added[i] = v->msgs[k];
		}
		ev.n_added = v->n_added;
		if (v->n_added > 1)
			qsort(v->added, v->n_added, sizeof(*v->added), cmp_msg);
		size_t nc = settle(v, v->changed, v->n_changed);
		size_t w = 0;
		for (size_t i = 0; i < nc; i++) {
			struct store_msg key = { .uid = v->changed[i].uid };
			if (v->n_added == 0 ||
			    bsearch(&key, v->added, v->n_added, sizeof(key), cmp_msg) == NULL)
				v->changed[w++] = v->changed[i];
		}
		ev.n_changed = w;
		if (v->n_expunged > 1)
			qsort(v->expunged, v->n_expunged, sizeof(uint32_t), cmp_u32);
		/* A watcher may close handles (e.g. on mailbox_gone): take the
		 * list first and check each is still open before calling it. */
		size_t nb = 0, cap = 0;
		for (struct store_user *u = acct->users; u != NULL; u = u->next)
			for (struct store_mailbox *mb = u->boxes; mb != NULL; mb = mb->next)
				cap += mb->v == v && mb->watch != NULL;
		struct store_mailbox **boxes = xmalloc((cap ? cap : 1) * sizeof(*boxes));
		for (struct store_user *u = acct->users; u != NULL; u = u->next)
			for (struct store_mailbox *mb = u->boxes; mb != NULL; mb = mb->next)
				if (mb->v == v && mb->watch != NULL)
					boxes[nb++] = mb;
		for (size_t i = 0; i < nb; i++) {
			if (!handle_open(acct, boxes[i]))
				continue;
			ev.mb = boxes[i];
			ev.own = v->origin != NULL && v->origin == boxes[i]->user;
			boxes[i]->watch(&ev, boxes[i]->watch_ctx);
		}
		free(boxes);
		v->n_added = v->n_changed = v->n_expunged = 0;
		v->kw_changed = v->gone = false;
		v->origin = NULL;
	}
	acct->notifying = false;
	evict_unused(acct);
}

void views_invalidate(struct store_account *acct)
{
	for (struct view *v = acct->views; v != NULL; v = v->next) {
		v->dirty = true;
		v->n_added = v->n_changed = v->n_expunged = 0;
		v->kw_changed = v->gone = false;
	}
}
