/* store_fetch.c: cached per-message data and the change log
 * (CONDSTORE/QRESYNC). The message bytes are store_body.c's. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_fetch {
	struct store_mailbox *mb;
	sqlite3_stmt *s;
	const struct store_range *r;
	size_t n_r, cur;
	unsigned want;
};

int store_fetch_begin(struct store_mailbox *mb, const struct store_uidset *set,
                      unsigned want, struct store_fetch **f_r)
{
	struct store_user *u = mb->user;
	*f_r = NULL;
	int rc = account_sync(u);
	if (rc < 0)
		return rc;
	/* The decoded headers are read from the search index. */
	if ((want & STORE_WANT_HEADERS) && (rc = index_catch_up(u)) < 0)
		return rc;
	/* One statement stepped per range: the cached strings are read only
	 * when asked for, so FLAGS-only loops stay cheap. */
	struct store_fetch *f = xcalloc(1, sizeof(*f));
	f->mb = mb;
	f->r = set->r;
	f->n_r = set->n;
	f->want = want;
	char q[1024];
	snprintf(q, sizeof(q),
	         "SELECT m.uid, m.flags, m.keywords, m.modseq, m.internal_date, m.internal_tz,"
	         " m.size, b.header_size, b.hash, %s, %s, %s, %s"
	         " FROM message m JOIN blob b ON b.id = m.blob_id"
	         " WHERE m.mailbox_id = ?1 AND m.uid BETWEEN ?2 AND ?3 ORDER BY m.uid",
	         want & STORE_WANT_ENVELOPE ? "b.envelope" : "NULL",
	         want & STORE_WANT_BODYSTRUCTURE ? "b.bodystructure, b.body" : "NULL, NULL",
	         want & STORE_WANT_PREVIEW ? "b.preview" : "NULL",
	         want & STORE_WANT_HEADERS ? "b.message_id, (SELECT ifnull(hfrom, '') || char(1) ||"
	         " ifnull(hto, '') || char(1) || ifnull(hcc, '') || char(1) ||"
	         " ifnull(subject, '') FROM ix.fts WHERE fts.rowid = b.id)" :
	         "NULL, NULL");
	if ((f->s = stmt_take(u->acct, q)) == NULL) {
		free(f);
		return store_dbfail(u, "fetch");
	}
	f->cur = (size_t)-1;
	*f_r = f;
	return STORE_OK;
}

static const char *col(sqlite3_stmt *s, int i, struct arena *a)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t != NULL ? arena_strdup(a, t) : "";
}

/* Splits "from\1to\1cc\1subject" into the info fields. */
static void split_headers(struct store_msg_info *info, char *all)
{
	const char **out[] = { &info->from, &info->to, &info->cc, &info->subject };
	for (int i = 0; i < 4; i++) {
		*out[i] = all;
		char *sep = all != NULL ? strchr(all, '\1') : NULL;
		if (sep != NULL) {
			*sep = '\0';
			all = sep + 1;
		} else {
			all = (char *)"";
		}
	}
}

int store_fetch_next(struct store_fetch *f, struct arena *a, struct store_msg_info *info)
{
	for (;;) {
		if (f->cur != (size_t)-1) {
			int rc = sqlite3_step(f->s);
			if (rc == SQLITE_ROW)
				break;
			if (rc != SQLITE_DONE)
				return store_dbfail(f->mb->user, "fetch");
		}
		if (++f->cur >= f->n_r)
			return 0;
		sqlite3_reset(f->s);
		sqlite3_bind_int64(f->s, 1, f->mb->v->id);
		sqlite3_bind_int64(f->s, 2, f->r[f->cur].lo);
		sqlite3_bind_int64(f->s, 3, f->r[f->cur].hi);
	}
	sqlite3_stmt *s = f->s;
	memset(info, 0, sizeof(*info));
	info->uid = (uint32_t)sqlite3_column_int64(s, 0);
	info->flags = (uint32_t)sqlite3_column_int64(s, 1);
	info->keywords = (uint64_t)sqlite3_column_int64(s, 2);
	info->modseq = (uint64_t)sqlite3_column_int64(s, 3);
	info->internal_date = sqlite3_column_int64(s, 4);
	info->internal_tz = sqlite3_column_int(s, 5);
	info->size = (uint64_t)sqlite3_column_int64(s, 6);
	info->header_size = (uint64_t)sqlite3_column_int64(s, 7);
	const char *hash = (const char *)sqlite3_column_text(s, 8);
	snprintf(info->hash, sizeof(info->hash), "%s", hash != NULL ? hash : "");
	info->envelope = col(s, 9, a);
	info->bodystructure = col(s, 10, a);
	info->body = col(s, 11, a);
	info->preview = col(s, 12, a);
	info->message_id = col(s, 13, a);
	split_headers(info, (char *)col(s, 14, a));
	return 1;
}

void store_fetch_end(struct store_fetch **f)
{
	if (*f == NULL)
		return;
	stmt_give((*f)->mb->user->acct, (*f)->s);
	free(*f);
	*f = NULL;
}

int store_changes_since(struct store_mailbox *mb, uint64_t since, struct arena *a,
                        struct store_changes *ch)
{
	struct store_user *u = mb->user;
	memset(ch, 0, sizeof(*ch));
	int rc = account_sync(u);
	if (rc < 0)
		return rc;
	struct view *v = mb->v;
	view_usable(u, v);
	ch->highestmodseq = v->highestmodseq;
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->msgs[i].modseq > since;
	struct store_msg *out = arena_alloc(a, (n ? n : 1) * sizeof(*out));
	for (size_t i = 0, k = 0; i < v->n; i++)
		if (v->msgs[i].modseq > since)
			out[k++] = v->msgs[i];
	ch->changed = out;
	ch->n_changed = n;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(u->acct->db, "SELECT uid FROM tombstone WHERE mailbox_id = ?1"
	                       " AND modseq > ?2 ORDER BY uid", -1, &s, NULL) != SQLITE_OK)
		return store_dbfail(u, "changes");
	sqlite3_bind_int64(s, 1, v->id);
	sqlite3_bind_int64(s, 2, (int64_t)since);
	size_t cap = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (ch->n_vanished == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint32_t *p = arena_alloc(a, ncap * sizeof(uint32_t));
			if (cap)
				memcpy(p, ch->vanished, cap * sizeof(uint32_t));
			ch->vanished = p;
			cap = ncap;
		}
		ch->vanished[ch->n_vanished++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return STORE_OK;
}
