#include "unit.h"
#include "auth/sasl.h"
#include "lib/base64.h"

#include <stdio.h>

/* Base64 of raw bytes, in a rotating static buffer. */
static const char *b64(const char *raw, size_t len)
{
	static char bufs[4][4096];
	static int next;
	char *out = bufs[next++ % 4];
	assert_int_not_equal(base64_encode(raw, len, out, 4096), (size_t)-1);
	return out;
}

static enum sasl_status step_str(struct sasl *s, const char *line, const char **text)
{
	return sasl_step(s, line, strlen(line), text);
}

static void plain_with_initial_response(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "PLAIN", b64("\0tim\0tanstaaftanstaaf", 21), &text),
	                 SASL_DONE);
	assert_str(s.username, "tim");
	assert_str(s.password, "tanstaaftanstaaf");
	assert_int_equal(s.password_len, 16);
	/* RFC 4616 example with authzid equal to authcid. */
	assert_int_equal(sasl_start(&s, "plain", b64("Kurt\0Kurt\0xipj3plmq", 19), &text),
	                 SASL_DONE);
	assert_str(s.username, "Kurt");
	assert_str(s.password, "xipj3plmq");
	/* Nothing more to feed after DONE. */
	assert_int_equal(step_str(&s, "AA==", &text), SASL_FAIL);
	sasl_reset(&s);
	assert_int_equal(s.password[0], 0);
	assert_int_equal(s.password_len, 0);
}

static void plain_without_initial_response(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "PLAIN", NULL, &text), SASL_CONTINUE);
	assert_str(text, "");
	assert_int_equal(step_str(&s, b64("\0a@example.com\0p w", 18), &text), SASL_DONE);
	assert_str(s.username, "a@example.com");
	assert_str(s.password, "p w");
}

static void plain_malformed_messages_fail(void **state)
{
	static const struct { const char *raw; size_t len; const char *why; } bad[] = {
		{ "userpass", 8, "no NUL" },
		{ "user\0pass", 9, "one NUL" },
		{ "\0user\0pa\0ss", 11, "more than two" },
		{ "\0\0pass", 6, "empty user" },
		{ "\0user\0", 6, "empty password" },
		{ "other\0user\0pass", 15, "authorization identity" },
		{ "use\0user\0pass", 13, "authorization identity" },
	};
	struct sasl s;
	const char *text;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sasl_start(&s, "PLAIN", b64(bad[i].raw, bad[i].len), &text),
		                 SASL_FAIL);
		if (strstr(text, bad[i].why) == NULL)
			fail_msg("case %zu: reason '%s' lacks '%s'", i, text, bad[i].why);
		assert_int_equal(s.password_len, 0);
		/* Also through a continuation line. */
		assert_int_equal(sasl_start(&s, "PLAIN", NULL, &text), SASL_CONTINUE);
		assert_int_equal(step_str(&s, b64(bad[i].raw, bad[i].len), &text), SASL_FAIL);
	}
	/* "=" is an empty initial response: no separators. */
	assert_int_equal(sasl_start(&s, "PLAIN", "=", &text), SASL_FAIL);
	/* An empty continuation line is an empty response. */
	assert_int_equal(sasl_start(&s, "PLAIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(sasl_step(&s, "", 0, &text), SASL_FAIL);
}

static void plain_limits(void **state)
{
	struct sasl s;
	const char *text;
	char raw[3000];
	/* Longest user name and password pass. */
	raw[0] = '\0';
	memset(raw + 1, 'u', SASL_USERNAME_MAX);
	raw[1 + SASL_USERNAME_MAX] = '\0';
	memset(raw + 2 + SASL_USERNAME_MAX, 'p', SASL_PASSWORD_MAX);
	size_t len = 2 + SASL_USERNAME_MAX + SASL_PASSWORD_MAX;
	assert_int_equal(sasl_start(&s, "PLAIN", b64(raw, len), &text), SASL_DONE);
	assert_int_equal(strlen(s.username), SASL_USERNAME_MAX);
	assert_int_equal(s.password_len, SASL_PASSWORD_MAX);
	/* One more byte of password is refused. */
	raw[len] = 'p';
	assert_int_equal(sasl_start(&s, "PLAIN", b64(raw, len + 1), &text), SASL_FAIL);
	assert_non_null(strstr(text, "too long"));
	/* A line longer than any valid response fails before decoding. */
	char line[SASL_LINE_MAX + 8];
	memset(line, 'A', SASL_LINE_MAX + 4);
	line[SASL_LINE_MAX + 4] = '\0';
	assert_int_equal(sasl_start(&s, "PLAIN", line, &text), SASL_FAIL);
	assert_str(text, "response too long");
}

static void bad_base64_and_unknown_mechanism_fail(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "PLAIN", "AGE=AGI", &text), SASL_FAIL);
	assert_non_null(strstr(text, "base64"));
	assert_int_equal(sasl_start(&s, "PLAIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, "AGEAYg== ", &text), SASL_FAIL);
	/* After a failure the exchange is over. */
	assert_int_equal(step_str(&s, b64("\0a\0b", 4), &text), SASL_FAIL);
	assert_int_equal(sasl_start(&s, "CRAM-MD5", NULL, &text), SASL_FAIL);
	assert_str(text, "unsupported mechanism");
	assert_int_equal(sasl_mech_by_name("login"), SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_by_name("XOAUTH2"), SASL_MECH_NONE);
}

static void cancel_at_any_challenge(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "PLAIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, "*", &text), SASL_CANCEL);
	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, "*", &text), SASL_CANCEL);
	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, b64("bob", 3), &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, "*", &text), SASL_CANCEL);
	assert_str(s.username, "");
	/* "*" is not a valid initial response. */
	assert_int_equal(sasl_start(&s, "PLAIN", "*", &text), SASL_FAIL);
}

static void login_full_exchange(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_str(text, "VXNlcm5hbWU6");  /* "Username:" */
	assert_int_equal(step_str(&s, b64("bob@example.com", 15), &text), SASL_CONTINUE);
	assert_str(text, "UGFzc3dvcmQ6");  /* "Password:" */
	assert_int_equal(step_str(&s, b64("s3cret", 6), &text), SASL_DONE);
	assert_str(s.username, "bob@example.com");
	assert_str(s.password, "s3cret");
	assert_int_equal(s.password_len, 6);
}

static void login_initial_response_is_the_user(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "LOGIN", b64("bob", 3), &text), SASL_CONTINUE);
	assert_str(text, "UGFzc3dvcmQ6");
	assert_int_equal(step_str(&s, b64("pw", 2), &text), SASL_DONE);
	assert_str(s.username, "bob");
	assert_int_equal(sasl_start(&s, "LOGIN", "=", &text), SASL_FAIL);
	assert_str(text, "empty user name");
}

static void login_bad_fields_fail(void **state)
{
	struct sasl s;
	const char *text;
	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(sasl_step(&s, "", 0, &text), SASL_FAIL);
	assert_str(text, "empty user name");

	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, b64("bo\0b", 4), &text), SASL_FAIL);
	assert_non_null(strstr(text, "NUL"));

	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, b64("bob", 3), &text), SASL_CONTINUE);
	assert_int_equal(sasl_step(&s, "", 0, &text), SASL_FAIL);
	assert_str(text, "empty password");

	char big[SASL_USERNAME_MAX + 2];
	memset(big, 'x', sizeof(big));
	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, b64(big, sizeof(big)), &text), SASL_FAIL);
	assert_str(text, "user name too long");

	assert_int_equal(sasl_start(&s, "LOGIN", NULL, &text), SASL_CONTINUE);
	assert_int_equal(step_str(&s, "Ym9i\r", &text), SASL_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_with_initial_response),
		cmocka_unit_test(plain_without_initial_response),
		cmocka_unit_test(plain_malformed_messages_fail),
		cmocka_unit_test(plain_limits),
		cmocka_unit_test(bad_base64_and_unknown_mechanism_fail),
		cmocka_unit_test(cancel_at_any_challenge),
		cmocka_unit_test(login_full_exchange),
		cmocka_unit_test(login_initial_response_is_the_user),
		cmocka_unit_test(login_bad_fields_fail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
