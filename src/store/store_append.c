/* store_append.c: APPEND and delivery, streamed to a temp file, then
 * made durable and committed in one transaction. */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "lib/date.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define APPEND_BUF (64 * 1024)

struct store_append {
	struct store_user *u;
	char mailbox[STORE_NAME_MAX + 1];
	int fd;
	char *tmp_path;
	EVP_MD_CTX *sha;
	uint64_t size, max_size;
	bool last_cr, failed;
	bool finished;        /* store_append_finish: file complete, fd closed */
	char hash[65];
	size_t buflen;
	char *buf;            /* APPEND_BUF bytes while writing */
};

int store_append_begin(struct store_user *u, const char *mailbox, uint64_t max_size,
                       struct store_append **ap_r)
{
	*ap_r = NULL;
	struct store_append *ap = xcalloc(1, sizeof(*ap));
	ap->fd = -1;
	if (store_name_normalize(mailbox, ap->mailbox) < 0) {
		free(ap);
		return store_fail(u, STORE_E_BADNAME, "invalid mailbox name");
	}
	int rc = blob_tmp_open(u, &ap->fd, &ap->tmp_path);
	if (rc < 0) {
		free(ap);
		return rc;
	}
	ap->u = u;
	ap->max_size = max_size;
	ap->buf = xmalloc(APPEND_BUF);
	ap->sha = EVP_MD_CTX_new();
	if (ap->sha == NULL || EVP_DigestInit_ex(ap->sha, EVP_sha256(), NULL) != 1) {
		store_append_abort(ap);
		return store_fail(u, STORE_E_INTERNAL, "sha256 init");
	}
	*ap_r = ap;
	return STORE_OK;
}

int store_deliver_begin(struct store_user *u, uint64_t max_size, struct store_append **ap_r)
{
	return store_append_begin(u, "INBOX", max_size, ap_r);
}

static int flush(struct store_append *ap)
{
	size_t off = 0;
	while (off < ap->buflen) {
		ssize_t n = write(ap->fd, ap->buf + off, ap->buflen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ap->failed = true;
			return store_fail(ap->u, STORE_E_INTERNAL, "write: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	EVP_DigestUpdate(ap->sha, ap->buf, ap->buflen);
	ap->buflen = 0;
	return STORE_OK;
}

static int put(struct store_append *ap, char c)
{
	if (ap->max_size != 0 && ap->size >= ap->max_size) {
		ap->failed = true;
		return store_fail(ap->u, STORE_E_LIMIT, "message too big");
	}
	if (ap->buflen == APPEND_BUF && flush(ap) < 0)
		return STORE_E_INTERNAL;
	ap->buf[ap->buflen++] = c;
	ap->size++;
	return STORE_OK;
}

/* Bare LF becomes CRLF: IMAP sizes, line counts and byte ranges are of
 * the message with CRLF line ends (see mime.h). */
int store_append_write(struct store_append *ap, const void *data, size_t len)
{
	if (ap->failed || ap->finished)
		return store_fail(ap->u, STORE_E_INTERNAL, "append already failed or finished");
	const char *p = data;
	for (size_t i = 0; i < len; i++) {
		int rc;
		if (p[i] == '\n' && !ap->last_cr && (rc = put(ap, '\r')) < 0)
			return rc;
		if ((rc = put(ap, p[i])) < 0)
			return rc;
		ap->last_cr = p[i] == '\r';
	}
	return STORE_OK;
}

void store_append_abort(struct store_append *ap)
{
	if (ap == NULL)
		return;
	free(ap->buf);
	if (ap->fd >= 0)
		close(ap->fd);
	if (ap->tmp_path != NULL) {
		unlink(ap->tmp_path);
		free(ap->tmp_path);
	}
	EVP_MD_CTX_free(ap->sha);
	free(ap);
}

/* Inside the transaction: checks quota for n more messages of `bytes`. */
int quota_check(struct store_user *u, uint64_t bytes, uint64_t n)
{
	uint64_t used_bytes, used_msgs;
	int rc = store_user_quota(u, &used_bytes, &used_msgs, NULL);
	if (rc < 0)
		return rc;
	const struct store_quota *q = &u->acct->quota;
	if ((q->max_bytes != 0 && used_bytes + bytes > q->max_bytes) ||
	    (q->max_messages != 0 && used_msgs + n > q->max_messages))
		return store_fail(u, STORE_E_OVERQUOTA, "quota exceeded");
	return STORE_OK;
}

int quota_add(struct store_user *u, int64_t bytes, int64_t n)
{
	sqlite3_stmt *s = stmt(u->acct, ST_QUOTA_ADD);
	if (s == NULL)
		return store_dbfail(u, "quota");
	sqlite3_bind_int64(s, 1, bytes);
	sqlite3_bind_int64(s, 2, n);
	return sqlite3_step(s) == SQLITE_DONE ? STORE_OK : store_dbfail(u, "quota");
}

int msg_insert(struct store_user *u, int64_t mailbox_id, const struct store_msg *m,
               int64_t blob_id, int64_t date, int tz)
{
	sqlite3_stmt *s = stmt(u->acct, ST_MSG_INSERT);
	if (s == NULL)
		return store_dbfail(u, "insert");
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_int64(s, 2, m->uid);
	sqlite3_bind_int64(s, 3, blob_id);
	sqlite3_bind_int64(s, 4, m->flags);
	sqlite3_bind_int64(s, 5, (int64_t)m->keywords);
	sqlite3_bind_int64(s, 6, (int64_t)m->modseq);
	sqlite3_bind_int64(s, 7, (int64_t)m->size);
	sqlite3_bind_int64(s, 8, date);
	sqlite3_bind_int(s, 9, tz);
	sqlite3_bind_int64(s, 10, (int64_t)date_day_start((time_t)date, tz));
	return sqlite3_step(s) == SQLITE_DONE ? STORE_OK : store_dbfail(u, "insert");
}

static int finish_file(struct store_append *ap, char hash[65])
{
	if (!ap->finished) {
		if (ap->buflen > 0 && flush(ap) < 0)
			return STORE_E_INTERNAL;
		unsigned char md[32];
		unsigned mdlen = 0;
		EVP_DigestFinal_ex(ap->sha, md, &mdlen);
		for (int i = 0; i < 32; i++)
			snprintf(ap->hash + 2 * i, 3, "%02x", md[i]);
		ap->finished = true;
	}
	memcpy(hash, ap->hash, sizeof(ap->hash));
	return STORE_OK;
}

int store_append_finish(struct store_append *ap)
{
	char hash[65];
	if (ap->failed)
		return store_fail(ap->u, STORE_E_INTERNAL, "append already failed");
	int rc = finish_file(ap, hash);
	if (rc < 0)
		return rc;
	free(ap->buf);
	ap->buf = NULL;
	if (ap->fd >= 0) {
		close(ap->fd);
		ap->fd = -1;
	}
	return STORE_OK;
}

int store_append_commit(struct store_append *ap, const struct store_append_opts *opts,
                        uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct store_user *u = ap->u;
	static const struct store_append_opts none;
	if (opts == NULL)
		opts = &none;
	char hash[65];
	int rc = ap->failed ? store_fail(u, STORE_E_INTERNAL, "append failed") : finish_file(ap, hash);
	if (rc == STORE_OK && ap->size == 0)
		rc = store_fail(u, STORE_E_NOTALLOWED, "empty message");
	if (rc < 0) {
		store_append_abort(ap);
		return rc;
	}
	/* Parse once, now: everything FETCH and SEARCH need is cached. */
	struct arena *a = arena_new(64 * 1024);
	struct store_summary sum;
	int mfd = ap->fd >= 0 ? ap->fd : open(ap->tmp_path, O_RDONLY | O_CLOEXEC);
	void *map = mfd < 0 ? MAP_FAILED : mmap(NULL, ap->size, PROT_READ, MAP_PRIVATE, mfd, 0);
	if (mfd >= 0 && mfd != ap->fd)
		close(mfd);
	if (map == MAP_FAILED) {
		arena_free(&a);
		store_append_abort(ap);
		return store_fail(u, STORE_E_INTERNAL, "mmap: %s", strerror(errno));
	}
	store_summarize(map, ap->size, a, &sum);
	munmap(map, ap->size);

	struct dest d = { 0 };
	int64_t blob_id;
	struct store_msg m = {
		.flags = opts->flags & STORE_FLAGS_ALL,
		.size = ap->size,
	};
	int64_t date = opts->internal_date != 0 ? opts->internal_date : (int64_t)time(NULL);
	if ((rc = txn_begin(u)) < 0)
		goto out;
	if ((rc = dest_open(u, ap->mailbox, &d)) < 0 || (rc = quota_check(u, ap->size, 1)) < 0) {
		txn_abort_clean(u);
		goto out;
	}
	if ((rc = keywords_mask(u, d.v, opts->keywords, opts->n_keywords, true, &m.keywords)) < 0 ||
	    (rc = dest_reserve(u, &d, 1, &m.uid, &m.modseq)) < 0 ||
	    (rc = blob_install(u, ap->tmp_path, hash, ap->size, &sum, &blob_id)) < 0 ||
	    (rc = msg_insert(u, d.id, &m, blob_id, date, opts->internal_tz)) < 0 ||
	    (rc = quota_add(u, (int64_t)ap->size, 1)) < 0) {
		txn_rollback(u);
		goto out;
	}
	if (d.loaded)
		view_note_added(d.v, u, &m);
	rc = txn_commit(u);
	if (rc == STORE_OK) {
		if (uid_r != NULL)
			*uid_r = m.uid;
		if (uidvalidity_r != NULL)
			*uidvalidity_r = d.uidvalidity;
	}
out:
	dest_close(&d);
	arena_free(&a);
	store_append_abort(ap);
	return rc;
}
