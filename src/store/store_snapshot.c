/* store_snapshot.c: message bytes read through a mailbox handle's own
 * database connection, in one read transaction kept across reads
 * (store.h, "snapshot reads"). The thread's shared connection cannot keep
 * one: every other session of the user would see the old snapshot too. */
#include "store/store_internal.h"
#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>

struct snapshot {
	sqlite3 *db;
	sqlite3_stmt *body;     /* ST_MSG_BODY on db */
	bool in_txn;            /* BEGIN done, COMMIT not yet */
};

static void snapshot_free(struct snapshot *sn)
{
	sqlite3_finalize(sn->body);
	sqlite3_close(sn->db);
	free(sn);
}

static int snapshot_open(struct store_mailbox *mb)
{
	struct store_user *u = mb->user;
	char path[4200];
	snprintf(path, sizeof(path), "%s/store.db", u->acct->dir);
	struct snapshot *sn = xcalloc(1, sizeof(*sn));
	/* Read-only: it can never take part in, or nest into, a write. */
	if (sqlite3_open_v2(path, &sn->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		int rc = store_fail(u, STORE_E_INTERNAL, "snapshot: %s", sqlite3_errmsg(sn->db));
		snapshot_free(sn);
		return rc;
	}
	sqlite3_busy_timeout(sn->db, 10000);
	sqlite3_extended_result_codes(sn->db, 1);
	/* Small page cache: message pages come from the mapping. */
	if (sqlite3_exec(sn->db, "PRAGMA cache_size = -256; PRAGMA mmap_size = " STORE_MMAP_SIZE,
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(sn->db, stmt_sql_of(ST_MSG_BODY), -1, SQLITE_PREPARE_PERSISTENT,
	                       &sn->body, NULL) != SQLITE_OK) {
		int rc = store_fail(u, STORE_E_INTERNAL, "snapshot: %s", sqlite3_errmsg(sn->db));
		snapshot_free(sn);
		return rc;
	}
	mb->snap = sn;
	return STORE_OK;
}

int store_snapshot_hold(struct store_mailbox *mb)
{
	if (mb->snap == NULL) {
		int rc = snapshot_open(mb);
		if (rc < 0)
			return rc;
	}
	mb->snap_held = true;
	return STORE_OK;
}

void store_snapshot_release(struct store_mailbox *mb)
{
	mb->snap_held = false;
	snapshot_end(mb);
}

void snapshot_end(struct store_mailbox *mb)
{
	struct snapshot *sn = mb->snap;
	if (sn == NULL || !sn->in_txn)
		return;
	sqlite3_reset(sn->body);
	/* A read transaction has nothing to lose: COMMIT only ends it. */
	sqlite3_exec(sn->db, "COMMIT", NULL, NULL, NULL);
	sn->in_txn = false;
}

bool snapshot_in_txn(const struct store_mailbox *mb)
{
	return mb->snap != NULL && mb->snap->in_txn;
}

sqlite3_stmt *snapshot_body_stmt(struct store_mailbox *mb)
{
	struct snapshot *sn = mb->snap;
	if (!sn->in_txn) {
		if (sqlite3_exec(sn->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			store_fail(mb->user, STORE_E_INTERNAL, "snapshot: %s", sqlite3_errmsg(sn->db));
			return NULL;
		}
		sn->in_txn = true;
	}
	sqlite3_reset(sn->body);
	sqlite3_clear_bindings(sn->body);
	return sn->body;
}

void snapshot_close(struct store_mailbox *mb)
{
	if (mb->snap == NULL)
		return;
	snapshot_end(mb);
	snapshot_free(mb->snap);
	mb->snap = NULL;
	mb->snap_held = false;
}
