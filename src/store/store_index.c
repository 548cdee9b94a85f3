/* store_index.c: the search index seen from the thread that owns a
 * user's store.
 *
 * Indexing costs about a millisecond of CPU for a 5 KB message, more than
 * all the rest of storing it. So the transaction that stores a message
 * does nothing for the index; the index lives in a database of its own,
 * index.db, filled by the background indexer thread (store_indexer.c)
 * while this thread goes on storing: a burst of deliveries to one user
 * runs on two cores, and no delivery ever waits for the index's lock.
 * This thread indexes by itself only before a fetch that reads the index
 * (index_catch_up), or a search when many messages wait; otherwise a
 * search matches the few the index lacks itself (store_search_tail.c), so
 * it never misses a message. Tools
 * and tests run without the indexer thread: there a commit that leaves
 * more than STORE_INDEX_BACKLOG blobs waiting indexes the excess.
 * index.db is attached read-only to the store's connection as "ix", so a
 * search is one SQL statement over both; the store's write transactions
 * take no lock on it. */
#include "store/store_internal.h"

#include "lib/runtime.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Messages per transaction when this thread indexes: FTS5 costs ~30%
 * less per message in chunks of 64 than of a few (measured: 0.79 vs
 * 1.1 ms for 5 KB messages). */
#define CATCH_UP_CHUNK 256
#define OVERFLOW_CHUNK 64

static int attach(struct store_account *acct)
{
	char uri[13000];
	sqlite3_stmt *s;
	if (index_uri_ro(uri, sizeof(uri), acct->dir, "index.db") < 0 ||
	    sqlite3_prepare_v2(acct->db, "ATTACH ?1 AS ix", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The writer is opened when this thread first writes the index (most
 * sessions never do): opening it validates index.db, a write transaction
 * that a login must not pay for. */
int index_writer_of(struct store_user *u)
{
	struct store_account *acct = u->acct;
	const char *err;
	if (acct->ixw == NULL && index_writer_open(acct->dir, false, &acct->ixw, &err) < 0)
		return store_fail(u, STORE_E_INTERNAL, "%s", err);
	return STORE_OK;
}

int index_attach(struct store_account *acct, const char **error_r)
{
	/* Read-only needs the file: a new store creates it. */
	char path[4200];
	snprintf(path, sizeof(path), "%s/index.db", acct->dir);
	if (access(path, F_OK) < 0 && index_writer_open(acct->dir, false, &acct->ixw, error_r) < 0)
		return -1;
	if (attach(acct) < 0) {
		*error_r = "cannot attach the search index";
		return -1;
	}
	return 0;
}

/* *n_r: how many blobs at most wait for the index (none when the newest
 * were deleted after being indexed); *ours_r: index.db was made for this
 * store.db (else the writer's opening starts it over). */
static int lag(struct store_user *u, int64_t *n_r, bool *ours_r)
{
	sqlite3_stmt *s = stmt(u->acct, ST_INDEX_LAG);
	if (s == NULL || sqlite3_step(s) != SQLITE_ROW)
		return store_dbfail(u, "search index");
	*n_r = sqlite3_column_int64(s, 0);
	*ours_r = sqlite3_column_int(s, 1) != 0;
	sqlite3_reset(s);
	return STORE_OK;
}

/* Before reading the index: it is ours and readable. A damaged index.db
 * is replaced by the writer's opening: attached again, the new file. */
static int usable(struct store_user *u, int64_t *n_r)
{
	bool ours;
	int rc = lag(u, n_r, &ours);
	if (rc == STORE_OK && ours)
		return STORE_OK;
	struct store_account *acct = u->acct;
	index_writer_close(&acct->ixw);
	if ((rc = index_writer_of(u)) < 0)
		return rc;
	/* Statements reading ix are prepared again by SQLite by themselves. */
	if (sqlite3_exec(acct->db, "DETACH ix", NULL, NULL, NULL) != SQLITE_OK || attach(acct) < 0)
		return store_dbfail(u, "search index");
	return lag(u, n_r, &ours);
}

static int run(struct store_user *u, unsigned max, bool *more_r)
{
	int rc = index_writer_of(u);
	if (rc == STORE_OK && (rc = index_writer_run(u->acct->ixw, max, more_r)) < 0)
		rc = store_fail(u, rc, "%s", index_writer_error(u->acct->ixw));
	return rc;
}

int store_index_pending(struct store_user *u, unsigned max, bool *more_r)
{
	if (u->acct->txn_depth > 0)
		return store_fail(u, STORE_E_INTERNAL, "indexing inside a transaction");
	return run(u, max, more_r);
}

int index_catch_up(struct store_user *u)
{
	struct store_account *acct = u->acct;
	/* Inside a transaction or a watcher callback the search sees what is
	 * indexed so far. Sessions search between transactions, where this
	 * never applies. */
	if (acct->txn_depth > 0 || acct->notifying)
		return STORE_OK;
	int64_t n;
	int rc = usable(u, &n);
	if (rc < 0)
		return rc;
	bool more = n > 0;
	if (more)
		index_urgent++;
	while (more && rc == STORE_OK)
		rc = run(u, CATCH_UP_CHUNK, &more);
	if (n > 0)
		index_urgent--;
	return rc;
}

int index_ready_for_search(struct store_user *u)
{
	int64_t n;
	int rc = usable(u, &n);
	if (rc == STORE_OK && n > SEARCH_TAIL_MAX)
		rc = index_catch_up(u);
	return rc;
}

void index_after_commit(struct store_user *u)
{
	struct store_account *acct = u->acct;
	bool added = acct->new_blobs_committed;
	acct->new_blobs_committed = false;
	if (!added && acct->n_gone == 0)
		return;
	/* The commit succeeded: a failure below only leaves work for the
	 * next search (or stale rows for the check), so keep the handle's
	 * error as it is. */
	char keep[sizeof(u->err)];
	memcpy(keep, u->err, sizeof(keep));
	if (runtime_worker_self() != NULL) {
		indexer_post(acct->dir, added, acct->gone, acct->n_gone);
		acct->n_gone = 0;
		memcpy(u->err, keep, sizeof(keep));
		return;
	}
	if (index_writer_of(u) == STORE_OK)
		index_writer_forget(acct->ixw, acct->gone, acct->n_gone);
	acct->n_gone = 0;
	int64_t n = 0;
	bool ours;
	if (added && lag(u, &n, &ours) == STORE_OK && n > STORE_INDEX_BACKLOG) {
		n -= STORE_INDEX_BACKLOG;
		run(u, (unsigned)(n > OVERFLOW_CHUNK ? n : OVERFLOW_CHUNK), NULL);
	}
	memcpy(u->err, keep, sizeof(keep));
}
