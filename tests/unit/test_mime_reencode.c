/*
 * The binary-to-base64 re-encoder for APPEND of a literal8 (reencode.h):
 * which parts change, that they decode back to the original bytes, that
 * everything else is byte-exact, what is refused, and the output bounds.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/arena.h"
#include "lib/base64.h"
#include "mime/decode.h"
#include "mime/mime.h"
#include "mime/reencode.h"
#include "mime/section.h"

struct sink {
	char *d;
	size_t n, cap;
	size_t max_piece;
	size_t calls;
	int fail_at;   /* return -7 on this call (1-based), 0 never */
};

static int sink_write(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;
	s->calls++;
	if (s->fail_at != 0 && (int)s->calls == s->fail_at)
		return -7;
	if (len > s->max_piece)
		s->max_piece = len;
	if (s->n + len + 1 > s->cap) {
		s->cap = (s->n + len) * 2 + 64;
		s->d = realloc(s->d, s->cap);
	}
	memcpy(s->d + s->n, data, len);
	s->n += len;
	s->d[s->n] = '\0';   /* so the tests may use string functions */
	return 0;
}

/* Re-encode msg[0..len): the plan's status, the output in *out. */
static enum mime_reencode_status reencode(struct arena *a, const char *msg, size_t len,
                                          struct mime_reencode_plan *plan, struct sink *out)
{
	struct mime_message *m = mime_parse(a, msg, len);
	memset(out, 0, sizeof(*out));
	enum mime_reencode_status st = mime_reencode_check(m, plan);
	if (st == MIME_REENCODE_REFUSED)
		return st;
	assert_int_equal(mime_reencode_write(m, sink_write, out), 0);
	assert_int_equal(out->n, plan->out_size);
	assert_true(out->max_piece <= MIME_REENCODE_CHUNK);
	return st;
}

/* The decoded body of a part of the (re-encoded) message. */
static const char *binary_of(struct arena *a, const char *msg, size_t len, const unsigned *path,
                             size_t npath, size_t *n)
{
	struct mime_message *m = mime_parse(a, msg, len);
	const struct mime_part *p = mime_find_part(m, path, npath);
	assert_non_null(p);
	return mime_decode_body(a, m, p, SIZE_MAX, n);
}

static void text_message_is_kept(void **state)
{
	struct arena *a = arena_new(0);
	/* 8-bit bytes and a long line are not binary: the store keeps them. */
	char msg[3000];
	int n = snprintf(msg, sizeof(msg), "%s",
	                 "From: a@example.com\r\nSubject: caf\xc3\xa9\r\n"
	                 "Content-Type: text/plain; charset=utf-8\r\n"
	                 "Content-Transfer-Encoding: 8bit\r\n\r\n"
	                 "d\xc3\xa9j\xc3\xa0 vu\r\n");
	memset(msg + n, 'x', 1500);
	memcpy(msg + n + 1500, "\r\n", 3);
	size_t len = strlen(msg);
	struct mime_reencode_plan plan;
	struct sink out;
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_UNCHANGED);
	assert_int_equal(plan.parts, 0);
	assert_int_equal(out.n, len);
	assert_memory_equal(out.d, msg, len);
	free(out.d);
	arena_free(&a);
}

static void single_part_binary(void **state)
{
	struct arena *a = arena_new(0);
	/* The imaptest append-binary message: NUL and 8-bit in a part that
	 * says binary. */
	static const char msg[] =
		"From: user@domain.org\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: binary\r\n"
		"\r\n"
		"\0-\xe4\r\n\r\n";
	size_t len = sizeof(msg) - 1;
	struct mime_reencode_plan plan;
	struct sink out;
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_CHANGED);
	assert_int_equal(plan.parts, 1);
	const char *expect =
		"From: user@domain.org\r\n"
		"Mime-Version: 1.0\r\n"
		"Content-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"AC3kDQoNCg==\r\n";
	assert_int_equal(out.n, strlen(expect));
	assert_memory_equal(out.d, expect, out.n);
	size_t n;
	const unsigned one = 1;
	const char *bin = binary_of(a, out.d, out.n, &one, 1, &n);
	assert_int_equal(n, 7);
	assert_memory_equal(bin, "\0-\xe4\r\n\r\n", 7);
	struct mime_message *m = mime_parse(a, out.d, out.n);
	assert_non_null(strstr(mime_bodystructure(a, m, m->root, true), "\"base64\""));
	free(out.d);
	arena_free(&a);
}

static const char MULTI_HEAD[] =
	"From: a@example.com\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--b1\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"hello\r\n"
	"--b1\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Disposition: attachment; filename=\"x.bin\"\r\n"
	"\r\n";

/* A message whose attachment (part 2) is `body`. */
static char *multipart_with(const char *body, size_t blen, size_t *len)
{
	static const char tail[] = "\r\n--b1--\r\nepilogue\r\n";
	size_t h = sizeof(MULTI_HEAD) - 1, t = sizeof(tail) - 1;
	char *msg = malloc(h + blen + t);
	memcpy(msg, MULTI_HEAD, h);
	memcpy(msg + h, body, blen);
	memcpy(msg + h + blen, tail, t);
	*len = h + blen + t;
	return msg;
}

static void attachment_with_nul_and_bare_lf(void **state)
{
	struct arena *a = arena_new(0);
	/* No CTE field, but NUL, bare LF and bare CR: binary content. */
	char body[300];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7);
	body[10] = '\n';
	body[20] = '\r';
	size_t len;
	char *msg = multipart_with(body, sizeof(body), &len);
	struct mime_reencode_plan plan;
	struct sink out;
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_CHANGED);
	assert_int_equal(plan.parts, 1);
	assert_null(memchr(out.d, '\0', out.n));
	/* Everything before part 2's body is kept, its new field last. */
	size_t h = sizeof(MULTI_HEAD) - 1 - 2;
	assert_memory_equal(out.d, MULTI_HEAD, h);
	assert_memory_equal(out.d + h, "Content-Transfer-Encoding: base64\r\n\r\n", 37);
	/* Lines of 76, the last shorter; the delimiter follows unchanged. */
	const char *b64 = out.d + h + 37;
	assert_int_equal(strchr(b64, '\r') - b64, 76);
	const char *end = strstr(b64, "\r\n--b1--\r\nepilogue\r\n");
	assert_non_null(end);
	assert_int_equal(end + 20 - out.d, (long)out.n);
	size_t n;
	unsigned two = 2, one = 1;
	const char *bin = binary_of(a, out.d, out.n, &two, 1, &n);
	assert_int_equal(n, sizeof(body));
	assert_memory_equal(bin, body, sizeof(body));
	/* Part 1 is untouched. */
	assert_str(binary_of(a, out.d, out.n, &one, 1, &n), "hello");
	/* And the result needs nothing more. */
	struct sink again;
	assert_int_equal(reencode(a, out.d, out.n, &plan, &again), MIME_REENCODE_UNCHANGED);
	free(again.d);
	free(out.d);
	free(msg);
	arena_free(&a);
}

static void bare_lf_text_and_declared_binary(void **state)
{
	struct arena *a = arena_new(0);
	struct mime_reencode_plan plan;
	struct sink out;
	/* Bare LF in a text part is not CRLF text: kept exactly, as base64. */
	size_t len;
	char *msg = multipart_with("one\ntwo\n", 8, &len);
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_CHANGED);
	size_t n;
	unsigned two = 2;
	assert_str(binary_of(a, out.d, out.n, &two, 1, &n), "one\ntwo\n");
	free(out.d);
	free(msg);
	/* A part declared binary is re-encoded even if it looks like text. */
	static const char bin[] = "Content-Type: text/plain\r\nContent-Transfer-Encoding: Binary\r\n"
	                          "\r\nplain words\r\n";
	assert_int_equal(reencode(a, bin, sizeof(bin) - 1, &plan, &out), MIME_REENCODE_CHANGED);
	assert_str(binary_of(a, out.d, out.n, (const unsigned[]){ 1 }, 1, &n), "plain words\r\n");
	free(out.d);
	/* Empty binary body: nothing to encode. */
	static const char empty[] = "Content-Transfer-Encoding: binary\r\n\r\n";
	assert_int_equal(reencode(a, empty, sizeof(empty) - 1, &plan, &out), MIME_REENCODE_UNCHANGED);
	free(out.d);
	arena_free(&a);
}

static void every_cte_field_is_replaced(void **state)
{
	struct arena *a = arena_new(0);
	static const char msg[] =
		"Content-Transfer-Encoding:\r\n binary\r\n"
		"Subject: two fields\r\n"
		"content-transfer-encoding: 8bit\r\n"
		"X-Last: 1\r\n"
		"\r\n"
		"a\0b";
	struct mime_reencode_plan plan;
	struct sink out;
	assert_int_equal(reencode(a, msg, sizeof(msg) - 1, &plan, &out), MIME_REENCODE_CHANGED);
	const char *expect = "Subject: two fields\r\nX-Last: 1\r\n"
	                     "Content-Transfer-Encoding: base64\r\n\r\nYQBi\r\n";
	assert_int_equal(out.n, strlen(expect));
	assert_memory_equal(out.d, expect, out.n);
	free(out.d);
	arena_free(&a);
}

static void nested_message_part(void **state)
{
	struct arena *a = arena_new(0);
	static const char msg[] =
		"Content-Type: multipart/mixed; boundary=out\r\n\r\n"
		"--out\r\n"
		"Content-Type: message/rfc822\r\n\r\n"
		"Subject: inner\r\n"
		"Content-Type: multipart/mixed; boundary=in\r\n\r\n"
		"--in\r\n"
		"Content-Type: image/png\r\n\r\n"
		"\x89PNG\r\n\x1a\n\0\0"
		"\r\n--in--\r\n"
		"\r\n--out--\r\n";
	struct mime_reencode_plan plan;
	struct sink out;
	assert_int_equal(reencode(a, msg, sizeof(msg) - 1, &plan, &out), MIME_REENCODE_CHANGED);
	assert_int_equal(plan.parts, 1);
	size_t n;
	const char *bin = binary_of(a, out.d, out.n, (const unsigned[]){ 1, 1 }, 2, &n);
	assert_int_equal(n, 10);
	assert_memory_equal(bin, "\x89PNG\r\n\x1a\n\0\0", 10);
	struct mime_message *m = mime_parse(a, out.d, out.n);
	assert_int_equal(m->nparts, mime_parse(a, msg, sizeof(msg) - 1)->nparts);
	free(out.d);
	arena_free(&a);
}

static void nul_that_cannot_be_kept(void **state)
{
	struct arena *a = arena_new(0);
	struct mime_reencode_plan plan;
	struct sink out;
	/* In the message header. */
	static const char hdr[] = "Subject: a\0b\r\nContent-Transfer-Encoding: binary\r\n\r\nbody\0";
	assert_int_equal(reencode(a, hdr, sizeof(hdr) - 1, &plan, &out), MIME_REENCODE_REFUSED);
	assert_int_equal(plan.nul_at, 10);
	assert_true(plan.nul_in_header);
	/* In a part's header. */
	size_t len;
	char *msg = multipart_with("ok", 2, &len);
	msg[strstr(msg, "x.bin") - msg] = '\0';
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_REFUSED);
	assert_true(plan.nul_in_header);
	free(msg);
	/* In the preamble: no part to re-encode holds it. */
	msg = multipart_with("\0", 1, &len);
	msg[strstr(msg, "preamble") - msg] = '\0';
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_REFUSED);
	assert_false(plan.nul_in_header);
	free(msg);
	/* In a part that already says base64 (re-encoding it twice would
	 * change what BINARY returns). */
	static const char b64[] = "Content-Transfer-Encoding: base64\r\n\r\nAAAA\0";
	assert_int_equal(reencode(a, b64, sizeof(b64) - 1, &plan, &out), MIME_REENCODE_REFUSED);
	assert_false(plan.nul_in_header);
	arena_free(&a);
}

static void big_body_streams_in_bounded_pieces(void **state)
{
	struct arena *a = arena_new(0);
	size_t blen = 1000 * 1000 + 13;
	char *body = malloc(blen);
	for (size_t i = 0; i < blen; i++)
		body[i] = (char)(i * 131 + (i >> 9));
	size_t len;
	char *msg = multipart_with(body, blen, &len);
	struct mime_reencode_plan plan;
	struct sink out;
	assert_int_equal(reencode(a, msg, len, &plan, &out), MIME_REENCODE_CHANGED);
	assert_true(out.calls > out.n / MIME_REENCODE_CHUNK);
	size_t n;
	unsigned two = 2;
	const char *bin = binary_of(a, out.d, out.n, &two, 1, &n);
	assert_int_equal(n, blen);
	assert_memory_equal(bin, body, blen);
	/* Every base64 line but the last is 76 characters. */
	struct mime_message *m = mime_parse(a, out.d, out.n);
	const struct mime_part *p = mime_find_part(m, &two, 1);
	for (size_t i = p->body_start; i < p->body_end;) {
		const char *nl = memchr(out.d + i, '\r', p->body_end - i);
		size_t line = nl ? (size_t)(nl - (out.d + i)) : p->body_end - i;
		if (nl != NULL)
			assert_int_equal(line, MIME_REENCODE_LINE);
		i += line + 2;
	}
	/* A writer error stops the output and is returned. */
	struct sink fail = { .fail_at = 3 };
	assert_int_equal(mime_reencode_write(mime_parse(a, msg, len), sink_write, &fail), -7);
	assert_int_equal(fail.calls, 3);
	free(fail.d);
	free(out.d);
	free(msg);
	free(body);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_message_is_kept),
		cmocka_unit_test(single_part_binary),
		cmocka_unit_test(attachment_with_nul_and_bare_lf),
		cmocka_unit_test(bare_lf_text_and_declared_binary),
		cmocka_unit_test(every_cte_field_is_replaced),
		cmocka_unit_test(nested_message_part),
		cmocka_unit_test(nul_that_cannot_be_kept),
		cmocka_unit_test(big_body_streams_in_bounded_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
