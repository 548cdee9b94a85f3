/* Messages: append, UIDs, modseq, flags, expunge, copy/move, quota,
 * change log, fetch, recent, durability layout. */
#include "store_fixture.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int setup(void **state)
{
	*state = store_fx_open("bob");
	return 0;
}

static int teardown(void **state)
{
	store_fx_close(*state);
	return 0;
}

static char *message(int i)
{
	static char buf[512];
	snprintf(buf, sizeof(buf),
	         "From: Sender %d <s%d@example.org>\r\nTo: bob@example.com\r\n"
	         "Subject: message number %d\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
	         "\r\nBody of message %d.\r\n", i, i, i, i);
	return buf;
}

static int append(struct store_user *u, const char *box, const char *text, uint32_t flags,
                  uint32_t *uid_r)
{
	struct store_append *ap;
	int rc = store_append_begin(u, box, 0, &ap);
	if (rc < 0)
		return rc;
	/* Streamed in small chunks. */
	size_t n = strlen(text);
	for (size_t off = 0; off < n; off += 7) {
		size_t k = n - off < 7 ? n - off : 7;
		assert_int_equal(store_append_write(ap, text + off, k), STORE_OK);
	}
	struct store_append_opts o = { .flags = flags, .internal_date = 1790000000 };
	return store_append_commit(ap, &o, NULL, uid_r);
}

/* Blobs stored (small ones inline in store.db, large ones as files): a
 * shared message is one, a collected one none. */
static size_t stored_blobs(struct fx *f)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/users/bob/store.db", f->dir);
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM blob", -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	size_t n = (size_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static size_t tmp_files(struct fx *f)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/users/bob/tmp", f->dir);
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static void no_findings(struct fx *f)
{
	struct store_finding *fi;
	size_t n;
	assert_int_equal(store_check(f->u, f->a, &fi, &n), STORE_OK);
	for (size_t i = 0; i < n; i++)
		print_message("finding: %s\n", fi[i].text);
	assert_int_equal(n, 0);
}

static void append_uids_ascend_and_bytes_are_exact(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(append(f->u, "INBOX", message(i), 0, &uid), STORE_OK);
		assert_int_equal(uid, (uint32_t)i);
	}
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	size_t n;
	const struct store_msg *m = store_mailbox_msgs(mb, &n);
	assert_int_equal(n, 3);
	assert_int_equal(m[2].uid, 3);
	assert_int_equal(m[1].size, strlen(message(2)));
	const char *data;
	size_t len;
	assert_int_equal(store_message_map(mb, 2, &data, &len), STORE_OK);
	assert_int_equal(len, strlen(message(2)));
	assert_memory_equal(data, message(2), len);
	store_unmap(data, len);
	struct store_status st;
	store_mailbox_get_status(mb, &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.unseen, 3);
	assert_int_equal(st.first_unseen, 1);
	assert_int_equal(st.uidnext, 4);
	assert_int_equal(st.size, strlen(message(1)) * 3);
	assert_int_equal(tmp_files(f), 0);
	store_mailbox_close(&mb);
	no_findings(f);
}

static void bare_lf_becomes_crlf(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	assert_int_equal(append(f->u, "INBOX", "Subject: x\n\nline\r\nline2\n", 0, &uid), STORE_OK);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	const char *data;
	size_t len;
	assert_int_equal(store_message_map(mb, uid, &data, &len), STORE_OK);
	assert_int_equal(len, strlen("Subject: x\r\n\r\nline\r\nline2\r\n"));
	assert_memory_equal(data, "Subject: x\r\n\r\nline\r\nline2\r\n", len);
	store_unmap(data, len);
	store_mailbox_close(&mb);
}

static void uids_never_reused_after_expunge_and_reopen(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	assert_int_equal(append(f->u, "INBOX", message(1), 0, &uid), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(2), STORE_DELETED, &uid), STORE_OK);
	assert_int_equal(uid, 2);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_DELETED, NULL, f->a, &gone, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(gone[0], 2);
	store_mailbox_close(&mb);
	store_user_close(&f->u);
	const char *err;
	assert_int_equal(store_user_open(f->dir, "bob", NULL, &f->u, &err), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(3), 0, &uid), STORE_OK);
	assert_int_equal(uid, 3);
	assert_int_equal(stored_blobs(f), 2);   /* message 2's blob collected */
	no_findings(f);
}

static void flags_modseq_and_unchangedsince(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	for (int i = 1; i <= 3; i++)
		assert_int_equal(append(f->u, "INBOX", message(i), 0, &uid), STORE_OK);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_status st;
	store_mailbox_get_status(mb, &st);
	uint64_t ms0 = st.highestmodseq;
	struct store_range all = { 1, 3 }, one = { 2, 2 };
	struct store_uidset set_all = { 1, &all }, set_one = { 1, &one };
	const char *kws[] = { "$Forwarded", "work" };
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_SEEN,
	                               .keywords = kws, .n_keywords = 2 };
	struct store_flags_result res;
	assert_int_equal(store_flags(mb, &set_one, &req, f->a, &res), STORE_OK);
	assert_int_equal(res.n_changed, 1);
	assert_true(res.modseq > ms0);
	const struct store_msg *m = store_mailbox_find(mb, 2);
	assert_int_equal(m->flags, STORE_SEEN);
	assert_int_equal(m->modseq, res.modseq);
	size_t nkw;
	const char *const *kw = store_mailbox_keywords(mb, &nkw);
	assert_int_equal(__builtin_popcountll(m->keywords), 2);
	assert_str(kw[__builtin_ctzll(m->keywords)], "$Forwarded");
	/* No change: modseq stays */
	uint64_t ms1 = res.modseq;
	assert_int_equal(store_flags(mb, &set_one, &req, f->a, &res), STORE_OK);
	assert_int_equal(res.n_changed, 0);
	assert_int_equal(store_mailbox_find(mb, 2)->modseq, ms1);
	/* UNCHANGEDSINCE older than message 2's modseq: 2 fails, others change */
	struct store_flags_req cond = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAGGED,
	                                .unchangedsince = ms0 };
	assert_int_equal(store_flags(mb, &set_all, &cond, f->a, &res), STORE_OK);
	assert_int_equal(res.n_modified, 1);
	assert_int_equal(res.modified[0], 2);
	assert_int_equal(res.n_changed, 2);
	assert_false(store_mailbox_find(mb, 2)->flags & STORE_FLAGGED);
	assert_true(store_mailbox_find(mb, 3)->flags & STORE_FLAGGED);
	assert_true(res.modseq > ms1);
	/* Remove and replace; keyword remove by name, case-insensitively */
	const char *rm[] = { "WORK" };
	struct store_flags_req r2 = { .op = STORE_FLAGS_REMOVE, .keywords = rm, .n_keywords = 1 };
	assert_int_equal(store_flags(mb, &set_one, &r2, f->a, &res), STORE_OK);
	assert_int_equal(__builtin_popcountll(store_mailbox_find(mb, 2)->keywords), 1);
	struct store_flags_req r3 = { .op = STORE_FLAGS_REPLACE, .flags = STORE_ANSWERED };
	assert_int_equal(store_flags(mb, &set_all, &r3, f->a, &res), STORE_OK);
	for (uint32_t u = 1; u <= 3; u++) {
		assert_int_equal(store_mailbox_find(mb, u)->flags, STORE_ANSWERED);
		assert_int_equal(store_mailbox_find(mb, u)->keywords, 0);
	}
	/* Survives a reopen */
	store_mailbox_close(&mb);
	store_user_close(&f->u);
	const char *err;
	assert_int_equal(store_user_open(f->dir, "bob", NULL, &f->u, &err), STORE_OK);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(store_mailbox_find(mb, 3)->flags, STORE_ANSWERED);
	assert_int_equal(store_mailbox_find(mb, 3)->modseq, res.modseq);
	store_mailbox_close(&mb);
}

static void changes_since_and_vanished(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	for (int i = 1; i <= 4; i++)
		assert_int_equal(append(f->u, "INBOX", message(i), 0, &uid), STORE_OK);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_status st;
	store_mailbox_get_status(mb, &st);
	uint64_t since = st.highestmodseq;
	struct store_range r1 = { 1, 1 }, r3 = { 3, 3 };
	struct store_uidset s1 = { 1, &r1 }, s3 = { 1, &r3 };
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_SEEN };
	struct store_flags_result res;
	assert_int_equal(store_flags(mb, &s1, &req, f->a, &res), STORE_OK);
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_SET, &s3, f->a, &gone, &n), STORE_OK);
	assert_int_equal(n, 1);
	struct store_changes ch;
	assert_int_equal(store_changes_since(mb, since, f->a, &ch), STORE_OK);
	assert_int_equal(ch.n_changed, 1);
	assert_int_equal(ch.changed[0].uid, 1);
	assert_int_equal(ch.n_vanished, 1);
	assert_int_equal(ch.vanished[0], 3);
	assert_true(ch.highestmodseq > since);
	assert_int_equal(store_changes_since(mb, 0, f->a, &ch), STORE_OK);
	assert_int_equal(ch.n_changed, 3);
	/* UID EXPUNGE only takes \Deleted ones of the set */
	struct store_range r24 = { 2, 4 };
	struct store_uidset s24 = { 1, &r24 };
	struct store_flags_req del = { .op = STORE_FLAGS_ADD, .flags = STORE_DELETED };
	assert_int_equal(store_flags(mb, &s1, &del, f->a, &res), STORE_OK);
	struct store_range r4 = { 4, 4 };
	struct store_uidset s4 = { 1, &r4 };
	assert_int_equal(store_flags(mb, &s4, &del, f->a, &res), STORE_OK);
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_DELETED_IN_SET, &s24, f->a, &gone, &n),
	                 STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(gone[0], 4);
	size_t left;
	store_mailbox_msgs(mb, &left);
	assert_int_equal(left, 2);
	store_mailbox_close(&mb);
}

static void copy_shares_blob_and_move_expunges(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	for (int i = 1; i <= 3; i++)
		assert_int_equal(append(f->u, "INBOX", message(i), STORE_SEEN, &uid), STORE_OK);
	const char *kw[] = { "tagged" };
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_range r2 = { 2, 3 };
	struct store_uidset s = { 1, &r2 };
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .keywords = kw, .n_keywords = 1 };
	struct store_flags_result fr;
	assert_int_equal(store_flags(mb, &s, &req, f->a, &fr), STORE_OK);
	assert_int_equal(stored_blobs(f), 3);
	struct store_copy_result res;
	assert_int_equal(store_copy(mb, &s, "Archive", false, f->a, &res), STORE_OK);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.src_uids[0], 2);
	assert_int_equal(res.dst_uids[0], 1);
	assert_int_equal(res.dst_uids[1], 2);
	assert_int_equal(stored_blobs(f), 3);   /* shared, not copied */
	uint64_t bytes, msgs;
	assert_int_equal(store_user_quota(f->u, &bytes, &msgs, NULL), STORE_OK);
	assert_int_equal(msgs, 5);            /* copies count */
	struct store_status st;
	assert_int_equal(store_mailbox_status(f->u, "Archive", &st), STORE_OK);
	assert_int_equal(res.uidvalidity, st.uidvalidity);
	assert_int_equal(st.messages, 2);
	struct store_mailbox *ar;
	assert_int_equal(store_mailbox_open(f->u, "Archive", 0, &ar), STORE_OK);
	const struct store_msg *m = store_mailbox_find(ar, 1);
	assert_int_equal(m->flags, STORE_SEEN);
	size_t nkw;
	assert_str(store_mailbox_keywords(ar, &nkw)[__builtin_ctzll(m->keywords)], "tagged");
	const char *data;
	size_t len;
	assert_int_equal(store_message_map(ar, 2, &data, &len), STORE_OK);
	assert_memory_equal(data, message(3), len);
	store_unmap(data, len);
	/* Move 1 to Trash: gone from INBOX, quota unchanged */
	struct store_range r1 = { 1, 1 };
	struct store_uidset s1 = { 1, &r1 };
	assert_int_equal(store_copy(mb, &s1, "Trash", true, f->a, &res), STORE_OK);
	assert_int_equal(res.n, 1);
	assert_null(store_mailbox_find(mb, 1));
	assert_int_equal(store_user_quota(f->u, &bytes, &msgs, NULL), STORE_OK);
	assert_int_equal(msgs, 5);
	assert_int_equal(store_copy(mb, &s1, "Nowhere", false, f->a, &res), STORE_E_NOTFOUND);
	/* Expunging the originals keeps the copies' blobs */
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_SET, &s, f->a, &gone, &n), STORE_OK);
	assert_int_equal(stored_blobs(f), 3);
	assert_int_equal(store_message_map(ar, 1, &data, &len), STORE_OK);
	store_unmap(data, len);
	store_mailbox_close(&ar);
	store_mailbox_close(&mb);
	no_findings(f);
	assert_int_equal(store_mailbox_delete(f->u, "Archive"), STORE_OK);
	assert_int_equal(stored_blobs(f), 1);   /* only Trash's message left */
	assert_int_equal(store_user_quota(f->u, &bytes, &msgs, NULL), STORE_OK);
	assert_int_equal(msgs, 1);
	no_findings(f);
}

static void quota_refusal_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct store_quota q = { .max_messages = 2 };
	store_user_set_quota(f->u, &q);
	uint32_t uid;
	assert_int_equal(append(f->u, "INBOX", message(1), 0, &uid), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(2), 0, &uid), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(3), 0, &uid), STORE_E_OVERQUOTA);
	assert_int_equal(stored_blobs(f), 2);
	assert_int_equal(tmp_files(f), 0);
	struct store_status st;
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.uidnext, 3);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_range r = { 1, 2 };
	struct store_uidset s = { 1, &r };
	struct store_copy_result res;
	assert_int_equal(store_copy(mb, &s, "Archive", false, f->a, &res), STORE_E_OVERQUOTA);
	assert_int_equal(store_copy(mb, &s, "Archive", true, f->a, &res), STORE_OK);
	store_mailbox_close(&mb);
	q.max_messages = 0;
	q.max_bytes = strlen(message(1)) * 2 + 10;
	store_user_set_quota(f->u, &q);
	assert_int_equal(append(f->u, "INBOX", message(3), 0, &uid), STORE_E_OVERQUOTA);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.uidnext, 3);
	no_findings(f);
}

static void append_errors(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	assert_int_equal(append(f->u, "Nope", message(1), 0, &uid), STORE_E_NOTFOUND);
	assert_int_equal(store_mailbox_create(f->u, "p/q", 0), STORE_OK);
	assert_int_equal(store_mailbox_delete(f->u, "p"), STORE_OK);
	assert_int_equal(append(f->u, "p", message(1), 0, &uid), STORE_E_NOSELECT);
	struct store_append *ap;
	assert_int_equal(store_append_begin(f->u, "INBOX", 10, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, message(1), 20), STORE_E_LIMIT);
	assert_int_equal(store_append_commit(ap, NULL, NULL, &uid), STORE_E_INTERNAL);
	assert_int_equal(store_append_begin(f->u, "INBOX", 0, &ap), STORE_OK);
	store_append_abort(ap);
	assert_int_equal(tmp_files(f), 0);
	assert_int_equal(stored_blobs(f), 0);
	/* Keywords limit */
	struct store_mailbox *mb;
	assert_int_equal(append(f->u, "INBOX", message(1), 0, &uid), STORE_OK);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_range r = { 1, 1 };
	struct store_uidset s = { 1, &r };
	char names[STORE_KEYWORDS_MAX + 1][16];
	const char *kw[STORE_KEYWORDS_MAX + 1];
	for (int i = 0; i <= STORE_KEYWORDS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "k%d", i);
		kw[i] = names[i];
	}
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .keywords = kw,
	                               .n_keywords = STORE_KEYWORDS_MAX + 1 };
	struct store_flags_result res;
	assert_int_equal(store_flags(mb, &s, &req, f->a, &res), STORE_E_LIMIT);
	assert_int_equal(store_mailbox_find(mb, 1)->keywords, 0);
	req.n_keywords = STORE_KEYWORDS_MAX;
	assert_int_equal(store_flags(mb, &s, &req, f->a, &res), STORE_OK);
	assert_int_equal(store_mailbox_find(mb, 1)->keywords, UINT64_MAX);
	const char *bad[] = { "has space" };
	struct store_flags_req rb = { .op = STORE_FLAGS_ADD, .keywords = bad, .n_keywords = 1 };
	assert_int_equal(store_flags(mb, &s, &rb, f->a, &res), STORE_E_BADNAME);
	store_mailbox_close(&mb);
	/* Read-only handle */
	assert_int_equal(store_mailbox_open(f->u, "INBOX", STORE_OPEN_READONLY, &mb), STORE_OK);
	assert_int_equal(store_flags(mb, &s, &req, f->a, &res), STORE_E_NOTALLOWED);
	store_mailbox_close(&mb);
}

static void multiappend_transaction_all_or_nothing(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	struct store_quota q = { .max_messages = 3 };
	store_user_set_quota(f->u, &q);
	assert_int_equal(store_txn_begin(f->u), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(1), 0, &uid), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(2), 0, &uid), STORE_OK);
	store_txn_rollback(f->u);
	struct store_status st;
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.uidnext, 1);
	assert_int_equal(stored_blobs(f), 0);
	assert_int_equal(store_txn_begin(f->u), STORE_OK);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(append(f->u, "INBOX", message(i), 0, &uid), STORE_OK);
	assert_int_equal(append(f->u, "INBOX", message(4), 0, &uid), STORE_E_OVERQUOTA);
	assert_int_equal(store_txn_commit(f->u), STORE_OK);
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.messages, 3);
	no_findings(f);
}

static void rename_inbox_moves_messages(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	for (int i = 1; i <= 2; i++)
		assert_int_equal(append(f->u, "INBOX", message(i), 0, &uid), STORE_OK);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(store_mailbox_rename(f->u, "INBOX", "Old/Mail"), STORE_OK);
	size_t n;
	store_mailbox_msgs(mb, &n);
	assert_int_equal(n, 0);
	struct store_status st;
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.uidnext, 3);
	assert_int_equal(store_mailbox_status(f->u, "Old/Mail", &st), STORE_OK);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.uidnext, 3);
	struct store_mailbox *old;
	assert_int_equal(store_mailbox_open(f->u, "Old/Mail", 0, &old), STORE_OK);
	const char *data;
	size_t len;
	assert_int_equal(store_message_map(old, 2, &data, &len), STORE_OK);
	assert_memory_equal(data, message(2), len);
	store_unmap(data, len);
	assert_int_equal(append(f->u, "INBOX", message(3), 0, &uid), STORE_OK);
	assert_int_equal(uid, 3);
	store_mailbox_close(&old);
	store_mailbox_close(&mb);
	no_findings(f);
}

static void fetch_cached_metadata(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	for (int i = 1; i <= 5; i++)
		assert_int_equal(append(f->u, "INBOX", message(i), 0, &uid), STORE_OK);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_range r[] = { { 2, 3 }, { 5, 9 } };
	struct store_uidset s = { 2, r };
	struct store_fetch *ft;
	assert_int_equal(store_fetch_begin(mb, &s, STORE_WANT_ENVELOPE | STORE_WANT_BODYSTRUCTURE |
	                                   STORE_WANT_HEADERS, &ft), STORE_OK);
	struct store_msg_info info;
	uint32_t seen[8];
	int n = 0;
	while (store_fetch_next(ft, f->a, &info) == 1) {
		seen[n++] = info.uid;
		assert_true(strstr(info.envelope, "message number") != NULL);
		assert_true(info.bodystructure[0] == '(');
		assert_true(strstr(info.subject, "message number") != NULL);
		assert_true(strstr(info.from, "Sender") != NULL);
		assert_int_equal(info.internal_date, 1790000000);
		assert_int_equal(info.size, strlen(message(1)));
		assert_true(info.header_size > 0 && info.header_size < info.size);
		assert_int_equal(strlen(info.hash), 64);
	}
	store_fetch_end(&ft);
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[2], 5);
	int fd;
	uint64_t size;
	assert_int_equal(store_message_open(mb, 9, &fd, &size), STORE_E_EXPUNGED);
	assert_int_equal(store_message_open(mb, 4, &fd, &size), STORE_OK);
	char b[8];
	assert_int_equal(read(fd, b, 5), 5);
	assert_memory_equal(b, "From:", 5);
	close(fd);
	store_mailbox_close(&mb);
}

static void recent_goes_to_first_session(void **state)
{
	struct fx *f = *state;
	uint32_t uid;
	assert_int_equal(append(f->u, "INBOX", message(1), 0, &uid), STORE_OK);
	struct store_status st;
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.recent, 1);
	struct store_mailbox *a, *b;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", STORE_OPEN_RECENT, &a), STORE_OK);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", STORE_OPEN_RECENT, &b), STORE_OK);
	assert_true(store_msg_recent(a, 1));
	assert_false(store_msg_recent(b, 1));
	assert_int_equal(append(f->u, "INBOX", message(2), 0, &uid), STORE_OK);
	assert_int_equal(store_mailbox_claim_recent(b), 1);
	assert_int_equal(store_mailbox_claim_recent(a), 1);
	assert_true(store_msg_recent(b, 2));
	assert_false(store_msg_recent(a, 2));
	store_mailbox_get_status(a, &st);
	assert_int_equal(st.recent, 0);
	store_mailbox_close(&a);
	store_mailbox_close(&b);
	/* Every session gone and the user's store closed: a later session
	 * is still not told they are recent (RFC 3501 2.3.2). */
	const char *dir = f->dir, *err;
	store_user_close(&f->u);
	assert_int_equal(store_user_open(dir, "bob", NULL, &f->u, &err), STORE_OK);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", STORE_OPEN_RECENT, &a), STORE_OK);
	assert_int_equal(store_mailbox_claim_recent(a), 0);
	assert_false(store_msg_recent(a, 1));
	assert_false(store_msg_recent(a, 2));
	store_mailbox_close(&a);
}

static void deliver_goes_to_inbox(void **state)
{
	struct fx *f = *state;
	struct store_append *ap;
	assert_int_equal(store_deliver_begin(f->u, 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, message(1), strlen(message(1))), STORE_OK);
	uint32_t uid, uv;
	assert_int_equal(store_append_commit(ap, NULL, &uv, &uid), STORE_OK);
	struct store_status st;
	assert_int_equal(store_mailbox_status(f->u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.messages, 1);
	assert_int_equal(uv, st.uidvalidity);
	/* The same content again: one blob, two messages */
	assert_int_equal(store_deliver_begin(f->u, 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, message(1), strlen(message(1))), STORE_OK);
	assert_int_equal(store_append_commit(ap, NULL, &uv, &uid), STORE_OK);
	assert_int_equal(uid, 2);
	assert_int_equal(stored_blobs(f), 1);
	no_findings(f);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(append_uids_ascend_and_bytes_are_exact),
		T(bare_lf_becomes_crlf),
		T(uids_never_reused_after_expunge_and_reopen),
		T(flags_modseq_and_unchangedsince),
		T(changes_since_and_vanished),
		T(copy_shares_blob_and_move_expunges),
		T(quota_refusal_leaves_nothing),
		T(append_errors),
		T(multiappend_transaction_all_or_nothing),
		T(rename_inbox_moves_messages),
		T(fetch_cached_metadata),
		T(recent_goes_to_first_session),
		T(deliver_goes_to_inbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
