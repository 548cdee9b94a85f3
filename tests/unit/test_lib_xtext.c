/* xtext (RFC 3461 section 4): strict decoding, canonical encoding, and the
 * ENVID/ORCPT checks built on it. */
#include "unit.h"
#include "lib/xtext.h"

static void decode(void **state)
{
	char out[64];
	assert_int_equal(xtext_decode("abc", 3, out, sizeof(out)), 3);
	assert_str(out, "abc");
	assert_int_equal(xtext_decode("a+2Bb+3Dc+20d", 13, out, sizeof(out)), 7);
	assert_str(out, "a+b=c d");
	assert_int_equal(xtext_decode("", 0, out, sizeof(out)), 0);
	assert_str(out, "");
	assert_int_equal(xtext_decode("+00x", 4, out, sizeof(out)), 2);  /* a NUL inside */
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'x');
	/* not xtext: lower-case hex, a cut hexchar, a raw '=', space, control, 8-bit */
	static const char *const bad[] = { "+2b", "ab+2", "ab+", "+", "a=b", "a b", "a\tb",
	                                   "\xc3\xa9", "+G0", "\x7f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xtext_decode(bad[i], strlen(bad[i]), out, sizeof(out)) != -1)
			fail_msg("decoded bad case %zu", i);
		if (xtext_valid(bad[i], strlen(bad[i])))
			fail_msg("valid bad case %zu", i);
	}
	assert_true(xtext_valid("a+2Bb", 5));
	assert_true(xtext_valid("", 0));
	/* too small an output */
	assert_int_equal(xtext_decode("abcd", 4, out, 4), -1);
	assert_int_equal(xtext_decode("abcd", 4, out, 5), 4);
	assert_int_equal(xtext_decode("", 0, out, 0), -1);
}

static void encode(void **state)
{
	char out[64];
	assert_int_equal(xtext_encode("a+b=c d\n\xc3\xa9", 10, out, sizeof(out)), 22);
	assert_str(out, "a+2Bb+3Dc+20d+0A+C3+A9");
	/* "abc" and the NUL need 4 bytes */
	assert_int_equal(xtext_encode("abc", 3, out, 3), -1);
	assert_int_equal(xtext_encode("abc", 3, out, 4), 3);
	assert_int_equal(xtext_encode("+", 1, out, 3), -1);
	assert_int_equal(xtext_encode("+", 1, out, 4), 3);
	/* every byte value round-trips */
	char all[256], enc[3 * 256 + 1], dec[257];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	int n = xtext_encode(all, 256, enc, sizeof(enc));
	assert_true(n > 0);
	assert_true(xtext_valid(enc, (size_t)n));
	assert_int_equal(xtext_decode(enc, (size_t)n, dec, sizeof(dec)), 256);
	assert_memory_equal(dec, all, 256);
	/* canonical input comes back unchanged */
	const char *canon = "ENV+2B1+3D2";
	assert_int_equal(xtext_decode(canon, strlen(canon), dec, sizeof(dec)), 7);
	assert_int_equal(xtext_encode(dec, 7, enc, sizeof(enc)), (int)strlen(canon));
	assert_str(enc, canon);
}

static void envid_and_orcpt(void **state)
{
	assert_true(xtext_envid_valid("QQ314159", 8, 100));
	assert_true(xtext_envid_valid("a+20b", 5, 100));       /* decodes to printable */
	assert_false(xtext_envid_valid("a+0Ab", 5, 100));      /* a line break */
	assert_false(xtext_envid_valid("a+C3", 4, 100));       /* 8-bit */
	assert_false(xtext_envid_valid("", 0, 100));
	assert_false(xtext_envid_valid("abcd", 4, 3));          /* too long */
	assert_false(xtext_envid_valid("a=b", 3, 100));

	const char *ok[] = { "rfc822;bob@example.net", "RFC822;b+2Bx@y", "utf-8;a@b",
	                     "x-local;weird+20one" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!xtext_orcpt_valid(ok[i], strlen(ok[i]), 500))
			fail_msg("refused good ORCPT %zu", i);
	const char *bad[] = { "bob@example.net", ";bob@x", "rfc822;", "rfc 822;a@b",
	                      "rfc822;a+0D@b", "rfc822;a b", "rf;c822;a+zz", "r@x;b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xtext_orcpt_valid(bad[i], strlen(bad[i]), 500))
			fail_msg("accepted bad ORCPT %zu", i);
	assert_false(xtext_orcpt_valid("rfc822;a@b", 10, 9));
	assert_true(xtext_orcpt_valid("rfc822;a@b", 10, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode),
		cmocka_unit_test(encode),
		cmocka_unit_test(envid_and_orcpt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
