#include "unit.h"
#include "imap/imap_resp.h"
#include "lib/buf.h"

#include <stdlib.h>

static struct buf out;

static int setup(void **state)
{
	buf_init(&out, 8192);
	return 0;
}

static int teardown(void **state)
{
	buf_deinit(&out);
	return 0;
}

static const char *str(const char *s, size_t n, unsigned flags)
{
	buf_reset(&out, 0);
	if (imap_resp_write_string(&out, s, n, flags) < 0)
		return "ERROR";
	return buf_ptr(&out);
}

#define S(lit, flags) str((lit), sizeof(lit) - 1, (flags))

static void resp_string_quoted_or_literal(void **state)
{
	assert_str(S("INBOX", 0), "\"INBOX\"");
	assert_str(S("", 0), "\"\"");
	assert_str(S("a\"b\\c", 0), "\"a\\\"b\\\\c\"");
	assert_str(S("\"", 0), "\"\\\"\"");
	assert_str(S("tab\there", 0), "\"tab\there\"");
	assert_str(S("two\r\nlines", 0), "{10}\r\ntwo\r\nlines");
	assert_str(S("lf\n", 0), "{3}\r\nlf\n");
	/* 8-bit: literal in IMAP4rev1, quoted UTF-8 in IMAP4rev2 */
	assert_str(S("caf\xc3\xa9", 0), "{5}\r\ncaf\xc3\xa9");
	assert_str(S("caf\xc3\xa9", IMAP_RESP_UTF8), "\"caf\xc3\xa9\"");
	assert_str(S("\xf0\x9f\x93\xa7", IMAP_RESP_UTF8), "\"\xf0\x9f\x93\xa7\"");
	/* invalid UTF-8 never goes quoted */
	assert_str(S("\xc3(", IMAP_RESP_UTF8), "{2}\r\n\xc3(");
	assert_str(S("\xed\xa0\x80", IMAP_RESP_UTF8), "{3}\r\n\xed\xa0\x80");
	assert_str(S("\xc3", IMAP_RESP_UTF8), "{1}\r\n\xc3");
	assert_str(S("x", IMAP_RESP_LITERAL), "{1}\r\nx");
	/* NUL: only as literal8 */
	assert_str(S("a\0b", 0), "ERROR");
	assert_int_equal(buf_len(&out), 0);
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_string(&out, "a\0b", 3, IMAP_RESP_BINARY), 0);
	assert_memory_equal(buf_ptr(&out), "~{3}\r\na\0b", 9);
	/* too long for a quoted string */
	char *big = malloc(IMAP_RESP_QUOTED_MAX + 1);
	memset(big, 'x', IMAP_RESP_QUOTED_MAX + 1);
	assert_int_equal(str(big, IMAP_RESP_QUOTED_MAX, 0)[0], '"');
	assert_true(strncmp(str(big, IMAP_RESP_QUOTED_MAX + 1, 0), "{1025}\r\nxx", 10) == 0);
	free(big);
}

static void resp_nstring_astring(void **state)
{
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_nstring(&out, NULL, 0, 0), 0);
	assert_int_equal(buf_append_str(&out, " "), 0);
	assert_int_equal(imap_resp_write_nstring(&out, "", 0, 0), 0);
	assert_int_equal(buf_append_str(&out, " "), 0);
	/* client-chosen names are never atoms, even when they could be */
	assert_int_equal(imap_resp_write_astring(&out, "NIL", 3, 0), 0);
	assert_int_equal(buf_append_str(&out, " "), 0);
	assert_int_equal(imap_resp_write_astring(&out, "INBOX", 5, 0), 0);
	assert_str(buf_ptr(&out), "NIL \"\" \"NIL\" \"INBOX\"");
}

static void resp_atoms_and_flags(void **state)
{
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_atom(&out, "IMAP4rev2"), 0);
	assert_int_equal(imap_resp_write_atom(&out, ""), -1);
	assert_int_equal(imap_resp_write_atom(&out, "a b"), -1);
	assert_int_equal(imap_resp_write_atom(&out, "a]"), -1);
	assert_int_equal(imap_resp_write_atom(&out, "x\r\n"), -1);
	assert_str(buf_ptr(&out), "IMAP4rev2");

	buf_reset(&out, 0);
	static const char *const flags[] = { "\\Seen", "\\*", "$Junk", "work" };
	assert_int_equal(imap_resp_write_flags(&out, flags, 4), 0);
	assert_str(buf_ptr(&out), "(\\Seen \\* $Junk work)");
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_flags(&out, flags, 0), 0);
	assert_str(buf_ptr(&out), "()");
	static const char *const bad1[] = { "\\Seen", "a b" };
	static const char *const bad2[] = { "\\" };
	static const char *const bad3[] = { "x)" };
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_flags(&out, bad1, 2), -1);
	assert_int_equal(imap_resp_write_flags(&out, bad2, 1), -1);
	assert_int_equal(imap_resp_write_flags(&out, bad3, 1), -1);
	assert_int_equal(buf_len(&out), 0);
}

static void resp_text_and_heads(void **state)
{
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_text(&out, "bad\r\n* OK [ALERT] x\t\x01\xc3\xa9"), 0);
	assert_str(buf_ptr(&out), "bad  * OK [ALERT] x  ??");
	buf_reset(&out, 0);
	assert_int_equal(imap_resp_write_literal_head(&out, 52428800, false), 0);
	assert_int_equal(imap_resp_write_literal_head(&out, 0, true), 0);
	assert_str(buf_ptr(&out), "{52428800}\r\n~{0}\r\n");
}

static void resp_ceiling_leaves_buffer_unchanged(void **state)
{
	struct buf small;
	buf_init(&small, 8);
	assert_int_equal(buf_append_str(&small, "ab"), 0);
	assert_int_equal(imap_resp_write_string(&small, "abcdef", 6, 0), -1);
	assert_str(buf_ptr(&small), "ab");
	assert_int_equal(imap_resp_write_string(&small, "a\r\nb", 4, 0), -1);
	assert_str(buf_ptr(&small), "ab");
	assert_int_equal(imap_resp_write_string(&small, "a\"b", 3, 0), 0);
	assert_str(buf_ptr(&small), "ab\"a\\\"b\"");
	buf_deinit(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(resp_string_quoted_or_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(resp_nstring_astring, setup, teardown),
		cmocka_unit_test_setup_teardown(resp_atoms_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(resp_text_and_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(resp_ceiling_leaves_buffer_unchanged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
