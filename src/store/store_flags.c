/* store_flags.c: STORE (flags and keywords, UNCHANGEDSINCE) and EXPUNGE. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

#define PUSH_A(a, arr, n, cap, x) do { \
	if ((n) == (cap)) { \
		size_t ncap_ = (cap) ? (cap) * 2 : 64; \
		void *p_ = arena_alloc((a), ncap_ * sizeof(*(arr))); \
		if ((n) > 0) \
			memcpy(p_, (arr), (n) * sizeof(*(arr))); \
		(arr) = p_; \
		(cap) = ncap_; \
	} \
	(arr)[(n)++] = (x); \
} while (0)

static int writable(struct store_mailbox *mb)
{
	if (mb->flags & STORE_OPEN_READONLY)
		return store_fail(mb->user, STORE_E_NOTALLOWED, "mailbox is read-only");
	if (!view_usable(mb->user, mb->v))
		return store_fail(mb->user, STORE_E_NOTFOUND, "mailbox was deleted");
	return STORE_OK;
}

static int write_flags(struct store_user *u, struct view *v, const struct store_msg *m)
{
	sqlite3_stmt *s = stmt(u->acct, ST_MSG_FLAGS);
	if (s == NULL)
		return store_dbfail(u, "store");
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, m->uid);
	sqlite3_bind_int64(s, 3, m->flags);
	sqlite3_bind_int64(s, 4, (int64_t)m->keywords);
	sqlite3_bind_int64(s, 5, (int64_t)m->modseq);
	return sqlite3_step(s) == SQLITE_DONE ? STORE_OK : store_dbfail(u, "store");
}

int store_flags(struct store_mailbox *mb, const struct store_uidset *set,
                const struct store_flags_req *req, struct arena *a,
                struct store_flags_result *res)
{
	struct store_user *u = mb->user;
	memset(res, 0, sizeof(*res));
	int rc = writable(mb);
	if (rc < 0 || (rc = txn_begin(u)) < 0)
		return rc;
	struct view *v = mb->v;
	uint64_t kw;
	rc = keywords_mask(u, v, req->keywords, req->n_keywords, req->op != STORE_FLAGS_REMOVE, &kw);
	if (rc < 0) {
		txn_rollback(u);
		return rc;
	}
	uint32_t fl = req->flags & STORE_FLAGS_ALL;
	size_t *idx = NULL, n_idx = 0, cap_idx = 0, cap_mod = 0;
	for (size_t r = 0; r < set->n; r++) {
		for (size_t i = view_index(v, set->r[r].lo); i < v->n && v->msgs[i].uid <= set->r[r].hi; i++) {
			const struct store_msg *m = &v->msgs[i];
			if (req->unchangedsince != 0 && m->modseq > req->unchangedsince) {
				PUSH_A(a, res->modified, res->n_modified, cap_mod, m->uid);
				continue;
			}
			uint32_t nf = req->op == STORE_FLAGS_ADD ? m->flags | fl :
			              req->op == STORE_FLAGS_REMOVE ? m->flags & ~fl : fl;
			uint64_t nk = req->op == STORE_FLAGS_ADD ? m->keywords | kw :
			              req->op == STORE_FLAGS_REMOVE ? m->keywords & ~kw : kw;
			if (nf != m->flags || nk != m->keywords)
				PUSH_A(a, idx, n_idx, cap_idx, i);
		}
	}
	if (n_idx > 0 && (rc = mailbox_bump_modseq(u, v, &res->modseq)) < 0) {
		txn_rollback(u);
		return rc;
	}
	res->changed = arena_alloc(a, (n_idx ? n_idx : 1) * sizeof(uint32_t));
	for (size_t k = 0; k < n_idx; k++) {
		struct store_msg *m = &v->msgs[idx[k]];
		struct store_msg nm = *m;
		nm.flags = req->op == STORE_FLAGS_ADD ? m->flags | fl :
		           req->op == STORE_FLAGS_REMOVE ? m->flags & ~fl : fl;
		nm.keywords = req->op == STORE_FLAGS_ADD ? m->keywords | kw :
		              req->op == STORE_FLAGS_REMOVE ? m->keywords & ~kw : kw;
		nm.modseq = res->modseq;
		if ((rc = write_flags(u, v, &nm)) < 0) {
			txn_rollback(u);
			return rc;
		}
		*m = nm;
		view_note_changed(v, u, idx[k]);
		res->changed[res->n_changed++] = nm.uid;
	}
	return txn_commit(u);
}

/* Deletes message rows and writes tombstones at modseq; drops their blob
 * references and quota use. */
int msgs_remove(struct store_user *u, struct view *v, const uint32_t *uids, size_t n,
                uint64_t modseq, bool count_quota)
{
	int64_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = stmt(u->acct, ST_MSG_GET);
		if (s == NULL)
			return store_dbfail(u, "expunge");
		sqlite3_bind_int64(s, 1, v->id);
		sqlite3_bind_int64(s, 2, uids[i]);
		if (sqlite3_step(s) != SQLITE_ROW)
			return store_dbfail(u, "expunge");
		int64_t blob_id = sqlite3_column_int64(s, 0);
		bytes += sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
		int rc = blob_ref(u, blob_id, -1);
		if (rc < 0)
			return rc;
		if ((s = stmt(u->acct, ST_MSG_DELETE)) == NULL)
			return store_dbfail(u, "expunge");
		sqlite3_bind_int64(s, 1, v->id);
		sqlite3_bind_int64(s, 2, uids[i]);
		if (sqlite3_step(s) != SQLITE_DONE)
			return store_dbfail(u, "expunge");
		if ((s = stmt(u->acct, ST_TOMB_INSERT)) == NULL)
			return store_dbfail(u, "expunge");
		sqlite3_bind_int64(s, 1, v->id);
		sqlite3_bind_int64(s, 2, uids[i]);
		sqlite3_bind_int64(s, 3, (int64_t)modseq);
		if (sqlite3_step(s) != SQLITE_DONE)
			return store_dbfail(u, "expunge");
	}
	if (count_quota) {
		int rc = quota_add(u, -bytes, -(int64_t)n);
		if (rc < 0)
			return rc;
	}
	return blob_collect_unused(u);
}

int store_expunge(struct store_mailbox *mb, enum store_expunge_mode mode,
                  const struct store_uidset *set, struct arena *a,
                  uint32_t **uids_r, size_t *n_r)
{
	struct store_user *u = mb->user;
	*uids_r = NULL;
	*n_r = 0;
	int rc = writable(mb);
	if (rc < 0 || (rc = txn_begin(u)) < 0)
		return rc;
	struct view *v = mb->v;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < v->n; i++) {
		const struct store_msg *m = &v->msgs[i];
		bool in_set = mode == STORE_EXPUNGE_DELETED || store_uidset_has(set, m->uid);
		bool deleted = mode == STORE_EXPUNGE_SET || (m->flags & STORE_DELETED);
		if (in_set && deleted)
			PUSH_A(a, uids, n, cap, m->uid);
	}
	if (n == 0) {
		txn_abort_clean(u);
		return STORE_OK;
	}
	uint64_t modseq;
	if ((rc = mailbox_bump_modseq(u, v, &modseq)) < 0 ||
	    (rc = msgs_remove(u, v, uids, n, modseq, true)) < 0) {
		txn_rollback(u);
		return rc;
	}
	view_expunge_sorted(v, u, uids, n);
	if ((rc = txn_commit(u)) < 0)
		return rc;
	*uids_r = uids;
	*n_r = n;
	return STORE_OK;
}
