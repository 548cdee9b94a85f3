/* store_blob.c: content-addressed message bytes and their reference
 * counts. A blob of at most STORE_INLINE_MAX bytes is a row of blob_data,
 * written in the transaction that references it. A larger one is an
 * immutable file, made durable (fsync, rename, directory fsync) before
 * the transaction that references it commits; a file whose last
 * reference goes is unlinked after the commit, through the blob_gc table
 * so that a crash in between only delays it. */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "lib/date.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUSH(arr, n, cap, x) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 8; \
		(arr) = xrealloc((arr), (cap) * sizeof(*(arr))); \
	} \
	(arr)[(n)++] = (x); \
} while (0)

static int path_in(const char *user_dir, const char *hash, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/blobs/%.2s/%s", user_dir, hash, hash);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int blob_path(struct store_account *acct, const char *hash, char *out, size_t outlen)
{
	return path_in(acct->dir, hash, out, outlen);
}

int blob_dir_fsync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int blob_tmp_open(struct store_user *u, int *fd_r, char **path_r)
{
	size_t n = strlen(u->acct->dir) + 32;
	char *path = xmalloc(n);
	snprintf(path, n, "%s/tmp/append-XXXXXX", u->acct->dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		free(path);
		return store_fail(u, STORE_E_INTERNAL, "temp file: %s", strerror(errno));
	}
	*fd_r = fd;
	*path_r = path;
	return STORE_OK;
}

int blob_lookup(struct store_user *u, const char *hash, int64_t *id_r)
{
	sqlite3_stmt *s = stmt(u->acct, ST_BLOB_BY_HASH);
	if (s == NULL)
		return store_dbfail(u, "blob");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	return rc == SQLITE_DONE ? STORE_E_NOTFOUND : store_dbfail(u, "blob");
}

int blob_ref(struct store_user *u, int64_t id, int delta)
{
	sqlite3_stmt *s = stmt(u->acct, ST_BLOB_REF);
	if (s == NULL)
		return store_dbfail(u, "blob ref");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, delta);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "blob ref");
	return STORE_OK;
}

static int bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	return t != NULL ? sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Moves the complete temp file to the blob's address. The directory
 * blobs/ab exists after the first blob with that prefix: try the rename
 * first, so the common case costs no mkdir. */
static int install_file(struct store_user *u, const char *tmp_path, const char *hash)
{
	struct store_account *acct = u->acct;
	char path[4200];
	if (blob_path(acct, hash, path, sizeof(path)) < 0)
		return store_fail(u, STORE_E_INTERNAL, "blob path too long");
	if (rename(tmp_path, path) < 0) {
		if (errno != ENOENT)
			return store_fail(u, STORE_E_INTERNAL, "rename blob: %s", strerror(errno));
		char *slash = strrchr(path, '/');
		*slash = '\0';
		if (mkdir(path, 0700) == 0)
			acct->sync_blobs_dir = true;   /* its entry in blobs/ is synced too */
		else if (errno != EEXIST)
			return store_fail(u, STORE_E_INTERNAL, "mkdir blobs: %s", strerror(errno));
		*slash = '/';
		if (rename(tmp_path, path) < 0)
			return store_fail(u, STORE_E_INTERNAL, "rename blob: %s", strerror(errno));
	}
	/* Made durable with the others of the transaction, before COMMIT. */
	PUSH(acct->new_blobs, acct->n_new_blobs, acct->cap_new_blobs, xstrdup(path));
	/* A file left to collect under this hash is in use again. */
	sqlite3_stmt *s = stmt(acct, ST_GC_DELETE);
	if (s == NULL)
		return store_dbfail(u, "gc");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "gc");
	return STORE_OK;
}

int blob_install(struct store_user *u, const char *tmp_path, const char *data,
                 const char *hash, uint64_t size, const struct store_summary *sum,
                 int64_t *id_r)
{
	struct store_account *acct = u->acct;
	int rc = blob_lookup(u, hash, id_r);
	if (rc == STORE_OK) {
		if (tmp_path != NULL)
			unlink(tmp_path);
		return blob_ref(u, *id_r, 1);
	}
	if (rc != STORE_E_NOTFOUND)
		return rc;
	bool inl = data != NULL;
	if (!inl && (rc = install_file(u, tmp_path, hash)) < 0)
		return rc;
	if (inl && tmp_path != NULL)
		unlink(tmp_path);
	sqlite3_stmt *s = stmt(acct, ST_BLOB_INSERT);
	if (s == NULL)
		return store_dbfail(u, "blob insert");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)size);
	sqlite3_bind_int64(s, 3, (int64_t)sum->header_size);
	if (sum->has_date) {
		sqlite3_bind_int64(s, 4, sum->sent_date);
		sqlite3_bind_int(s, 5, sum->sent_tz);
		sqlite3_bind_int64(s, 6, (int64_t)date_day_start((time_t)sum->sent_date, sum->sent_tz));
	}
	bind_text_or_null(s, 7, sum->envelope);
	bind_text_or_null(s, 8, sum->bodystructure);
	bind_text_or_null(s, 9, sum->body);
	bind_text_or_null(s, 10, sum->message_id);
	bind_text_or_null(s, 11, sum->preview);
	sqlite3_bind_int(s, 12, inl);
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_dbfail(u, "blob insert");
	*id_r = sqlite3_last_insert_rowid(acct->db);
	acct->new_blobs_committed = true;
	if (inl) {
		if ((s = stmt(acct, ST_DATA_INSERT)) == NULL)
			return store_dbfail(u, "blob data");
		sqlite3_bind_int64(s, 1, *id_r);
		sqlite3_bind_blob64(s, 2, data, size, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return store_dbfail(u, "blob data");
	}
	return STORE_OK;
}

int blob_collect_unused(struct store_user *u)
{
	struct store_account *acct = u->acct;
	sqlite3_stmt *s = stmt(acct, ST_BLOB_UNUSED);
	if (s == NULL)
		return store_dbfail(u, "collect");
	int rc = STORE_OK;
	while (rc == STORE_OK && sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const char *hash = (const char *)sqlite3_column_text(s, 1);
		bool has_file = sqlite3_column_int(s, 2) == 0;
		sqlite3_stmt *w;
		/* Inline bytes go with the row (ON DELETE CASCADE); a file is
		 * collected after the commit, the index row by the indexer. */
		if (has_file) {
			if ((w = stmt(acct, ST_GC_INSERT)) == NULL) {
				rc = STORE_E_INTERNAL;
			} else {
				sqlite3_bind_text(w, 1, hash, -1, SQLITE_STATIC);
				if (sqlite3_step(w) != SQLITE_DONE)
					rc = STORE_E_INTERNAL;
				sqlite3_reset(w);
			}
		}
		/* The id stays used (ST_BLOB_INSERT). */
		enum stmt_id del[] = { ST_BLOB_DELETE, ST_BLOB_FLOOR };
		for (int i = 0; i < 2 && rc == STORE_OK; i++) {
			if ((w = stmt(acct, del[i])) == NULL)
				rc = STORE_E_INTERNAL;
			else {
				sqlite3_bind_int64(w, 1, id);
				if (sqlite3_step(w) != SQLITE_DONE)
					rc = STORE_E_INTERNAL;
				sqlite3_reset(w);
			}
		}
		if (rc == STORE_OK && has_file)
			PUSH(acct->dead_blobs, acct->n_dead_blobs, acct->cap_dead_blobs, xstrdup(hash));
		if (rc == STORE_OK)
			PUSH(acct->gone, acct->n_gone, acct->cap_gone, id);
	}
	sqlite3_reset(s);
	return rc == STORE_OK ? STORE_OK : store_dbfail(u, "collect");
}

/* Unlinks a blob file unless a file-backed row references the hash again
 * (an inline row with the same bytes does not need the file). */
static void unlink_unused(struct store_account *acct, const char *hash)
{
	sqlite3_stmt *s = stmt(acct, ST_BLOB_FILE_BY_HASH);
	if (s == NULL)
		return;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	bool used = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	char path[4200];
	if (!used && blob_path(acct, hash, path, sizeof(path)) == 0)
		unlink(path);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Group commit: the files created in a transaction, their directories,
 * then (by the caller) the COMMIT. Many files: one syncfs() is cheaper
 * than a fsync each. */
#define SYNCFS_FROM 8

int blobs_sync(struct store_account *acct)
{
	size_t n = acct->n_new_blobs;
	if (n == 0)
		return 0;
	if (n >= SYNCFS_FROM) {
		int fd = open(acct->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		int rc = syncfs(fd);
		close(fd);
		acct->sync_blobs_dir = false;
		return rc;
	}
	char dirs[SYNCFS_FROM][4200];
	size_t nd = 0;
	for (size_t i = 0; i < n; i++) {
		if (fsync_path(acct->new_blobs[i]) < 0)
			return -1;
		char *slash = strrchr(acct->new_blobs[i], '/');
		size_t len = (size_t)(slash - acct->new_blobs[i]);
		bool seen = false;
		for (size_t k = 0; k < nd && !seen; k++)
			seen = strlen(dirs[k]) == len && memcmp(dirs[k], acct->new_blobs[i], len) == 0;
		if (!seen) {
			memcpy(dirs[nd], acct->new_blobs[i], len);
			dirs[nd++][len] = '\0';
		}
	}
	for (size_t k = 0; k < nd; k++)
		if (blob_dir_fsync(dirs[k]) < 0)
			return -1;
	if (acct->sync_blobs_dir) {
		char top[4096];
		snprintf(top, sizeof(top), "%s/blobs", acct->dir);
		if (blob_dir_fsync(top) < 0)
			return -1;
		acct->sync_blobs_dir = false;
	}
	return 0;
}

void blobs_after_commit(struct store_account *acct)
{
	for (size_t i = 0; i < acct->n_new_blobs; i++)
		free(acct->new_blobs[i]);
	acct->n_new_blobs = 0;
	for (size_t i = 0; i < acct->n_dead_blobs; i++) {
		unlink_unused(acct, acct->dead_blobs[i]);
		/* Its blob_gc row goes with the next transaction. */
		PUSH(acct->done_gc, acct->n_done_gc, acct->cap_done_gc, acct->dead_blobs[i]);
	}
	acct->n_dead_blobs = 0;
}

void blobs_after_rollback(struct store_account *acct)
{
	for (size_t i = 0; i < acct->n_new_blobs; i++) {
		unlink(acct->new_blobs[i]);
		free(acct->new_blobs[i]);
	}
	acct->n_new_blobs = 0;
	for (size_t i = 0; i < acct->n_dead_blobs; i++)
		free(acct->dead_blobs[i]);
	acct->n_dead_blobs = 0;
	acct->n_gone = 0;
	acct->new_blobs_committed = false;
}

int blob_map_file(const char *user_dir, const char *hash, uint64_t size, struct body *b)
{
	memset(b, 0, sizeof(*b));
	char path[4200];
	if (path_in(user_dir, hash, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	void *p = size > 0 ? mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0) : NULL;
	int err = errno;
	close(fd);
	if (p == MAP_FAILED)
		return -err;
	b->data = p != NULL ? p : "";
	b->len = size;
	b->mapped = p != NULL;
	return 0;
}

void blobs_gc_pending(struct store_account *acct)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(acct->db, "SELECT hash FROM blob_gc", -1, &s, NULL) != SQLITE_OK)
		return;
	bool any = false;
	while (sqlite3_step(s) == SQLITE_ROW) {
		unlink_unused(acct, (const char *)sqlite3_column_text(s, 0));
		any = true;
	}
	sqlite3_finalize(s);
	if (any)
		sqlite3_exec(acct->db, "DELETE FROM blob_gc", NULL, NULL, NULL);
}

void blobs_clean_tmp(struct store_account *acct)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tmp", acct->dir);
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}
