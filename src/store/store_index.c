/* store_index.c: the trigram search index (table fts), filled after the
 * transaction that stored a message rather than inside it.
 *
 * Indexing costs about a millisecond of CPU for a 5 KB message, more than
 * all the rest of storing it; inside the append's transaction it would
 * delay every reply and cap the deliveries to one user at under a
 * thousand a second (one user's store is used by one thread). So a new
 * blob is only queued (a row of fts_pending, in the same transaction) and
 * indexed later, in small transactions of its own:
 *   - by the idle indexer: on a server thread, once the commits that
 *     queued blobs pause for INDEX_QUIET_MS, INDEX_CHUNK blobs per loop
 *     turn, for each account open on the thread with blobs waiting. A
 *     burst of deliveries or APPENDs is answered at full speed and indexed
 *     afterwards; a change arriving meanwhile waits for one chunk at most;
 *   - index_catch_up(), before any search or fetch that reads the index,
 *     so a search never misses a message;
 *   - index_after_commit(), which keeps the queue at most
 *     STORE_INDEX_BACKLOG long for writers that never pause (and for
 *     stores opened by the CLI, which has no event loop).
 * The index is derived data: its transactions commit without fsync (a
 * crash loses at most some indexing, and the queue rows with it, so those
 * messages are indexed again), and the message is parsed again for it
 * (the cached ENVELOPE/BODYSTRUCTURE are still from the one parse at
 * append). */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "lib/ev.h"
#include "lib/runtime.h"

#include <stdlib.h>
#include <string.h>

/* Messages per transaction when catching up before a search. */
#define CATCH_UP_CHUNK 256
/* The idle indexer: quiet time before it starts, blobs per loop turn. */
#define INDEX_QUIET_MS 100
#define INDEX_CHUNK 16
/* Past STORE_INDEX_BACKLOG, a commit indexes at least this many: FTS5
 * costs ~30% less per message in chunks of 64 than of a few (measured:
 * 0.79 vs 1.1 ms for 5 KB messages), and the queue stays at most that
 * much below the bound. */
#define OVERFLOW_CHUNK 64

static _Thread_local struct ev_timer idle_timer;

int index_queue(struct store_user *u, int64_t blob_id)
{
	sqlite3_stmt *s = stmt(u->acct, ST_PENDING_INSERT);
	if (s == NULL)
		return store_dbfail(u, "index queue");
	sqlite3_bind_int64(s, 1, blob_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "index queue");
	u->acct->queued_index++;
	return STORE_OK;
}

static int step_done(struct store_user *u, sqlite3_stmt *s, const char *what)
{
	return sqlite3_step(s) == SQLITE_DONE ? STORE_OK : store_dbfail(u, what);
}

/* Inside the transaction: the index row of blob `id`, from its bytes, and
 * the queue row removed. A body that cannot be read is indexed empty (the
 * check reports it) rather than left queued for ever. */
static int index_one(struct store_user *u, int64_t id, struct arena *a)
{
	struct store_account *acct = u->acct;
	sqlite3_stmt *bs = stmt(acct, ST_BLOB_BODY);
	if (bs == NULL)
		return store_dbfail(u, "index");
	sqlite3_bind_int64(bs, 1, id);
	int rc = sqlite3_step(bs);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(bs);
		if (rc != SQLITE_DONE)
			return store_dbfail(u, "index");
		/* The blob went meanwhile (its queue row with it). */
		return STORE_OK;
	}
	struct body b;
	struct store_summary sum;
	memset(&sum, 0, sizeof(sum));
	bool readable = body_from_row(u, bs, 0, &b) == STORE_OK;
	if (readable)
		store_summarize(b.data, b.len, a, &sum);
	sqlite3_stmt *s = stmt(acct, ST_FTS_DELETE);
	rc = s == NULL ? store_dbfail(u, "index") : STORE_OK;
	if (rc == STORE_OK) {
		/* Idempotent: a row left by an earlier run is replaced. */
		sqlite3_bind_int64(s, 1, id);
		rc = step_done(u, s, "index");
	}
	if (rc == STORE_OK && (s = stmt(acct, ST_FTS_INSERT)) == NULL)
		rc = store_dbfail(u, "index");
	if (rc == STORE_OK) {
		sqlite3_bind_int64(s, 1, id);
		const char *cols[] = { sum.from, sum.to, sum.cc, sum.bcc, sum.subject, sum.headers,
		                       sum.text };
		for (int i = 0; i < 7; i++) {
			if (cols[i] != NULL)
				sqlite3_bind_text(s, i + 2, cols[i], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, i + 2);
		}
		rc = step_done(u, s, "index");
		sqlite3_clear_bindings(s);
	}
	if (readable)
		body_release(&b);
	sqlite3_reset(bs);
	if (rc == STORE_OK && (s = stmt(acct, ST_PENDING_DELETE)) == NULL)
		rc = store_dbfail(u, "index");
	if (rc == STORE_OK) {
		sqlite3_bind_int64(s, 1, id);
		rc = step_done(u, s, "index");
	}
	return rc;
}

static void set_synchronous(struct store_account *acct, bool full)
{
	sqlite3_exec(acct->db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	             NULL, NULL, NULL);
}

int store_index_pending(struct store_user *u, unsigned max, bool *more_r)
{
	struct store_account *acct = u->acct;
	if (more_r != NULL)
		*more_r = false;
	if (acct->txn_depth > 0)
		return store_fail(u, STORE_E_INTERNAL, "indexing inside a transaction");
	if (acct->indexing || max == 0)
		return STORE_OK;
	acct->indexing = true;
	int64_t *ids = xmalloc(((size_t)max + 1) * sizeof(*ids));
	size_t n = 0;
	/* WAL: NORMAL syncs nothing at COMMIT, and the next FULL commit's
	 * fsync covers these frames too. */
	set_synchronous(acct, false);
	int rc = txn_begin(u);
	if (rc == STORE_OK) {
		sqlite3_stmt *s = stmt(acct, ST_PENDING_LIST);
		if (s == NULL) {
			rc = store_dbfail(u, "index");
		} else {
			sqlite3_bind_int64(s, 1, (int64_t)max + 1);
			while (n <= max && sqlite3_step(s) == SQLITE_ROW)
				ids[n++] = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
		}
		if (more_r != NULL && n > max)
			*more_r = true;
		if (n > max)
			n = max;
		struct arena *a = arena_new(64 * 1024);
		for (size_t i = 0; i < n && rc == STORE_OK; i++) {
			rc = index_one(u, ids[i], a);
			arena_reset(a);
		}
		arena_free(&a);
		if (rc == STORE_OK)
			rc = txn_commit(u);
		else
			txn_rollback(u);
	}
	set_synchronous(acct, true);
	free(ids);
	acct->indexing = false;
	return rc;
}

int index_catch_up(struct store_user *u)
{
	struct store_account *acct = u->acct;
	/* Inside a transaction or a watcher callback the store must not be
	 * changed: the search then sees what is indexed so far. Sessions
	 * search between transactions, where this never applies. */
	if (acct->txn_depth > 0 || acct->notifying || acct->indexing)
		return STORE_OK;
	bool more = true;
	while (more) {
		int rc = store_index_pending(u, CATCH_UP_CHUNK, &more);
		if (rc < 0)
			return rc;
	}
	return STORE_OK;
}

/* One chunk for each account of this thread with blobs waiting; again at
 * the next loop turn while some are left (1 ms: a timer armed for "now"
 * would run again in the same turn). */
static void idle_index(struct ev_loop *loop, struct ev_timer *t)
{
	bool again = false;
	for (struct store_account *acct = accounts_open_here(); acct != NULL; acct = acct->next) {
		if (!acct->unindexed || acct->users == NULL || acct->txn_depth > 0)
			continue;
		bool more = false;
		/* A failure leaves the blobs queued for the next search. */
		char keep[sizeof(acct->users->err)];
		memcpy(keep, acct->users->err, sizeof(keep));
		if (store_index_pending(acct->users, INDEX_CHUNK, &more) < 0)
			more = false;
		memcpy(acct->users->err, keep, sizeof(keep));
		acct->unindexed = more;
		again |= more;
	}
	if (again)
		ev_timer_start(loop, t, 1);
}

void index_after_commit(struct store_user *u)
{
	struct store_account *acct = u->acct;
	if (acct->queued_index == 0 || acct->indexing)
		return;
	acct->queued_index = 0;
	struct worker *w = runtime_worker_self();
	if (w != NULL) {
		/* Pushed back by every commit: it runs when they pause. */
		acct->unindexed = true;
		idle_timer.cb = idle_index;
		ev_timer_start(w->loop, &idle_timer, INDEX_QUIET_MS);
	}
	sqlite3_stmt *s = stmt(acct, ST_PENDING_COUNT);
	int64_t n = s != NULL && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	if (s != NULL)
		sqlite3_reset(s);
	if (n <= STORE_INDEX_BACKLOG)
		return;
	n -= STORE_INDEX_BACKLOG;
	/* The commit succeeded: a failure here only leaves more waiting. */
	char keep[sizeof(u->err)];
	memcpy(keep, u->err, sizeof(keep));
	store_index_pending(u, (unsigned)(n > OVERFLOW_CHUNK ? n : OVERFLOW_CHUNK), NULL);
	memcpy(u->err, keep, sizeof(keep));
}
