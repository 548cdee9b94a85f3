#include "unit.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_trace.h"
#include "lib/arena.h"

#include <stdlib.h>

struct result {
	char out[4096];
	size_t out_len;
	size_t consumed;      /* bytes of input taken */
	struct smtp_data d;
};

/* Feed in[0..n) in pieces of `step` bytes (0 = whole), like reads do. */
static void run(const char *in, size_t n, size_t step, enum smtp_data_mode mode, uint64_t max,
                struct result *r)
{
	memset(r, 0, sizeof(*r));
	smtp_data_init(&r->d, mode, max);
	size_t off = 0;
	while (off < n && !r->d.done) {
		size_t len = step == 0 || n - off < step ? n - off : step;
		size_t o;
		size_t used = smtp_data_feed(&r->d, in + off, len, r->out + r->out_len, &o);
		assert_true(o <= len + 1);
		r->out_len += o;
		off += used;
		if (used < len)
			assert_true(r->d.done);
	}
	r->consumed = off;
}

/* The same input whole, byte by byte and split at every position gives
 * the same result. */
static void run_all_ways(const char *in, size_t n, enum smtp_data_mode mode, uint64_t max,
                         struct result *whole)
{
	run(in, n, 0, mode, max, whole);
	struct result *r = malloc(sizeof(*r));
	run(in, n, 1, mode, max, r);
	assert_int_equal(r->out_len, whole->out_len);
	assert_memory_equal(r->out, whole->out, whole->out_len);
	assert_int_equal(r->consumed, whole->consumed);
	assert_int_equal(r->d.err, whole->d.err);
	for (size_t split = 1; split < n; split++) {
		memset(r, 0, sizeof(*r));
		smtp_data_init(&r->d, mode, max);
		size_t o, used = smtp_data_feed(&r->d, in, split, r->out, &o);
		r->out_len = o;
		if (!r->d.done) {
			used += smtp_data_feed(&r->d, in + split, n - split, r->out + o, &o);
			r->out_len += o;
		}
		assert_int_equal(r->out_len, whole->out_len);
		assert_memory_equal(r->out, whole->out, whole->out_len);
		assert_int_equal(used, whole->consumed);
		assert_int_equal(r->d.err, whole->d.err);
	}
	free(r);
}

#define S(x) x, sizeof(x) - 1

static void unstuffs_and_stops_at_the_end(void **state)
{
	struct result r;
	const char in[] = "Subject: x\r\n\r\n..leading dot\r\n.\r\nNOOP\r\n";
	run_all_ways(S(in), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_int_equal(r.d.err, SMTP_DATA_OK);
	const char want[] = "Subject: x\r\n\r\n.leading dot\r\n";
	assert_int_equal(r.out_len, sizeof(want) - 1);
	assert_memory_equal(r.out, want, r.out_len);
	assert_int_equal(r.consumed, sizeof(in) - 1 - 6);  /* "NOOP\r\n" left */
	assert_int_equal(r.d.size, r.out_len);
}

static void empty_message_and_dot_lines(void **state)
{
	struct result r;
	run_all_ways(S(".\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_int_equal(r.out_len, 0);
	/* ". x" and ".." lines are data after unstuffing, not the end. */
	run_all_ways(S(". x\r\n..\r\n.\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_int_equal(r.out_len, 7);
	assert_memory_equal(r.out, " x\r\n.\r\n", 7);
}

static void bare_lf_and_cr_are_refused(void **state)
{
	struct result r;
	run_all_ways(S("a\nb\r\n.\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_false(r.d.must_close);
	assert_int_equal(r.d.err, SMTP_DATA_BARE_LF);
	run_all_ways(S("a\rb\r\n.\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_int_equal(r.d.err, SMTP_DATA_BARE_CR);
	run_all_ways(S(".\rx\r\n.\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_int_equal(r.d.err, SMTP_DATA_BARE_CR);
	assert_true(r.d.done);
	/* The smuggling patterns: never an end by themselves; after a bare LF
	 * they end the message but the session must close. */
	run_all_ways(S("x\r\nhi\n.\r\nMAIL FROM:<a@b>\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_true(r.d.must_close);
	run_all_ways(S("x\r\nhi\r\n.\nMAIL FROM:<a@b>\r\n"), SMTP_DATA_DOT, 0, &r);
	assert_false(r.d.done);
	assert_int_equal(r.d.err, SMTP_DATA_BARE_LF);
	run_all_ways(S("lf only\n.\n"), SMTP_DATA_DOT, 0, &r);
	assert_true(r.d.done);
	assert_true(r.d.must_close);
}

static void size_limit(void **state)
{
	struct result r;
	run_all_ways(S("12345678\r\n.\r\n"), SMTP_DATA_DOT, 10, &r);
	assert_int_equal(r.d.err, SMTP_DATA_OK);
	run_all_ways(S("123456789\r\n.\r\n"), SMTP_DATA_DOT, 10, &r);
	assert_int_equal(r.d.err, SMTP_DATA_TOO_BIG);
	assert_true(r.d.done);
	assert_int_equal(r.d.size, 11);
	assert_true(r.out_len <= 10);
}

static void chunk_mode(void **state)
{
	struct result r;
	run_all_ways(S("a\r\n.\r\nb\r\n"), SMTP_DATA_CHUNK, 0, &r);
	assert_false(r.d.done);
	assert_int_equal(r.out_len, 9);
	assert_memory_equal(r.out, "a\r\n.\r\nb\r\n", 9);
	smtp_data_finish_chunks(&r.d);
	assert_int_equal(r.d.err, SMTP_DATA_OK);
	/* A CR at the very end of the last chunk is bare. */
	run(S("ab\r"), 0, SMTP_DATA_CHUNK, 0, &r);
	smtp_data_finish_chunks(&r.d);
	assert_int_equal(r.d.err, SMTP_DATA_BARE_CR);
	run_all_ways(S("a\nb"), SMTP_DATA_CHUNK, 0, &r);
	assert_int_equal(r.d.err, SMTP_DATA_BARE_LF);
}

static void stuff_then_unstuff_round_trip(void **state)
{
	static const char *const msgs[] = {
		"", "x\r\n", ".\r\n", "..\r\n", ".a\r\n.\r\n.\r\n", "a\r\n\r\n.\r\nb\r\n",
		"no final crlf", "Subject: s\r\n\r\n. \r\n",
	};
	char stuffed[256];
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		size_t n = strlen(msgs[i]);
		size_t sn = smtp_data_stuff(msgs[i], n, stuffed);
		struct result r;
		run_all_ways(stuffed, sn, SMTP_DATA_DOT, 0, &r);
		assert_true(r.d.done);
		assert_int_equal(r.d.err, SMTP_DATA_OK);
		assert_int_equal(r.consumed, sn);
		/* A message without a final CRLF gets one. */
		bool crlf = n >= 2 && msgs[i][n - 2] == '\r' && msgs[i][n - 1] == '\n';
		size_t want = n == 0 || crlf ? n : n + 2;
		assert_int_equal(r.out_len, want);
		assert_memory_equal(r.out, msgs[i], n);
	}
}

static void received_and_header_helpers(void **state)
{
	struct buf b;
	buf_init(&b, 4096);
	struct smtp_received rec = {
		.helo = "evil)\r\nX-Injected: 1", .ip = "192.0.2.7", .by = "mx.example",
		.with = smtp_with_name(false, true, true, false, false), .id = "1f.2",
		.for_addr = "bob@example.com", .now = 0, .tz_minutes = 0,
	};
	assert_int_equal(smtp_received_write(&b, &rec), 0);
	assert_str(buf_ptr(&b), "Received: from evil???X-Injected:?1 ([192.0.2.7])\r\n"
	                        "\tby mx.example (mailkeep) with ESMTPS id 1f.2\r\n"
	                        "\tfor <bob@example.com>; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
	assert_str(smtp_with_name(true, true, false, false, false), "LMTP");
	assert_str(smtp_with_name(false, true, true, true, true), "UTF8SMTPSA");
	assert_str(smtp_with_name(false, false, false, false, false), "SMTP");
	buf_deinit(&b);

	const char hdr[] = "From: Ann <ann@example.com>, bob@example.com\r\n"
	                   "Sender: =?utf-8?q?x?= <s@example.com>\r\nSubject: x\r\n";
	assert_true(smtp_header_has(hdr, sizeof(hdr) - 1, "subject"));
	assert_false(smtp_header_has(hdr, sizeof(hdr) - 1, "Date"));
	struct arena *a = arena_new(1024);
	const char *out[4];
	assert_int_equal(smtp_header_mailboxes(a, hdr, sizeof(hdr) - 1, "From", out, 4), 2);
	assert_str(out[0], "ann@example.com");
	assert_str(out[1], "bob@example.com");
	assert_int_equal(smtp_header_mailboxes(a, hdr, sizeof(hdr) - 1, "Sender", out, 4), 1);
	assert_str(out[0], "s@example.com");
	const char nodomain[] = "From: undisclosed\r\n";
	assert_int_equal(smtp_header_mailboxes(a, nodomain, sizeof(nodomain) - 1, "From", out, 4), -1);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unstuffs_and_stops_at_the_end),
		cmocka_unit_test(empty_message_and_dot_lines),
		cmocka_unit_test(bare_lf_and_cr_are_refused),
		cmocka_unit_test(size_limit),
		cmocka_unit_test(chunk_mode),
		cmocka_unit_test(stuff_then_unstuff_round_trip),
		cmocka_unit_test(received_and_header_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
