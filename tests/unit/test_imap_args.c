#include "unit.h"
#include "imap/imap_args.h"
#include "imap/imap_parser.h"
#include "lib/arena.h"

static const struct imap_command *parse(struct imap_parser *p, const char *in)
{
	struct imap_parse_result res;
	size_t off = 0, len = strlen(in);
	enum imap_parse_status st;
	while ((st = imap_parser_feed(p, in + off, len - off, &res)) == IMAP_PARSE_LITERAL) {
		assert_int_equal(imap_parser_literal_keep(p), 0);
		off += res.consumed;
	}
	assert_int_equal(st, IMAP_PARSE_DONE);
	return res.cmd;
}

static void args_accessors(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_parser *p = imap_parser_new(NULL, a);
	const struct imap_command *cmd =
		parse(p, "t X atom NIL \"q s\"\r\n");
	const struct imap_arg *args = cmd->args;
	const char *s;
	size_t n;

	assert_int_equal(cmd->nargs, 3);
	assert_true(imap_arg_get_atom(&args[0], &s));
	assert_str(s, "atom");
	assert_true(imap_arg_atom_equals(&args[0], "ATOM"));
	assert_false(imap_arg_get_string(&args[0], &s, &n));
	assert_true(imap_arg_get_astring(&args[0], &s, &n));

	assert_false(imap_arg_get_atom(&args[1], &s));
	assert_true(imap_arg_get_nstring(&args[1], &s, &n));
	assert_null(s);
	assert_true(imap_arg_get_astring(&args[1], &s, &n));  /* mailbox "NIL" */
	assert_str(s, "NIL");

	assert_true(imap_arg_get_string(&args[2], &s, &n));
	assert_int_equal(n, 3);
	assert_str(s, "q s");
	assert_true(imap_arg_get_nstring(&args[2], &s, &n));
	assert_int_equal(args[3].type, IMAP_ARG_EOL);
	imap_parser_free(&p);
	arena_free(&a);
}

static void args_literals_numbers_lists(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_parser *p = imap_parser_new(NULL, a);
	const struct imap_command *cmd =
		parse(p, "t X {3}\r\nl t ~{2}\r\nab (1 2) 42 9223372036854775808 -1 007\r\n");
	const struct imap_arg *args = cmd->args;
	const char *s;
	size_t n;
	uint64_t num = 0;
	const struct imap_arg *list;

	assert_int_equal(cmd->nargs, 7);
	assert_true(imap_arg_get_string(&args[0], &s, &n));
	assert_int_equal(n, 3);
	assert_str(s, "l t");
	assert_true(imap_arg_get_astring(&args[0], &s, &n));
	/* literal8 may hold NUL: not a plain string */
	assert_true(args[1].literal8);
	assert_false(imap_arg_get_string(&args[1], &s, &n));
	assert_false(imap_arg_get_astring(&args[1], &s, &n));

	assert_true(imap_arg_get_list(&args[2], &list, &n));
	assert_int_equal(n, 2);
	assert_true(imap_arg_get_number(&list[1], &num));
	assert_int_equal(num, 2);
	assert_int_equal(list[2].type, IMAP_ARG_EOL);
	assert_false(imap_arg_get_list(&args[3], &list, &n));

	assert_true(imap_arg_get_number(&args[3], &num));
	assert_int_equal(num, 42);
	assert_false(imap_arg_get_number(&args[4], &num)); /* > 2^63-1 */
	assert_false(imap_arg_get_number(&args[5], &num));
	assert_true(imap_arg_get_number(&args[6], &num));
	assert_int_equal(num, 7);
	assert_int_equal(args[7].type, IMAP_ARG_EOL);
	imap_parser_free(&p);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(args_accessors),
		cmocka_unit_test(args_literals_numbers_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
