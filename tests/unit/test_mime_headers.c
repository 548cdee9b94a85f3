/*
 * Header-level pieces: address lists, RFC 2047 words and charsets,
 * Content-Type parameters (RFC 2231), IMAP string quoting.
 */
#include "unit.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/address.h"
#include "mime/encword.h"
#include "mime/imapstr.h"
#include "mime/param.h"

static const char *imap_addresses(struct arena *a, const char *hdr)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	buf_reserve(&b, 1);
	mime_address_write_imap(&b, mime_address_parse(a, hdr, strlen(hdr)));
	const char *s = arena_strdup(a, buf_ptr(&b));
	buf_deinit(&b);
	return s;
}

static void address_lists(void **state)
{
	struct arena *a = arena_new(0);
	static const char *const cases[][2] = {
		{ "", "NIL" },
		{ "   ", "NIL" },
		{ "a@b", "((NIL NIL \"a\" \"b\"))" },
		{ "Ann <a@b.c>", "((\"Ann\" NIL \"a\" \"b.c\"))" },
		{ "  Ann   Lee  <a@b.c>", "((\"Ann Lee\" NIL \"a\" \"b.c\"))" },
		{ "\"Lee, Ann \\\"A\\\"\" <a@b.c>", "((\"Lee, Ann \\\"A\\\"\" NIL \"a\" \"b.c\"))" },
		{ "=?utf-8?q?J=C3=B6rg?= <j@x>", "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x\"))" },
		{ "a@b (Ann (the) one)", "((\"Ann (the) one\" NIL \"a\" \"b\"))" },
		{ "Ann (c) <a@b>", "((\"Ann\" NIL \"a\" \"b\"))" },
		{ "<@r1,@r2:a@b>", "((NIL \"@r1,@r2\" \"a\" \"b\"))" },
		{ "john . doe @ example . com", "((NIL NIL \"john.doe\" \"example.com\"))" },
		{ "a@[10.0.0.1]", "((NIL NIL \"a\" \"[10.0.0.1]\"))" },
		{ "g: ;", "((NIL NIL \"g\" NIL)(NIL NIL NIL NIL))" },
		{ "g: a@b, c@d; e@f", "((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\")"
		                      "(NIL NIL NIL NIL)(NIL NIL \"e\" \"f\"))" },
		{ "g: a@b", "((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))" },
		{ "<>", "((NIL NIL \"\" \"\"))" },
		{ "a@b,,, ,c@d", "((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\"))" },
		{ "Ann <a@b", "((\"Ann\" NIL \"a\" \"b\"))" },
		{ "\"unterminated <a@b>", "((NIL NIL \"unterminated <a@b>\" \"\"))" },
		{ "x\r\n y@z", "((NIL NIL \"xy\" \"z\"))" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i][0]);
		assert_str(imap_addresses(a, cases[i][0]), cases[i][1]);
	}
	arena_free(&a);
}

static void address_list_is_bounded(void **state)
{
	struct arena *a = arena_new(0);
	size_t n = 3 * (MIME_MAX_ADDRESSES + 50);
	char *s = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i += 3)
		memcpy(s + i, "a@,", 3);
	unsigned count = 0;
	for (struct mime_address *ad = mime_address_parse(a, s, n); ad; ad = ad->next)
		count++;
	assert_int_equal(count, MIME_MAX_ADDRESSES);
	arena_free(&a);
}

static void encoded_words(void **state)
{
	struct arena *a = arena_new(0);
	static const char *const cases[][2] = {
		{ "plain", "plain" },
		{ "=?utf-8?q?a_b?=", "a b" },
		{ "=?UTF-8?B?w6k=?=", "\xc3\xa9" },
		{ "=?utf-8?q?a?=  \r\n =?utf-8?q?b?=", "ab" },
		{ "=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b" },
		{ "x=?utf-8?q?a?=y", "xay" },
		{ "=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9" },
		{ "=?iso-8859-15?q?=A4?=", "\xe2\x82\xac" },
		{ "=?windows-1251?b?8OA=?=", "\xd1\x80\xd0\xb0" },
		{ "=?koi8-r?b?8sXE?=", "\xd0\xa0\xd0\xb5\xd0\xb4" },
		{ "=?iso-2022-jp?b?GyRCJCIbKEI=?=", "\xe3\x81\x82" },
		{ "=?shift_jis?b?gqA=?=", "\xe3\x81\x82" },
		{ "=?gb2312?b?1tA=?=", "\xe4\xb8\xad" },
		{ "=?gbk?b?gUA=?=", "\xe4\xb8\x82" },
		{ "=?utf-8*en?q?hi?=", "hi" },
		{ "=?no-such-charset?q?ok?=", "ok" },
		{ "=?utf-8?q?\xff?=", "\xef\xbf\xbd" },
		{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
		{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated" },
		{ "=??q?a?=", "=??q?a?=" },
		{ "=?utf-8?q?has space?=", "=?utf-8?q?has space?=" },
		{ "caf\xe9", "caf\xc3\xa9" },   /* raw latin-1: windows-1252 */
		{ "=?utf-8?b?4oI=?==?utf-8?b?rA==?=", "\xe2\x82\xac" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i][0]);
		assert_str(encword_decode_arena(a, cases[i][0], strlen(cases[i][0])), cases[i][1]);
	}
	arena_free(&a);
}

static void content_type_params(void **state)
{
	struct arena *a = arena_new(0);
	struct mime_ctype ct;
	const char *v = " Text/Plain ; (comment) charset = \"utf-8\" ; format=flowed;;junk; x=";
	mime_ctype_parse(a, v, strlen(v), true, &ct);
	assert_str(ct.type, "Text");
	assert_str(ct.subtype, "Plain");
	assert_int_equal(ct.nparams, 3);
	assert_str(ct.params[0].name, "charset");
	assert_str(ct.params[0].value, "utf-8");
	assert_str(ct.params[1].value, "flowed");
	assert_str(ct.params[2].value, "");

	v = "application/x; name*2=\"c\"; name*0=\"a\"; name*1=\"b\"; other=1";
	mime_ctype_parse(a, v, strlen(v), true, &ct);
	assert_int_equal(ct.nparams, 2);
	assert_str(ct.params[0].name, "name");
	assert_str(ct.params[0].value, "abc");
	assert_str(mime_param_decoded(a, ct.params, ct.nparams, "NAME"), "abc");

	v = "attachment; filename*=iso-8859-1'de'M%FCller%20%ZZ.txt";
	mime_ctype_parse(a, v, strlen(v), false, &ct);
	assert_str(ct.type, "attachment");
	assert_null(ct.subtype);
	assert_str(ct.params[0].name, "filename*");
	assert_str(mime_param_decoded(a, ct.params, ct.nparams, "filename"), "M\xc3\xbcller %ZZ.txt");

	v = "attachment; filename=my file (1).pdf";
	mime_ctype_parse(a, v, strlen(v), false, &ct);
	assert_str(ct.params[0].value, "my file (1).pdf");
	v = "attachment; filename=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"";
	mime_ctype_parse(a, v, strlen(v), false, &ct);
	assert_str(mime_param_decoded(a, ct.params, ct.nparams, "filename"), "r\xc3\xa9sum\xc3\xa9.pdf");

	v = "text";   /* no subtype: unusable */
	mime_ctype_parse(a, v, strlen(v), true, &ct);
	assert_null(ct.type);
	arena_free(&a);
}

static void imap_strings(void **state)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	buf_reserve(&b, 1);
	imapstr_append(&b, "a \"q\" \\ b", 9);
	assert_str(buf_ptr(&b), "\"a \\\"q\\\" \\\\ b\"");
	buf_reset(&b, 1 << 16);
	imapstr_append(&b, "x\r\ny", 4);
	assert_str(buf_ptr(&b), "{4}\r\nx\r\ny");
	buf_reset(&b, 1 << 16);
	imapstr_append(&b, "n\0ul", 4);
	assert_str(buf_ptr(&b), "{3}\r\nnul");
	buf_reset(&b, 1 << 16);
	imapstr_append_nstring(&b, NULL);
	imapstr_append_nstring(&b, "");
	assert_str(buf_ptr(&b), "NIL\"\"");
	buf_reset(&b, 1 << 16);
	char long_ascii[IMAPSTR_QUOTED_MAX + 1];
	memset(long_ascii, 'a', sizeof(long_ascii));
	imapstr_append(&b, long_ascii, sizeof(long_ascii));
	assert_true(strncmp(buf_ptr(&b), "{1025}\r\naaa", 11) == 0);
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(address_lists),
		cmocka_unit_test(address_list_is_bounded),
		cmocka_unit_test(encoded_words),
		cmocka_unit_test(content_type_params),
		cmocka_unit_test(imap_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
