#include "unit.h"
#include "pop3/pop3_parse.h"

static enum pop3_parse_status parse(const char *text, struct pop3_cmd *cmd, char *buf)
{
	size_t n = strlen(text);
	memcpy(buf, text, n + 1);
	return pop3_parse_line(buf, n, cmd);
}

static void keywords_and_arguments(void **state)
{
	char buf[600];
	struct pop3_cmd c;
	assert_int_equal(parse("stat", &c, buf), POP3_PARSE_OK);
	assert_str(c.keyword, "STAT");
	assert_null(c.rest);
	assert_int_equal(c.nargs, 0);

	assert_int_equal(parse("TOP 3 10", &c, buf), POP3_PARSE_OK);
	assert_str(c.keyword, "TOP");
	assert_str(c.rest, "3 10");
	assert_int_equal(c.nargs, 2);
	assert_str(c.args[0], "3");
	assert_str(c.args[1], "10");

	/* PASS keeps spaces: the rest is the password. */
	assert_int_equal(parse("PASS correct horse battery", &c, buf), POP3_PARSE_OK);
	assert_str(c.rest, "correct horse battery");
	assert_int_equal(c.nargs, 3);

	assert_int_equal(parse("NOOP ", &c, buf), POP3_PARSE_OK);
	assert_null(c.rest);
}

static void bad_lines(void **state)
{
	char buf[600];
	struct pop3_cmd c;
	assert_int_equal(parse("", &c, buf), POP3_PARSE_EMPTY);
	assert_int_equal(parse("QU", &c, buf), POP3_PARSE_BAD_KEYWORD);
	assert_int_equal(parse("QUITS", &c, buf), POP3_PARSE_BAD_KEYWORD);
	assert_int_equal(parse(" QUIT", &c, buf), POP3_PARSE_BAD_KEYWORD);
	assert_int_equal(parse("QU-T", &c, buf), POP3_PARSE_BAD_KEYWORD);
	assert_int_equal(parse("USER a\x01" "b", &c, buf), POP3_PARSE_BAD_CHAR);
	char nul[] = "USER a\0b";
	assert_int_equal(pop3_parse_line(nul, 8, &c), POP3_PARSE_BAD_CHAR);
}

static void long_rest_has_no_args_but_keeps_rest(void **state)
{
	char buf[600];
	char line[520] = "PASS ";
	memset(line + 5, 'p', 400);
	line[405] = '\0';
	struct pop3_cmd c;
	assert_int_equal(parse(line, &c, buf), POP3_PARSE_OK);
	assert_int_equal(strlen(c.rest), 400);
	assert_int_equal(c.nargs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keywords_and_arguments),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(long_rest_has_no_args_but_keeps_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
