/* store_index_writer.c: fills a user's search index, index.db (see
 * store_internal.h). Used by the background indexer thread and by the
 * owner thread when a search must not wait for it. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INDEX_VERSION 1

_Atomic int index_urgent;

struct index_writer {
	sqlite3 *db;
	char *dir;
	bool yields;
	sqlite3_stmt *list, *del, *ins, *upto_get, *upto_set;
	sqlite3_stmt *dead_add, *dead_list, *dead_del;
	int64_t dead;           /* rows in table dead, as far as this writer knows */
	char err[256];
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	/* Trigram: BODY/TEXT are case-insensitive substring searches. */
	"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(hfrom, hto, hcc, hbcc, subject,"
	" headers, body, tokenize = 'trigram');"
	/* Blobs deleted whose rows are still in fts (index_writer_forget). */
	"CREATE TABLE IF NOT EXISTS dead(id INTEGER PRIMARY KEY);";

static int fail(struct index_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct index_writer *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return STORE_E_INTERNAL;
}

static int dbfail(struct index_writer *w, const char *what)
{
	return fail(w, "search index %s: %s", what, sqlite3_errmsg(w->db));
}

const char *index_writer_error(const struct index_writer *w)
{
	return w->err;
}

int index_uri_ro(char *out, size_t outlen, const char *user_dir, const char *file)
{
	/* A file: URI: bytes outside the unreserved set are %-escaped (a
	 * data_dir may hold '?', '#' or '%'). */
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	char path[4200];
	if (snprintf(path, sizeof(path), "%s/%s", user_dir, file) >= (int)sizeof(path))
		return -1;
	const char *pre = "file:";
	for (; *pre && n + 1 < outlen; pre++)
		out[n++] = *pre;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr("/._-~@+", *p) != NULL;
		if (n + 4 >= outlen)
			return -1;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	const char *post = "?mode=ro";
	for (; *post && n + 1 < outlen; post++)
		out[n++] = *post;
	if (n + 1 >= outlen)
		return -1;
	out[n] = '\0';
	return 0;
}

static int exec(struct index_writer *w, const char *sql)
{
	return sqlite3_exec(w->db, sql, NULL, NULL, NULL) == SQLITE_OK ? STORE_OK
	                                                                : dbfail(w, "setup");
}

static int64_t int_query(struct index_writer *w, const char *sql, int64_t dflt)
{
	sqlite3_stmt *s;
	int64_t v = dflt;
	if (sqlite3_prepare_v2(w->db, sql, -1, &s, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int prepare(struct index_writer *w, sqlite3_stmt **s, const char *sql)
{
	return sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) == SQLITE_OK
	           ? STORE_OK : dbfail(w, "prepare");
}

/* The index belongs to this store.db and this version, or starts over:
 * a store restored from a backup must not be searched through the index
 * of the one it replaced. */
static int setup(struct index_writer *w)
{
	int rc = exec(w, "BEGIN IMMEDIATE");
	if (rc < 0)
		return rc;
	/* Merge segments 8 at a time, not 4: a fifth fewer instructions per
	 * message indexed in small transactions, for a few more segments
	 * for a search to read. */
	if ((rc = exec(w, schema_sql)) == STORE_OK &&
	    (rc = exec(w, "INSERT INTO fts(fts, rank) VALUES ('automerge', 8)")) == STORE_OK) {
		int64_t want = int_query(w, "SELECT value FROM st.meta WHERE key = 'store_id'", -1);
		int64_t have = int_query(w, "SELECT value FROM meta WHERE key = 'store_id'", -2);
		int64_t version = int_query(w, "SELECT value FROM meta WHERE key = 'version'", 0);
		if (want != have || version != INDEX_VERSION) {
			char sql[256];
			snprintf(sql, sizeof(sql),
			         "DELETE FROM fts; DELETE FROM dead; INSERT OR REPLACE INTO"
			         " meta(key, value) VALUES ('store_id', %lld), ('version', %d),"
			         " ('upto', 0)",
			         (long long)want, INDEX_VERSION);
			rc = exec(w, sql);
		}
	}
	if (rc == STORE_OK)
		rc = exec(w, "COMMIT");
	if (rc < 0)
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Another writer holds the index for one chunk, a few ms: retry every
 * millisecond (SQLite's own handler backs off to 100 ms sleeps), for at
 * most 10 s. */
static int busy_wait(void *arg, int n)
{
	(void)arg;
	if (n >= 10000)
		return 0;
	usleep(1000);
	return 1;
}

static int open_db(struct index_writer *w)
{
	char path[4200], uri[13000];
	snprintf(path, sizeof(path), "%s/index.db", w->dir);
	if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
		return w->db != NULL ? dbfail(w, "open") : fail(w, "search index: cannot open");
	sqlite3_busy_handler(w->db, busy_wait, NULL);
	sqlite3_extended_result_codes(w->db, 1);
	int rc;
	if (index_uri_ro(uri, sizeof(uri), w->dir, "store.db") < 0)
		return fail(w, "search index: path too long");
	/* Derived data: NORMAL syncs nothing at commit in WAL mode. */
	if ((rc = exec(w, "PRAGMA journal_mode = WAL")) < 0 ||
	    (rc = exec(w, "PRAGMA synchronous = NORMAL")) < 0 ||
	    (rc = exec(w, "PRAGMA cache_size = -4000")) < 0 ||
	    (rc = exec(w, "PRAGMA secure_delete = FAST")) < 0)
		return rc;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(w->db, "ATTACH ?1 AS st", -1, &s, NULL) != SQLITE_OK)
		return dbfail(w, "attach");
	sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? STORE_OK : dbfail(w, "attach");
	sqlite3_finalize(s);
	if (rc < 0 || (rc = setup(w)) < 0)
		return rc;
	if ((rc = prepare(w, &w->list, "SELECT b.id, b.hash, b.size, b.inline, d.data"
	                  " FROM st.blob b LEFT JOIN st.blob_data d ON d.id = b.id"
	                  " WHERE b.id > ?1 ORDER BY b.id LIMIT ?2")) < 0 ||
	    (rc = prepare(w, &w->del, "DELETE FROM fts WHERE rowid = ?1")) < 0 ||
	    (rc = prepare(w, &w->ins, "INSERT INTO fts(rowid, hfrom, hto, hcc, hbcc, subject,"
	                  " headers, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) < 0 ||
	    (rc = prepare(w, &w->upto_get, "SELECT value FROM meta WHERE key = 'upto'")) < 0 ||
	    (rc = prepare(w, &w->upto_set, "UPDATE meta SET value = ?1 WHERE key = 'upto'")) < 0 ||
	    (rc = prepare(w, &w->dead_add, "INSERT OR IGNORE INTO dead(id) VALUES (?1)")) < 0 ||
	    (rc = prepare(w, &w->dead_list, "SELECT id FROM dead LIMIT ?1")) < 0 ||
	    (rc = prepare(w, &w->dead_del, "DELETE FROM dead WHERE id = ?1")) < 0)
		return rc;
	w->dead = int_query(w, "SELECT count(*) FROM dead", 0);
	return STORE_OK;
}

static void close_db(struct index_writer *w)
{
	sqlite3_stmt **sts[] = { &w->list, &w->del, &w->ins, &w->upto_get, &w->upto_set,
	                         &w->dead_add, &w->dead_list, &w->dead_del };
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		sqlite3_finalize(*sts[i]);
		*sts[i] = NULL;
	}
	sqlite3_close(w->db);
	w->db = NULL;
}

static bool is_damage(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

int index_writer_open(const char *user_dir, bool yields, struct index_writer **w_r,
                      const char **error_r)
{
	struct index_writer *w = xcalloc(1, sizeof(*w));
	w->dir = xstrdup(user_dir);
	w->yields = yields;
	int rc = open_db(w);
	if (rc < 0 && w->db != NULL && is_damage(sqlite3_extended_errcode(w->db))) {
		/* Unreadable: it is rebuilt from the blobs. */
		close_db(w);
		const char *sfx[] = { "", "-wal", "-shm" };
		char path[4200];
		for (int i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/index.db%s", user_dir, sfx[i]);
			unlink(path);
		}
		rc = open_db(w);
	}
	if (rc < 0) {
		*error_r = "cannot open the search index (index.db)";
		index_writer_close(&w);
		return rc;
	}
	*w_r = w;
	return STORE_OK;
}

void index_writer_release_memory(struct index_writer *w)
{
	if (w != NULL && w->db != NULL)
		sqlite3_db_release_memory(w->db);
}

void index_writer_close(struct index_writer **wp)
{
	struct index_writer *w = *wp;
	if (w == NULL)
		return;
	*wp = NULL;
	close_db(w);
	free(w->dir);
	free(w);
}

static int step_done(struct index_writer *w, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? STORE_OK : dbfail(w, what);
	sqlite3_reset(s);
	return rc;
}

/* The row of blob `id` from its bytes (list's current row). A body that
 * cannot be read is indexed empty (the check reports it) rather than
 * tried again for ever. */
static int index_one(struct index_writer *w, int64_t id, struct arena *a)
{
	sqlite3_stmt *l = w->list;
	struct body b;
	memset(&b, 0, sizeof(b));
	bool readable;
	if (sqlite3_column_int(l, 3)) {
		b.data = (const char *)sqlite3_column_blob(l, 4);
		b.len = (size_t)sqlite3_column_bytes(l, 4);
		readable = b.data != NULL || b.len == 0;
	} else {
		const char *hash = (const char *)sqlite3_column_text(l, 1);
		readable = hash != NULL &&
		           blob_map_file(w->dir, hash, (uint64_t)sqlite3_column_int64(l, 2), &b) == 0;
	}
	struct store_summary sum;
	memset(&sum, 0, sizeof(sum));
	if (readable)
		store_summarize(b.data != NULL ? b.data : "", b.len, a, &sum);
	/* Idempotent: a row left by an earlier run is replaced. */
	sqlite3_bind_int64(w->del, 1, id);
	int rc = step_done(w, w->del, "delete");
	if (rc == STORE_OK) {
		sqlite3_bind_int64(w->ins, 1, id);
		const char *cols[] = { sum.from, sum.to, sum.cc, sum.bcc, sum.subject, sum.headers,
		                       sum.text };
		for (int i = 0; i < 7; i++) {
			if (cols[i] != NULL)
				sqlite3_bind_text(w->ins, i + 2, cols[i], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(w->ins, i + 2);
		}
		rc = step_done(w, w->ins, "insert");
		sqlite3_clear_bindings(w->ins);
	}
	body_release(&b);
	return rc;
}

static int64_t upto_get(struct index_writer *w)
{
	int64_t v = sqlite3_step(w->upto_get) == SQLITE_ROW ? sqlite3_column_int64(w->upto_get, 0)
	                                                    : 0;
	sqlite3_reset(w->upto_get);
	return v;
}

static int upto_set(struct index_writer *w, int64_t v)
{
	sqlite3_bind_int64(w->upto_set, 1, v);
	return step_done(w, w->upto_set, "progress");
}

int index_writer_run(struct index_writer *w, unsigned max, bool *more_r)
{
	if (more_r != NULL)
		*more_r = false;
	if (max == 0)
		return STORE_OK;
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(w, "begin");
	int64_t upto = upto_get(w), last = upto;
	sqlite3_bind_int64(w->list, 1, upto);
	sqlite3_bind_int64(w->list, 2, (int64_t)max + 1);
	struct arena *a = arena_new(64 * 1024);
	unsigned n = 0;
	int rc = STORE_OK, step = SQLITE_DONE;
	while (rc == STORE_OK && (step = sqlite3_step(w->list)) == SQLITE_ROW) {
		if (n++ == max || (w->yields && index_urgent > 0)) {
			if (more_r != NULL)
				*more_r = true;
			break;
		}
		last = sqlite3_column_int64(w->list, 0);
		rc = index_one(w, last, a);
		arena_reset(a);
	}
	if (rc == STORE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = dbfail(w, "list");
	sqlite3_reset(w->list);
	arena_free(&a);
	if (rc == STORE_OK && last != upto)
		rc = upto_set(w, last);
	if (rc == STORE_OK && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = dbfail(w, "commit");
	if (rc < 0)
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int index_writer_forget(struct index_writer *w, const int64_t *ids, size_t n)
{
	if (n == 0)
		return STORE_OK;
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(w, "begin");
	int rc = STORE_OK;
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		sqlite3_bind_int64(w->dead_add, 1, ids[i]);
		rc = step_done(w, w->dead_add, "forget");
	}
	if (rc == STORE_OK && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = dbfail(w, "commit");
	if (rc < 0)
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	else
		w->dead += (int64_t)n;
	return rc;
}

int64_t index_writer_dead(const struct index_writer *w)
{
	return w->dead;
}

int index_writer_purge(struct index_writer *w, unsigned max, bool *more_r)
{
	*more_r = false;
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(w, "begin");
	sqlite3_bind_int64(w->dead_list, 1, (int64_t)max + 1);
	unsigned n = 0;
	int rc = STORE_OK, step;
	while (rc == STORE_OK && (step = sqlite3_step(w->dead_list)) == SQLITE_ROW) {
		if (n++ == max || (w->yields && index_urgent > 0)) {
			*more_r = true;
			break;
		}
		int64_t id = sqlite3_column_int64(w->dead_list, 0);
		sqlite3_bind_int64(w->del, 1, id);
		if ((rc = step_done(w, w->del, "purge")) == STORE_OK) {
			sqlite3_bind_int64(w->dead_del, 1, id);
			rc = step_done(w, w->dead_del, "purge");
		}
	}
	if (rc == STORE_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = dbfail(w, "purge");
	sqlite3_reset(w->dead_list);
	if (rc == STORE_OK && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = dbfail(w, "commit");
	if (rc < 0) {
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
		*more_r = false;
		return rc;
	}
	w->dead = *more_r ? int_query(w, "SELECT count(*) FROM dead", 0) : 0;
	return STORE_OK;
}

int index_writer_repair(struct index_writer *w, int64_t *stale_r, int64_t *missing_r)
{
	*stale_r = *missing_r = 0;
	/* Rows of deleted blobs waiting for their purge are not damage. */
	bool more = true;
	while (more) {
		int rc = index_writer_purge(w, 1024, &more);
		if (rc < 0)
			return rc;
	}
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(w, "begin");
	int rc = exec(w, "DELETE FROM fts WHERE rowid IN (SELECT id FROM fts_docsize"
	              " WHERE id NOT IN (SELECT id FROM st.blob))");
	if (rc == STORE_OK)
		*stale_r = sqlite3_changes(w->db);
	int64_t upto = upto_get(w);
	sqlite3_stmt *s = NULL;
	if (rc == STORE_OK &&
	    sqlite3_prepare_v2(w->db, "SELECT min(id), count(*) FROM st.blob WHERE id <= ?1 AND"
	                       " id NOT IN (SELECT id FROM fts_docsize)", -1, &s, NULL) != SQLITE_OK)
		rc = dbfail(w, "check");
	if (rc == STORE_OK) {
		sqlite3_bind_int64(s, 1, upto);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 1) > 0) {
			*missing_r = sqlite3_column_int64(s, 1);
			/* Indexed again from the first one missing. */
			rc = upto_set(w, sqlite3_column_int64(s, 0) - 1);
		}
	}
	sqlite3_finalize(s);
	if (rc == STORE_OK && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = dbfail(w, "commit");
	if (rc < 0)
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
