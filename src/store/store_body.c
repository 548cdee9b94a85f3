/* store_body.c: a message's bytes, wherever they are: a row of blob_data
 * (small messages, inline in store.db) or the blob file (large ones).
 * Readers get the same thing either way: a mapping or a descriptor. */
#include "store/store_internal.h"
#include "lib/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Columns from col: id, hash, size, inline, data (ST_MSG_BODY). */
int body_from_row(struct store_user *u, sqlite3_stmt *s, int col, struct body *b)
{
	memset(b, 0, sizeof(*b));
	const char *hash = (const char *)sqlite3_column_text(s, col + 1);
	uint64_t size = (uint64_t)sqlite3_column_int64(s, col + 2);
	if (sqlite3_column_int(s, col + 3)) {
		const void *data = sqlite3_column_blob(s, col + 4);
		size_t len = (size_t)sqlite3_column_bytes(s, col + 4);
		if (sqlite3_column_type(s, col + 4) == SQLITE_NULL || len != size)
			return store_fail(u, STORE_E_INTERNAL, "message %s: inline body %s",
			                  hash != NULL ? hash : "?",
			                  sqlite3_column_type(s, col + 4) == SQLITE_NULL ? "missing"
			                                                                 : "damaged");
		b->data = len > 0 ? data : "";
		b->len = len;
		return STORE_OK;
	}
	if (hash == NULL)
		return store_fail(u, STORE_E_INTERNAL, "blob row without a hash");
	int err = blob_map_file(u->acct->dir, hash, size, b);
	if (err < 0)
		return store_fail(u, STORE_E_INTERNAL, "message file %s: %s", hash, strerror(-err));
	return STORE_OK;
}

void body_release(struct body *b)
{
	if (b->mapped)
		munmap((void *)b->data, b->len);
	memset(b, 0, sizeof(*b));
}

/* Steps the message's body statement; the caller resets it. Under a
 * snapshot hold (snap) the statement is the snapshot connection's. */
static int message_row(struct store_mailbox *mb, uint32_t uid, bool snap, sqlite3_stmt **s_r)
{
	struct store_user *u = mb->user;
	sqlite3_stmt *s = snap ? snapshot_body_stmt(mb) : stmt(u->acct, ST_MSG_BODY);
	if (s == NULL)
		return snap ? STORE_E_INTERNAL : store_dbfail(u, "open");
	sqlite3_bind_int64(s, 1, mb->v->id);
	sqlite3_bind_int64(s, 2, uid);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return store_fail(u, STORE_E_EXPUNGED, "message was expunged");
		return store_fail(u, STORE_E_INTERNAL, "open: %s",
		                  sqlite3_errmsg(sqlite3_db_handle(s)));
	}
	*s_r = s;
	return STORE_OK;
}

/* An inline message as a descriptor: a memfd sealed against change, so
 * the caller holds exactly the bytes of the message, as with a file. */
static int memfd_of(struct store_user *u, const char *data, size_t len, int *fd_r)
{
	int fd = memfd_create("mailkeep-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return store_fail(u, STORE_E_INTERNAL, "memfd: %s", strerror(errno));
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return store_fail(u, STORE_E_INTERNAL, "memfd write: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return store_fail(u, STORE_E_INTERNAL, "memfd seal: %s", strerror(errno));
	}
	*fd_r = fd;
	return STORE_OK;
}

int store_message_open(struct store_mailbox *mb, uint32_t uid, int *fd_r, uint64_t *size_r)
{
	struct store_user *u = mb->user;
	sqlite3_stmt *s;
	int rc = message_row(mb, uid, false, &s);
	if (rc < 0)
		return rc;
	uint64_t size = (uint64_t)sqlite3_column_int64(s, 2);
	if (sqlite3_column_int(s, 3)) {
		struct body b;
		if ((rc = body_from_row(u, s, 0, &b)) == STORE_OK)
			rc = memfd_of(u, b.data, b.len, fd_r);
		sqlite3_reset(s);
		if (rc < 0)
			return rc;
	} else {
		char path[4200];
		const char *hash = (const char *)sqlite3_column_text(s, 1);
		rc = hash != NULL ? blob_path(u->acct, hash, path, sizeof(path)) : -1;
		sqlite3_reset(s);
		if (rc < 0)
			return store_fail(u, STORE_E_INTERNAL, "blob row without a hash");
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return store_fail(u, STORE_E_INTERNAL, "message file missing: %s",
			                  strerror(errno));
		*fd_r = fd;
	}
	if (size_r != NULL)
		*size_r = size;
	return STORE_OK;
}

/* The message's row and bytes: on success the caller releases b and
 * resets *s_r (b may point into the row). A row saying inline with more
 * than STORE_INLINE_MAX bytes is damaged: store_unmap could not tell a
 * copy of it from a mapping. */
static int message_body_once(struct store_mailbox *mb, uint32_t uid, bool snap,
                             sqlite3_stmt **s_r, struct body *b)
{
	int rc = message_row(mb, uid, snap, s_r);
	if (rc < 0)
		return rc;
	rc = body_from_row(mb->user, *s_r, 0, b);
	if (rc == STORE_OK && !b->mapped && b->len > STORE_INLINE_MAX) {
		rc = store_fail(mb->user, STORE_E_INTERNAL, "inline body of %zu bytes", b->len);
		body_release(b);
	}
	if (rc < 0)
		sqlite3_reset(*s_r);
	return rc;
}

/* *s_r is the statement to reset after b is released, NULL for none.
 * dest (room bytes) may receive the bytes, then b->data is dest. */
static int message_body(struct store_mailbox *mb, uint32_t uid, char *dest, size_t room,
                        sqlite3_stmt **s_r, struct body *b)
{
	*s_r = NULL;
	if (!mb->snap_held)
		return message_body_once(mb, uid, false, s_r, b);
	/* A snapshot begun earlier may name a blob file deleted since: the
	 * message was expunged meanwhile; a fresh snapshot says so. */
	bool old = snapshot_in_txn(mb);
	/* Most messages are inline: by blob id, without the join. */
	if (snapshot_inline_body(mb, uid, dest, room, b) == STORE_OK)
		return STORE_OK;
	int rc = message_body_once(mb, uid, true, s_r, b);
	if (rc == STORE_E_INTERNAL && old) {
		snapshot_end(mb);
		rc = message_body_once(mb, uid, true, s_r, b);
	}
	return rc;
}

int store_message_read(struct store_mailbox *mb, uint32_t uid, char *out, size_t room,
                       size_t *len_r)
{
	sqlite3_stmt *s;
	struct body b;
	int rc = message_body(mb, uid, out, room, &s, &b);
	if (rc < 0)
		return rc;
	if (b.len > room) {
		rc = STORE_E_LIMIT;
	} else {
		if (b.data != out)
			memcpy(out, b.data, b.len);
		*len_r = b.len;
	}
	body_release(&b);
	if (s != NULL)
		sqlite3_reset(s);
	return rc;
}

/* A message of at most STORE_INLINE_MAX bytes is handed out as a heap
 * copy, a larger one as its file's mapping; store_unmap tells them apart
 * by the same rule on len. Why a copy on the heap: the bytes must outlive
 * the statement (FETCH and RETR stream across loop iterations, with other
 * store calls between), and a fresh mapping per message cost an mmap, an
 * mprotect, an munmap (a TLB shootdown) and a page fault per 4 KiB page:
 * a fifth of RETR's instructions, where the memcpy itself is a few per
 * cent. The rule is the length, not blob.inline, because a store from
 * before schema 2 keeps small messages in files: those are copied too. */
int store_message_map(struct store_mailbox *mb, uint32_t uid, const char **data_r,
                      size_t *len_r)
{
	sqlite3_stmt *s;
	struct body b;
	int rc = message_body(mb, uid, NULL, 0, &s, &b);
	if (rc < 0)
		return rc;
	*data_r = b.data;
	*len_r = b.len;
	if (b.len > 0 && b.len <= STORE_INLINE_MAX) {
		char *copy = xmalloc(b.len);
		memcpy(copy, b.data, b.len);
		*data_r = copy;
		body_release(&b);
	}
	if (s != NULL)
		sqlite3_reset(s);
	return STORE_OK;
}

void store_unmap(const char *data, size_t len)
{
	if (len > STORE_INLINE_MAX)
		munmap((void *)data, len);
	else if (len > 0)
		free((void *)data);
}
