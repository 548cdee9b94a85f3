#include "unit.h"
#include "imap/imap_fetch_args.h"
#include "imap/imap_parser.h"
#include "lib/arena.h"

#include <stdio.h>

/* Parse "TAG FETCH 1 <rest>" with the real parser, then the FETCH args. */
static int parse(struct arena *a, const char *rest, struct imap_fetch_args *out,
                 const char **err)
{
	char line[4096];
	snprintf(line, sizeof(line), "t FETCH 1 %s\r\n", rest);
	struct imap_parser *p = imap_parser_new(NULL, a);
	struct imap_parse_result res;
	enum imap_parse_status st = imap_parser_feed(p, line, strlen(line), &res);
	if (st == IMAP_PARSE_BAD) {   /* the parser refuses it already */
		*err = res.error_msg != NULL ? res.error_msg : "bad";
		imap_parser_free(&p);
		return -1;
	}
	assert_int_equal(st, IMAP_PARSE_DONE);
	const struct imap_command *cmd = res.cmd;
	int rc = imap_fetch_args_parse(a, cmd->args + 1, cmd->nargs - 1, out, err);
	imap_parser_free(&p);
	return rc;
}

static void fetch_simple_items_and_macros(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err;
	assert_int_equal(parse(a, "FLAGS", &f, &err), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS);
	assert_int_equal(f.nsects, 0);
	assert_false(f.need_message);
	assert_int_equal(parse(a, "ALL", &f, &err), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	                 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE);
	assert_int_equal(parse(a, "fast", &f, &err), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE);
	assert_int_equal(parse(a, "FULL", &f, &err), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	                 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY);
	assert_int_equal(parse(a, "(uid flags internaldate rfc822.size envelope body "
	                          "bodystructure modseq preview)", &f, &err), 0);
	assert_int_equal(f.items, IMAP_FETCH_UID | IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	                 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY |
	                 IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_MODSEQ | IMAP_FETCH_PREVIEW);
	/* macros only alone */
	assert_int_equal(parse(a, "(ALL)", &f, &err), -1);
	assert_int_equal(parse(a, "(FLAGS FAST)", &f, &err), -1);
	arena_free(&a);
}

static void fetch_rfc822_items(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err;
	assert_int_equal(parse(a, "(RFC822 RFC822.HEADER RFC822.TEXT)", &f, &err), 0);
	assert_int_equal(f.nsects, 3);
	assert_str(f.sects[0].name, "RFC822");
	assert_int_equal(f.sects[0].kind, IMAP_SECT_RFC822);
	assert_false(f.sects[0].peek);
	assert_str(f.sects[1].name, "RFC822.HEADER");
	assert_true(f.sects[1].peek);
	assert_int_equal(f.sects[1].sec.kind, MIME_SECTION_HEADER);
	assert_str(f.sects[2].name, "RFC822.TEXT");
	assert_int_equal(f.sects[2].sec.kind, MIME_SECTION_TEXT);
	assert_true(f.sets_seen);
	assert_true(f.need_message);
	assert_int_equal(parse(a, "RFC822.HEADER", &f, &err), 0);
	assert_false(f.sets_seen);
	arena_free(&a);
}

static void fetch_body_sections(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err;
	assert_int_equal(parse(a, "BODY[]", &f, &err), 0);
	assert_str(f.sects[0].name, "BODY[]");
	assert_true(f.sets_seen);
	assert_false(f.sects[0].partial);
	assert_int_equal(parse(a, "body.peek[header.fields (from \"To\" x-Y)]", &f, &err), 0);
	assert_str(f.sects[0].name, "BODY[HEADER.FIELDS (FROM TO X-Y)]");
	assert_false(f.sets_seen);
	assert_int_equal(f.sects[0].sec.kind, MIME_SECTION_HEADER_FIELDS);
	assert_int_equal(f.sects[0].sec.nfields, 3);
	assert_int_equal(parse(a, "BODY[1.2.HEADER.FIELDS.NOT (Subject)]<10.20>", &f, &err), 0);
	assert_str(f.sects[0].name, "BODY[1.2.HEADER.FIELDS.NOT (SUBJECT)]<10>");
	assert_true(f.sects[0].partial);
	assert_int_equal(f.sects[0].start, 10);
	assert_int_equal(f.sects[0].count, 20);
	assert_int_equal(f.sects[0].sec.npath, 2);
	assert_int_equal(parse(a, "(BODY[3.MIME] BODY.PEEK[2.TEXT]<0> BODY[1] BODY[HEADER])", &f, &err), 0);
	assert_int_equal(f.nsects, 4);
	assert_str(f.sects[0].name, "BODY[3.MIME]");
	assert_str(f.sects[1].name, "BODY[2.TEXT]<0>");
	assert_int_equal(f.sects[1].count, UINT64_MAX);
	assert_str(f.sects[2].name, "BODY[1]");
	assert_str(f.sects[3].name, "BODY[HEADER]");
	/* a quoted field name that needs quoting stays quoted */
	assert_int_equal(parse(a, "BODY[HEADER.FIELDS (\"a]b\")]", &f, &err), 0);
	assert_str(f.sects[0].name, "BODY[HEADER.FIELDS (\"A]B\")]");
	arena_free(&a);
}

static void fetch_binary(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err;
	assert_int_equal(parse(a, "(BINARY[1.2] BINARY.PEEK[]<5.6> BINARY.SIZE[3])", &f, &err), 0);
	assert_int_equal(f.nsects, 3);
	assert_int_equal(f.sects[0].kind, IMAP_SECT_BINARY);
	assert_str(f.sects[0].name, "BINARY[1.2]");
	assert_str(f.sects[1].name, "BINARY[]<5>");
	assert_true(f.sects[1].peek);
	assert_int_equal(f.sects[2].kind, IMAP_SECT_BINARY_SIZE);
	assert_str(f.sects[2].name, "BINARY.SIZE[3]");
	assert_true(f.sets_seen);
	assert_int_equal(parse(a, "BINARY.SIZE[1]", &f, &err), 0);
	assert_false(f.sets_seen);
	/* BINARY takes part numbers only; BINARY.SIZE no partial */
	assert_int_equal(parse(a, "BINARY[HEADER]", &f, &err), -1);
	assert_int_equal(parse(a, "BINARY[1.TEXT]", &f, &err), -1);
	assert_int_equal(parse(a, "BINARY.SIZE[1]<0.5>", &f, &err), -1);
	arena_free(&a);
}

static void fetch_modifiers(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err;
	assert_int_equal(parse(a, "FLAGS (CHANGEDSINCE 12345)", &f, &err), 0);
	assert_true(f.changedsince);
	assert_int_equal(f.changedsince_modseq, 12345);
	assert_true(f.items & IMAP_FETCH_MODSEQ);
	assert_false(f.vanished);
	assert_int_equal(parse(a, "(FLAGS) (CHANGEDSINCE 1 VANISHED)", &f, &err), 0);
	assert_true(f.vanished);
	assert_int_equal(parse(a, "PREVIEW (LAZY)", &f, &err), 0);
	assert_true(f.preview_lazy);
	assert_int_equal(parse(a, "(FLAGS PREVIEW (LAZY) UID)", &f, &err), 0);
	assert_true(f.preview_lazy);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_PREVIEW | IMAP_FETCH_UID);
	assert_int_equal(parse(a, "FLAGS (VANISHED)", &f, &err), -1);
	assert_int_equal(parse(a, "FLAGS (CHANGEDSINCE)", &f, &err), -1);
	assert_int_equal(parse(a, "FLAGS (CHANGEDSINCE x)", &f, &err), -1);
	assert_int_equal(parse(a, "FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", &f, &err), -1);
	assert_int_equal(parse(a, "FLAGS (FOO)", &f, &err), -1);
	assert_int_equal(parse(a, "FLAGS ()", &f, &err), -1);
	assert_int_equal(parse(a, "FLAGS (CHANGEDSINCE 1) extra", &f, &err), -1);
	arena_free(&a);
}

static void fetch_errors(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err = NULL;
	static const char *const bad[] = {
		"FOO", "()", "(FLAGS \"x\")", "\"FLAGS\"", "BODY[", "BODY[]<", "BODY[]<1", "BODY[]<a.b>",
		"BODY[]<1.0>", "BODY[]<1.>", "BODY[]<.1>", "BODY[]x", "BODY[0]", "BODY[1.0]",
		"BODY[MIME]", "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]", "BODY[TEXT.HEADER]",
		"BODY.PEK[]", "BODYX[]", "RFC822.FOO", "BODY[HEADER.FIELDS (a:b)]",
		"BODY[]<4294967296>", "BINARY.SIZE", "PREVIEW (FOO)", "(PREVIEW (LAZY LAZY))",
		"(FLAGS (FLAGS))",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (parse(a, bad[i], &f, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
	}
	arena_free(&a);
}

static void fetch_limits(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_fetch_args f;
	const char *err;
	char list[4000] = "(";
	for (int i = 0; i < IMAP_FETCH_MAX_ITEMS; i++)
		strcat(list, i ? " BODY[1]" : "BODY[1]");
	strcat(list, ")");
	assert_int_equal(parse(a, list, &f, &err), 0);
	assert_int_equal(f.nsects, IMAP_FETCH_MAX_ITEMS);
	list[strlen(list) - 1] = '\0';
	strcat(list, " FLAGS)");
	assert_int_equal(parse(a, list, &f, &err), -1);
	/* item parser alone, with a length that excludes trailing bytes */
	memset(&f, 0, sizeof(f));
	assert_int_equal(imap_fetch_item_parse(a, "BODY[1]xyz", 7, &f, &err), 0);
	assert_str(f.sects[0].name, "BODY[1]");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fetch_simple_items_and_macros),
		cmocka_unit_test(fetch_rfc822_items),
		cmocka_unit_test(fetch_body_sections),
		cmocka_unit_test(fetch_binary),
		cmocka_unit_test(fetch_modifiers),
		cmocka_unit_test(fetch_errors),
		cmocka_unit_test(fetch_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
