/* store_message_read and store_message_map: the same bytes for an
 * inline message and a file one; a copy that outlives later store calls;
 * an expunged message is an error and fn is not called; under a snapshot
 * hold, the messages as they were at the first read, inline ones and file
 * ones in any order (inline ones are read there by blob id, found in runs
 * of rows read by one query each). */
#include "store_fixture.h"

#include <stdio.h>
#include <string.h>

struct seen {
	char *data;
	size_t len;
	int calls;
};

/* store_message_read into room of exactly `room` bytes, fenced: nothing
 * is written past it, nor anything at all when it fails. */
static int read_into(struct store_mailbox *mb, uint32_t uid, size_t room, struct seen *s)
{
	char *buf = malloc(room + 16);
	memset(buf, 0x5a, room + 16);
	size_t len = 0;
	int rc = store_message_read(mb, uid, buf, room, &len);
	for (size_t i = rc == STORE_OK ? room : 0; i < room + 16; i++)
		assert_int_equal(buf[i], 0x5a);
	if (rc == STORE_OK) {
		s->data = buf;
		s->len = len;
		s->calls++;
	} else {
		free(buf);
	}
	return rc;
}

static uint32_t append(struct store_user *u, const char *text, size_t n)
{
	struct store_append *ap;
	uint32_t uid;
	assert_int_equal(store_append_begin(u, "INBOX", 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, text, n), STORE_OK);
	struct store_append_opts o = { .internal_date = 1790000000 };
	assert_int_equal(store_append_commit(ap, &o, NULL, &uid), STORE_OK);
	return uid;
}

/* A message of n bytes (CRLF lines, so the store keeps it as is). */
static char *text(size_t n, char fill)
{
	char *t = malloc(n);
	const char *head = "Subject: read\r\n\r\n";
	memset(t, fill, n);
	memcpy(t, head, strlen(head));
	for (size_t i = 78; i + 1 < n; i += 80) {
		t[i] = '\r';
		t[i + 1] = '\n';
	}
	t[n - 2] = '\r';
	t[n - 1] = '\n';
	return t;
}

static void same_bytes_inline_and_file(void **state)
{
	struct fx *f = *state;
	/* 64 KiB is the largest inline message, one more byte is a file. */
	const size_t sizes[] = { 100, 64 * 1024, 64 * 1024 + 1, 300000 };
	uint32_t uids[4];
	char *texts[4];
	for (int i = 0; i < 4; i++) {
		texts[i] = text(sizes[i], (char)('a' + i));
		uids[i] = append(f->u, texts[i], sizes[i]);
	}
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	const char *maps[4];
	size_t lens[4];
	for (int i = 0; i < 4; i++) {
		struct seen s = { 0 };
		assert_int_equal(read_into(mb, uids[i], sizes[i], &s), STORE_OK);
		assert_int_equal(s.calls, 1);
		assert_int_equal(s.len, sizes[i]);
		assert_memory_equal(s.data, texts[i], sizes[i]);
		free(s.data);
		assert_int_equal(store_message_map(mb, uids[i], &maps[i], &lens[i]), STORE_OK);
	}
	/* Every mapping is still the message after the other store calls. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(lens[i], sizes[i]);
		assert_memory_equal(maps[i], texts[i], sizes[i]);
		store_unmap(maps[i], lens[i]);
		free(texts[i]);
	}
	store_mailbox_close(&mb);
}

static void expunged_is_an_error(void **state)
{
	struct fx *f = *state;
	char *t = text(200, 'x');
	uint32_t uid = append(f->u, t, 200);
	free(t);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	struct store_range r = { uid, uid };
	struct store_uidset set = { 1, &r };
	uint32_t *gone;
	size_t ngone;
	assert_int_equal(store_expunge(mb, STORE_EXPUNGE_SET, &set, f->a, &gone, &ngone),
	                 STORE_OK);
	struct seen s = { 0 };
	int rc = read_into(mb, uid, 200, &s);
	assert_true(rc == STORE_E_EXPUNGED || rc == STORE_E_NOTFOUND);
	assert_int_equal(s.calls, 0);
	const char *data;
	size_t len;
	rc = store_message_map(mb, uid, &data, &len);
	assert_true(rc == STORE_E_EXPUNGED || rc == STORE_E_NOTFOUND);
	store_mailbox_close(&mb);
}

static int read_rc(struct store_mailbox *mb, uint32_t uid, const char *want, size_t n)
{
	struct seen s = { 0 };
	int rc = read_into(mb, uid, n, &s);
	if (rc == STORE_OK) {
		assert_int_equal(s.len, n);
		assert_memory_equal(s.data, want, n);
		free(s.data);
	}
	return rc;
}

/* A room one byte short is refused, with a snapshot held (the inline
 * message read straight into the room) and without. */
static void larger_than_the_room_is_refused(void **state)
{
	struct fx *f = *state;
	const size_t sizes[] = { 300, 70000 };
	for (int held = 0; held < 2; held++)
		for (int i = 0; i < 2; i++) {
			char *t = text(sizes[i], 'r');
			uint32_t uid = append(f->u, t, sizes[i]);
			struct store_mailbox *mb;
			assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
			if (held)
				assert_int_equal(store_snapshot_hold(mb), STORE_OK);
			struct seen s = { 0 };
			assert_int_equal(read_into(mb, uid, sizes[i] - 1, &s), STORE_E_LIMIT);
			assert_int_equal(s.calls, 0);
			assert_int_equal(read_rc(mb, uid, t, sizes[i]), STORE_OK);
			if (held)
				store_snapshot_release(mb);
			store_mailbox_close(&mb);
			free(t);
		}
}

static void snapshot_reads_as_at_first_read(void **state)
{
	struct fx *f = *state;
	const size_t small = 300, big = 100000;
	char *ts = text(small, 's'), *tb = text(big, 'b');
	uint32_t us = append(f->u, ts, small), ub = append(f->u, tb, big);
	struct store_mailbox *mb, *other;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &other), STORE_OK);
	assert_int_equal(store_snapshot_hold(mb), STORE_OK);
	assert_int_equal(read_rc(mb, us, ts, small), STORE_OK);
	assert_int_equal(read_rc(mb, ub, tb, big), STORE_OK);

	/* Another session appends one and expunges both. */
	char *tn = text(small, 'n');
	uint32_t un = append(f->u, tn, small);
	struct store_range r[2] = { { us, us }, { ub, ub } };
	struct store_uidset set = { 2, r };
	uint32_t *gone;
	size_t ngone;
	assert_int_equal(store_expunge(other, STORE_EXPUNGE_SET, &set, f->a, &gone, &ngone),
	                 STORE_OK);
	assert_int_equal(ngone, 2);

	/* Held: the new one is not there yet, the inline one still is; the
	 * file one is either still readable or, its file gone, expunged:
	 * never a failure. */
	assert_int_equal(read_rc(mb, un, tn, small), STORE_E_EXPUNGED);
	assert_int_equal(read_rc(mb, us, ts, small), STORE_OK);
	const char *data;
	size_t len;
	int rc = store_message_map(mb, ub, &data, &len);
	assert_true(rc == STORE_OK || rc == STORE_E_EXPUNGED);
	if (rc == STORE_OK) {
		assert_int_equal(len, big);
		assert_memory_equal(data, tb, big);
		store_unmap(data, len);
	}

	/* Released: the store as it is now. */
	store_snapshot_release(mb);
	assert_int_equal(read_rc(mb, us, ts, small), STORE_E_EXPUNGED);
	assert_int_equal(read_rc(mb, ub, tb, big), STORE_E_EXPUNGED);
	assert_int_equal(read_rc(mb, un, tn, small), STORE_OK);
	/* A new hold starts from now. */
	assert_int_equal(store_snapshot_hold(mb), STORE_OK);
	assert_int_equal(read_rc(mb, un, tn, small), STORE_OK);
	store_mailbox_close(&other);
	store_mailbox_close(&mb);
	free(ts);
	free(tb);
	free(tn);
}

static void snapshot_reads_inline_and_file_in_turn(void **state)
{
	struct fx *f = *state;
	const size_t sizes[] = { 64 * 1024, 120, 64 * 1024 + 1, 5000, 200000, 64 * 1024 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	uint32_t uids[N];
	char *texts[N];
	for (int i = 0; i < N; i++) {
		texts[i] = text(sizes[i], (char)('a' + i));
		uids[i] = append(f->u, texts[i], sizes[i]);
	}
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(store_snapshot_hold(mb), STORE_OK);
	/* Each in turn, twice over, and back: inline after file after inline. */
	const int order[] = { 0, 1, 2, 3, 4, 5, 5, 2, 1, 4, 0, 3, 3, 1 };
	const char *maps[sizeof(order) / sizeof(order[0])];
	size_t lens[sizeof(order) / sizeof(order[0])];
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		int i = order[k];
		assert_int_equal(read_rc(mb, uids[i], texts[i], sizes[i]), STORE_OK);
		assert_int_equal(store_message_map(mb, uids[i], &maps[k], &lens[k]), STORE_OK);
		if (k == 6) {
			/* A new snapshot between reads. */
			store_snapshot_release(mb);
			assert_int_equal(store_snapshot_hold(mb), STORE_OK);
		}
	}
	/* Every copy handed out is still its message after the later reads. */
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		assert_int_equal(lens[k], sizes[order[k]]);
		assert_memory_equal(maps[k], texts[order[k]], lens[k]);
		store_unmap(maps[k], lens[k]);
	}
	store_snapshot_release(mb);
	store_mailbox_close(&mb);
	for (int i = 0; i < N; i++)
		free(texts[i]);
}

/* More messages than runs of rows hold (8 at first, up to 256), read in
 * order and out of it; ones moved to Trash by another session (their
 * bytes live on there), at a run's edges and inside one, are there until
 * the hold ends and gone in the next. */
static void snapshot_runs_of_rows(void **state)
{
	struct fx *f = *state;
	enum { N = 600 };
	static char texts[N][160];
	static uint32_t uids[N];
	for (int i = 0; i < N; i++) {
		snprintf(texts[i], sizeof(texts[i]),
		         "Subject: run %d\r\nMessage-ID: <%d@runs.test>\r\n\r\nbody of %d\r\n", i, i, i);
		uids[i] = append(f->u, texts[i], strlen(texts[i]));
	}
	struct store_mailbox *mb, *other;
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &mb), STORE_OK);
	assert_int_equal(store_mailbox_open(f->u, "INBOX", 0, &other), STORE_OK);
	assert_int_equal(store_snapshot_hold(mb), STORE_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(read_rc(mb, uids[i], texts[i], strlen(texts[i])), STORE_OK);
	const int back[] = { 599, 0, 300, 255, 256, 257, 1 };
	for (size_t k = 0; k < sizeof(back) / sizeof(back[0]); k++)
		assert_int_equal(read_rc(mb, uids[back[k]], texts[back[k]], strlen(texts[back[k]])),
		                 STORE_OK);

	const int gone_i[] = { 1, 255, 256, 300, 599 };
	enum { NG = sizeof(gone_i) / sizeof(gone_i[0]) };
	struct store_range r[NG];
	for (int k = 0; k < NG; k++)
		r[k] = (struct store_range){ uids[gone_i[k]], uids[gone_i[k]] };
	struct store_uidset set = { NG, r };
	struct store_copy_result moved;   /* Trash is made with the account */
	assert_int_equal(store_copy(other, &set, "Trash", true, f->a, &moved), STORE_OK);
	assert_int_equal(moved.n, NG);
	/* Held: still there. */
	for (int k = 0; k < NG; k++)
		assert_int_equal(read_rc(mb, uids[gone_i[k]], texts[gone_i[k]],
		                         strlen(texts[gone_i[k]])), STORE_OK);

	/* The last run read in this hold holds three of them. */
	assert_int_equal(read_rc(mb, uids[1], texts[1], strlen(texts[1])), STORE_OK);

	/* A new hold: gone, first from where the last hold's run was, then
	 * in order and backwards; their neighbours are not. */
	store_snapshot_release(mb);
	assert_int_equal(store_snapshot_hold(mb), STORE_OK);
	for (int k = 0; k < NG; k++)
		assert_int_equal(read_rc(mb, uids[gone_i[k]], texts[gone_i[k]],
		                         strlen(texts[gone_i[k]])), STORE_E_EXPUNGED);
	for (int i = 0; i < N; i++) {
		bool expunged = false;
		for (int k = 0; k < NG; k++)
			expunged |= gone_i[k] == i;
		assert_int_equal(read_rc(mb, uids[i], texts[i], strlen(texts[i])),
		                 expunged ? STORE_E_EXPUNGED : STORE_OK);
	}
	for (int k = NG - 1; k >= 0; k--)
		assert_int_equal(read_rc(mb, uids[gone_i[k]], texts[gone_i[k]],
		                         strlen(texts[gone_i[k]])), STORE_E_EXPUNGED);
	assert_int_equal(read_rc(mb, uids[N - 1] + 1, "", 0), STORE_E_EXPUNGED);
	assert_int_equal(read_rc(mb, uids[598], texts[598], strlen(texts[598])), STORE_OK);
	store_snapshot_release(mb);
	store_mailbox_close(&other);
	store_mailbox_close(&mb);
}

static int setup(void **state)
{
	*state = store_fx_open("lend");
	return 0;
}

static int teardown(void **state)
{
	store_fx_close(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(same_bytes_inline_and_file, setup, teardown),
		cmocka_unit_test_setup_teardown(expunged_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(larger_than_the_room_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_reads_as_at_first_read, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_reads_inline_and_file_in_turn, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(snapshot_runs_of_rows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
