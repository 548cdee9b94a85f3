#include "unit.h"
#include "auth/password.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hash_is_argon2id_with_owasp_parameters(void **state)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	const char *error;
	assert_int_equal(password_hash("correct horse", 13, h1, &error), 0);
	assert_int_equal(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	/* A fresh salt each time. */
	assert_int_equal(password_hash("correct horse", 13, h2, &error), 0);
	assert_string_not_equal(h1, h2);
	assert_false(password_needs_rehash(h1));
}

static void verify_right_and_wrong(void **state)
{
	char h[PASSWORD_HASH_MAX];
	const char *error;
	assert_int_equal(password_hash("s3cret\xc3\xa9", 8, h, &error), 0);
	assert_int_equal(password_verify(h, "s3cret\xc3\xa9", 8), PASSWORD_OK);
	assert_int_equal(password_verify(h, "s3cret", 6), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "S3cret\xc3\xa9", 8), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "s3cret\xc3\xa9x", 9), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "", 0), PASSWORD_MISMATCH);
	/* Length is explicit: an embedded NUL is part of the password. */
	assert_int_equal(password_hash("a\0b", 3, h, &error), 0);
	assert_int_equal(password_verify(h, "a\0b", 3), PASSWORD_OK);
	assert_int_equal(password_verify(h, "a", 1), PASSWORD_MISMATCH);
}

static void refuses_empty_and_oversize(void **state)
{
	char h[PASSWORD_HASH_MAX];
	const char *error = NULL;
	assert_int_equal(password_hash("", 0, h, &error), -1);
	assert_str(error, "empty password");
	static char big[PASSWORD_MAX_LEN + 1];
	memset(big, 'x', sizeof(big));
	assert_int_equal(password_hash(big, sizeof(big), h, &error), -1);
	assert_int_equal(password_hash(big, PASSWORD_MAX_LEN, h, &error), 0);
	assert_int_equal(password_verify(h, big, PASSWORD_MAX_LEN), PASSWORD_OK);
	assert_int_equal(password_verify(h, big, sizeof(big)), PASSWORD_MISMATCH);
}

static void malformed_hashes_are_reported(void **state)
{
	assert_int_equal(password_verify("", "x", 1), PASSWORD_BAD_HASH);
	assert_int_equal(password_verify("{PLAIN}x", "x", 1), PASSWORD_BAD_HASH);
	assert_int_equal(password_verify("$argon2id$v=19$m=19456,t=2,p=1$garbage", "x", 1),
	                 PASSWORD_BAD_HASH);
}

static void needs_rehash_on_other_parameters(void **state)
{
	assert_true(password_needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	                                  "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"));
	assert_true(password_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	                                  "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"));
	assert_true(password_needs_rehash("$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	                                  "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"));
	assert_true(password_needs_rehash("{SHA512-CRYPT}$6$abc"));
	assert_false(password_needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
	                                   "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"));
}

static void dummy_costs_about_as_much_as_a_real_check(void **state)
{
	char h[PASSWORD_HASH_MAX];
	const char *error;
	assert_int_equal(password_hash("pw", 2, h, &error), 0);
	password_verify_dummy("warm", 4);  /* builds the dummy hash once */
	double real = 0, dummy = 0;
	for (int i = 0; i < 3; i++) {
		double t0 = now_s();
		(void)password_verify(h, "wrong", 5);
		double t1 = now_s();
		password_verify_dummy("wrong", 5);
		double t2 = now_s();
		real += t1 - t0;
		dummy += t2 - t1;
	}
	/* Same parameters, same work: within a factor of 3 even on a busy machine. */
	if (dummy < real / 3 || dummy > real * 3)
		fail_msg("dummy %.3fs vs real %.3fs", dummy, real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_is_argon2id_with_owasp_parameters),
		cmocka_unit_test(verify_right_and_wrong),
		cmocka_unit_test(refuses_empty_and_oversize),
		cmocka_unit_test(malformed_hashes_are_reported),
		cmocka_unit_test(needs_rehash_on_other_parameters),
		cmocka_unit_test(dummy_costs_about_as_much_as_a_real_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
