/* store_append.c: APPEND and delivery. A message's first
 * STORE_INLINE_MAX bytes are kept in memory; only a larger one goes on to
 * a temp file. Then it is parsed once, made durable and committed in one
 * transaction (inline in store.db when small, see store_blob.c). */
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

/* The write buffer is the inline limit: a message that never overflows
 * it is never written to a file. */
#define APPEND_BUF STORE_INLINE_MAX

/* Finished small messages waiting for their commit (MULTIAPPEND) keep
 * their bytes in memory up to this total per thread; beyond, they wait
 * in temp files like large ones. */
#define HELD_MAX (4u << 20)
static _Thread_local uint64_t held_bytes;

struct store_append {
	struct store_user *u;
	char mailbox[STORE_NAME_MAX + 1];
	int fd;               /* the temp file, once the message outgrew buf */
	char *tmp_path;
	EVP_MD_CTX *sha;
	uint64_t size, max_size;
	bool last_cr, failed;
	bool finished;        /* complete: hash known, no more writes */
	char hash[65];
	size_t buflen;
	char *buf;            /* APPEND_BUF bytes while writing; the whole
	                         message if it is small and held in memory */
	size_t held;          /* bytes of buf counted in held_bytes */
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

/* Writes the buffered bytes to the temp file, creating it first. */
static int spill(struct store_append *ap)
{
	if (ap->fd < 0 && ap->tmp_path == NULL) {
		int rc = blob_tmp_open(ap->u, &ap->fd, &ap->tmp_path);
		if (rc < 0) {
			ap->failed = true;
			return rc;
		}
	}
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
	ap->buflen = 0;
	return STORE_OK;
}

static int put(struct store_append *ap, const char *p, size_t n)
{
	if (ap->max_size != 0 && ap->size + n > ap->max_size) {
		ap->failed = true;
		return store_fail(ap->u, STORE_E_LIMIT, "message too big");
	}
	EVP_DigestUpdate(ap->sha, p, n);
	ap->size += n;
	while (n > 0) {
		if (ap->buflen == APPEND_BUF && spill(ap) < 0)
			return STORE_E_INTERNAL;
		size_t k = APPEND_BUF - ap->buflen < n ? APPEND_BUF - ap->buflen : n;
		memcpy(ap->buf + ap->buflen, p, k);
		ap->buflen += k;
		p += k;
		n -= k;
	}
	return STORE_OK;
}

/* Bare LF becomes CRLF: IMAP sizes, line counts and byte ranges are of
 * the message with CRLF line ends (see mime.h). Copied a line at a time. */
int store_append_write(struct store_append *ap, const void *data, size_t len)
{
	if (ap->failed || ap->finished)
		return store_fail(ap->u, STORE_E_INTERNAL, "append already failed or finished");
	const char *p = data, *end = p + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;
		int rc;
		if (stop > p) {
			if ((rc = put(ap, p, (size_t)(stop - p))) < 0)
				return rc;
			ap->last_cr = stop[-1] == '\r';
		}
		if (nl == NULL)
			break;
		if ((!ap->last_cr && (rc = put(ap, "\r", 1)) < 0) || (rc = put(ap, "\n", 1)) < 0)
			return rc;
		ap->last_cr = false;
		p = nl + 1;
	}
	return STORE_OK;
}

void store_append_abort(struct store_append *ap)
{
	if (ap == NULL)
		return;
	held_bytes -= ap->held;
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

int msg_insert(struct store_user *u, int64_t mailbox_id, struct store_msg *m,
               int64_t blob_id, int64_t date, int tz)
{
	m->day = (int64_t)date_day_start((time_t)date, tz);
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
	sqlite3_bind_int64(s, 10, m->day);
	return sqlite3_step(s) == SQLITE_DONE ? STORE_OK : store_dbfail(u, "insert");
}

/* The message is complete: the hash is final, and the bytes are either
 * all in buf (small) or all in the temp file (large). */
static int complete(struct store_append *ap)
{
	if (ap->finished)
		return STORE_OK;
	if (ap->fd >= 0 && ap->buflen > 0 && spill(ap) < 0)
		return STORE_E_INTERNAL;
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_DigestFinal_ex(ap->sha, md, &mdlen);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		ap->hash[2 * i] = hex[md[i] >> 4];
		ap->hash[2 * i + 1] = hex[md[i] & 15];
	}
	ap->hash[64] = '\0';
	ap->finished = true;
	return STORE_OK;
}

int store_append_finish(struct store_append *ap)
{
	if (ap->failed)
		return store_fail(ap->u, STORE_E_INTERNAL, "append already failed");
	int rc = complete(ap);
	if (rc < 0)
		return rc;
	if (ap->fd < 0 && ap->tmp_path == NULL && held_bytes + ap->size <= HELD_MAX) {
		/* Small: just its bytes wait, in memory. */
		ap->buf = xrealloc(ap->buf, ap->size > 0 ? ap->size : 1);
		ap->held = ap->size;
		held_bytes += ap->held;
		return STORE_OK;
	}
	if (ap->buflen > 0 && spill(ap) < 0)
		return STORE_E_INTERNAL;
	free(ap->buf);
	ap->buf = NULL;
	if (ap->fd >= 0) {
		close(ap->fd);
		ap->fd = -1;
	}
	return STORE_OK;
}

/* The complete message's bytes: buf, or a private mapping of the temp
 * file (*mapped set; the caller unmaps). */
static int message_bytes(struct store_append *ap, const char **data_r, bool *mapped)
{
	*mapped = false;
	if (ap->tmp_path == NULL) {
		*data_r = ap->buf;
		return STORE_OK;
	}
	int fd = ap->fd >= 0 ? ap->fd : open(ap->tmp_path, O_RDONLY | O_CLOEXEC);
	void *map = fd < 0 ? MAP_FAILED : mmap(NULL, ap->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0 && fd != ap->fd)
		close(fd);
	if (map == MAP_FAILED)
		return store_fail(ap->u, STORE_E_INTERNAL, "mmap: %s", strerror(errno));
	*data_r = map;
	*mapped = true;
	return STORE_OK;
}

int store_append_commit(struct store_append *ap, const struct store_append_opts *opts,
                        uint32_t *uidvalidity_r, uint32_t *uid_r)
{
	struct store_user *u = ap->u;
	static const struct store_append_opts none;
	if (opts == NULL)
		opts = &none;
	int rc = ap->failed ? store_fail(u, STORE_E_INTERNAL, "append failed") : complete(ap);
	if (rc == STORE_OK && ap->size == 0)
		rc = store_fail(u, STORE_E_NOTALLOWED, "empty message");
	const char *data = NULL;
	bool mapped = false;
	if (rc == STORE_OK)
		rc = message_bytes(ap, &data, &mapped);
	if (rc < 0) {
		store_append_abort(ap);
		return rc;
	}
	bool inl = ap->size <= STORE_INLINE_MAX;
	/* Parse once, now: everything FETCH and SEARCH need is cached. */
	struct arena *a = arena_new(64 * 1024);
	struct store_summary sum;
	store_summarize(data, ap->size, a, &sum);

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
	    (rc = blob_install(u, ap->tmp_path, inl ? data : NULL, ap->hash, ap->size, &sum,
	                       &blob_id)) < 0 ||
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
	if (mapped)
		munmap((void *)data, ap->size);
	store_append_abort(ap);
	return rc;
}
