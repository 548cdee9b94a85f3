/* store_schema.c: the database of one user: pragmas, tables, statements. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* 1: blob bytes in files only, indexed inside the append's transaction.
 * 2: blob.inline, blob_data (bytes of small messages), fts_pending.
 * 3: the search index moves to index.db; blob ids never reused. */
#define SCHEMA_VERSION 3

/* Messages live in a WITHOUT ROWID table keyed (mailbox, uid) so a view
 * loads as one ordered range scan. Per-content data (sizes, cached MIME
 * strings, search text) belongs to the blob: a copy shares it. */
static const char schema_v1_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE mailbox(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" uidvalidity INTEGER NOT NULL, uidnext INTEGER NOT NULL,"
	" highestmodseq INTEGER NOT NULL, recent_uid INTEGER NOT NULL DEFAULT 1,"
	" special_use INTEGER NOT NULL DEFAULT 0, noselect INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE subscription(name TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE keyword(mailbox_id INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
	" bit INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,"
	" PRIMARY KEY(mailbox_id, bit), UNIQUE(mailbox_id, name)) WITHOUT ROWID;"
	"CREATE TABLE blob(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
	" size INTEGER NOT NULL, refs INTEGER NOT NULL, header_size INTEGER NOT NULL,"
	" sent_date INTEGER, sent_tz INTEGER, sent_day INTEGER,"
	" envelope TEXT, bodystructure TEXT, body TEXT, message_id TEXT, preview TEXT);"
	"CREATE TABLE message(mailbox_id INTEGER NOT NULL REFERENCES mailbox(id),"
	" uid INTEGER NOT NULL, blob_id INTEGER NOT NULL REFERENCES blob(id),"
	" flags INTEGER NOT NULL, keywords INTEGER NOT NULL, modseq INTEGER NOT NULL,"
	" size INTEGER NOT NULL, internal_date INTEGER NOT NULL,"
	" internal_tz INTEGER NOT NULL, internal_day INTEGER NOT NULL,"
	" PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX message_modseq ON message(mailbox_id, modseq);"
	"CREATE INDEX message_blob ON message(blob_id);"
	"CREATE TABLE tombstone(mailbox_id INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
	" uid INTEGER NOT NULL, modseq INTEGER NOT NULL,"
	" PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX blob_unused ON blob(refs) WHERE refs <= 0;"
	"CREATE TABLE blob_gc(hash TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE quota_usage(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" bytes INTEGER NOT NULL, messages INTEGER NOT NULL);"
	"INSERT INTO quota_usage VALUES (1, 0, 0);"
	/* Trigram: BODY/TEXT are case-insensitive substring searches. */
	"CREATE VIRTUAL TABLE fts USING fts5(hfrom, hto, hcc, hbcc, subject, headers, body,"
	" tokenize = 'trigram');"
	"INSERT INTO meta(key, value) VALUES ('schema_version', 1);";

/* Each step takes the schema from version i + 1 to i + 2, in the
 * transaction that opens the store: a store made by an older mailkeep is
 * brought up to date in place the first time it is opened.
 * 2: a small blob's bytes are a row of blob_data, a table of their own so
 * that the blob rows FETCH and SEARCH read stay a few hundred bytes
 * (blob.inline says which kind a blob is); fts_pending lists the blobs
 * not yet in the search index (store_index.c). */
static const char *const migrations[] = {
	"ALTER TABLE blob ADD COLUMN inline INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE blob_data(id INTEGER PRIMARY KEY REFERENCES blob(id) ON DELETE CASCADE,"
	" data BLOB NOT NULL);"
	"CREATE TABLE fts_pending(id INTEGER PRIMARY KEY REFERENCES blob(id) ON DELETE CASCADE);",
	/* 3: the index is written by other threads than the one delivering
	 * (store_index_writer.c), in a database of its own so they never wait
	 * for each other's locks; it is rebuilt there from the blobs.
	 * store_id tells index.db which store.db it belongs to. blob_id_floor:
	 * see ST_BLOB_INSERT. */
	"DROP TABLE fts_pending;"
	"DROP TABLE fts;"
	"INSERT INTO meta(key, value) VALUES ('store_id', abs(random())),"
	" ('blob_id_floor', ifnull((SELECT max(id) FROM blob), 0));",
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_MB_BY_NAME] = "SELECT id, noselect FROM mailbox WHERE name = ?1",
	[ST_MB_BY_ID] = "SELECT name, uidvalidity, uidnext, highestmodseq, recent_uid,"
	                " special_use, noselect FROM mailbox WHERE id = ?1",
	[ST_MB_BUMP] = "UPDATE mailbox SET highestmodseq = ?2 WHERE id = ?1",
	[ST_MB_UIDNEXT] = "UPDATE mailbox SET uidnext = ?2 WHERE id = ?1",
	[ST_MSG_INSERT] = "INSERT INTO message(mailbox_id, uid, blob_id, flags, keywords, modseq,"
	                  " size, internal_date, internal_tz, internal_day)"
	                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_MSG_FLAGS] = "UPDATE message SET flags = ?3, keywords = ?4, modseq = ?5"
	                 " WHERE mailbox_id = ?1 AND uid = ?2",
	[ST_MSG_GET] = "SELECT blob_id, size, internal_date, internal_tz FROM message"
	               " WHERE mailbox_id = ?1 AND uid = ?2",
	[ST_MSG_DELETE] = "DELETE FROM message WHERE mailbox_id = ?1 AND uid = ?2",
	[ST_TOMB_INSERT] = "INSERT OR REPLACE INTO tombstone(mailbox_id, uid, modseq)"
	                   " VALUES (?1, ?2, ?3)",
	[ST_BLOB_BY_HASH] = "SELECT id FROM blob WHERE hash = ?1",
	/* A blob id is never used twice, even after its blob is deleted (the
	 * index finds the blobs to index by id order, and keeps rows of
	 * deleted ones until it hears of them): above every id in use and
	 * above blob_id_floor, the highest id ever deleted. */
	[ST_BLOB_INSERT] = "INSERT INTO blob(id, hash, size, refs, header_size, sent_date, sent_tz,"
	                   " sent_day, envelope, bodystructure, body, message_id, preview, inline)"
	                   " VALUES (1 + max(ifnull((SELECT max(id) FROM blob), 0),"
	                   " (SELECT value FROM meta WHERE key = 'blob_id_floor')),"
	                   " ?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_BLOB_FLOOR] = "UPDATE meta SET value = max(value, ?1) WHERE key = 'blob_id_floor'",
	[ST_BLOB_REF] = "UPDATE blob SET refs = refs + ?2 WHERE id = ?1",
	[ST_BLOB_GET_REFS] = "SELECT refs, hash FROM blob WHERE id = ?1",
	[ST_BLOB_DELETE] = "DELETE FROM blob WHERE id = ?1",
	[ST_BLOB_FILE_BY_HASH] = "SELECT id FROM blob WHERE hash = ?1 AND inline = 0",
	[ST_BLOB_UNUSED] = "SELECT id, hash, inline FROM blob WHERE refs <= 0",
	[ST_DATA_INSERT] = "INSERT INTO blob_data(id, data) VALUES (?1, ?2)",
	[ST_MSG_BODY] = "SELECT b.id, b.hash, b.size, b.inline, d.data FROM message m"
	                " JOIN blob b ON b.id = m.blob_id LEFT JOIN blob_data d ON d.id = b.id"
	                " WHERE m.mailbox_id = ?1 AND m.uid = ?2",
	/* The snapshot's run of rows from one UID on (store_snapshot.c). */
	[ST_MSG_BLOB_RUN] = "SELECT uid, blob_id, size FROM message"
	                    " WHERE mailbox_id = ?1 AND uid >= ?2 ORDER BY uid LIMIT ?3",
	[ST_GC_INSERT] = "INSERT OR IGNORE INTO blob_gc(hash) VALUES (?1)",
	[ST_GC_DELETE] = "DELETE FROM blob_gc WHERE hash = ?1",
	/* Blobs not yet in the search index (an upper bound: ids have gaps). */
	[ST_INDEX_LAG] = "SELECT ifnull((SELECT max(id) FROM blob), 0) -"
	                 " ifnull((SELECT value FROM ix.meta WHERE key = 'upto'), 0),"
	                 " (SELECT value FROM ix.meta WHERE key = 'store_id') IS"
	                 " (SELECT value FROM meta WHERE key = 'store_id')",
	[ST_QUOTA_GET] = "SELECT bytes, messages FROM quota_usage WHERE id = 1",
	[ST_QUOTA_ADD] = "UPDATE quota_usage SET bytes = bytes + ?1, messages = messages + ?2"
	                 " WHERE id = 1",
	[ST_KW_INSERT] = "INSERT INTO keyword(mailbox_id, bit, name) VALUES (?1, ?2, ?3)",
	[ST_KW_LIST] = "SELECT bit, name FROM keyword WHERE mailbox_id = ?1",
	[ST_DATA_VERSION] = "PRAGMA data_version",
};

sqlite3_stmt *stmt(struct store_account *acct, enum stmt_id id)
{
	sqlite3_stmt *s = acct->st[id];
	if (s == NULL) {
		if (sqlite3_prepare_v3(acct->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                       &s, NULL) != SQLITE_OK)
			return NULL;
		acct->st[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

const char *stmt_sql_of(enum stmt_id id)
{
	return stmt_sql[id];
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int64_t meta_get(sqlite3 *db, const char *key)
{
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int meta_set(sqlite3 *db, const char *key, int64_t value)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", -1,
	                       &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, value);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* UIDVALIDITY is unique across every mailbox incarnation of the user:
 * a counter that starts at the creation time and only grows. Called
 * inside a write transaction. */
uint32_t schema_next_uidvalidity(struct store_account *acct)
{
	int64_t last = meta_get(acct->db, "last_uidvalidity");
	int64_t now = (int64_t)time(NULL) & 0x7fffffff;
	int64_t v = last >= now ? last + 1 : now;
	if (v > 0xffffffffLL || v <= 0)
		v = 1;
	if (meta_set(acct->db, "last_uidvalidity", v) < 0)
		return 0;
	return (uint32_t)v;
}

static const struct { const char *name; unsigned use; } default_boxes[] = {
	{ "INBOX", 0 },
	{ "Sent", STORE_MB_SENT },
	{ "Drafts", STORE_MB_DRAFTS },
	{ "Trash", STORE_MB_TRASH },
	{ "Junk", STORE_MB_JUNK },
	{ "Archive", STORE_MB_ARCHIVE },
};

int schema_create_defaults(struct store_account *acct)
{
	for (size_t i = 0; i < sizeof(default_boxes) / sizeof(default_boxes[0]); i++) {
		sqlite3_stmt *s;
		uint32_t uv = schema_next_uidvalidity(acct);
		if (uv == 0 || sqlite3_prepare_v2(acct->db,
		    "INSERT INTO mailbox(name, uidvalidity, uidnext, highestmodseq, special_use)"
		    " VALUES (?1, ?2, 1, 1, ?3)", -1, &s, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_text(s, 1, default_boxes[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, uv);
		sqlite3_bind_int(s, 3, (int)default_boxes[i].use);
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return -1;
		if (exec(acct->db, "INSERT OR IGNORE INTO subscription(name) VALUES ('INBOX')") < 0)
			return -1;
	}
	if (exec(acct->db, "INSERT OR IGNORE INTO subscription(name) VALUES"
	         " ('Sent'), ('Drafts'), ('Trash'), ('Junk'), ('Archive')") < 0)
		return -1;
	return 0;
}

int schema_open(struct store_account *acct, const char **error_r)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/store.db", acct->dir);
	/* URIs: index.db is attached read-only (store_index.c). */
	if (sqlite3_open_v2(path, &acct->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		*error_r = "cannot open store.db";
		return -1;
	}
	sqlite3_busy_timeout(acct->db, 10000);
	if (search_register(acct->db) < 0 || search_tail_register(acct) < 0) {
		*error_r = "cannot register SQL functions";
		return -1;
	}
	sqlite3_extended_result_codes(acct->db, 1);
	if (exec(acct->db, "PRAGMA journal_mode = WAL") < 0 ||
	    exec(acct->db, "PRAGMA synchronous = FULL") < 0 ||
	    exec(acct->db, "PRAGMA foreign_keys = ON") < 0 ||
	    exec(acct->db, "PRAGMA cache_size = -16000") < 0 ||
	    exec(acct->db, "PRAGMA mmap_size = " STORE_MMAP_SIZE) < 0 ||
	    exec(acct->db, "PRAGMA secure_delete = FAST") < 0) {
		*error_r = "cannot configure store.db";
		return -1;
	}
	if (exec(acct->db, "BEGIN IMMEDIATE") < 0) {
		*error_r = "store.db is locked";
		return -1;
	}
	int64_t version = -1;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(acct->db, "SELECT 1 FROM sqlite_master WHERE name = 'meta'", -1,
	                       &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			version = 0;
		sqlite3_finalize(s);
	}
	if (version == 0)
		version = meta_get(acct->db, "schema_version");
	if (version < 0) {
		/* The version 1 schema, then the migrations: one path for new
		 * and old stores, so migrated ones cannot drift from new ones. */
		if (exec(acct->db, schema_v1_sql) < 0 || schema_create_defaults(acct) < 0) {
			*error_r = "cannot create the store schema";
			exec(acct->db, "ROLLBACK");
			return -1;
		}
		version = 1;
	}
	if (version < 1 || version > SCHEMA_VERSION) {
		*error_r = "store.db has an unknown schema version";
		exec(acct->db, "ROLLBACK");
		return -1;
	}
	for (; version < SCHEMA_VERSION; version++) {
		if (exec(acct->db, migrations[version - 1]) < 0 ||
		    meta_set(acct->db, "schema_version", version + 1) < 0) {
			*error_r = "cannot update the store schema";
			exec(acct->db, "ROLLBACK");
			return -1;
		}
	}
	if (exec(acct->db, "COMMIT") < 0) {
		*error_r = "cannot commit the store schema";
		return -1;
	}
	return 0;
}

void schema_close(struct store_account *acct)
{
	for (int i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(acct->st[i]);
		acct->st[i] = NULL;
	}
	if (acct->db != NULL)
		sqlite3_close(acct->db);
	acct->db = NULL;
}
