/* store_dest.c: the target mailbox of an append or copy, whether or not
 * its view is loaded: UID and modseq reservation inside the transaction. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <string.h>

int dest_open(struct store_user *u, const char *name, struct dest *d)
{
	memset(d, 0, sizeof(*d));
	bool noselect;
	int rc = mailbox_lookup(u, name, &d->id, &noselect);
	if (rc == STORE_E_NOTFOUND)
		return store_fail(u, rc, "no such mailbox (TRYCREATE)");
	if (rc < 0)
		return rc;
	if (noselect)
		return store_fail(u, STORE_E_NOSELECT, "mailbox is \\Noselect");
	struct view *v = view_find_loaded(u->acct, d->id);
	if (v != NULL && view_usable(u, v)) {
		d->v = v;
		d->loaded = true;
		return STORE_OK;
	}
	/* Not loaded: a detached view with just the keyword table, rather
	 * than loading every message of a mailbox nobody has selected. */
	d->v = xcalloc(1, sizeof(*d->v));
	d->v->acct = u->acct;
	d->v->id = d->id;
	return keywords_load(u, d->v);
}

void dest_close(struct dest *d)
{
	if (d->v != NULL && !d->loaded)
		view_free(d->v);
	d->v = NULL;
}

int dest_reserve(struct store_user *u, struct dest *d, uint32_t count, uint32_t *first_uid_r,
                 uint64_t *modseq_r)
{
	sqlite3_stmt *s = stmt(u->acct, ST_MB_BY_ID);
	if (s == NULL)
		return store_dbfail(u, "reserve");
	sqlite3_bind_int64(s, 1, d->id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_dbfail(u, "reserve");
	}
	d->uidvalidity = (uint32_t)sqlite3_column_int64(s, 1);
	int64_t uidnext = sqlite3_column_int64(s, 2);
	int64_t modseq = sqlite3_column_int64(s, 3) + 1;
	sqlite3_reset(s);
	if (uidnext + count > 0xffffffffLL)
		return store_fail(u, STORE_E_LIMIT, "UIDs exhausted in this mailbox");
	if ((s = stmt(u->acct, ST_MB_UIDNEXT)) == NULL)
		return store_dbfail(u, "reserve");
	sqlite3_bind_int64(s, 1, d->id);
	sqlite3_bind_int64(s, 2, uidnext + count);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "reserve");
	if ((s = stmt(u->acct, ST_MB_BUMP)) == NULL)
		return store_dbfail(u, "reserve");
	sqlite3_bind_int64(s, 1, d->id);
	sqlite3_bind_int64(s, 2, modseq);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "reserve");
	d->v->highestmodseq = (uint64_t)modseq;
	d->v->uidnext = (uint32_t)(uidnext + count);
	d->v->uidvalidity = d->uidvalidity;
	*first_uid_r = (uint32_t)uidnext;
	*modseq_r = (uint64_t)modseq;
	return STORE_OK;
}
