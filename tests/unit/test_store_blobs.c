/* Where message bytes live: small messages inline in store.db, large ones
 * as blob files; both read back alike, shared by copies, freed by
 * expunge, checked by store_check; the search index filled after the
 * commit; a store of schema version 1 migrated in place. */
#include "store_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define INLINE_MAX (64 * 1024)   /* STORE_INLINE_MAX, store_internal.h */

static struct fx *cur;   /* for error messages */

static int setup(void **state)
{
	*state = cur = store_fx_open("amy");
	return 0;
}

static int teardown(void **state)
{
	store_fx_close(*state);
	return 0;
}

/* A message of exactly `size` bytes (CRLF lines, so nothing is added). */
static char *make_msg(const char *tag, size_t size)
{
	char *m = malloc(size + 1);
	int h = snprintf(m, size + 1, "Subject: %s\r\n\r\nword%s ", tag, tag);
	assert_true(h > 0 && (size_t)h + 2 <= size);
	for (size_t i = (size_t)h; i < size; i++)
		m[i] = (char)('a' + i % 26);
	m[size - 2] = '\r';
	m[size - 1] = '\n';
	m[size] = '\0';
	return m;
}

static uint32_t append(struct store_user *u, const char *box, const char *text)
{
	struct store_append *ap;
	assert_int_equal(store_append_begin(u, box, 0, &ap), STORE_OK);
	/* Streamed in uneven chunks. */
	size_t n = strlen(text);
	for (size_t off = 0; off < n;) {
		size_t k = n - off < 9000 ? n - off : 9000;
		assert_int_equal(store_append_write(ap, text + off, k), STORE_OK);
		off += k;
	}
	uint32_t uid = 0;
	assert_int_equal(store_append_commit(ap, NULL, NULL, &uid), STORE_OK);
	return uid;
}

static size_t files_in(const char *dir, bool recurse)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char sub[1024];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		n += recurse ? files_in(sub, false) : 1;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static size_t blob_files(struct fx *f, const char *user)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/users/%s/blobs", f->dir, user);
	return files_in(dir, true);
}

static size_t tmp_files(struct fx *f)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/users/amy/tmp", f->dir);
	return files_in(dir, false);
}

/* The user's store.db, index.db attached as "ix", on a connection of
 * its own. */
static sqlite3 *user_db(struct fx *f, const char *user)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/users/%s/store.db", f->dir, user);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(path, sizeof(path), "ATTACH '%s/users/%s/index.db' AS ix", f->dir, user);
	assert_int_equal(sqlite3_exec(db, path, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static int64_t sql_int(struct fx *f, const char *user, const char *q)
{
	sqlite3 *db = user_db(f, user);
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void sql_exec(struct fx *f, const char *user, const char *q)
{
	sqlite3 *db = user_db(f, user);
	char *err = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

static void assert_bytes(struct store_mailbox *mb, uint32_t uid, const char *want)
{
	const char *data;
	size_t len;
	assert_int_equal(store_message_map(mb, uid, &data, &len), STORE_OK);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	store_unmap(data, len);
	int fd;
	uint64_t size;
	assert_int_equal(store_message_open(mb, uid, &fd, &size), STORE_OK);
	assert_int_equal(size, strlen(want));
	char *back = malloc(size + 1);
	assert_int_equal(pread(fd, back, size + 1, 0), (ssize_t)size);
	assert_memory_equal(back, want, size);
	/* Read-only, whichever kind it is. */
	assert_int_equal(write(fd, "x", 1), -1);
	free(back);
	close(fd);
}

static size_t findings(struct fx *f, enum store_finding_kind kind, const char *needle)
{
	struct store_finding *fi;
	size_t n, hits = 0;
	assert_int_equal(store_check(f->u, f->a, &fi, &n), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		print_message("  %s: %s\n", fi[i].kind == STORE_FINDING_ERROR ? "error" : "fixed",
		              fi[i].text);
		if (fi[i].kind == kind && (needle == NULL || strstr(fi[i].text, needle) != NULL))
			hits++;
	}
	return needle == NULL ? n : hits;
}

static size_t search_body(struct store_mailbox *mb, const char *word, struct arena *a)
{
	struct store_search q = { .key = STORE_SK_BODY, .u.str = word };
	uint32_t *uids;
	size_t n;
	int rc = store_search(mb, &q, a, &uids, &n);
	if (rc != STORE_OK)
		fail_msg("search: %s", store_error(cur->u));
	return n;
}

static void small_inline_large_file(void **state)
{
	struct fx *f = *state;
	char *small = make_msg("small", 5000);
	char *edge = make_msg("edge", INLINE_MAX);
	char *over = make_msg("over", INLINE_MAX + 1);
	char *large = make_msg("large", 300 * 1024);
	assert_int_equal(append(f->u, "INBOX", small), 1);
	assert_int_equal(append(f->u, "INBOX", edge), 2);
	assert_int_equal(blob_files(f, "amy"), 0);
	assert_int_equal(tmp_files(f), 0);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob_data"), 2);
	assert_int_equal(append(f->u, "INBOX", over), 3);
	assert_int_equal(append(f->u, "INBOX", large), 4);
	assert_int_equal(blob_files(f, "amy"), 2);
	assert_int_equal(tmp_files(f), 0);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob WHERE inline = 1"), 2);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_bytes(mb, 1, small);
	assert_bytes(mb, 2, edge);
	assert_bytes(mb, 3, over);
	assert_bytes(mb, 4, large);
	store_mailbox_close(&mb);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, NULL), 0);
	free(small);
	free(edge);
	free(over);
	free(large);
}

static void copies_share_and_expunge_frees(void **state)
{
	struct fx *f = *state;
	char *small = make_msg("s", 3000), *large = make_msg("l", 200 * 1024);
	append(f->u, "INBOX", small);
	append(f->u, "INBOX", large);
	/* The same bytes again: no new blob of either kind. */
	append(f->u, "INBOX", small);
	append(f->u, "INBOX", large);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob"), 2);
	struct store_mailbox *mb, *ar;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_range all = { 1, 4 };
	struct store_uidset set = { 1, &all };
	struct store_copy_result res;
	assert_int_equal(store_copy(mb, &set, "Archive", false, f->a, &res), STORE_OK);
	assert_int_equal(res.n, 4);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob"), 2);
	assert_int_equal(sql_int(f, "amy", "SELECT refs FROM blob WHERE inline = 1"), 4);
	assert_int_equal(blob_files(f, "amy"), 1);
	uint64_t bytes, msgs;
	assert_int_equal(store_user_quota(f->u, &bytes, &msgs, NULL), STORE_OK);
	assert_int_equal(msgs, 8);
	assert_int_equal(bytes, 4 * (strlen(small) + strlen(large)));
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_SET, &set, f->a, &gone, &n), STORE_OK);
	assert_int_equal(n, 4);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob"), 2);
	assert_int_equal(store_mailbox_open(f->u, "Archive", 0, &ar), STORE_OK);
	assert_bytes(ar, 1, small);
	assert_bytes(ar, 2, large);
	/* MOVE keeps them; expunging the last copies frees both kinds. */
	assert_int_equal(store_copy(ar, &set, "Trash", true, f->a, &res), STORE_OK);
	store_mailbox_close(&ar);
	assert_int_equal(store_index_pending(f->u, 10, NULL), STORE_OK);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.fts"), 2);
	assert_int_equal(store_mailbox_open(f->u, "Trash", 0, &ar), STORE_OK);
	assert_int_equal(store_expunge(ar, STORE_EXPUNGE_SET, &set, f->a, &gone, &n), STORE_OK);
	assert_int_equal(n, 4);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob"), 0);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob_data"), 0);
	/* Their index rows wait, listed dead, for a quiet moment. */
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.dead"), 2);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.fts WHERE rowid NOT IN"
	                                   " (SELECT id FROM ix.dead)"), 0);
	assert_int_equal(blob_files(f, "amy"), 0);
	assert_int_equal(store_user_quota(f->u, &bytes, &msgs, NULL), STORE_OK);
	assert_int_equal(msgs, 0);
	assert_int_equal(bytes, 0);
	store_mailbox_close(&ar);
	store_mailbox_close(&mb);
	/* The check purges them, and they are not damage. */
	assert_int_equal(findings(f, STORE_FINDING_ERROR, NULL), 0);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.fts"), 0);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.dead"), 0);
	free(small);
	free(large);
}

static void check_finds_damaged_bodies(void **state)
{
	struct fx *f = *state;
	char *m1 = make_msg("one", 2000), *m2 = make_msg("two", 2100);
	char *m3 = make_msg("three", 2200), *big = make_msg("big", 100 * 1024);
	append(f->u, "INBOX", m1);
	append(f->u, "INBOX", m2);
	append(f->u, "INBOX", m3);
	append(f->u, "INBOX", big);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, NULL), 0);
	/* Same length, other bytes; shorter; gone; and the large one's file. */
	sql_exec(f, "amy", "UPDATE blob_data SET data = zeroblob(length(data)) WHERE id ="
	                   " (SELECT id FROM blob WHERE size = 2000)");
	sql_exec(f, "amy", "UPDATE blob_data SET data = substr(data, 1, 10) WHERE id ="
	                   " (SELECT id FROM blob WHERE size = 2100)");
	sql_exec(f, "amy", "DELETE FROM blob_data WHERE id = (SELECT id FROM blob WHERE size = 2200)");
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_msg_info info;
	struct store_range r = { 4, 4 };
	struct store_uidset set = { 1, &r };
	struct store_fetch *ft;
	assert_int_equal(store_fetch_begin(mb, &set, 0, &ft), STORE_OK);
	assert_int_equal(store_fetch_next(ft, f->a, &info), 1);
	store_fetch_end(&ft);
	char path[600];
	snprintf(path, sizeof(path), "%s/users/amy/blobs/%.2s/%s", f->dir, info.hash, info.hash);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, "inline body damaged"), 1);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, "inline body of 10 bytes"), 1);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, "inline body missing"), 1);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, "file missing"), 1);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, NULL), 4);
	/* Readers refuse rather than hand out wrong bytes. */
	const char *data;
	size_t len;
	int fd;
	assert_int_equal(store_message_map(mb, 2, &data, &len), STORE_E_INTERNAL);
	assert_int_equal(store_message_map(mb, 3, &data, &len), STORE_E_INTERNAL);
	assert_int_equal(store_message_open(mb, 3, &fd, NULL), STORE_E_INTERNAL);
	assert_int_equal(store_message_map(mb, 4, &data, &len), STORE_E_INTERNAL);
	store_mailbox_close(&mb);
	free(m1);
	free(m2);
	free(m3);
	free(big);
}

#define WAITING "SELECT count(*) FROM blob WHERE id >" \
	" (SELECT value FROM ix.meta WHERE key = 'upto')"

static void index_filled_after_commit(void **state)
{
	struct fx *f = *state;
	char tag[32];
	for (int i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "zq%d", i);
		char *m = make_msg(tag, 1500);
		append(f->u, "INBOX", m);
		free(m);
	}
	assert_int_equal(sql_int(f, "amy", WAITING), 3);
	bool more;
	assert_int_equal(store_index_pending(f->u, 1, &more), STORE_OK);
	assert_true(more);
	assert_int_equal(sql_int(f, "amy", WAITING), 2);
	/* A search misses nothing: the two not yet indexed are matched one by
	 * one, and left to the indexer. */
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(search_body(mb, "wordzq2", f->a), 1);
	assert_int_equal(search_body(mb, "wordzq", f->a), 3);
	assert_int_equal(sql_int(f, "amy", WAITING), 2);
	assert_int_equal(store_index_pending(f->u, 10, &more), STORE_OK);
	assert_false(more);
	/* A lost index row is found by the check and indexed again; a row
	 * whose blob is gone is removed. */
	sql_exec(f, "amy", "DELETE FROM ix.fts WHERE rowid = (SELECT min(id) FROM blob)");
	sql_exec(f, "amy", "INSERT INTO ix.fts(rowid, body) VALUES (1000000, 'wordzq9')");
	assert_int_equal(search_body(mb, "wordzq", f->a), 2);
	assert_int_equal(findings(f, STORE_FINDING_FIXED, "not in the search index"), 1);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.fts WHERE rowid = 1000000"), 0);
	assert_int_equal(search_body(mb, "wordzq", f->a), 3);
	assert_int_equal(findings(f, STORE_FINDING_ERROR, NULL), 0);
	/* A writer that never pauses: the backlog stays bounded. */
	assert_int_equal(store_txn_begin(f->u), STORE_OK);
	for (int i = 0; i < STORE_INDEX_BACKLOG + 5; i++) {
		snprintf(tag, sizeof(tag), "n%d", i);
		char *m = make_msg(tag, 200);
		append(f->u, "Archive", m);
		free(m);
	}
	assert_int_equal(store_txn_commit(f->u), STORE_OK);
	int64_t waiting = sql_int(f, "amy", WAITING);
	assert_true(waiting <= STORE_INDEX_BACKLOG && waiting >= STORE_INDEX_BACKLOG - 64);
	store_mailbox_close(&mb);
	assert_int_equal(store_mailbox_open(f->u, "Archive", 0, &mb), STORE_OK);
	/* Over SEARCH_TAIL_MAX waiting: the search indexes them first. */
	assert_int_equal(search_body(mb, "wordn2004", f->a), 1);
	assert_int_equal(sql_int(f, "amy", WAITING), 0);
	store_mailbox_close(&mb);
}

static void reopen(struct fx *f)
{
	const char *err;
	store_user_close(&f->u);
	assert_int_equal(store_user_open(f->dir, "amy", NULL, &f->u, &err), STORE_OK);
}

/* The index finds the blobs to index by id order, and drops a deleted
 * blob's row only when told: an id must never come back, not even the
 * highest one after a restart. */
static void blob_ids_never_reused(void **state)
{
	struct fx *f = *state;
	struct store_mailbox *mb;
	uint32_t *gone;
	size_t n;
	int64_t last = 0;
	for (int round = 0; round < 3; round++) {
		char *m = make_msg(round == 0 ? "ra" : round == 1 ? "rb" : "rc", 900);
		uint32_t uid = append(f->u, "INBOX", m);
		free(m);
		int64_t id = sql_int(f, "amy", "SELECT max(id) FROM blob");
		assert_true(id > last);
		last = id;
		assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
		assert_int_equal(search_body(mb, "wordr", f->a), 1);
		struct store_range r = { uid, uid };
		struct store_uidset set = { 1, &r };
		assert_int_equal(store_expunge(mb, STORE_EXPUNGE_SET, &set, f->a, &gone, &n), STORE_OK);
		assert_int_equal(n, 1);
		assert_int_equal(search_body(mb, "wordr", f->a), 0);
		store_mailbox_close(&mb);
		reopen(f);
	}
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM ix.fts"), 0);
}

/* index.db is derived: an index of another store.db (a restored backup)
 * or no index at all is rebuilt from the blobs. */
static void index_rebuilt_when_foreign_or_lost(void **state)
{
	struct fx *f = *state;
	char *m = make_msg("keep", 1200);
	append(f->u, "INBOX", m);
	free(m);
	assert_int_equal(store_index_pending(f->u, 10, NULL), STORE_OK);
	store_user_close(&f->u);
	sql_exec(f, "amy", "UPDATE ix.fts SET body = 'bogusword' ;"
	         "UPDATE meta SET value = value + 1 WHERE key = 'store_id'");
	reopen(f);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(search_body(mb, "bogusword", f->a), 0);
	assert_int_equal(search_body(mb, "wordkeep", f->a), 1);
	store_mailbox_close(&mb);
	store_user_close(&f->u);
	const char *sfx[] = { "", "-wal", "-shm" };
	char path[600];
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/users/amy/index.db%s", f->dir, sfx[i]);
		unlink(path);
	}
	reopen(f);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(search_body(mb, "wordkeep", f->a), 1);
	store_mailbox_close(&mb);
}

static void waiting_appends_held_then_committed(void **state)
{
	struct fx *f = *state;
	/* 1,000 waiting messages of 5 KB: more than the 4 MiB held in memory,
	 * so the last ones wait in temp files; all end up inline. */
	enum { N = 1000 };
	static struct store_append *aps[N];
	char tag[32];
	for (int i = 0; i < N; i++) {
		snprintf(tag, sizeof(tag), "m%d", i);
		char *m = make_msg(tag, 5000);
		assert_int_equal(store_append_begin(f->u, "INBOX", 0, &aps[i]), STORE_OK);
		assert_int_equal(store_append_write(aps[i], m, strlen(m)), STORE_OK);
		assert_int_equal(store_append_finish(aps[i]), STORE_OK);
		free(m);
	}
	size_t waiting = tmp_files(f);
	assert_true(waiting > 0 && waiting < N);
	assert_int_equal(store_txn_begin(f->u), STORE_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(store_append_commit(aps[i], NULL, NULL, NULL), STORE_OK);
	assert_int_equal(store_txn_commit(f->u), STORE_OK);
	assert_int_equal(tmp_files(f), 0);
	assert_int_equal(blob_files(f, "amy"), 0);
	assert_int_equal(sql_int(f, "amy", "SELECT count(*) FROM blob_data"), N);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	char *m = make_msg("m0", 5000);
	assert_bytes(mb, 1, m);
	free(m);
	m = make_msg("m999", 5000);
	assert_bytes(mb, N, m);
	free(m);
	store_mailbox_close(&mb);
	/* An aborted waiting message leaves nothing behind. */
	m = make_msg("gone", 5000);
	assert_int_equal(store_append_begin(f->u, "INBOX", 0, &aps[0]), STORE_OK);
	assert_int_equal(store_append_write(aps[0], m, strlen(m)), STORE_OK);
	assert_int_equal(store_append_finish(aps[0]), STORE_OK);
	store_append_abort(aps[0]);
	free(m);
	assert_int_equal(tmp_files(f), 0);
}

/* ---- migration ----------------------------------------------------------- */

/* The schema mailkeep wrote before version 2, verbatim. */
static const char schema_v1[] =
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
	"CREATE VIRTUAL TABLE fts USING fts5(hfrom, hto, hcc, hbcc, subject, headers, body,"
	" tokenize = 'trigram');";

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned mdlen;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A version 1 store as the old code left it: one message in INBOX, its
 * bytes a blob file, indexed. */
static void make_v1_store(struct fx *f, const char *user, const char *msg)
{
	char path[600], hash[65];
	snprintf(path, sizeof(path), "%s/users/%s", f->dir, user);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/users/%s/tmp", f->dir, user);
	mkdir(path, 0700);
	sha256_hex(msg, strlen(msg), hash);
	snprintf(path, sizeof(path), "%s/users/%s/blobs", f->dir, user);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/users/%s/blobs/%.2s", f->dir, user, hash);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/users/%s/blobs/%.2s/%s", f->dir, user, hash, hash);
	unit_write_file(path, msg, strlen(msg));
	snprintf(path, sizeof(path), "%s/users/%s/store.db", f->dir, user);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
	char *q = sqlite3_mprintf(
		"INSERT INTO meta VALUES ('schema_version', 1), ('last_uidvalidity', 1700000005);"
		"INSERT INTO mailbox(id, name, uidvalidity, uidnext, highestmodseq, special_use) VALUES"
		" (1, 'INBOX', 1700000000, 2, 2, 0), (2, 'Sent', 1700000001, 1, 1, 256),"
		" (3, 'Drafts', 1700000002, 1, 1, 512), (4, 'Trash', 1700000003, 1, 1, 1024),"
		" (5, 'Junk', 1700000004, 1, 1, 2048), (6, 'Archive', 1700000005, 1, 1, 4096);"
		"INSERT INTO subscription VALUES ('INBOX'), ('Sent'), ('Drafts'), ('Trash'),"
		" ('Junk'), ('Archive');"
		"INSERT INTO blob(id, hash, size, refs, header_size, envelope, bodystructure, body)"
		" VALUES (1, '%q', %d, 1, 17, '(NIL \"old\" NIL NIL NIL NIL NIL NIL NIL NIL)',"
		" '(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)',"
		" '(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)');"
		"INSERT INTO fts(rowid, subject, body) VALUES (1, 'old', 'oldword body');"
		"INSERT INTO message VALUES (1, 1, 1, 0, 0, 2, %d, 1700000000, 0, 1699920000);"
		"UPDATE quota_usage SET bytes = %d, messages = 1;",
		hash, (int)strlen(msg), (int)strlen(msg), (int)strlen(msg));
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(q);
	sqlite3_close(db);
}

static void migrates_schema_1_in_place(void **state)
{
	struct fx *f = *state;
	const char *old = "Subject: old\r\n\r\noldword body\r\n";
	make_v1_store(f, "old", old);
	struct store_user *u;
	const char *err;
	assert_int_equal(store_user_open(f->dir, "old", NULL, &u, &err), STORE_OK);
	assert_int_equal(sql_int(f, "old", "SELECT value FROM meta WHERE key = 'schema_version'"), 3);
	assert_int_equal(sql_int(f, "old", "SELECT inline FROM blob WHERE id = 1"), 0);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(u, "INBOX", 0, &mb), STORE_OK);
	assert_bytes(mb, 1, old);
	/* New messages go inline next to the old file, and both are found. */
	char *fresh = make_msg("new", 3000);
	assert_int_equal(append(u, "INBOX", fresh), 2);
	assert_bytes(mb, 2, fresh);
	assert_int_equal(search_body(mb, "oldword", f->a), 1);
	assert_int_equal(search_body(mb, "wordnew", f->a), 1);
	struct store_finding *fi;
	size_t n;
	assert_int_equal(store_check(u, f->a, &fi, &n), STORE_OK);
	for (size_t i = 0; i < n; i++)
		print_message("  finding: %s\n", fi[i].text);
	assert_int_equal(n, 0);
	/* The old blob is shared and freed like a new one. */
	struct store_range all = { 1, 2 };
	struct store_uidset set = { 1, &all };
	struct store_copy_result res;
	assert_int_equal(store_copy(mb, &set, "Trash", true, f->a, &res), STORE_OK);
	store_mailbox_close(&mb);
	assert_int_equal(store_mailbox_open(u, "Trash", 0, &mb), STORE_OK);
	assert_bytes(mb, 1, old);
	uint32_t *gone;
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_SET, &set, f->a, &gone, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(blob_files(f, "old"), 0);
	store_mailbox_close(&mb);
	store_user_close(&u);
	/* Opened again: nothing more to migrate. */
	assert_int_equal(store_user_open(f->dir, "old", NULL, &u, &err), STORE_OK);
	store_user_close(&u);
	free(fresh);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(small_inline_large_file),
		T(copies_share_and_expunge_frees),
		T(check_finds_damaged_bodies),
		T(index_filled_after_commit),
		T(blob_ids_never_reused),
		T(index_rebuilt_when_foreign_or_lost),
		T(waiting_appends_held_then_committed),
		T(migrates_schema_1_in_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
