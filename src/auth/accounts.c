/* accounts: opening the database, its schema, shared helpers. */
#include "auth/accounts_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/address.h"
#include "lib/arena.h"

static _Thread_local char error_buf[512];

int acc_fail(const char **error_r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
	va_end(ap);
	*error_r = error_buf;
	return status;
}

int acc_db_fail(struct accounts *acc, const char **error_r, const char *what)
{
	return acc_fail(error_r, ACCOUNTS_ERR_INTERNAL, "accounts.db: %s: %s", what,
	                sqlite3_errmsg(acc->db));
}

sqlite3_stmt *acc_prepare(struct accounts *acc, const char **error_r, const char *sql,
                          const char *types, ...)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(acc->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		acc_db_fail(acc, error_r, "prepare");
		return NULL;
	}
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i] != '\0'; i++) {
		int rc = types[i] == 't'
		             ? sqlite3_bind_text(stmt, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT)
		             : sqlite3_bind_int64(stmt, i + 1, va_arg(ap, int64_t));
		if (rc != SQLITE_OK) {
			va_end(ap);
			acc_db_fail(acc, error_r, "bind");
			sqlite3_finalize(stmt);
			return NULL;
		}
	}
	va_end(ap);
	return stmt;
}

int acc_exec_stmt(sqlite3_stmt *stmt)
{
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : rc;
}

static int exec_sql(struct accounts *acc, const char *sql, const char **error_r)
{
	char *msg = NULL;
	if (sqlite3_exec(acc->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		acc_fail(error_r, ACCOUNTS_ERR_INTERNAL, "accounts.db: %s",
		         msg != NULL ? msg : sqlite3_errmsg(acc->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int acc_begin(struct accounts *acc, const char **error_r)
{
	return exec_sql(acc, "BEGIN IMMEDIATE", error_r);
}

int acc_commit(struct accounts *acc, const char **error_r)
{
	if (exec_sql(acc, "COMMIT", error_r) < 0) {
		acc_rollback(acc);
		return -1;
	}
	return 0;
}

void acc_rollback(struct accounts *acc)
{
	if (!sqlite3_get_autocommit(acc->db))
		sqlite3_exec(acc->db, "ROLLBACK", NULL, NULL, NULL);
}

int acc_normalize_address(const char *in, char *out, const char **error_r)
{
	const char *why;
	if (address_normalize(in, out, &why) < 0)
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "'%.300s': %s", in, why);
	return 0;
}

int acc_normalize_domain(const char *in, char *out, const char **error_r)
{
	const char *why;
	if (address_domain_normalize(in, out, &why) < 0)
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "'%.300s': %s", in, why);
	return 0;
}

int acc_lookup_id(struct accounts *acc, const char *sql, const char *key, int64_t *id_r,
                  const char **error_r)
{
	sqlite3_stmt *stmt = acc_prepare(acc, error_r, sql, "t", key);
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return ACCOUNTS_OK;
	if (rc == SQLITE_DONE)
		return ACCOUNTS_ERR_NOT_FOUND;
	return acc_db_fail(acc, error_r, "lookup");
}

/* Version 1. AUTOINCREMENT on accounts: ids name mail directories that
 * outlive a deleted account, so an id must never be handed out twice.
 * App passwords (a later schema version) will reference accounts(id). */
static const char schema_v1[] =
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  password_hash TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  quota_bytes INTEGER NOT NULL DEFAULT 0,"
	"  quota_messages INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX accounts_domain ON accounts(domain_id);"
	"CREATE TABLE aliases ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  target_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX aliases_domain ON aliases(domain_id);"
	"CREATE INDEX aliases_target ON aliases(target_id);"
	"PRAGMA user_version = 1;";

/* Version 2: the administrator attribute (IMAP SETQUOTA, cmd_quota.c).
 * ADD COLUMN changes the table in place; existing accounts get 0. */
static const char schema_v2[] =
	"ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 2;";

static int schema_version(struct accounts *acc, int *version_r, const char **error_r)
{
	sqlite3_stmt *stmt = acc_prepare(acc, error_r, "PRAGMA user_version", "");
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	*version_r = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return acc_db_fail(acc, error_r, "reading the schema version");
	return 0;
}

static int schema_upgrade(struct accounts *acc, const char **error_r)
{
	int version;
	if (schema_version(acc, &version, error_r) < 0)
		return -1;
	if (version == ACCOUNTS_SCHEMA_VERSION)
		return 0;
	/* Decide again under the write lock: another process may be creating
	 * the same database right now. */
	if (acc_begin(acc, error_r) < 0)
		return -1;
	if (schema_version(acc, &version, error_r) < 0)
		goto fail;
	if (version > ACCOUNTS_SCHEMA_VERSION) {
		acc_fail(error_r, ACCOUNTS_ERR_INTERNAL,
		         "accounts.db has schema version %d, newer than this program's %d",
		         version, ACCOUNTS_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0 && exec_sql(acc, schema_v1, error_r) < 0)
		goto fail;
	if (version < 2 && exec_sql(acc, schema_v2, error_r) < 0)
		goto fail;
	/* Later versions: if (version < 3) { ALTER ...; user_version = 3 } */
	return acc_commit(acc, error_r);
fail:
	acc_rollback(acc);
	return -1;
}

static int mkdir_p(const char *path, const char **error_r)
{
	char tmp[4096];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(tmp))
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "bad data directory '%.300s'", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return acc_fail(error_r, ACCOUNTS_ERR_INTERNAL, "cannot create %s: %s", tmp,
			                strerror(errno));
		if (saved == '\0')
			break;
		*p = saved;
	}
	return 0;
}

int accounts_open(const char *data_dir, struct accounts **acc_r, const char **error_r)
{
	if (mkdir_p(data_dir, error_r) < 0)
		return ACCOUNTS_ERR_INTERNAL;
	char path[4200];
	snprintf(path, sizeof(path), "%s/accounts.db", data_dir);
	/* Create it ourselves so it is 0600 whatever the umask: it holds
	 * password hashes. SQLite gives its -wal and -shm files the same mode.
	 * Only when it does not exist yet (O_EXCL): close() on a file drops
	 * every POSIX lock this process holds on it, including those of the
	 * other threads' open connections; another process (`mailkeep user
	 * add`) then believes it is the last user, checkpoints and removes the
	 * WAL, and our connections keep reading a stale snapshot. */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return acc_fail(error_r, ACCOUNTS_ERR_INTERNAL, "cannot open %s: %s", path,
		                strerror(errno));
	if (fd >= 0)
		close(fd);

	struct accounts *acc = xcalloc(1, sizeof(*acc));
	int rc = sqlite3_open_v2(path, &acc->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		acc_fail(error_r, ACCOUNTS_ERR_INTERNAL, "cannot open %s: %s", path,
		         acc->db != NULL ? sqlite3_errmsg(acc->db) : sqlite3_errstr(rc));
		accounts_close(&acc);
		return ACCOUNTS_ERR_INTERNAL;
	}
	sqlite3_busy_timeout(acc->db, 5000);
	if (exec_sql(acc, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                  "PRAGMA foreign_keys = ON;", error_r) < 0 ||
	    schema_upgrade(acc, error_r) < 0) {
		accounts_close(&acc);
		return ACCOUNTS_ERR_INTERNAL;
	}
	*acc_r = acc;
	return ACCOUNTS_OK;
}

void accounts_close(struct accounts **accp)
{
	struct accounts *acc = *accp;
	if (acc == NULL)
		return;
	sqlite3_finalize(acc->by_id);
	sqlite3_close_v2(acc->db);
	free(acc);
	*accp = NULL;
}
