/*
 * The corpus in tests/data/mime/: each message's ENVELOPE, BODY and
 * BODYSTRUCTURE, checked against strings worked out from RFC 9051 7.5.2
 * (sizes and line counts were counted independently of the parser).
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/arena.h"
#include "mime/mime.h"

static char *read_data(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/data/mime/%s", name);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *d = malloc((size_t)n + 1);
	assert_int_equal(fread(d, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return d;
}

struct expect {
	const char *file, *envelope, *body, *bodystructure;
};

#define ALICE "((\"Alice Example\" NIL \"alice\" \"example.org\"))"
#define ERIN "((\"Erin\" NIL \"erin\" \"example.com\"))"
#define GRACE "((\"Grace\" NIL \"grace\" \"example.com\"))"
#define TAROH "((\"=?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?=\" NIL \"taro\" \"example.jp\"))"

static const struct expect CORPUS[] = {
	{ "simple.eml",
	  "(\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"Lunch on Friday?\" " ALICE " " ALICE " "
	  ALICE " ((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL \"<B27397-0100000@example.org>\")",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 56 4)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 56 4 NIL NIL NIL NIL)" },
	{ "lf_only.eml", NULL,
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 10 1)"
	  "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 29 1) \"alternative\")",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
	  "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 29 1 NIL NIL NIL NIL) "
	  "\"alternative\" (\"boundary\" \"xyz\") NIL NIL NIL)" },
	{ "nested.eml",
	  "(\"Tue, 1 Mar 2022 10:00:00 +0000\" \"Nested structure\" " ERIN " " ERIN " " ERIN
	  " ((\"Frank\" NIL \"frank\" \"example.com\")) NIL NIL \"<parent@example.com>\" "
	  "\"<nested@example.com>\")",
	  "(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 27 2)"
	  "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 49 1) \"alternative\")"
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 254 (NIL \"Forwarded\" " GRACE " " GRACE
	  " " GRACE " NIL NIL NIL NIL NIL) ((\"text\" \"plain\" NIL NIL NIL \"7BIT\" 10 1)"
	  "(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 8) \"mixed\") 14)"
	  "(\"image\" \"png\" (\"name\" \"dot.png\") \"<dot@example.com>\" NIL \"base64\" 12) \"mixed\")",
	  "(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 27 2 NIL NIL NIL NIL)"
	  "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 49 1 NIL NIL NIL NIL) "
	  "\"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)"
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 254 (NIL \"Forwarded\" " GRACE " " GRACE
	  " " GRACE " NIL NIL NIL NIL NIL) ((\"text\" \"plain\" NIL NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL)"
	  "(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 8 NIL NIL NIL NIL) \"mixed\" "
	  "(\"boundary\" \"deep\") NIL NIL NIL) 14 NIL (\"attachment\" (\"filename\" \"fwd.eml\")) NIL NIL)"
	  "(\"image\" \"png\" (\"name\" \"dot.png\") \"<dot@example.com>\" NIL \"base64\" 12 NIL NIL NIL NIL) "
	  "\"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)" },
	{ "groups.eml",
	  "(NIL \"groups and routes\" ((\"Doe, John\" NIL \"john.doe\" \"example.com\")) "
	  "((NIL \"@relay1.example,@relay2.example\" \"route\" \"example.com\")) "
	  "((\"Jane Q. Public\" NIL \"jane\" \"example.com\")) "
	  "((NIL NIL \"Friends\" NIL)(NIL NIL \"alice\" \"example.org\")(\"Bob\" NIL \"bob\" \"example.net\")"
	  "(NIL NIL NIL NIL)(NIL NIL \"quoted local\" \"example.com\")) "
	  "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) ((NIL NIL \"nobody\" \"\")) NIL "
	  "\"<groups@example.com>\")",
	  NULL, NULL },
	{ "header_only.eml",
	  "(NIL \"no body\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
	  "NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)", NULL },
	{ "missing_boundary.eml", NULL,
	  "(((\"text\" \"plain\" NIL NIL NIL \"7BIT\" 5 1) \"alternative\")"
	  "(\"text\" \"plain\" NIL NIL NIL \"7BIT\" 22 1) \"mixed\")", NULL },
	{ "wrong_boundary.eml", NULL,
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0) \"mixed\")", NULL },
	{ "digest.eml", NULL,
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 52 (NIL \"One\" ((NIL NIL \"one\" \"example.com\")) "
	  "((NIL NIL \"one\" \"example.com\")) ((NIL NIL \"one\" \"example.com\")) NIL NIL NIL NIL NIL) "
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 13 1) 4)"
	  "(\"text\" \"plain\" NIL NIL NIL \"7BIT\" 13 1) \"digest\")", NULL },
	{ "params.eml", NULL, NULL,
	  "((\"application\" \"pdf\" (\"name\" \"longname.pdf\") \"<r1@example.com>\" \"The report\" "
	  "\"base64\" 8 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename*\" "
	  "\"utf-8''%E2%82%AC%20report.pdf\")) (\"en\" \"de-CH\") \"http://example.com/report.pdf\")"
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 7 1 NIL NIL \"fr\" NIL) "
	  "\"mixed\" (\"foo\" \"boundary=wrong;\" \"boundary\" \"=_b(1) x\") NIL NIL NIL)" },
	{ "encoded.eml",
	  "(NIL \"=?ISO-8859-1?Q?Andr=E9?= =?windows-1252?Q?=80_price?=  =?UTF-8?B?w6ni?= "
	  "=?UTF-8?B?gqw=?= and =?x-unknown?q?ok?= =?utf-8?q?bad=FF?=\" " TAROH " " TAROH " " TAROH
	  " ((\"=?KOI8-R?B?6dfBzg==?=\" NIL \"ivan\" \"example.ru\")(\"=?GB2312?B?wO7D9w==?=\" NIL "
	  "\"li\" \"example.cn\")) ((\"=?Shift_JIS?B?idSOcQ==?=\" NIL \"hanako\" \"example.jp\")) "
	  "NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 22 1)", NULL },
	{ "eightbit.eml",
	  /* 8-bit values cannot be quoted strings: literals. */
	  "(NIL {7}\r\nGr\xc3\xbc\xc3\x9f" "e (({4}\r\nJ\xf6rg NIL \"joerg\" \"example.de\")) "
	  "(({4}\r\nJ\xf6rg NIL \"joerg\" \"example.de\")) (({4}\r\nJ\xf6rg NIL \"joerg\" "
	  "\"example.de\")) NIL NIL NIL NIL NIL)",
	  "(\"text\" \"html\" (\"charset\" \"iso-8859-1\") NIL NIL \"7BIT\" 146 1)", NULL },
};

static void corpus_imap_structures(void **state)
{
	for (size_t i = 0; i < sizeof(CORPUS) / sizeof(CORPUS[0]); i++) {
		const struct expect *e = &CORPUS[i];
		size_t len;
		char *msg = read_data(e->file, &len);
		struct arena *a = arena_new(0);
		struct mime_summary s;
		assert_int_equal(mime_summarize(a, msg, len, &s), 0);
		print_message("%s\n", e->file);
		if (e->envelope)
			assert_str(s.envelope, e->envelope);
		if (e->body)
			assert_str(s.body, e->body);
		if (e->bodystructure)
			assert_str(s.bodystructure, e->bodystructure);
		arena_free(&a);
		free(msg);
	}
}

static void summary_decoded_fields(void **state)
{
	size_t len;
	char *msg = read_data("encoded.eml", &len);
	struct arena *a = arena_new(0);
	struct mime_summary s;
	mime_summarize(a, msg, len, &s);
	/* Adjacent encoded words join without the space between them; a
	 * UTF-8 character split over two words is put back together. */
	assert_str(s.subject, "Andr\xc3\xa9\xe2\x82\xac price\xc3\xa9\xe2\x82\xac and okbad\xef\xbf\xbd");
	assert_str(s.from, "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e <taro@example.jp>");
	assert_str(s.to, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd <ivan@example.ru>, \xe6\x9d\x8e\xe6\x98\x8e <li@example.cn>");
	assert_str(s.cc, "\xe8\x8a\xb1\xe5\xad\x90 <hanako@example.jp>");
	assert_str(s.bcc, "");
	assert_str(s.date_header, "");
	assert_str(s.preview, "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen");
	assert_false(s.has_attachments);
	free(msg);

	msg = read_data("eightbit.eml", &len);
	mime_summarize(a, msg, len, &s);
	/* Raw 8-bit header that is not UTF-8: read as windows-1252. */
	assert_str(s.from, "J\xc3\xb6rg <joerg@example.de>");
	assert_str(s.subject, "Gr\xc3\xbc\xc3\x9f" "e");
	assert_str(s.preview, "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac 5 < 6 M\xc3\xbcnchen");
	assert_null(strstr(s.search_text, "color"));
	assert_null(strstr(s.search_text, "var x"));
	assert_int_equal(s.header_size, 96);
	assert_int_equal(s.body_size, 146);
	free(msg);
	arena_free(&a);
}

static void summary_text_and_attachments(void **state)
{
	size_t len;
	char *msg = read_data("nested.eml", &len);
	struct arena *a = arena_new(0);
	struct mime_summary s;
	mime_summarize(a, msg, len, &s);
	assert_true(s.has_attachments);
	assert_str(s.preview, "Caf\xc3\xa9 menu attached.");
	assert_non_null(strstr(s.search_text, "Caf\xc3\xa9 menu attached."));
	assert_non_null(strstr(s.search_text, "inner text"));     /* in the attached message */
	assert_non_null(strstr(s.search_text, "fwd.eml"));
	assert_non_null(strstr(s.search_text, "dot.png"));
	assert_null(strstr(s.search_text, "<p>"));
	assert_null(strstr(s.search_text, "preamble"));
	assert_str(s.in_reply_to, "<parent@example.com>");
	assert_str(s.message_id, "<nested@example.com>");
	free(msg);

	msg = read_data("params.eml", &len);
	mime_summarize(a, msg, len, &s);
	assert_true(s.has_attachments);
	assert_non_null(strstr(s.search_text, "\xe2\x82\xac report.pdf"));
	free(msg);

	msg = read_data("simple.eml", &len);
	mime_summarize(a, msg, len, &s);
	assert_false(s.has_attachments);
	assert_str(s.preview, "Hi Bob, are you free for lunch on Friday? -- Alice");
	assert_int_equal(s.header_size + s.body_size, len);
	free(msg);
	arena_free(&a);
}

static void preview_is_cut_at_200_characters(void **state)
{
	struct arena *a = arena_new(0);
	char msg[4096] = "Subject: long\r\n\r\n";
	for (int i = 0; i < 300; i++)
		strcat(msg, "\xc3\xa9  ");   /* "é" and two spaces */
	struct mime_summary s;
	mime_summarize(a, msg, strlen(msg), &s);
	/* 100 "é" and the 99 single spaces between them (collapsed; the
	 * 200th character would be a trailing space). */
	assert_int_equal(strlen(s.preview), 100 * 2 + 99);
	assert_int_equal(s.preview[298], '\xa9');
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_imap_structures),
		cmocka_unit_test(summary_decoded_fields),
		cmocka_unit_test(summary_text_and_attachments),
		cmocka_unit_test(preview_is_cut_at_200_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
