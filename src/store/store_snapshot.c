/* store_snapshot.c: message bytes read through a mailbox handle's own
 * database connection, in one read transaction kept across reads
 * (store.h, "snapshot reads"). The thread's shared connection cannot keep
 * one: every other session of the user would see the old snapshot too. */
#include "store/store_internal.h"
#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows read per range query: the first run of a transaction is short (a
 * client that reads one message now and then pays for few rows it will
 * not use), each next one twice as long, up to a download client's next
 * fraction of a second of RETRs for one query instead of one each. */
#define RUN_ROWS_FIRST 8
#define RUN_ROWS 256

struct run_row {
	uint32_t uid;
	int64_t blob_id, size;
};

struct snapshot {
	sqlite3 *db;
	sqlite3_stmt *body;     /* ST_MSG_BODY on db */
	sqlite3_stmt *run_stmt; /* ST_MSG_BLOB_RUN on db */
	sqlite3_blob *blob;     /* blob_data.data, moved from row to row */
	char *buf;              /* snapshot_inline_body's bytes */
	size_t cap;
	/* The mailbox's message rows with UIDs in [run_from, run_to], as this
	 * transaction sees them; a UID of that range not here is not in the
	 * mailbox. Valid while in_txn; freed with buf. */
	struct run_row *run;
	size_t run_n, run_want;   /* rows read, rows the next fill asks for */
	uint32_t run_from, run_to;
	bool run_valid;
	bool in_txn;            /* BEGIN done, COMMIT not yet */
};

/* Also after a failed reopen: SQLite leaves the handle unusable then. */
static void blob_close(struct snapshot *sn)
{
	sqlite3_blob_close(sn->blob);
	sn->blob = NULL;
}

static void snapshot_free(struct snapshot *sn)
{
	sqlite3_blob_close(sn->blob);
	free(sn->buf);
	free(sn->run);
	sqlite3_finalize(sn->run_stmt);
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
	                       &sn->body, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(sn->db, stmt_sql_of(ST_MSG_BLOB_RUN), -1, SQLITE_PREPARE_PERSISTENT,
	                       &sn->run_stmt, NULL) != SQLITE_OK) {
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
	blob_close(sn);
	/* A session idle after its reads keeps no message bytes. */
	free(sn->buf);
	sn->buf = NULL;
	sn->cap = 0;
	free(sn->run);
	sn->run = NULL;
	sn->run_valid = false;
	sn->run_want = 0;
	sqlite3_reset(sn->body);
	/* A read transaction has nothing to lose: COMMIT only ends it. */
	sqlite3_exec(sn->db, "COMMIT", NULL, NULL, NULL);
	sn->in_txn = false;
}

bool snapshot_in_txn(const struct store_mailbox *mb)
{
	return mb->snap != NULL && mb->snap->in_txn;
}

static int snapshot_begin(struct store_mailbox *mb)
{
	struct snapshot *sn = mb->snap;
	if (sn->in_txn)
		return STORE_OK;
	if (sqlite3_exec(sn->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(mb->user, STORE_E_INTERNAL, "snapshot: %s", sqlite3_errmsg(sn->db));
	sn->in_txn = true;
	return STORE_OK;
}

sqlite3_stmt *snapshot_body_stmt(struct store_mailbox *mb)
{
	struct snapshot *sn = mb->snap;
	if (snapshot_begin(mb) != STORE_OK)
		return NULL;
	sqlite3_reset(sn->body);
	sqlite3_clear_bindings(sn->body);
	return sn->body;
}

/* Reads the run of rows from uid on; false on an error. */
static bool run_fill(struct snapshot *sn, int64_t mailbox_id, uint32_t uid)
{
	sqlite3_stmt *s = sn->run_stmt;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_int64(s, 2, uid);
	size_t want = sn->run_want == 0 ? RUN_ROWS_FIRST : sn->run_want;
	sqlite3_bind_int(s, 3, (int)want);
	if (sn->run == NULL)
		sn->run = xmalloc(RUN_ROWS * sizeof(*sn->run));
	size_t n = 0;
	int rc;
	while (n < want && (rc = sqlite3_step(s)) == SQLITE_ROW)
		sn->run[n++] = (struct run_row){ (uint32_t)sqlite3_column_int64(s, 0),
		                                 sqlite3_column_int64(s, 1),
		                                 sqlite3_column_int64(s, 2) };
	sqlite3_reset(s);
	if (n < want && rc != SQLITE_DONE)
		return false;
	sn->run_n = n;
	sn->run_from = uid;
	/* Fewer rows than asked: nothing above the last one either. */
	sn->run_to = n == want ? sn->run[n - 1].uid : UINT32_MAX;
	sn->run_want = want < RUN_ROWS ? 2 * want : RUN_ROWS;
	sn->run_valid = true;
	return true;
}

/* The message's row in this transaction, or NULL: not in the mailbox. */
static const struct run_row *run_find(struct snapshot *sn, int64_t mailbox_id, uint32_t uid)
{
	if (!(sn->run_valid && uid >= sn->run_from && uid <= sn->run_to) &&
	    !run_fill(sn, mailbox_id, uid))
		return NULL;
	size_t lo = 0, hi = sn->run_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sn->run[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sn->run_n && sn->run[lo].uid == uid ? &sn->run[lo] : NULL;
}

int snapshot_inline_body(struct store_mailbox *mb, uint32_t uid, char *dest, size_t room,
                         struct body *b)
{
	struct snapshot *sn = mb->snap;
	if (snapshot_begin(mb) != STORE_OK)
		return STORE_E_NOTFOUND;
	const struct run_row *r = run_find(sn, mb->v->id, uid);
	int64_t id = r != NULL ? r->blob_id : 0, size = r != NULL ? r->size : -1;
	if (id <= 0 || size < 0 || size > STORE_INLINE_MAX)
		return STORE_E_NOTFOUND;
	/* No row: the message is in a file; the handle is closed and opened
	 * afresh next time. */
	int rc = sn->blob != NULL ? sqlite3_blob_reopen(sn->blob, id)
	                          : sqlite3_blob_open(sn->db, "main", "blob_data", "data", id, 0,
	                                              &sn->blob);
	if (rc != SQLITE_OK || sqlite3_blob_bytes(sn->blob) != size) {
		blob_close(sn);
		return STORE_E_NOTFOUND;
	}
	if (dest != NULL && (size_t)size > room)
		return STORE_E_NOTFOUND;
	if (dest == NULL && sn->cap < (size_t)size) {
		free(sn->buf);
		sn->cap = STORE_INLINE_MAX;
		sn->buf = xmalloc(sn->cap);
	}
	char *to = dest != NULL ? dest : sn->buf;
	if (size > 0 && sqlite3_blob_read(sn->blob, to, (int)size, 0) != SQLITE_OK) {
		blob_close(sn);
		return STORE_E_NOTFOUND;
	}
	memset(b, 0, sizeof(*b));
	b->data = size > 0 ? to : "";
	b->len = (size_t)size;
	return STORE_OK;
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
