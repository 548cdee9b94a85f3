/* store_check.c: `mailkeep check USER`: find (and where it is safe,
 * repair) inconsistencies between the database, the inline bodies, the
 * blob files and the search index. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Files younger than this may belong to an append in progress in another
 * process (renamed, not yet committed): left alone. */
#define ORPHAN_MIN_AGE 600

struct findings {
	struct arena *a;
	struct store_finding *v;
	size_t n, cap;
};

__attribute__((format(printf, 3, 4)))
static void add(struct findings *f, enum store_finding_kind kind, const char *fmt, ...)
{
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		struct store_finding *p = arena_alloc(f->a, ncap * sizeof(*p));
		if (f->n)
			memcpy(p, f->v, f->n * sizeof(*p));
		f->v = p;
		f->cap = ncap;
	}
	va_list ap;
	va_start(ap, fmt);
	f->v[f->n].kind = kind;
	f->v[f->n].text = arena_vprintf(f->a, fmt, ap);
	f->n++;
	va_end(ap);
}

static int exec1(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void check_db(sqlite3 *db, struct findings *f)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *r = (const char *)sqlite3_column_text(s, 0);
			if (r != NULL && strcmp(r, "ok") != 0)
				add(f, STORE_FINDING_ERROR, "database: %s", r);
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			add(f, STORE_FINDING_ERROR, "table %s row %lld references a missing %s row",
			    sqlite3_column_text(s, 0), (long long)sqlite3_column_int64(s, 1),
			    sqlite3_column_text(s, 2));
		sqlite3_finalize(s);
	}
}

/* UIDs below UIDNEXT, modseqs at most HIGHESTMODSEQ: repaired upwards,
 * which never reuses a UID or hides a change. */
static void check_mailboxes(sqlite3 *db, struct findings *f)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db,
	    "SELECT b.id, b.name, b.uidnext, b.highestmodseq, b.noselect,"
	    " (SELECT max(uid) FROM message WHERE mailbox_id = b.id),"
	    " max((SELECT max(modseq) FROM message WHERE mailbox_id = b.id),"
	    "     (SELECT max(modseq) FROM tombstone WHERE mailbox_id = b.id)),"
	    " (SELECT max(uid) FROM tombstone WHERE mailbox_id = b.id),"
	    " (SELECT count(*) FROM message WHERE mailbox_id = b.id)"
	    " FROM mailbox b", -1, &s, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const char *name = (const char *)sqlite3_column_text(s, 1);
		int64_t uidnext = sqlite3_column_int64(s, 2), hms = sqlite3_column_int64(s, 3);
		int64_t maxuid = sqlite3_column_int64(s, 5), maxms = sqlite3_column_int64(s, 6);
		int64_t maxtomb = sqlite3_column_int64(s, 7), count = sqlite3_column_int64(s, 8);
		if (maxtomb > maxuid)
			maxuid = maxtomb;
		if (maxuid >= uidnext) {
			add(f, STORE_FINDING_FIXED, "mailbox %s: UIDNEXT %lld <= UID %lld in use", name,
			    (long long)uidnext, (long long)maxuid);
			exec1(db, "UPDATE mailbox SET uidnext = ?2 WHERE id = ?1", id, maxuid + 1);
		}
		if (maxms > hms) {
			add(f, STORE_FINDING_FIXED, "mailbox %s: HIGHESTMODSEQ %lld < modseq %lld", name,
			    (long long)hms, (long long)maxms);
			exec1(db, "UPDATE mailbox SET highestmodseq = ?2 WHERE id = ?1", id, maxms);
		}
		if (sqlite3_column_int(s, 4) && count > 0)
			add(f, STORE_FINDING_ERROR, "mailbox %s: \\Noselect but holds %lld messages",
			    name, (long long)count);
	}
	sqlite3_finalize(s);
}

static void check_refs_and_quota(sqlite3 *db, struct findings *f)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT b.id, b.hash, b.refs, (SELECT count(*) FROM message m"
	                       " WHERE m.blob_id = b.id) AS c FROM blob b WHERE b.refs != c",
	                       -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			add(f, STORE_FINDING_FIXED, "blob %s: refcount %lld, referenced %lld times",
			    sqlite3_column_text(s, 1), (long long)sqlite3_column_int64(s, 2),
			    (long long)sqlite3_column_int64(s, 3));
			exec1(db, "UPDATE blob SET refs = ?2 WHERE id = ?1", sqlite3_column_int64(s, 0),
			      sqlite3_column_int64(s, 3));
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "SELECT q.bytes, q.messages, (SELECT total(size) FROM message),"
	                       " (SELECT count(*) FROM message) FROM quota_usage q", -1, &s,
	                       NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			int64_t qb = sqlite3_column_int64(s, 0), qm = sqlite3_column_int64(s, 1);
			int64_t rb = (int64_t)sqlite3_column_double(s, 2), rm = sqlite3_column_int64(s, 3);
			if (qb != rb || qm != rm) {
				add(f, STORE_FINDING_FIXED, "quota: recorded %lld bytes %lld messages,"
				    " actual %lld bytes %lld messages", (long long)qb, (long long)qm,
				    (long long)rb, (long long)rm);
				exec1(db, "UPDATE quota_usage SET bytes = ?1, messages = ?2", rb, rm);
			}
		}
		sqlite3_finalize(s);
	}
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Every blob row needs its bytes: a file of the right size, or an inline
 * body of the right size whose hash is the row's (they are small, so
 * hashing them all is cheap). */
static void check_bodies(struct store_account *acct, struct findings *f)
{
	sqlite3_stmt *s;
	char path[4200], hex[65];
	struct stat st;
	if (sqlite3_prepare_v2(acct->db, "SELECT b.hash, b.size, b.inline, d.data, d.id IS NOT NULL"
	                       " FROM blob b LEFT JOIN blob_data d ON d.id = b.id", -1, &s,
	                       NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *hash = (const char *)sqlite3_column_text(s, 0);
		int64_t size = sqlite3_column_int64(s, 1);
		bool has_data = sqlite3_column_int(s, 4) != 0;
		if (sqlite3_column_int(s, 2) == 0) {
			blob_path(acct, hash, path, sizeof(path));
			if (stat(path, &st) < 0)
				add(f, STORE_FINDING_ERROR, "blob %s: file missing", hash);
			else if ((int64_t)st.st_size != size)
				add(f, STORE_FINDING_ERROR, "blob %s: size %lld, expected %lld", hash,
				    (long long)st.st_size, (long long)size);
			if (has_data)
				add(f, STORE_FINDING_ERROR, "blob %s: a file and inline bytes", hash);
			continue;
		}
		const void *data = sqlite3_column_blob(s, 3);
		int64_t len = sqlite3_column_bytes(s, 3);
		if (!has_data) {
			add(f, STORE_FINDING_ERROR, "blob %s: inline body missing", hash);
		} else if (len != size) {
			add(f, STORE_FINDING_ERROR, "blob %s: inline body of %lld bytes, expected %lld",
			    hash, (long long)len, (long long)size);
		} else {
			sha256_hex(data != NULL ? data : "", (size_t)len, hex);
			if (strcmp(hex, hash) != 0)
				add(f, STORE_FINDING_ERROR, "blob %s: inline body damaged (its hash is %s)",
				    hash, hex);
		}
	}
	sqlite3_finalize(s);
}

/* Index rows of blobs that are gone (the indexer had not heard of them)
 * are removed; a blob the index claims to have but lacks would never be
 * found by text: it is indexed again. */
static void check_index(struct store_user *u, struct findings *f)
{
	int64_t stale, missing;
	if (index_writer_of(u) < 0) {
		add(f, STORE_FINDING_ERROR, "%s", store_error(u));
		return;
	}
	if (index_writer_repair(u->acct->ixw, &stale, &missing) < 0) {
		add(f, STORE_FINDING_ERROR, "%s", index_writer_error(u->acct->ixw));
		return;
	}
	if (stale > 0)
		add(f, STORE_FINDING_FIXED, "%lld index rows without a blob removed",
		    (long long)stale);
	if (missing > 0)
		add(f, STORE_FINDING_FIXED, "%lld messages not in the search index, indexed again",
		    (long long)missing);
}

static bool is_hash(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Files need a file-backed row (else collected). */
static void check_files(struct store_account *acct, struct findings *f)
{
	struct stat st;
	time_t old = time(NULL) - ORPHAN_MIN_AGE;
	sqlite3_stmt *s = stmt(acct, ST_BLOB_FILE_BY_HASH);
	if (s == NULL)
		return;
	for (int i = 0; i < 256; i++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/blobs/%02x", acct->dir, i);
		DIR *d = opendir(dir);
		if (d == NULL)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			bool known = false;
			if (is_hash(e->d_name)) {
				sqlite3_reset(s);
				sqlite3_bind_text(s, 1, e->d_name, -1, SQLITE_TRANSIENT);
				known = sqlite3_step(s) == SQLITE_ROW;
			}
			if (known || fstatat(dirfd(d), e->d_name, &st, 0) < 0 || st.st_mtime > old)
				continue;
			if (unlinkat(dirfd(d), e->d_name, 0) == 0)
				add(f, STORE_FINDING_FIXED, "unreferenced blob %s collected", e->d_name);
		}
		closedir(d);
	}
	sqlite3_reset(s);
}

int store_check(struct store_user *u, struct arena *a, struct store_finding **f_r, size_t *n_r)
{
	struct findings f = { .a = a };
	*f_r = NULL;
	*n_r = 0;
	int rc = txn_begin(u);
	if (rc < 0)
		return rc;
	check_db(u->acct->db, &f);
	check_mailboxes(u->acct->db, &f);
	check_refs_and_quota(u->acct->db, &f);
	if ((rc = blob_collect_unused(u)) < 0) {
		txn_rollback(u);
		return rc;
	}
	check_bodies(u->acct, &f);
	check_files(u->acct, &f);
	if ((rc = txn_commit(u)) < 0)
		return rc;
	/* After the commit: it sees the blobs collected above as gone. */
	check_index(u, &f);
	views_invalidate(u->acct);
	*f_r = f.v;
	*n_r = f.n;
	return STORE_OK;
}
