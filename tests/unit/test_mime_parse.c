/*
 * The parser's limits and robustness: deep nesting, many parts, line ends,
 * a 50 MB attachment (generated here, not committed) in linear time.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/mime.h"
#include "mime/section.h"
#include "../fuzz/fuzz_mime_syntax.h"

static void check_syntax(const struct mime_summary *s)
{
	assert_true(imap_syntax_ok(s->envelope, strlen(s->envelope)));
	assert_true(imap_syntax_ok(s->body, strlen(s->body)));
	assert_true(imap_syntax_ok(s->bodystructure, strlen(s->bodystructure)));
}

static void deep_nesting_is_cut_at_the_limit(void **state)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	/* 1000 nested multiparts, then 1000 nested messages. */
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "Content-Type: message/rfc822\r\n\r\nSubject: m%d\r\n", i);
	buf_append_str(&b, "\r\nleaf\r\n");
	struct arena *a = arena_new(0);
	struct mime_message *m = mime_parse(a, buf_ptr(&b), buf_len(&b));
	assert_true(m->limits_hit);
	unsigned depth = 0;
	for (const struct mime_part *p = m->root; p; p = p->children)
		depth = p->depth;
	assert_true(depth <= MIME_MAX_DEPTH + 1);
	struct mime_summary s;
	assert_int_equal(mime_summarize_parsed(a, m, &s), 0);
	check_syntax(&s);
	arena_free(&a);
	buf_deinit(&b);
}

static void part_count_is_bounded(void **state)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	buf_append_str(&b, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (int i = 0; i < 3 * MIME_MAX_PARTS; i++)
		buf_append_str(&b, "--x\r\n\r\np\r\n");
	buf_append_str(&b, "--x--\r\n");
	struct arena *a = arena_new(0);
	struct mime_message *m = mime_parse(a, buf_ptr(&b), buf_len(&b));
	assert_true(m->limits_hit);
	assert_true(m->nparts <= MIME_MAX_PARTS + 1);
	assert_int_equal(m->root->nchildren, MIME_MAX_PARTS - 1);
	struct mime_summary s;
	assert_int_equal(mime_summarize_parsed(a, m, &s), 0);
	check_syntax(&s);
	arena_free(&a);
	buf_deinit(&b);
}

static void crlf_and_lf_give_the_same_structure(void **state)
{
	const char *lf = "Subject: t\nContent-Type: multipart/mixed; boundary=q\n\n--q\n"
	                 "Content-Type: text/plain\n\na\nb\n--q\n\nc\n--q--\n";
	struct buf crlf;
	buf_init(&crlf, 4096);
	for (const char *p = lf; *p; p++)
		buf_append(&crlf, *p == '\n' ? "\r\n" : p, *p == '\n' ? 2 : 1);
	struct arena *a = arena_new(0);
	struct mime_summary s1, s2;
	mime_summarize(a, lf, strlen(lf), &s1);
	mime_summarize(a, buf_ptr(&crlf), buf_len(&crlf), &s2);
	assert_str(s1.body, "((\"text\" \"plain\" NIL NIL NIL \"7BIT\" 3 2)"
	                    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 1 1) \"mixed\")");
	assert_str(s2.body, "((\"text\" \"plain\" NIL NIL NIL \"7BIT\" 4 2)"
	                    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 1 1) \"mixed\")");
	arena_free(&a);
	buf_deinit(&crlf);
}

static void folded_headers_and_empty_parts(void **state)
{
	const char *msg =
		"Subject: a long subject\r\n\tthat is folded\r\n  twice\r\n"
		"To: x@y,\r\n z@w\r\n"
		"Content-Type: multipart/mixed;\r\n boundary=\"f\"\r\n\r\n"
		"--f\r\n--f\r\n\r\n--f\r\nContent-Type: text/plain\r\n--f--\r\n";
	struct arena *a = arena_new(0);
	struct mime_summary s;
	mime_summarize(a, msg, strlen(msg), &s);
	assert_str(s.envelope, "(NIL \"a long subject\tthat is folded  twice\" NIL NIL NIL "
	                       "((NIL NIL \"x\" \"y\")(NIL NIL \"z\" \"w\")) NIL NIL NIL NIL)");
	/* Three empty parts: no header at all, an empty header, a header cut
	 * by the next delimiter. */
	assert_str(s.body, "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
	                   "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
	                   "(\"text\" \"plain\" NIL NIL NIL \"7BIT\" 0 0) \"mixed\")");
	assert_str(s.subject, "a long subject\tthat is folded  twice");
	arena_free(&a);
}

static void address_search_text_sees_through_comments(void **state)
{
	const char *msg =
		"From: <user-from (comment)@ (comment) domain.org>\r\n"
		"To: Ann <ann@example.org>, bob (Bob) @ example.org\r\n"
		"Cc: group: one@example.org;\r\n\r\nbody\r\n";
	struct arena *a = arena_new(0);
	struct mime_summary s;
	mime_summarize(a, msg, strlen(msg), &s);
	/* The field as written, then each address the field does not already
	 * spell out as mailbox@host. */
	assert_str(s.from, "<user-from (comment)@ (comment) domain.org>\nuser-from@domain.org");
	assert_str(s.to, "Ann <ann@example.org>, bob (Bob) @ example.org\nbob@example.org");
	assert_str(s.cc, "group: one@example.org;");
	arena_free(&a);
}

static void odd_content_types_and_reused_boundaries(void **state)
{
	const char *msg =
		"Content-Type: multipart/mixed; boundary=a; boundary=b\r\n\r\n"
		"--a\r\nContent-Type: garbage\r\n\r\nx\r\n"
		"--a\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
		"--a\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--a--\r\n";
	struct arena *a = arena_new(0);
	struct mime_summary s;
	mime_summarize(a, msg, strlen(msg), &s);
	/* The first boundary parameter counts; an unusable Content-Type is
	 * text/plain; the inner multipart that reuses "a" gets an empty body
	 * part and the lines stay with the outer one. */
	assert_str(s.body,
	           "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 1 1)"
	           "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0) \"alternative\")"
	           "(\"image\" \"gif\" NIL NIL NIL \"7BIT\" 3) \"mixed\")");
	arena_free(&a);
}

static void fifty_megabyte_attachment(void **state)
{
	size_t target = 50u << 20;
	struct buf b;
	buf_init(&b, target + (1 << 20));
	buf_append_str(&b, "From: big@example.com\r\nSubject: big\r\n"
	               "Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\n"
	               "Content-Type: text/plain\r\n\r\nsee attachment\r\n--big\r\n"
	               "Content-Type: application/octet-stream; name=big.bin\r\n"
	               "Content-Transfer-Encoding: base64\r\n\r\n");
	size_t att_start = buf_len(&b), lines = 0;
	static const char line[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n";
	while (buf_len(&b) < target) {
		buf_append(&b, line, sizeof(line) - 1);
		lines++;
	}
	size_t att_len = buf_len(&b) - att_start - 2;
	buf_append_str(&b, "--big--\r\n");

	struct arena *a = arena_new(0);
	clock_t t0 = clock();
	struct mime_summary s;
	assert_int_equal(mime_summarize(a, buf_ptr(&b), buf_len(&b), &s), 0);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("50 MB summarize: %.2f s, arena %zu bytes\n", secs, arena_used(a));
	assert_true(secs < 5.0);
	assert_true(arena_used(a) < (4u << 20));   /* nothing proportional to the body */
	char want[512];
	snprintf(want, sizeof(want), "((\"text\" \"plain\" NIL NIL NIL \"7BIT\" 14 1)"
	         "(\"application\" \"octet-stream\" (\"name\" \"big.bin\") NIL NIL \"base64\" %zu) \"mixed\")",
	         att_len);
	assert_str(s.body, want);
	assert_true(s.has_attachments);

	struct mime_message *m = mime_parse(a, buf_ptr(&b), buf_len(&b));
	unsigned p2[] = { 2 };
	uint64_t size;
	t0 = clock();
	assert_int_equal(mime_binary_size(m, mime_find_part(m, p2, 1), &size), 0);
	print_message("50 MB BINARY.SIZE: %.2f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
	assert_int_equal(size, lines * 48);
	arena_free(&a);
	buf_deinit(&b);
}

static void random_bytes_never_break_syntax(void **state)
{
	srand(1234);
	struct arena *a = arena_new(0);
	static const char *const pieces[] = {
		"\r\n", "\n", "--b", "--b--", "Content-Type: multipart/mixed; boundary=b\r\n",
		"Content-Type: message/rfc822\r\n", "From: \"x\" <a@b>\r\n", "=?utf-8?b?w6k=?=",
		": ", "(", ")", "\"", "\\", "\0", "\xff", " ", "To: g: a@b;\r\n", "<", ">", "@",
		"Content-Disposition: attachment; filename*0*=utf-8''%E2; filename*1=x\r\n",
	};
	for (int round = 0; round < 3000; round++) {
		char msg[2048];
		size_t n = 0;
		int k = rand() % 60;
		for (int i = 0; i < k; i++) {
			const char *p = pieces[rand() % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t l = *p ? strlen(p) : 1;
			if (n + l > sizeof(msg))
				break;
			memcpy(msg + n, p, l);
			n += l;
		}
		struct mime_summary s;
		assert_int_equal(mime_summarize(a, msg, n, &s), 0);
		check_syntax(&s);
		arena_reset(a);
	}
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deep_nesting_is_cut_at_the_limit),
		cmocka_unit_test(part_count_is_bounded),
		cmocka_unit_test(crlf_and_lf_give_the_same_structure),
		cmocka_unit_test(folded_headers_and_empty_parts),
		cmocka_unit_test(odd_content_types_and_reused_boundaries),
		cmocka_unit_test(address_search_text_sees_through_comments),
		cmocka_unit_test(fifty_megabyte_attachment),
		cmocka_unit_test(random_bytes_never_break_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
