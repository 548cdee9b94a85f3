/* store_copy.c: COPY and MOVE. The copy references the same blob: no
 * message bytes are read or written. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <string.h>

/* Maps the source keyword bits to the destination's (creating names). */
static int map_keywords(struct store_user *u, struct view *src, struct view *dst,
                        uint64_t used, int map[STORE_KEYWORDS_MAX])
{
	for (int b = 0; b < STORE_KEYWORDS_MAX; b++) {
		map[b] = -1;
		if (!(used & ((uint64_t)1 << b)) || src->kw[b] == NULL)
			continue;
		const char *name = src->kw[b];
		uint64_t mask;
		int rc = keywords_mask(u, dst, &name, 1, true, &mask);
		if (rc < 0)
			return rc;
		map[b] = __builtin_ctzll(mask);
	}
	return STORE_OK;
}

int store_copy(struct store_mailbox *mb, const struct store_uidset *set, const char *dest,
               bool move, struct arena *a, struct store_copy_result *res)
{
	struct store_user *u = mb->user;
	memset(res, 0, sizeof(*res));
	char name[STORE_NAME_MAX + 1];
	if (store_name_normalize(dest, name) < 0)
		return store_fail(u, STORE_E_BADNAME, "invalid mailbox name");
	if (move && (mb->flags & STORE_OPEN_READONLY))
		return store_fail(u, STORE_E_NOTALLOWED, "mailbox is read-only");
	if (!view_usable(u, mb->v))
		return store_fail(u, STORE_E_NOTFOUND, "mailbox was deleted");
	int rc = txn_begin(u);
	if (rc < 0)
		return rc;
	struct view *v = mb->v;
	struct dest d = { 0 };
	if ((rc = dest_open(u, name, &d)) < 0) {
		dest_close(&d);
		txn_abort_clean(u);
		return rc;
	}
	size_t n = 0;
	uint64_t bytes = 0, used_kw = 0;
	for (size_t r = 0; r < set->n; r++)
		for (size_t i = view_index(v, set->r[r].lo); i < v->n && v->msgs[i].uid <= set->r[r].hi; i++) {
			n++;
			bytes += v->msgs[i].size;
			used_kw |= v->msgs[i].keywords;
		}
	res->uidvalidity = (uint32_t)0;
	if (n == 0) {
		dest_close(&d);
		txn_abort_clean(u);
		return STORE_OK;
	}
	/* A move within the account does not change what the user holds. */
	if (!move && (rc = quota_check(u, bytes, n)) < 0) {
		dest_close(&d);
		txn_abort_clean(u);
		return rc;
	}
	res->src_uids = arena_alloc(a, n * sizeof(uint32_t));
	res->dst_uids = arena_alloc(a, n * sizeof(uint32_t));
	struct store_msg *added = arena_alloc(a, n * sizeof(*added));
	int map[STORE_KEYWORDS_MAX];
	uint32_t uid;
	uint64_t modseq, src_modseq = 0;
	if ((rc = map_keywords(u, v, d.v, used_kw, map)) < 0 ||
	    (rc = dest_reserve(u, &d, (uint32_t)n, &uid, &modseq)) < 0)
		goto fail;
	res->uidvalidity = d.uidvalidity;
	for (size_t r = 0; r < set->n; r++) {
		for (size_t i = view_index(v, set->r[r].lo); i < v->n && v->msgs[i].uid <= set->r[r].hi; i++) {
			const struct store_msg *m = &v->msgs[i];
			sqlite3_stmt *s = stmt(u->acct, ST_MSG_GET);
			if (s == NULL) {
				rc = store_dbfail(u, "copy");
				goto fail;
			}
			sqlite3_bind_int64(s, 1, v->id);
			sqlite3_bind_int64(s, 2, m->uid);
			if (sqlite3_step(s) != SQLITE_ROW) {
				rc = store_dbfail(u, "copy");
				goto fail;
			}
			int64_t blob_id = sqlite3_column_int64(s, 0);
			int64_t date = sqlite3_column_int64(s, 2);
			int tz = sqlite3_column_int(s, 3);
			sqlite3_reset(s);
			struct store_msg c = { .uid = uid++, .flags = m->flags, .modseq = modseq,
			                       .size = m->size };
			for (int b = 0; b < STORE_KEYWORDS_MAX; b++)
				if ((m->keywords & ((uint64_t)1 << b)) && map[b] >= 0)
					c.keywords |= (uint64_t)1 << map[b];
			if ((rc = blob_ref(u, blob_id, 1)) < 0 ||
			    (rc = msg_insert(u, d.id, &c, blob_id, date, tz)) < 0)
				goto fail;
			res->src_uids[res->n] = m->uid;
			res->dst_uids[res->n] = c.uid;
			added[res->n++] = c;
		}
	}
	if (move) {
		if ((rc = mailbox_bump_modseq(u, v, &src_modseq)) < 0 ||
		    (rc = msgs_remove(u, v, res->src_uids, n, src_modseq, false)) < 0)
			goto fail;
	} else if ((rc = quota_add(u, (int64_t)bytes, (int64_t)n)) < 0) {
		goto fail;
	}
	if (move)
		view_expunge_sorted(v, u, res->src_uids, n);
	if (d.loaded)
		for (size_t k = 0; k < n; k++)
			view_note_added(d.v, u, &added[k]);
	dest_close(&d);
	return txn_commit(u);
fail:
	dest_close(&d);
	txn_rollback(u);
	res->n = 0;
	return rc;
}
