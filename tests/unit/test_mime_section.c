/*
 * FETCH BODY[section]<partial>, BINARY and the streaming decoders.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/arena.h"
#include "mime/decode.h"
#include "mime/mime.h"
#include "mime/section.h"

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

/* The section's bytes as a NUL-terminated arena string. */
static const char *fetch(struct arena *a, const struct mime_message *m, const char *spec)
{
	struct mime_section s;
	assert_int_equal(mime_section_parse(a, spec, strlen(spec), &s), 0);
	struct mime_extract x;
	mime_section_extract(a, m, &s, &x);
	if (x.data == NULL) {
		assert_true(x.off + x.len <= m->len);
	}
	return arena_strndup(a, mime_extract_ptr(m, &x), x.len);
}

static void section_parse_syntax(void **state)
{
	struct arena *a = arena_new(0);
	struct mime_section s;
	assert_int_equal(mime_section_parse(a, "", 0, &s), 0);
	assert_int_equal(s.kind, MIME_SECTION_BODY);
	assert_int_equal(s.npath, 0);
	assert_int_equal(mime_section_parse(a, "1.2.3", 5, &s), 0);
	assert_int_equal(s.npath, 3);
	assert_int_equal(s.path[2], 3);
	const char *f = "4.header.fields.not (From \"X-Odd Name\" to)";
	assert_int_equal(mime_section_parse(a, f, strlen(f), &s), 0);
	assert_int_equal(s.kind, MIME_SECTION_HEADER_FIELDS_NOT);
	assert_int_equal(s.nfields, 3);
	assert_str(s.fields[1], "X-Odd Name");
	assert_int_equal(mime_section_parse(a, "2.MIME", 6, &s), 0);
	assert_int_equal(s.kind, MIME_SECTION_MIME);
	static const char *const bad[] = {
		"MIME", "0", "1.", "1..2", "01", "HEADER.FIELDS", "HEADER.FIELDS ()",
		"TEXT ", "1.TEXTX", "HEADER.FIELDS (a", "x", "99999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mime_section_parse(a, bad[i], strlen(bad[i]), &s), -1);
	arena_free(&a);
}

static void section_extract_nested(void **state)
{
	size_t len;
	char *msg = read_data("nested.eml", &len);
	struct arena *a = arena_new(0);
	struct mime_message *m = mime_parse(a, msg, len);

	assert_int_equal(strlen(fetch(a, m, "")), len);
	const char *hdr = fetch(a, m, "HEADER");
	assert_true(strncmp(hdr, "From: Erin", 10) == 0);
	assert_int_equal(strlen(hdr), m->root->body_start);
	assert_str(hdr + strlen(hdr) - 4, "\r\n\r\n");
	assert_true(strncmp(fetch(a, m, "TEXT"), "This is a preamble.", 19) == 0);

	assert_str(fetch(a, m, "1.1"), "Caf=C3=A9 menu =\r\nattached.");
	assert_str(fetch(a, m, "1.1.MIME"),
	           "Content-Type: text/plain; charset=\"utf-8\"\r\n"
	           "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	assert_str(fetch(a, m, "1.2"), "<html><body><p>Caf&eacute; menu</p></body></html>");
	/* Part 2 is message/rfc822: its HEADER/TEXT are the inner message's. */
	assert_str(fetch(a, m, "2.HEADER"),
	           "From: Grace <grace@example.com>\r\nSubject: Forwarded\r\n"
	           "Content-Type: multipart/mixed; boundary=\"deep\"\r\n\r\n");
	assert_true(strncmp(fetch(a, m, "2.TEXT"), "--deep\r\n", 8) == 0);
	assert_str(fetch(a, m, "2.MIME"),
	           "Content-Type: message/rfc822\r\n"
	           "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n");
	assert_true(strncmp(fetch(a, m, "2"), "From: Grace", 11) == 0);
	assert_str(fetch(a, m, "2.1"), "inner text");
	assert_str(fetch(a, m, "2.2"), "AAECAw==");
	assert_str(fetch(a, m, "2.2.MIME"),
	           "Content-Type: application/octet-stream\r\n"
	           "Content-Transfer-Encoding: base64\r\n\r\n");
	assert_str(fetch(a, m, "2.HEADER.FIELDS (SUBJECT from)"),
	           "From: Grace <grace@example.com>\r\nSubject: Forwarded\r\n\r\n");
	assert_str(fetch(a, m, "HEADER.FIELDS.NOT (From To Subject Date Message-ID In-Reply-To)"),
	           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n");
	assert_str(fetch(a, m, "HEADER.FIELDS (X-None)"), "\r\n");
	assert_str(fetch(a, m, "3"), "iVBORw0KGgo=");
	/* Nonexistent parts, and HEADER on a part that is no message. */
	assert_str(fetch(a, m, "4"), "");
	assert_str(fetch(a, m, "1.3"), "");
	assert_str(fetch(a, m, "3.1"), "");
	assert_str(fetch(a, m, "2.3"), "");
	assert_str(fetch(a, m, "1.HEADER"), "");
	assert_str(fetch(a, m, "3.TEXT"), "");
	arena_free(&a);
	free(msg);
}

static void section_single_part_message(void **state)
{
	size_t len;
	char *msg = read_data("simple.eml", &len);
	struct arena *a = arena_new(0);
	struct mime_message *m = mime_parse(a, msg, len);
	/* A non-multipart message has exactly part 1: its body. */
	const char *body = "Hi Bob,\r\n\r\nare you free for lunch on Friday?\r\n-- Alice\r\n";
	assert_str(fetch(a, m, "1"), body);
	assert_str(fetch(a, m, "TEXT"), body);
	assert_str(fetch(a, m, "2"), "");
	assert_str(fetch(a, m, "1.1"), "");
	assert_str(fetch(a, m, "HEADER.FIELDS (Subject)"), "Subject: Lunch on Friday?\r\n\r\n");
	arena_free(&a);
	free(msg);
}

static void section_partial(void **state)
{
	struct arena *a = arena_new(0);
	const char *msg = "Subject: x\r\n\r\n0123456789";
	struct mime_message *m = mime_parse(a, msg, strlen(msg));
	struct mime_section s;
	struct mime_extract x;
	mime_section_parse(a, "TEXT", 4, &s);
	mime_section_extract(a, m, &s, &x);
	mime_extract_partial(&x, 3, 4);
	assert_int_equal(x.len, 4);
	assert_memory_equal(mime_extract_ptr(m, &x), "3456", 4);
	mime_section_extract(a, m, &s, &x);
	mime_extract_partial(&x, 8, 100);
	assert_int_equal(x.len, 2);
	mime_section_extract(a, m, &s, &x);
	mime_extract_partial(&x, 10, 1);
	assert_int_equal(x.len, 0);
	mime_section_parse(a, "HEADER.FIELDS (subject)", 23, &s);
	mime_section_extract(a, m, &s, &x);
	mime_extract_partial(&x, 9, UINT64_MAX);
	assert_int_equal(x.len, 5);
	assert_memory_equal(mime_extract_ptr(m, &x), "x\r\n\r\n", 5);
	arena_free(&a);
}

/* Decode in[] through a decoder fed in two pieces split at `split`. */
static size_t decode_split(enum mime_cte cte, const char *in, size_t split, char *out)
{
	struct mime_decoder d;
	size_t n = strlen(in), o = 0;
	mime_decoder_init(&d, cte);
	o += mime_decoder_feed(&d, in, split, out + o);
	o += mime_decoder_feed(&d, in + split, n - split, out + o);
	o += mime_decoder_finish(&d, out + o);
	return o;
}

static void decoders_any_split(void **state)
{
	static const struct { enum mime_cte cte; const char *in, *out; size_t outlen; } cases[] = {
		{ MIME_CTE_QP, "Caf=C3=A9 menu =\r\nattached.", "Caf\xc3\xa9 menu attached.", 0 },
		{ MIME_CTE_QP, "trailing   \r\nspace =  \r\nsoft\nlf=\nx", "trailing\r\nspace soft\nlfx", 0 },
		{ MIME_CTE_QP, "bad =ZZ and =4 and =3d ok=", "bad =ZZ and =4 and = ok=", 0 },
		{ MIME_CTE_QP, "tab\t=09\t\r\n", "tab\t\t\r\n", 0 },
		{ MIME_CTE_BASE64, "SGVs\r\nbG8s IHdv\r\ncmxk!", "Hello, world", 0 },
		{ MIME_CTE_BASE64, "AAECAw==", "\0\1\2\3", 4 },
		{ MIME_CTE_BASE64, "YQ==Yg==", "ab", 0 },   /* concatenated blocks */
		{ MIME_CTE_IDENTITY, "as is =41", "as is =41", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].in);
		size_t want = cases[i].outlen ? cases[i].outlen : strlen(cases[i].out);
		for (size_t split = 0; split <= n; split++) {
			char out[256];
			size_t o = decode_split(cases[i].cte, cases[i].in, split, out);
			if (o != want || memcmp(out, cases[i].out, want) != 0)
				fail_msg("case %zu split %zu: got \"%.*s\"", i, split, (int)o, out);
		}
	}
}

static void decoder_byte_at_a_time_long_whitespace(void **state)
{
	/* Whitespace runs longer than the decoder holds back, then a char. */
	char in[400], out[600];
	memset(in, ' ', 300);
	strcpy(in + 300, "x  \r\n");
	struct mime_decoder d;
	mime_decoder_init(&d, MIME_CTE_QP);
	size_t o = 0;
	for (size_t i = 0; i < strlen(in); i++)
		o += mime_decoder_feed(&d, in + i, 1, out + o);
	o += mime_decoder_finish(&d, out + o);
	assert_int_equal(o, 303);
	assert_memory_equal(out + 300, "x\r\n", 3);
}

static void binary_sections(void **state)
{
	size_t len;
	char *msg = read_data("nested.eml", &len);
	struct arena *a = arena_new(0);
	struct mime_message *m = mime_parse(a, msg, len);
	uint64_t off, n, size;
	enum mime_cte cte;
	unsigned p22[] = { 2, 2 }, p11[] = { 1, 1 }, p9[] = { 9 };
	assert_int_equal(mime_binary_section(m, p22, 2, &off, &n, &cte), MIME_BINARY_OK);
	assert_int_equal(cte, MIME_CTE_BASE64);
	assert_int_equal(n, 8);
	assert_memory_equal(msg + off, "AAECAw==", 8);
	assert_int_equal(mime_binary_size(m, mime_find_part(m, p22, 2), &size), 0);
	assert_int_equal(size, 4);
	size_t dl;
	char *dec = mime_decode_body(a, m, mime_find_part(m, p11, 2), SIZE_MAX, &dl);
	assert_str(dec, "Caf\xc3\xa9 menu attached.");
	assert_int_equal(mime_binary_size(m, mime_find_part(m, p11, 2), &size), 0);
	assert_int_equal(size, dl);
	assert_int_equal(mime_binary_section(m, p9, 1, &off, &n, &cte), MIME_BINARY_NO_PART);
	assert_int_equal(mime_binary_section(m, NULL, 0, &off, &n, &cte), MIME_BINARY_OK);
	assert_int_equal(n, len);
	free(msg);

	const char *odd = "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n";
	m = mime_parse(a, odd, strlen(odd));
	unsigned p1[] = { 1 };
	assert_int_equal(mime_binary_section(m, p1, 1, &off, &n, &cte), MIME_BINARY_UNKNOWN_CTE);
	assert_int_equal(mime_binary_size(m, m->root, &size), -1);
	arena_free(&a);
}

static void message_global_and_top_level_message(void **state)
{
	struct arena *a = arena_new(0);
	const char *msg = "Content-Type: multipart/mixed; boundary=g\r\n\r\n--g\r\n"
	                  "Content-Type: message/global\r\n\r\nSubject: inner\r\n\r\nhi\r\n--g--\r\n";
	struct mime_message *m = mime_parse(a, msg, strlen(msg));
	assert_str(fetch(a, m, "1.HEADER"), "Subject: inner\r\n\r\n");
	assert_str(fetch(a, m, "1.1"), "hi");
	assert_str(mime_bodystructure(a, m, m->root, false),
	           "((\"message\" \"global\" NIL NIL NIL \"7BIT\" 20 (NIL \"inner\" NIL NIL NIL NIL "
	           "NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 2 1) 3) "
	           "\"mixed\")");
	/* A message that is itself message/rfc822: part 1 is the inner
	 * message, 1.1 its body. */
	msg = "Content-Type: message/rfc822\r\n\r\nSubject: wrapped\r\n\r\nbody\r\n";
	m = mime_parse(a, msg, strlen(msg));
	assert_str(fetch(a, m, "1"), "Subject: wrapped\r\n\r\nbody\r\n");
	assert_str(fetch(a, m, "1.HEADER"), "Subject: wrapped\r\n\r\n");
	assert_str(fetch(a, m, "1.1"), "body\r\n");
	assert_str(fetch(a, m, "1.2"), "");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(section_parse_syntax),
		cmocka_unit_test(section_extract_nested),
		cmocka_unit_test(section_single_part_message),
		cmocka_unit_test(section_partial),
		cmocka_unit_test(decoders_any_split),
		cmocka_unit_test(decoder_byte_at_a_time_long_whitespace),
		cmocka_unit_test(binary_sections),
		cmocka_unit_test(message_global_and_top_level_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
