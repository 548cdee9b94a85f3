/* SEARCH: every key, evaluated in the store (FTS trigram for text). */
#include "unit.h"
#include "lib/arena.h"
#include "lib/date.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

struct fx {
	const char *dir;
	struct store_user *u;
	struct store_mailbox *mb;
	struct arena *a;
};

static const char *const msgs[] = {
	/* 1 */ "From: Alice Example <alice@example.org>\r\nTo: bob@example.com\r\n"
	        "Cc: carol@example.net\r\nSubject: Quarterly report\r\n"
	        "Date: Mon, 02 Feb 2026 09:00:00 +0100\r\nX-Priority: 1 (Highest)\r\n"
	        "\r\nPlease find the Zanzibar figures attached.\r\n",
	/* 2 */ "From: bob@example.com\r\nTo: alice@example.org\r\nBcc: secret@example.com\r\n"
	        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Berlin\r\n"
	        "Date: Tue, 10 Mar 2026 23:30:00 -0500\r\n"
	        "\r\nViele Gr\xc3\xbc\xc3\x9f" "e, lunch at noon? ok\r\n",
	/* 3 */ "From: Carol <carol@example.net>\r\nTo: bob@example.com\r\nSubject: hi\r\n"
	        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
	        "\r\nSGVsbG8gV29ybGQsIHRoaXMgaXMgYSBkZWNvZGVkIGJvZHku\r\n",
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *err = NULL;
	f->dir = unit_tmpdir();
	f->a = arena_new(0);
	assert_int_equal(store_user_open(f->dir, "sam", NULL, &f->u, &err), STORE_OK);
	int64_t dates[] = { 1769990400, 1773100800, 1775779200 };  /* 2026-02-02, 03-10, 04-10 UTC */
	uint32_t flags[] = { STORE_SEEN | STORE_FLAGGED, STORE_ANSWERED, STORE_DELETED | STORE_DRAFT };
	for (int i = 0; i < 3; i++) {
		struct store_append *ap;
		assert_int_equal(store_append_begin(f->u, "INBOX", 0, &ap), STORE_OK);
		assert_int_equal(store_append_write(ap, msgs[i], strlen(msgs[i])), STORE_OK);
		const char *kw[] = { "$Important" };
		struct store_append_opts o = { .flags = flags[i], .internal_date = dates[i],
		                               .keywords = kw, .n_keywords = i == 1 };
		uint32_t uid;
		assert_int_equal(store_append_commit(ap, &o, NULL, &uid), STORE_OK);
	}
	assert_int_equal(store_mailbox_open(f->u, "INBOX", STORE_OPEN_RECENT, &f->mb), STORE_OK);
	*state = f;
	return 0;
}

/* The same messages, all in the search index: the text keys must answer
 * the same whether a message is matched by the index or, not yet in it,
 * one by one (store_search_tail.c). */
static int setup_indexed(void **state)
{
	setup(state);
	struct fx *f = *state;
	bool more = true;
	while (more)
		assert_int_equal(store_index_pending(f->u, 100, &more), STORE_OK);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_mailbox_close(&f->mb);
	store_user_close(&f->u);
	arena_free(&f->a);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

/* Runs q and returns the UIDs as a string "1,3". */
static const char *run(struct fx *f, const struct store_search *q)
{
	uint32_t *uids;
	size_t n;
	assert_int_equal(store_search(f->mb, q, f->a, &uids, &n), STORE_OK);
	char *s = arena_alloc(f->a, 64);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(s + strlen(s), 64 - strlen(s), "%s%u", i ? "," : "", uids[i]);
	return s;
}

static const char *key_str(struct fx *f, enum store_sk k, const char *str)
{
	struct store_search q = { .key = k, .u.str = str };
	return run(f, &q);
}

static const char *key_num(struct fx *f, enum store_sk k, uint64_t num)
{
	struct store_search q = { .key = k, .u.num = num };
	return run(f, &q);
}

static uint64_t day(const char *d)
{
	time_t t;
	assert_int_equal(date_parse_imap_date(d, strlen(d), &t), 0);
	return (uint64_t)t;
}

static void flags_keys(void **state)
{
	struct fx *f = *state;
	struct store_search q = { .key = STORE_SK_ALL };
	assert_str(run(f, &q), "1,2,3");
	q = (struct store_search){ .key = STORE_SK_FLAGS_SET, .u.flags = STORE_SEEN };
	assert_str(run(f, &q), "1");
	q.u.flags = STORE_SEEN | STORE_FLAGGED;
	assert_str(run(f, &q), "1");
	q.u.flags = STORE_ANSWERED;
	assert_str(run(f, &q), "2");
	q.u.flags = STORE_DELETED;
	assert_str(run(f, &q), "3");
	q.u.flags = STORE_DRAFT;
	assert_str(run(f, &q), "3");
	q = (struct store_search){ .key = STORE_SK_FLAGS_UNSET, .u.flags = STORE_SEEN };
	assert_str(run(f, &q), "2,3");
	q.u.flags = STORE_DELETED;
	assert_str(run(f, &q), "1,2");
	assert_str(key_str(f, STORE_SK_KEYWORD, "$important"), "2");
	assert_str(key_str(f, STORE_SK_UNKEYWORD, "$Important"), "1,3");
	assert_str(key_str(f, STORE_SK_KEYWORD, "unknown"), "");
	assert_str(key_str(f, STORE_SK_UNKEYWORD, "unknown"), "1,2,3");
	assert_str(key_num(f, STORE_SK_RECENT, 0), "1,2,3");
	assert_str(key_num(f, STORE_SK_NEW, 0), "2,3");
	assert_str(key_num(f, STORE_SK_OLD, 0), "");
}

static void size_date_modseq_uid_keys(void **state)
{
	struct fx *f = *state;
	size_t n;
	const struct store_msg *m = store_mailbox_msgs(f->mb, &n);
	assert_str(key_num(f, STORE_SK_LARGER, m[0].size - 1), "1");
	assert_str(key_num(f, STORE_SK_SMALLER, m[0].size), "2,3");
	assert_str(key_num(f, STORE_SK_BEFORE, day("10-Mar-2026")), "1");
	assert_str(key_num(f, STORE_SK_ON, day("10-Mar-2026")), "2");
	assert_str(key_num(f, STORE_SK_SINCE, day("10-Mar-2026")), "2,3");
	/* Date: 10 Mar 2026 23:30 -0500 is the 10th in its zone (11th UTC) */
	assert_str(key_num(f, STORE_SK_SENTON, day("10-Mar-2026")), "2");
	assert_str(key_num(f, STORE_SK_SENTBEFORE, day("2-Feb-2026")), "");
	assert_str(key_num(f, STORE_SK_SENTSINCE, day("2-Feb-2026")), "1,2,3");
	/* No Date: header: internal date (10-Apr) stands in */
	assert_str(key_num(f, STORE_SK_SENTON, day("10-Apr-2026")), "3");
	assert_str(key_num(f, STORE_SK_MODSEQ, m[2].modseq), "3");
	struct store_range r[] = { { 1, 1 }, { 3, 100 } };
	struct store_search q = { .key = STORE_SK_UID, .u.set = { 2, r } };
	assert_str(run(f, &q), "1,3");
}

static void header_and_address_keys(void **state)
{
	struct fx *f = *state;
	assert_str(key_str(f, STORE_SK_FROM, "ALICE"), "1");
	assert_str(key_str(f, STORE_SK_FROM, "example"), "1,2,3");
	assert_str(key_str(f, STORE_SK_TO, "bob@"), "1,3");
	assert_str(key_str(f, STORE_SK_CC, "carol"), "1");
	assert_str(key_str(f, STORE_SK_BCC, "secret"), "2");
	assert_str(key_str(f, STORE_SK_SUBJECT, "quarterly"), "1");
	/* decoded encoded-word, non-ASCII, case-folded as the trigram index
	 * folds (Unicode case, no ß -> ss) */
	assert_str(key_str(f, STORE_SK_SUBJECT, "GRÜSSE"), "");
	assert_str(key_str(f, STORE_SK_SUBJECT, "grüße"), "2");
	assert_str(key_str(f, STORE_SK_SUBJECT, "GRÜßE AUS"), "2");
	assert_str(key_str(f, STORE_SK_SUBJECT, "grüße berlin"), "");  /* not a substring */
	assert_str(key_str(f, STORE_SK_SUBJECT, "hi"), "3");   /* < 3 chars: scan */
	assert_str(key_str(f, STORE_SK_SUBJECT, ""), "1,2,3");
	struct store_search q = { .key = STORE_SK_HEADER, .u.hdr = { "X-Priority", "highest" } };
	assert_str(run(f, &q), "1");
	q.u.hdr.value = "";
	assert_str(run(f, &q), "1");
	q.u.hdr.field = "Content-Transfer-Encoding";
	q.u.hdr.value = "BASE64";
	assert_str(run(f, &q), "3");
	q.u.hdr.field = "subject";
	q.u.hdr.value = "report";
	assert_str(run(f, &q), "1");
}

static void body_and_text_keys(void **state)
{
	struct fx *f = *state;
	assert_str(key_str(f, STORE_SK_BODY, "zanzibar"), "1");
	assert_str(key_str(f, STORE_SK_BODY, "ZANZ"), "1");
	assert_str(key_str(f, STORE_SK_BODY, "anzib"), "1");   /* substring */
	assert_str(key_str(f, STORE_SK_BODY, "decoded body"), "3");  /* base64 decoded */
	assert_str(key_str(f, STORE_SK_BODY, "ok"), "2");      /* short: scan */
	assert_str(key_str(f, STORE_SK_BODY, "quarterly"), "");  /* only in the header */
	assert_str(key_str(f, STORE_SK_TEXT, "quarterly"), "1");
	assert_str(key_str(f, STORE_SK_TEXT, "lunch"), "2");
	assert_str(key_str(f, STORE_SK_BODY, "say \"hi\""), "");  /* quotes are escaped */
	assert_str(key_str(f, STORE_SK_BODY, "nowhere-to-be-found"), "");
}

/* Appends msg to mailbox with an internal date in a zone (minutes east). */
static uint32_t append_dated(struct fx *f, const char *mailbox, const char *msg, int64_t date,
                             int tz)
{
	struct store_append *ap;
	assert_int_equal(store_append_begin(f->u, mailbox, 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, msg, strlen(msg)), STORE_OK);
	struct store_append_opts o = { .internal_date = date, .internal_tz = tz };
	uint32_t uid;
	assert_int_equal(store_append_commit(ap, &o, NULL, &uid), STORE_OK);
	return uid;
}

/* SINCE/BEFORE/ON are answered from the open mailbox's message list:
 * a message it learns of by APPEND or COPY while open has its day too,
 * counted in the internal date's own zone; with a text key the same
 * dates go through SQL and must agree. */
static void date_keys_of_new_messages(void **state)
{
	struct fx *f = *state;
	/* 2026-03-11 04:30 UTC is 23:30 on the 10th at -0500. */
	uint32_t uid = append_dated(f, "INBOX", "Subject: late night\r\n\r\nzorbing\r\n",
	                            1773203400, -300);
	assert_int_equal(uid, 4);
	assert_str(key_num(f, STORE_SK_ON, day("10-Mar-2026")), "2,4");
	assert_str(key_num(f, STORE_SK_ON, day("11-Mar-2026")), "");
	assert_str(key_num(f, STORE_SK_BEFORE, day("11-Mar-2026")), "1,2,4");
	assert_str(key_num(f, STORE_SK_SINCE, day("11-Mar-2026")), "3");
	struct store_search on = { .key = STORE_SK_ON, .u.num = day("10-Mar-2026") };
	struct store_search text = { .key = STORE_SK_BODY, .u.str = "zorbing", .next = &on };
	struct store_search and = { .key = STORE_SK_AND, .kids = &text };
	assert_str(run(f, &and), "4");
	on.u.num = day("11-Mar-2026");
	assert_str(run(f, &and), "");

	assert_int_equal(store_mailbox_create(f->u, "Kept", 0), STORE_OK);
	struct store_mailbox *arch;
	assert_int_equal(store_mailbox_open(f->u, "Kept", 0, &arch), STORE_OK);
	struct store_range r = { 4, 4 };
	struct store_uidset set = { 1, &r };
	struct store_copy_result res;
	assert_int_equal(store_copy(f->mb, &set, "Kept", false, f->a, &res), STORE_OK);
	uint32_t *uids;
	size_t n;
	struct store_search q = { .key = STORE_SK_ON, .u.num = day("10-Mar-2026") };
	assert_int_equal(store_search(arch, &q, f->a, &uids, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(uids[0], res.dst_uids[0]);
	q.u.num = day("11-Mar-2026");
	assert_int_equal(store_search(arch, &q, f->a, &uids, &n), STORE_OK);
	assert_int_equal(n, 0);
	store_mailbox_close(&arch);
}

/* Messages not yet indexed are matched one by one, their text kept
 * between searches within a byte budget: searching again, after more
 * large messages pushed the first ones out, still finds each. */
static void tail_matches_survive_eviction(void **state)
{
	struct fx *f = *state;
	enum { N = 12, FILL = 100 * 1024 };
	char *msg = malloc(FILL + 256);
	for (int i = 0; i < N; i++) {
		int h = snprintf(msg, 256, "Subject: part %d\r\n\r\nmarker%02dx\r\n", i, i);
		memset(msg + h, 'a' + i, FILL);
		strcpy(msg + h + FILL, "\r\n");
		append_dated(f, "INBOX", msg, 1775779200, 0);
	}
	free(msg);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			char needle[32], want[16];
			snprintf(needle, sizeof(needle), "marker%02dx", i);
			snprintf(want, sizeof(want), "%d", 4 + i);
			assert_str(key_str(f, STORE_SK_BODY, needle), want);
		}
		assert_str(key_str(f, STORE_SK_SUBJECT, "part 1"), "5,14,15");
	}
}

static void boolean_combinations(void **state)
{
	struct fx *f = *state;
	struct store_search a = { .key = STORE_SK_FROM, .u.str = "alice" };
	struct store_search b = { .key = STORE_SK_FLAGS_SET, .u.flags = STORE_DELETED };
	a.next = &b;
	struct store_search or = { .key = STORE_SK_OR, .kids = &a };
	assert_str(run(f, &or), "1,3");
	struct store_search not = { .key = STORE_SK_NOT, .kids = &or };
	assert_str(run(f, &not), "2");
	struct store_search c = { .key = STORE_SK_BODY, .u.str = "lunch" };
	struct store_search d = { .key = STORE_SK_FLAGS_SET, .u.flags = STORE_ANSWERED };
	c.next = &d;
	struct store_search and = { .key = STORE_SK_AND, .kids = &c };
	assert_str(run(f, &and), "2");
	d.u.flags = STORE_SEEN;
	assert_str(run(f, &and), "");
	struct store_search empty_and = { .key = STORE_SK_AND };
	assert_str(run(f, &empty_and), "1,2,3");
}

static void search_sees_changes(void **state)
{
	struct fx *f = *state;
	struct store_range r = { 1, 3 };
	struct store_uidset s = { 1, &r };
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(f->mb, STORE_EXPUNGE_DELETED, &s, f->a, &gone, &n), STORE_OK);
	assert_str(key_str(f, STORE_SK_BODY, "decoded"), "");
	assert_str(key_str(f, STORE_SK_FROM, "example"), "1,2");
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(flags_keys),
		T(size_date_modseq_uid_keys),
		T(header_and_address_keys),
		T(body_and_text_keys),
		T(boolean_combinations),
		T(search_sees_changes),
		T(date_keys_of_new_messages),
		T(tail_matches_survive_eviction),
#define I(x) cmocka_unit_test_setup_teardown(x, setup_indexed, teardown)
		I(header_and_address_keys),
		I(body_and_text_keys),
		I(boolean_combinations),
		I(search_sees_changes),
		I(date_keys_of_new_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
