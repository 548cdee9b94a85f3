/* store_user.c: opening a user's store, handles, errors, transactions. */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "lib/ev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Handles of one user on one thread share one account
 * (store_account_table.c). store_keep_idle's settings for this thread; 0
 * = close with the last handle. */
static _Thread_local size_t idle_max;
static _Thread_local uint64_t idle_ttl_ms;

void store_process_init(void)
{
	/* Too late once SQLite is initialized: then it keeps its default. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

const char *store_err_name(int err)
{
	switch (err) {
	case STORE_OK: return "OK";
	case STORE_E_NOTFOUND: return "NONEXISTENT";
	case STORE_E_EXISTS: return "ALREADYEXISTS";
	case STORE_E_BADNAME: return "CANNOT";
	case STORE_E_NOTALLOWED: return "NOPERM";
	case STORE_E_HASCHILDREN: return "HASCHILDREN";
	case STORE_E_OVERQUOTA: return "OVERQUOTA";
	case STORE_E_LIMIT: return "LIMIT";
	case STORE_E_NOSELECT: return "NOSELECT";
	case STORE_E_EXPUNGED: return "EXPUNGEISSUED";
	default: return "SERVERBUG";
	}
}

int store_fail(struct store_user *u, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	return err;
}

int store_dbfail(struct store_user *u, const char *what)
{
	return store_fail(u, STORE_E_INTERNAL, "%s: %s", what, sqlite3_errmsg(u->acct->db));
}

const char *store_error(const struct store_user *user)
{
	return user->err;
}

static bool valid_user_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 128 || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

static void account_free(struct store_account *acct)
{
	while (acct->views != NULL) {
		struct view *v = acct->views;
		acct->views = v->next;
		view_free(v);
	}
	index_writer_close(&acct->ixw);
	search_tail_free(acct);
	schema_close(acct);
	free(acct->gone);
	for (size_t i = 0; i < acct->n_done_gc; i++)
		free(acct->done_gc[i]);
	free(acct->done_gc);
	free(acct->new_blobs);
	free(acct->dead_blobs);
	free(acct->data_dir);
	free(acct->user_id);
	free(acct->dir);
	free(acct);
}

static void account_close(struct store_account *acct);

static struct store_account *account_open(const char *data_dir, const char *user_id,
                                          const char **error_r)
{
	if (idle_max > 0)
		store_idle_sweep(ev_clock_ms());
	struct store_account *a = account_table_find(data_dir, user_id);
	if (a != NULL) {
		a->refs++;
		account_idle_remove(a);
		a->idle_since_ms = 0;
		return a;
	}
	struct store_account *acct = xcalloc(1, sizeof(*acct));
	acct->data_dir = xstrdup(data_dir);
	acct->user_id = xstrdup(user_id);
	size_t n = strlen(data_dir) + strlen(user_id) + 16;
	acct->dir = xmalloc(n);
	snprintf(acct->dir, n, "%s/users/%s", data_dir, user_id);
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/tmp", acct->dir);
	if (mkdir_p(sub) < 0) {
		*error_r = "cannot create the user directory";
		account_free(acct);
		return NULL;
	}
	snprintf(sub, sizeof(sub), "%s/blobs", acct->dir);
	if (mkdir_p(sub) < 0) {
		*error_r = "cannot create the blob directory";
		account_free(acct);
		return NULL;
	}
	if (schema_open(acct, error_r) < 0 || index_attach(acct, error_r) < 0) {
		account_free(acct);
		return NULL;
	}
	/* A crash may have left appends in progress and blobs to unlink. */
	blobs_clean_tmp(acct);
	blobs_gc_pending(acct);
	sqlite3_stmt *s = stmt(acct, ST_DATA_VERSION);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		acct->data_version = sqlite3_column_int64(s, 0);
	acct->refs = 1;
	account_table_add(acct);
	return acct;
}

int store_user_open(const char *data_dir, const char *user_id,
                    const struct store_quota *quota,
                    struct store_user **user_r, const char **error_r)
{
	*user_r = NULL;
	if (!valid_user_id(user_id)) {
		*error_r = "invalid user id";
		return STORE_E_BADNAME;
	}
	struct store_account *acct = account_open(data_dir, user_id, error_r);
	if (acct == NULL)
		return STORE_E_INTERNAL;
	struct store_user *u = xcalloc(1, sizeof(*u));
	u->acct = acct;
	u->next = acct->users;
	if (u->next != NULL)
		u->next->prev = u;
	acct->users = u;
	if (quota != NULL)
		acct->quota = *quota;
	*user_r = u;
	return STORE_OK;
}

void store_user_close(struct store_user **user)
{
	struct store_user *u = *user;
	if (u == NULL)
		return;
	*user = NULL;
	/* A handle closed inside its own transaction (a session torn down
	 * mid-change) takes the transaction with it. */
	if (u->acct->txn_owner == u && u->acct->txn_depth > 0) {
		u->acct->txn_depth = 1;
		txn_rollback(u);
	}
	while (u->boxes != NULL) {
		struct store_mailbox *mb = u->boxes;
		store_mailbox_close(&mb);
	}
	struct store_account *acct = u->acct;
	if (u->prev != NULL)
		u->prev->next = u->next;
	else
		acct->users = u->next;
	if (u->next != NULL)
		u->next->prev = u->prev;
	free(u);
	if (--acct->refs > 0)
		return;
	if (acct->txn_depth > 0) {
		sqlite3_stmt *s = stmt(acct, ST_ROLLBACK);
		if (s != NULL)
			sqlite3_step(s);
		blobs_after_rollback(acct);
	}
	/* One whose transaction was just rolled back is not kept. */
	if (idle_max == 0 || acct->txn_depth > 0) {
		account_close(acct);
		return;
	}
	/* Kept for the next session; its page cache goes back now (reads
	 * come from the mapping again when it is reused). */
	acct->idle_since_ms = ev_clock_ms();
	account_idle_push(acct);
	sqlite3_db_release_memory(acct->db);
	store_idle_sweep(acct->idle_since_ms);
}

static void account_close(struct store_account *acct)
{
	account_idle_remove(acct);
	account_table_remove(acct);
	account_free(acct);
}

void store_keep_idle(size_t max, uint64_t ttl_ms)
{
	idle_max = max;
	idle_ttl_ms = ttl_ms;
	store_idle_sweep(ev_clock_ms());
}

void store_idle_sweep(uint64_t now_ms)
{
	/* The oldest go while expired or more than idle_max are kept. The
	 * list is in the order of a monotonic clock, so the first one not
	 * expired ends the sweep; now_ms may be a loop's cached time, older
	 * than idle_since_ms. */
	struct store_account *a;
	while ((a = account_idle_oldest()) != NULL &&
	       (account_idle_count() > idle_max ||
	        (now_ms >= a->idle_since_ms && now_ms - a->idle_since_ms >= idle_ttl_ms)))
		account_close(a);
}

void store_idle_close_all(void)
{
	store_keep_idle(0, 0);
}

void store_user_set_quota(struct store_user *user, const struct store_quota *q)
{
	user->acct->quota = *q;
}

int store_user_quota(struct store_user *user, uint64_t *bytes_r, uint64_t *messages_r,
                     struct store_quota *limits_r)
{
	sqlite3_stmt *s = stmt(user->acct, ST_QUOTA_GET);
	if (s == NULL || sqlite3_step(s) != SQLITE_ROW)
		return store_dbfail(user, "quota");
	if (bytes_r != NULL)
		*bytes_r = (uint64_t)sqlite3_column_int64(s, 0);
	if (messages_r != NULL)
		*messages_r = (uint64_t)sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (limits_r != NULL)
		*limits_r = user->acct->quota;
	return STORE_OK;
}

static int64_t data_version(struct store_account *acct)
{
	sqlite3_stmt *s = stmt(acct, ST_DATA_VERSION);
	int64_t v = -1;
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	if (s != NULL)
		sqlite3_reset(s);
	return v;
}

/* Refreshes loaded views from another connection's commits. Inside our
 * own write transaction nobody else can commit, so nothing to do. */
static int sync_views(struct store_user *u, bool notify)
{
	struct store_account *acct = u->acct;
	int64_t dv = data_version(acct);
	if (dv == acct->data_version)
		return STORE_OK;
	acct->data_version = dv;
	for (struct view *v = acct->views; v != NULL; v = v->next) {
		int rc = view_refresh(u, v, NULL);
		if (rc < 0)
			return rc;
	}
	if (notify)
		views_notify(acct);
	return STORE_OK;
}

int account_sync(struct store_user *u)
{
	if (u->acct->txn_depth > 0)
		return STORE_OK;
	return sync_views(u, true);
}

int store_user_poll(struct store_user *user)
{
	return account_sync(user);
}

int txn_begin(struct store_user *u)
{
	struct store_account *acct = u->acct;
	if (acct->txn_depth > 0 && acct->txn_owner != u)
		return store_fail(u, STORE_E_INTERNAL,
		                  "another session's transaction is open on this thread");
	if (acct->txn_depth++ > 0)
		return STORE_OK;
	acct->txn_owner = u;
	if (sync_views(u, true) < 0) {
		acct->txn_depth = 0;
		acct->txn_owner = NULL;
		return STORE_E_INTERNAL;
	}
	sqlite3_stmt *s = stmt(acct, ST_BEGIN);
	if (s == NULL || sqlite3_step(s) != SQLITE_DONE) {
		acct->txn_depth = 0;
		acct->txn_owner = NULL;
		return store_dbfail(u, "begin");
	}
	acct->txn_failed = false;
	/* Someone may have committed between the sync and the lock. */
	if (sync_views(u, false) < 0) {
		txn_rollback(u);
		return STORE_E_INTERNAL;
	}
	for (size_t i = 0; i < acct->n_done_gc; i++) {
		sqlite3_stmt *g = stmt(acct, ST_GC_DELETE);
		if (g != NULL) {
			sqlite3_bind_text(g, 1, acct->done_gc[i], -1, SQLITE_TRANSIENT);
			sqlite3_step(g);
			sqlite3_reset(g);
		}
		free(acct->done_gc[i]);
	}
	acct->n_done_gc = 0;
	return STORE_OK;
}

int txn_commit(struct store_user *u)
{
	struct store_account *acct = u->acct;
	if (acct->txn_depth <= 0)
		return STORE_E_INTERNAL;
	if (acct->txn_depth > 1) {
		acct->txn_depth--;
		return STORE_OK;
	}
	if (acct->txn_failed) {
		txn_rollback(u);
		return store_fail(u, STORE_E_INTERNAL, "transaction aborted by an earlier error");
	}
	/* Message files durable first, then the rows that reference them. */
	if (blobs_sync(acct) < 0) {
		int rc = store_fail(u, STORE_E_INTERNAL, "fsync message files: %s", strerror(errno));
		txn_rollback(u);
		return rc;
	}
	sqlite3_stmt *s = stmt(acct, ST_COMMIT);
	if (s == NULL || sqlite3_step(s) != SQLITE_DONE) {
		int rc = store_dbfail(u, "commit");
		txn_rollback(u);
		return rc;
	}
	acct->txn_depth = 0;
	acct->txn_owner = NULL;
	blobs_after_commit(acct);
	views_notify(acct);
	index_after_commit(u);
	return STORE_OK;
}

void txn_rollback(struct store_user *u)
{
	struct store_account *acct = u->acct;
	if (acct->txn_depth <= 0)
		return;
	if (acct->txn_depth > 1) {
		/* An inner failure dooms the outer transaction. */
		acct->txn_depth--;
		acct->txn_failed = true;
		return;
	}
	acct->txn_depth = 0;
	acct->txn_owner = NULL;
	sqlite3_stmt *s = stmt(acct, ST_ROLLBACK);
	if (s != NULL)
		sqlite3_step(s);
	if (s != NULL)
		sqlite3_reset(s);
	blobs_after_rollback(acct);
	views_invalidate(acct);
}

void txn_abort_clean(struct store_user *u)
{
	struct store_account *acct = u->acct;
	if (acct->txn_depth > 1) {
		acct->txn_depth--;
		return;
	}
	if (acct->txn_depth <= 0)
		return;
	acct->txn_depth = 0;
	acct->txn_owner = NULL;
	sqlite3_stmt *s = stmt(acct, ST_ROLLBACK);
	if (s != NULL) {
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	blobs_after_rollback(acct);
}

int store_txn_begin(struct store_user *user)
{
	return txn_begin(user);
}

int store_txn_commit(struct store_user *user)
{
	return txn_commit(user);
}

void store_txn_rollback(struct store_user *user)
{
	struct store_account *acct = user->acct;
	if (acct->txn_depth > 1) {
		acct->txn_depth--;
		acct->txn_failed = true;
		return;
	}
	txn_rollback(user);
}
