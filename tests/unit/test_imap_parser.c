/*
 * imap_parser tests. Every input is run whole, one byte at a time, and
 * split in two at every position (Dovecot's test_imap_parser_crlf pattern);
 * all runs must give the same transcript of events, which is then compared
 * with the expected one.
 */
#include "unit.h"
#include "imap/imap_parser.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>

/* What the simulated session does. */
struct policy {
	struct imap_parser_limits lim;
	bool literal_minus, utf8;
	const char *stream_cmd;   /* literals of this command are streamed */
	const char *refuse_cmd;   /* literals of this command are refused */
};

static void out_bytes(struct buf *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(o, "\\x%02x", c);
		else
			buf_append(o, &s[i], 1);
	}
}

static void out_args(struct buf *o, const struct imap_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *a = &args[i];
		if (i > 0)
			buf_append_str(o, " ");
		switch (a->type) {
		case IMAP_ARG_ATOM:
			buf_append_str(o, a->str);
			break;
		case IMAP_ARG_NIL:
			buf_printf(o, "NIL<%s>", a->str);
			break;
		case IMAP_ARG_QUOTED:
			buf_append_str(o, "\"");
			out_bytes(o, a->str, (size_t)a->len);
			buf_append_str(o, "\"");
			break;
		case IMAP_ARG_LITERAL:
			buf_printf(o, "%s{%llu}\"", a->literal8 ? "~" : "", (unsigned long long)a->len);
			out_bytes(o, a->str, (size_t)a->len);
			buf_append_str(o, "\"");
			break;
		case IMAP_ARG_LITERAL_STREAM:
			buf_printf(o, "%s{%llu>}", a->literal8 ? "~" : "", (unsigned long long)a->len);
			break;
		case IMAP_ARG_LIST:
			buf_append_str(o, "(");
			out_args(o, a->list, a->count);
			buf_append_str(o, ")");
			assert_int_equal(a->list[a->count].type, IMAP_ARG_EOL);
			break;
		case IMAP_ARG_EOL:
			fail_msg("EOL inside args");
		}
	}
	assert_int_equal(args[n].type, IMAP_ARG_EOL);
}

static bool is_cmd(const struct imap_parse_result *res, const char *name)
{
	return name != NULL && res->cmd != NULL && res->cmd->name != NULL &&
	       strcmp(res->cmd->name, name) == 0;
}

/* Feed `in` cut at the given positions; returns the transcript (malloc). */
static char *run(const struct policy *pol, const char *in, size_t len,
                 const size_t *cuts, size_t ncuts)
{
	struct arena *a = arena_new(0);
	struct imap_parser *p = imap_parser_new(&pol->lim, a);
	struct buf o, pending, stream;
	buf_init(&o, 1 << 20);
	buf_init(&pending, 1 << 20);
	buf_init(&stream, 1 << 20);
	imap_parser_set_literal_minus(p, pol->literal_minus);
	imap_parser_set_utf8(p, pol->utf8);

	size_t start = 0;
	bool fatal = false;
	for (size_t c = 0; c <= ncuts && !fatal; c++) {
		size_t end = c < ncuts ? cuts[c] : len;
		/* (lib buf: appending 0 bytes to an empty buf stores to NULL) */
		if (end > start)
			assert_int_equal(buf_append(&pending, in + start, end - start), 0);
		start = end;
		for (;;) {
			struct imap_parse_result res;
			size_t fed = buf_len(&pending);
			enum imap_parse_status st = imap_parser_feed(p, buf_ptr(&pending), fed, &res);
			assert_true(res.consumed <= fed);
			switch (st) {
			case IMAP_PARSE_MORE:
				assert_int_equal(res.consumed, fed);
				break;
			case IMAP_PARSE_DONE:
				buf_printf(&o, "DONE %s %s%s", res.cmd->tag, res.cmd->uid ? "UID " : "",
				           res.cmd->name);
				if (res.cmd->nargs > 0)
					buf_append_str(&o, " ");
				out_args(&o, res.cmd->args, res.cmd->nargs);
				buf_append_str(&o, "\n");
				if (strcmp(res.cmd->name, "AUTHENTICATE") == 0)
					imap_parser_expect_line(p, IMAP_LINE_AUTH);
				else if (strcmp(res.cmd->name, "IDLE") == 0)
					imap_parser_expect_line(p, IMAP_LINE_IDLE);
				arena_reset(a);
				break;
			case IMAP_PARSE_LITERAL:
				buf_printf(&o, "LIT %llu%s%s", (unsigned long long)res.literal_size,
				           res.literal_sync ? "" : "+", res.literal_binary ? " bin" : "");
				if (is_cmd(&res, pol->refuse_cmd)) {
					buf_printf(&o, " refused %s\n",
					           imap_parser_literal_refuse(p) < 0 ? "fatal" : "ok");
				} else if (is_cmd(&res, pol->stream_cmd)) {
					assert_int_equal(imap_parser_literal_stream(p), 0);
					buf_printf(&o, " stream%s\n", res.literal_sync ? " +" : "");
				} else if (imap_parser_literal_keep(p) == 0) {
					buf_printf(&o, " keep%s\n", res.literal_sync ? " +" : "");
				} else {
					buf_printf(&o, " nofit %s\n",
					           imap_parser_literal_refuse(p) < 0 ? "fatal" : "ok");
				}
				break;
			case IMAP_PARSE_LITERAL_DATA:
				assert_true(res.len <= res.consumed);
				if (res.len > 0)
					buf_append(&stream, res.data, res.len);
				if (res.literal_left == 0) {
					buf_append_str(&o, "DATA \"");
					out_bytes(&o, buf_ptr(&stream), buf_len(&stream));
					buf_printf(&o, "\"%s\n", res.literal_nul ? " nul" : "");
					buf_reset(&stream, 0);
				}
				break;
			case IMAP_PARSE_LINE:
				buf_printf(&o, "LINE%s \"", res.line_cancel ? " cancel" : "");
				out_bytes(&o, res.line, res.line_len);
				buf_append_str(&o, "\"\n");
				break;
			case IMAP_PARSE_BAD:
			case IMAP_PARSE_FATAL:
				buf_printf(&o, "%s %s%s %s\n", st == IMAP_PARSE_BAD ? "BAD" : "FATAL",
				           res.cmd != NULL && res.cmd->tag != NULL ? res.cmd->tag : "*",
				           res.error == IMAP_PARSE_ERR_TOOBIG ? " [TOOBIG]" : "",
				           res.error_msg);
				fatal = st == IMAP_PARSE_FATAL;
				/* the parser must not touch the bad command's memory
				 * again, even while skipping (ASan checks this) */
				arena_reset(a);
				break;
			}
			buf_consume(&pending, res.consumed);
			if (st == IMAP_PARSE_MORE || fatal)
				break;
		}
	}
	if (!fatal && !imap_parser_idle(p))
		buf_append_str(&o, "PARTIAL\n");
	char *ret = xstrdup(buf_ptr(&o));
	buf_deinit(&o);
	buf_deinit(&pending);
	buf_deinit(&stream);
	imap_parser_free(&p);
	assert_null(p);
	arena_free(&a);
	return ret;
}

/* Whole, bytewise and every two-way split give `expected`. */
static void check_n(const struct policy *pol, const char *in, size_t len, const char *expected)
{
	char *whole = run(pol, in, len, NULL, 0);
	if (strcmp(whole, expected) != 0)
		fail_msg("input \"%s\":\n--- got\n%s--- expected\n%s", in, whole, expected);
	size_t *cuts = xmalloc((len + 1) * sizeof(*cuts));
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	char *bytewise = run(pol, in, len, cuts, len > 0 ? len - 1 : 0);
	assert_str(bytewise, whole);
	free(bytewise);
	for (size_t k = 0; k <= len; k++) {
		char *split = run(pol, in, len, &k, 1);
		if (strcmp(split, whole) != 0)
			fail_msg("split at %zu of \"%s\":\n%s--- whole:\n%s", k, in, split, whole);
		free(split);
	}
	free(cuts);
	free(whole);
}

#define D10 "0123456789"
#define CHECK(pol, in, expected) check_n((pol), (in), sizeof(in) - 1, (expected))

static const struct policy plain = { .lim = { .max_depth = 4 } };

static void simple_commands_and_pipelining(void **state)
{
	CHECK(&plain, "a1 NOOP\r\n", "DONE a1 NOOP\n");
	CHECK(&plain, "a2 noop\n", "DONE a2 NOOP\n");
	CHECK(&plain, "a1 NOOP\r\na2 capability\r\n\r\n\na3 Logout\r\n",
	      "DONE a1 NOOP\nDONE a2 CAPABILITY\nDONE a3 LOGOUT\n");
	CHECK(&plain, "a1 NOOP\r\na2 NO", "DONE a1 NOOP\nPARTIAL\n");
	CHECK(&plain, "x.1 SELECT  INBOX \r\n", "DONE x.1 SELECT INBOX\n");
	CHECK(&plain, "a UID fetch 1:*,$ FLAGS\r\n", "DONE a UID FETCH 1:*,$ FLAGS\n");
	CHECK(&plain, "a LIST \"\" %/*\r\n", "DONE a LIST \"\" %/*\n");
	CHECK(&plain, "a STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\n",
	      "DONE a STORE 1 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\n");
	CHECK(&plain, "a X NIL nil \"NIL\" ~foo [x] a]b\r\n",
	      "DONE a X NIL<NIL> NIL<nil> \"NIL\" ~foo [x] a]b\n");
}

static void tags_and_names(void **state)
{
	CHECK(&plain, "+ NOOP\r\nb NOOP\r\n", "BAD * Invalid tag\nDONE b NOOP\n");
	CHECK(&plain, "a\r\nb NOOP\r\n", "BAD a Missing command name\nDONE b NOOP\n");
	CHECK(&plain, "a \r\nb NOOP\r\n", "BAD a Missing command name\nDONE b NOOP\n");
	CHECK(&plain, "(a NOOP\r\n", "BAD * Invalid tag\n");
	CHECK(&plain, "a UID\r\nb NOOP\r\n", "BAD a Missing command after UID\nDONE b NOOP\n");
	CHECK(&plain, "a NO(OP\r\n", "BAD a Invalid command name\n");
	CHECK(&plain, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa NOOP\r\n"
	      "b NOOP\r\n", "BAD * Tag too long\nDONE b NOOP\n");
}

static void quoted_strings(void **state)
{
	CHECK(&plain, "a LOGIN user \"pa\\\"ss\\\\ word\"\r\n",
	      "DONE a LOGIN user \"pa\\\"ss\\\\ word\"\n");
	CHECK(&plain, "a LOGIN \"\" \"\"\r\n", "DONE a LOGIN \"\" \"\"\n");
	CHECK(&plain, "a LOGIN u \"a\\nb\"\r\nb NOOP\r\n",
	      "BAD a Invalid escape in quoted string\nDONE b NOOP\n");
	CHECK(&plain, "a LOGIN u \"ab\r\nb NOOP\r\n", "BAD a Missing '\"'\nDONE b NOOP\n");
	CHECK(&plain, "a X \"tab\there\"\r\n", "DONE a X \"tab\\x09here\"\n");
	CHECK(&plain, "a X \"a\0b\"\r\nb NOOP\r\n", "BAD a NUL in quoted string\nDONE b NOOP\n");
}

static void eight_bit(void **state)
{
	static const struct policy utf8 = { .utf8 = true };
	CHECK(&plain, "a X \"caf\xc3\xa9\"\r\nb NOOP\r\n",
	      "BAD a 8-bit character in quoted string\nDONE b NOOP\n");
	CHECK(&utf8, "a X \"caf\xc3\xa9 \xf0\x9f\x93\xa7\"\r\n",
	      "DONE a X \"caf\\xc3\\xa9 \\xf0\\x9f\\x93\\xa7\"\n");
	CHECK(&utf8, "a X \"\xc3(\"\r\nb NOOP\r\n", "BAD a Invalid UTF-8 in quoted string\nDONE b NOOP\n");
	CHECK(&utf8, "a X \"\xc3\"\r\n", "BAD a Invalid UTF-8 in quoted string\n");
	CHECK(&utf8, "a X \"\xed\xa0\x80\"\r\n", "BAD a Invalid UTF-8 in quoted string\n");
	CHECK(&utf8, "a X \"\xc0\x80\"\r\n", "BAD a Invalid UTF-8 in quoted string\n");
	CHECK(&utf8, "a X caf\xc3\xa9\r\nb NOOP\r\n", "BAD a Invalid character in atom\nDONE b NOOP\n");
	CHECK(&plain, "a X \xff\r\n", "BAD a Invalid character\n");
	CHECK(&plain, "a X a\0b\r\nb NOOP\r\n", "BAD a Invalid character in atom\nDONE b NOOP\n");
	CHECK(&plain, "\0a NOOP\r\nb NOOP\r\n", "BAD * Invalid tag\nDONE b NOOP\n");
}

static void line_endings(void **state)
{
	CHECK(&plain, "a NOOP\rb\r\nc NOOP\r\n", "BAD a CR without LF\nDONE c NOOP\n");
	CHECK(&plain, "a NOOP\r\r\nc NOOP\r\n", "BAD a CR without LF\nDONE c NOOP\n");
	CHECK(&plain, "\rx\nc NOOP\n", "BAD * CR without LF\nDONE c NOOP\n");
	CHECK(&plain, "a X (b\r\nc NOOP\r\n", "BAD a Missing ')'\nDONE c NOOP\n");
	CHECK(&plain, "a X b)\r\nc NOOP\r\n", "BAD a Unexpected ')'\nDONE c NOOP\n");
}

static void lists_and_depth(void **state)
{
	CHECK(&plain, "a X () (a (b c) \"d\") ((()))\r\n",
	      "DONE a X () (a (b c) \"d\") ((()))\n");
	CHECK(&plain, "a X ((((x))))\r\n", "DONE a X ((((x))))\n");
	CHECK(&plain, "a X (((((x)))))\r\nb NOOP\r\n", "BAD a Lists nested too deeply\nDONE b NOOP\n");
	static const struct policy few = { .lim = { .max_args = 4 } };
	CHECK(&few, "a X 1 (2 3)\r\n", "DONE a X 1 (2 3)\n");
	CHECK(&few, "a X 1 (2 3) 4\r\nb NOOP\r\n", "BAD a [TOOBIG] Too many arguments\nDONE b NOOP\n");
	CHECK(&few, "a X 1 2 3 4 {1}\r\nb NOOP\r\n", "BAD a [TOOBIG] Too many arguments\nDONE b NOOP\n");
	CHECK(&few, "a X 1 2 3 4 {1+}\r\nb NOOP\r\n", "BAD a [TOOBIG] Too many arguments\n");
	CHECK(&few, "a X 1 2 3 4 {1+}\r\nb\r\nc NOOP\r\n",
	      "BAD a [TOOBIG] Too many arguments\nDONE c NOOP\n");
}

static void fetch_attributes(void **state)
{
	CHECK(&plain,
	      "a FETCH 1:3,5 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM \"TO\" \"a\\\"b\")]<0.100> "
	      "BINARY[1.2]<0.5> body[] BINARY.SIZE[1] BODY[TEXT])\r\n",
	      "DONE a FETCH 1:3,5 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM \"TO\" \"a\\\"b\")]<0.100> "
	      "BINARY[1.2]<0.5> body[] BINARY.SIZE[1] BODY[TEXT])\n");
	CHECK(&plain, "a FETCH 1 BODY[HEADER.FIELDS (FROM)\r\nb NOOP\r\n",
	      "BAD a Missing ']'\nDONE b NOOP\n");
	/* Only fetch attributes open sections: elsewhere `[` is an atom char. */
	CHECK(&plain, "a SELECT foo[bar (x)\r\n", "DONE a SELECT foo[bar (x)\n");
	/* No literal inside a section; {N} ends the command (no "+" sent). */
	CHECK(&plain, "a FETCH 1 BODY[HEADER.FIELDS ({4}\r\nb NOOP\r\n",
	      "BAD a Literal inside a section\nDONE b NOOP\n");
}

static void literals_kept(void **state)
{
	CHECK(&plain, "a LOGIN {4}\r\nuser {0}\r\n\r\n",
	      "LIT 4 keep +\nLIT 0 keep +\nDONE a LOGIN {4}\"user\" {0}\"\"\n");
	CHECK(&plain, "a LOGIN {1+}\r\nx {3+}\r\na\"\\ (x)\r\n",
	      "LIT 1+ keep\nLIT 3+ keep\nDONE a LOGIN {1}\"x\" {3}\"a\\\"\\\\\" (x)\n");
	CHECK(&plain, "a X ~{3}\r\na\0b\r\n", "LIT 3 bin keep +\nDONE a X ~{3}\"a\\x00b\"\n");
	CHECK(&plain, "a X {3}\r\na\0b c\r\nb NOOP\r\n",
	      "LIT 3 keep +\nBAD a NUL in literal\nDONE b NOOP\n");
	CHECK(&plain, "a X {3}\nabc\n", "LIT 3 keep +\nDONE a X {3}\"abc\"\n");
	CHECK(&plain, "a X {3}x\r\nb NOOP\r\n", "BAD a Literal size not followed by CRLF\nDONE b NOOP\n");
	CHECK(&plain, "a X {}\r\nb NOOP\r\n", "BAD a Invalid literal size\nDONE b NOOP\n");
	CHECK(&plain, "a X {1+1}\r\nb NOOP\r\n", "BAD a Invalid literal size\nDONE b NOOP\n");
}

static char *make_literal_cmd(const char *tag, size_t n, const char *suffix, size_t *len_r)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_printf(&b, "%s X {%zu%s}\r\n", tag, n, suffix);
	for (size_t i = 0; i < n; i++)
		buf_append(&b, i % 64 == 63 ? "\n" : "x", 1);
	buf_append_str(&b, "\r\nb NOOP\r\n");
	*len_r = buf_len(&b);
	char *s = xstrdup(buf_ptr(&b));
	buf_deinit(&b);
	return s;
}

static void literal_sizes(void **state)
{
	static const struct policy minus = { .literal_minus = true, .lim = { .max_line = 8192 } };
	static const size_t sizes[] = { 0, 1, 4096, 4097 };
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		char *in = make_literal_cmd("a", sizes[i], "+", &len);
		char *got = run(&minus, in, len, NULL, 0);
		char want[256];
		if (sizes[i] <= 4096)
			snprintf(want, sizeof(want), "LIT %zu+ keep\nDONE a X {%zu}\"", sizes[i], sizes[i]);
		else
			snprintf(want, sizeof(want), "BAD a [TOOBIG] Non-synchronizing literal over "
			         "4096 bytes (LITERAL-)\nDONE b NOOP\n");
		assert_true(strncmp(got, want, strlen(want)) == 0);
		if (sizes[i] <= 4096)
			assert_non_null(strstr(got, "\"\nDONE b NOOP\n"));
		check_n(&minus, in, len, got);
		free(got);
		free(in);
		/* synchronizing: no LITERAL- limit */
		in = make_literal_cmd("a", sizes[i], "", &len);
		got = run(&minus, in, len, NULL, 0);
		snprintf(want, sizeof(want), "LIT %zu keep +\nDONE a X {%zu}\"", sizes[i], sizes[i]);
		assert_true(strncmp(got, want, strlen(want)) == 0);
		assert_non_null(strstr(got, "\"\nDONE b NOOP\n"));
		free(got);
		free(in);
	}
}

static void literal_limits(void **state)
{
	static const struct policy small = {
		.lim = { .max_line = 64, .max_literal = 100, .max_discard = 200 },
	};
	/* Doesn't fit in the line: the session refuses; {N} sends nothing. */
	CHECK(&small, "a X {70}\r\nb NOOP\r\n", "LIT 70 nofit ok\nDONE b NOOP\n");
	/* 64 - 10 bytes left: a 53-byte literal leaves room for the LF */
	CHECK(&small, "a X {53}\r\n" D10 D10 D10 D10 D10 "012\n",
	      "LIT 53 keep +\nDONE a X {53}\"" D10 D10 D10 D10 D10 "012\"\n");
	CHECK(&small, "a X {54}\r\nb NOOP\r\n", "LIT 54 nofit ok\nDONE b NOOP\n");
	/* {N+} that doesn't fit: its bytes are discarded, never a command. */
	CHECK(&small, "a X {8+}\r\nc NOOP\r\n {40+}\r\nb NOOP\r\nc NOOP\r\n" D10 D10 "xxxx"
	      " x\r\nd NOOP\r\n", "LIT 8+ keep\nLIT 40+ nofit ok\nDONE d NOOP\n");
	CHECK(&small, "a X {101}\r\nb NOOP\r\n", "BAD a [TOOBIG] Literal too large\nDONE b NOOP\n");
	CHECK(&small, "a X {150+}\r\n" "01234567890123456789012345678901234567890123456789"
	      "01234567890123456789012345678901234567890123456789"
	      "0123456789012345678901234567890123456789012345678\n c {1+}\r\nx\r\nb NOOP\r\n",
	      "BAD a [TOOBIG] Literal too large\nDONE b NOOP\n");
	CHECK(&small, "a X {201+}\r\nb NOOP\r\n", "FATAL a [TOOBIG] Literal too large\n");
	CHECK(&small, "a X {99999999999999999999}\r\nb NOOP\r\n",
	      "BAD a [TOOBIG] Literal too large\nDONE b NOOP\n");
	CHECK(&small, "a X {99999999999999999999+}\r\nb NOOP\r\n",
	      "FATAL a [TOOBIG] Literal too large\n");
	CHECK(&small, "a X {18446744073709551615}\r\nb NOOP\r\n",
	      "BAD a [TOOBIG] Literal too large\nDONE b NOOP\n");
	/* line limit counts every byte, CRLF included */
	CHECK(&small, "a X " D10 D10 D10 D10 D10 "01234567\r\nb NOOP\r\n",
	      "DONE a X " D10 D10 D10 D10 D10 "01234567\nDONE b NOOP\n");
	CHECK(&small, "a X " D10 D10 D10 D10 D10 "012345678\r\nb NOOP\r\n",
	      "BAD a [TOOBIG] Command line too long\nDONE b NOOP\n");
	/* the line limit hits inside a literal announcement: still skipped */
	CHECK(&small, "a X " D10 D10 D10 D10 D10 "01234 {8+}\r\nc NOOP\r\nb NOOP\r\nd NOOP\r\n",
	      "BAD a [TOOBIG] Command line too long\nDONE d NOOP\n");
	CHECK(&small, "a X " D10 D10 D10 D10 D10 "0123 {8+}\r\nc NOOP\r\nb NOOP\r\nd NOOP\r\n",
	      "BAD a [TOOBIG] Command line too long\nDONE d NOOP\n");
	CHECK(&small, "a X " D10 D10 D10 D10 D10 "012 {8+}\r\nc NOOP\r\nb NOOP\r\nd NOOP\r\n",
	      "LIT 8+ nofit ok\nDONE d NOOP\n");
}

static void literal_not_command_after_bad(void **state)
{
	/* nginx-tests "literal not command": the 9 bytes are a literal */
	CHECK(&plain, "a2 FOO\" {9+}\r\na3 NOOP\r\n)\r\na4 NOOP\r\n",
	      "BAD a2 Invalid command name\nDONE a4 NOOP\n");
	CHECK(&plain, "a2 FOO ) {10+}\r\ntest test\n\r\na3 NOOP\r\n",
	      "BAD a2 Unexpected ')'\nDONE a3 NOOP\n");
	/* several literals on the skipped command, and a literal8 */
	CHECK(&plain, "a2 X ) {3+}\r\nabc {2+}\r\nde ~{4+}\r\n\r\n\r\n x\r\na3 NOOP\r\n",
	      "BAD a2 Unexpected ')'\nDONE a3 NOOP\n");
	/* {N} sync: no "+" was sent, so what follows is the next command */
	CHECK(&plain, "a2 FOO\" {9}\r\na3 NOOP\r\n", "BAD a2 Invalid command name\nDONE a3 NOOP\n");
	/* mid-atom {N+}: treated as a literal all the same (safe side) */
	CHECK(&plain, "a X abc{5+}\r\nb NOO\r\nc NOOP\r\n", "BAD a Invalid character in atom\nDONE c NOOP\n");
	/* a refused {N+} of a command the session doesn't know */
	static const struct policy refuse = { .refuse_cmd = "FOOBAR" };
	CHECK(&refuse, "a2 FOOBAR {10+}\r\ntest test\n {1+}\r\nx\r\na3 NOOP\r\n",
	      "LIT 10+ refused ok\nDONE a3 NOOP\n");
	CHECK(&refuse, "a2 FOOBAR {10}\r\na3 NOOP\r\n", "LIT 10 refused ok\nDONE a3 NOOP\n");
}

static void literals_streamed(void **state)
{
	static const struct policy append = { .stream_cmd = "APPEND", .lim = { .max_line = 80 } };
	CHECK(&append, "a APPEND INBOX (\\Seen) {11}\r\nhello world\r\n",
	      "LIT 11 stream +\nDATA \"hello world\"\nDONE a APPEND INBOX (\\Seen) {11>}\n");
	/* MULTIAPPEND, bigger than max_line, a 0-byte one, a literal8 */
	CHECK(&append, "a APPEND box {100+}\r\n" D10 D10 D10 D10 D10 D10 D10 D10 D10 D10
	      " (\\Flagged) \"1-Jan-2020 00:00:00 +0000\" {0+}\r\n ~{3}\r\na\0b\r\n",
	      "LIT 100+ stream\n"
	      "DATA \"" D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 "\"\n"
	      "LIT 0+ stream\nDATA \"\"\nLIT 3 bin stream +\nDATA \"a\\x00b\"\n"
	      "DONE a APPEND box {100>} (\\Flagged) \"1-Jan-2020 00:00:00 +0000\" {0>} ~{3>}\n");
	CHECK(&append, "a APPEND box {3}\r\na\0b\r\n", "LIT 3 stream +\nDATA \"a\\x00b\" nul\n"
	      "DONE a APPEND box {3>}\n");
	CHECK(&append, "a APPEND box {3}\r\nabc", "LIT 3 stream +\nDATA \"abc\"\nPARTIAL\n");
}

static void continuation_lines(void **state)
{
	CHECK(&plain, "a AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nb NOOP\r\n",
	      "DONE a AUTHENTICATE PLAIN\nLINE \"AGFsaWNlAHNlY3JldA==\"\nDONE b NOOP\n");
	CHECK(&plain, "a AUTHENTICATE PLAIN\r\n*\r\n", "DONE a AUTHENTICATE PLAIN\nLINE cancel \"*\"\n");
	CHECK(&plain, "a AUTHENTICATE PLAIN\r\n\r\n", "DONE a AUTHENTICATE PLAIN\nLINE \"\"\n");
	CHECK(&plain, "a AUTHENTICATE PLAIN\r\nab cd\r\nb NOOP\r\n",
	      "DONE a AUTHENTICATE PLAIN\nBAD * Invalid base64\nDONE b NOOP\n");
	CHECK(&plain, "a IDLE\r\ndone\r\nb NOOP\r\n", "DONE a IDLE\nLINE \"done\"\nDONE b NOOP\n");
	CHECK(&plain, "a IDLE\nDONE\n", "DONE a IDLE\nLINE \"DONE\"\n");
	CHECK(&plain, "a IDLE\r\nb NOOP\r\nc NOOP\r\n",
	      "DONE a IDLE\nBAD * Expected DONE\nDONE c NOOP\n");
	CHECK(&plain, "a IDLE\r\nDONE\rx\r\nc NOOP\r\n", "DONE a IDLE\nBAD * CR without LF\nDONE c NOOP\n");
	static const struct policy small = { .lim = { .max_line = 8 } };
	CHECK(&small, "a IDLE\r\n0123456789\r\nc NOOP\r\n",
	      "DONE a IDLE\nBAD * [TOOBIG] Line too long\nDONE c NOOP\n");
}

static void fatal_stays_fatal(void **state)
{
	static const struct policy small = { .lim = { .max_discard = 10 } };
	struct arena *a = arena_new(0);
	struct imap_parser *p = imap_parser_new(&small.lim, a);
	struct imap_parse_result res;
	const char *in = "a X ) {11+}\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_BAD);
	assert_str(res.cmd->tag, "a");
	assert_int_equal(imap_parser_feed(p, in + res.consumed, strlen(in) - res.consumed, &res),
	                 IMAP_PARSE_FATAL);
	assert_null(res.cmd); /* the bad command is gone; the session sends * BYE */
	assert_int_equal(imap_parser_feed(p, "b NOOP\r\n", 8, &res), IMAP_PARSE_FATAL);
	assert_int_equal(res.consumed, 0);
	assert_null(res.cmd);
	imap_parser_reset(p);
	assert_int_equal(imap_parser_feed(p, "b NOOP\r\n", 8, &res), IMAP_PARSE_FATAL);
	imap_parser_free(&p);
	arena_free(&a);
}

static void done_stops_at_line_end(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_parser *p = imap_parser_new(NULL, a);
	struct imap_parse_result res;
	const char *in = "a STARTTLS\r\n\x16\x03\x01";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_DONE);
	assert_int_equal(res.consumed, 12);
	assert_true(imap_parser_idle(p));
	assert_str(res.cmd->name, "STARTTLS");
	assert_int_equal(res.cmd->nargs, 0);
	assert_int_equal(res.cmd->args[0].type, IMAP_ARG_EOL);
	/* the partial command is visible at LITERAL time (APPEND checks) */
	in = "b APPEND \"Sent\" (\\Seen) {5}\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_LITERAL);
	assert_int_equal(res.consumed, strlen(in));
	assert_str(res.cmd->tag, "b");
	assert_int_equal(res.cmd->nargs, 2);
	assert_str(res.cmd->args[0].str, "Sent");
	assert_int_equal(res.cmd->args[1].type, IMAP_ARG_LIST);
	assert_int_equal(res.literal_size, 5);
	assert_true(res.literal_sync);
	assert_false(imap_parser_idle(p));
	imap_parser_free(&p);
	arena_free(&a);
}

static void limits_change_between_commands(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_parser_limits small = { .max_line = 16 }, big = { .max_line = 64 };
	struct imap_parser *p = imap_parser_new(&small, a);
	struct imap_parse_result res;
	const char *in = "a LOGIN u\r\nb LOGIN user password\r\n";
	assert_int_equal(imap_parser_feed(p, in, 3, &res), IMAP_PARSE_MORE);
	/* mid-command: takes effect at the next command only */
	imap_parser_set_limits(p, &big);
	assert_int_equal(imap_parser_feed(p, in + 3, strlen(in) - 3, &res), IMAP_PARSE_DONE);
	size_t off = 3 + res.consumed;
	assert_int_equal(imap_parser_feed(p, in + off, strlen(in) - off, &res), IMAP_PARSE_DONE);
	assert_str(res.cmd->args[1].str, "password");
	imap_parser_set_limits(p, &small);
	in = "c LOGIN user password\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_BAD);
	assert_int_equal(res.error, IMAP_PARSE_ERR_TOOBIG);
	imap_parser_free(&p);
	arena_free(&a);
}

static void wide_command_gets_wide_limits(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_parser_limits lim = { .max_line = 24, .max_args = 3, .wide_cmd = "ID",
	                                  .wide_max_line = 64, .wide_max_args = 6 };
	struct imap_parser *p = imap_parser_new(&lim, a);
	struct imap_parse_result res;
	/* ID (any case) may go to 64 bytes and 6 arguments... */
	const char *in = "a id (\"name\" \"x\" \"version\" \"12345\")\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_DONE);
	assert_int_equal(res.consumed, strlen(in));
	assert_str(res.cmd->name, "ID");
	/* ...no further, */
	in = "b ID (\"name\" \"x\" \"version\" \"1\" \"os\" \"y\")\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_BAD);
	imap_parser_reset(p);
	/* and other commands, UID ID included, keep the tight limits. */
	in = "c LOGIN user12345 password\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_BAD);
	assert_int_equal(res.error, IMAP_PARSE_ERR_TOOBIG);
	imap_parser_reset(p);
	in = "d UID ID (\"name\" \"x\" \"v\" \"1\")\r\n";
	assert_int_equal(imap_parser_feed(p, in, strlen(in), &res), IMAP_PARSE_BAD);
	imap_parser_free(&p);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_commands_and_pipelining),
		cmocka_unit_test(tags_and_names),
		cmocka_unit_test(quoted_strings),
		cmocka_unit_test(eight_bit),
		cmocka_unit_test(line_endings),
		cmocka_unit_test(lists_and_depth),
		cmocka_unit_test(fetch_attributes),
		cmocka_unit_test(literals_kept),
		cmocka_unit_test(literal_sizes),
		cmocka_unit_test(literal_limits),
		cmocka_unit_test(literal_not_command_after_bad),
		cmocka_unit_test(literals_streamed),
		cmocka_unit_test(continuation_lines),
		cmocka_unit_test(fatal_stays_fatal),
		cmocka_unit_test(wide_command_gets_wide_limits),
		cmocka_unit_test(done_stops_at_line_end),
		cmocka_unit_test(limits_change_between_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
