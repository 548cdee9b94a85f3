#include "unit.h"
#include "imap/imap_parser.h"
#include "imap/imap_search_args.h"
#include "imap/imap_seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/date.h"

#include <inttypes.h>
#include <stdio.h>

/* Test resolver: a mailbox of 10 messages whose UID is 10 x seq; "$" is
 * UIDs 20 and 30. */
static int resolve(void *ctx, const char *set, size_t len, bool uid, struct arena *a,
                   struct store_uidset *out, const char **error_r)
{
	struct imap_seqset s;
	struct store_range *r;
	if (len == 1 && set[0] == '$') {
		r = arena_alloc(a, 2 * sizeof(*r));
		r[0] = (struct store_range){ 20, 20 };
		r[1] = (struct store_range){ 30, 30 };
		*out = (struct store_uidset){ 2, r };
		return 0;
	}
	if (imap_seqset_parse(a, set, len, 0, &s, error_r) < 0)
		return -1;
	imap_seqset_resolve(a, &s, uid ? 100 : 10, &s);
	r = arena_alloc(a, (s.count + 1) * sizeof(*r));
	for (size_t i = 0; i < s.count; i++) {
		if (!uid && s.ranges[i].hi > 10) {
			*error_r = "Invalid message sequence number";
			return -1;
		}
		r[i].lo = uid ? s.ranges[i].lo : s.ranges[i].lo * 10;
		r[i].hi = uid ? s.ranges[i].hi : s.ranges[i].hi * 10;
	}
	*out = (struct store_uidset){ s.count, r };
	return 0;
}

static const char *const sk_names[] = {
	[STORE_SK_ALL] = "ALL", [STORE_SK_AND] = "AND", [STORE_SK_OR] = "OR",
	[STORE_SK_NOT] = "NOT", [STORE_SK_FLAGS_SET] = "SET", [STORE_SK_FLAGS_UNSET] = "UNSET",
	[STORE_SK_KEYWORD] = "KW", [STORE_SK_UNKEYWORD] = "UNKW", [STORE_SK_RECENT] = "RECENT",
	[STORE_SK_NEW] = "NEW", [STORE_SK_OLD] = "OLD", [STORE_SK_LARGER] = "LARGER",
	[STORE_SK_SMALLER] = "SMALLER", [STORE_SK_BEFORE] = "BEFORE", [STORE_SK_ON] = "ON",
	[STORE_SK_SINCE] = "SINCE", [STORE_SK_SENTBEFORE] = "SENTBEFORE",
	[STORE_SK_SENTON] = "SENTON", [STORE_SK_SENTSINCE] = "SENTSINCE",
	[STORE_SK_HEADER] = "HEADER", [STORE_SK_FROM] = "FROM", [STORE_SK_TO] = "TO",
	[STORE_SK_CC] = "CC", [STORE_SK_BCC] = "BCC", [STORE_SK_SUBJECT] = "SUBJECT",
	[STORE_SK_BODY] = "BODY", [STORE_SK_TEXT] = "TEXT", [STORE_SK_UID] = "UID",
	[STORE_SK_MODSEQ] = "MODSEQ",
};

static void dump(struct buf *b, const struct store_search *k)
{
	buf_append_str(b, sk_names[k->key]);
	switch (k->key) {
	case STORE_SK_AND: case STORE_SK_OR: case STORE_SK_NOT:
		buf_append_str(b, "(");
		for (const struct store_search *c = k->kids; c != NULL; c = c->next) {
			dump(b, c);
			if (c->next != NULL)
				buf_append_str(b, ",");
		}
		buf_append_str(b, ")");
		break;
	case STORE_SK_FLAGS_SET: case STORE_SK_FLAGS_UNSET:
		buf_printf(b, ":%u", k->u.flags);
		break;
	case STORE_SK_KEYWORD: case STORE_SK_UNKEYWORD: case STORE_SK_FROM: case STORE_SK_TO:
	case STORE_SK_CC: case STORE_SK_BCC: case STORE_SK_SUBJECT: case STORE_SK_BODY:
	case STORE_SK_TEXT:
		buf_printf(b, ":%s", k->u.str);
		break;
	case STORE_SK_HEADER:
		buf_printf(b, ":%s=%s", k->u.hdr.field, k->u.hdr.value);
		break;
	case STORE_SK_UID:
		for (size_t i = 0; i < k->u.set.n; i++)
			buf_printf(b, "%s%u-%u", i ? "," : ":", k->u.set.r[i].lo, k->u.set.r[i].hi);
		break;
	case STORE_SK_ALL: case STORE_SK_RECENT: case STORE_SK_NEW: case STORE_SK_OLD:
		break;
	default:
		buf_printf(b, ":%" PRIu64, k->u.num);
		break;
	}
}

static int parse(struct arena *a, const char *rest, struct imap_search_args *q,
                 const char **err)
{
	char line[8192];
	snprintf(line, sizeof(line), "t SEARCH %s\r\n", rest);
	struct imap_parser *p = imap_parser_new(NULL, a);
	struct imap_parse_result res;
	size_t off = 0, len = strlen(line);
	enum imap_parse_status st;
	while ((st = imap_parser_feed(p, line + off, len - off, &res)) == IMAP_PARSE_LITERAL) {
		off += res.consumed;
		assert_int_equal(imap_parser_literal_keep(p), 0);
	}
	if (st != IMAP_PARSE_DONE) {
		imap_parser_free(&p);
		*err = "parser";
		return IMAP_SEARCH_E_SYNTAX;
	}
	struct imap_search_env env = { .resolve_set = resolve };
	int rc = imap_search_args_parse(a, res.cmd->args, res.cmd->nargs, &env, q, err);
	imap_parser_free(&p);
	return rc;
}

/* The tree of a successful parse, as text. */
static const char *tree(struct arena *a, const char *rest)
{
	struct imap_search_args q;
	const char *err = NULL;
	int rc = parse(a, rest, &q, &err);
	if (rc != 0)
		fail_msg("%s: %s", rest, err);
	struct buf b;
	buf_init(&b, 1 << 20);
	dump(&b, q.query);
	const char *out = arena_strdup(a, buf_ptr(&b));
	buf_deinit(&b);
	return out;
}

static void search_flag_keys(void **state)
{
	struct arena *a = arena_new(0);
	assert_str(tree(a, "ALL"), "ALL");
	assert_str(tree(a, "answered"), "SET:2");
	assert_str(tree(a, "DELETED DRAFT FLAGGED SEEN"), "AND(SET:8,SET:16,SET:4,SET:1)");
	assert_str(tree(a, "UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN"),
	           "AND(UNSET:2,UNSET:8,UNSET:16,UNSET:4,UNSET:1)");
	assert_str(tree(a, "NEW OLD RECENT"), "AND(NEW,OLD,RECENT)");
	assert_str(tree(a, "KEYWORD $Junk UNKEYWORD foo"), "AND(KW:$Junk,UNKW:foo)");
	assert_str(tree(a, "KEYWORD \\Seen UNKEYWORD \\flagged"), "AND(SET:1,UNSET:4)");
	arena_free(&a);
}

static void search_value_keys(void **state)
{
	struct arena *a = arena_new(0);
	time_t day;
	assert_int_equal(date_parse_imap_date("1-Feb-1994", 10, &day), 0);
	char want[256];
	snprintf(want, sizeof(want), "AND(BEFORE:%lld,ON:%lld,SINCE:%lld,SENTBEFORE:%lld,"
	         "SENTON:%lld,SENTSINCE:%lld)", (long long)day, (long long)day, (long long)day,
	         (long long)day, (long long)day, (long long)day);
	assert_str(tree(a, "BEFORE 1-Feb-1994 ON \"01-Feb-1994\" SINCE 1-feb-1994 "
	                   "SENTBEFORE 1-Feb-1994 SENTON 1-Feb-1994 SENTSINCE 1-Feb-1994"), want);
	assert_str(tree(a, "LARGER 100 SMALLER 2000"), "AND(LARGER:100,SMALLER:2000)");
	assert_str(tree(a, "FROM alice TO \"bob b\" CC {3}\r\ncar BCC d SUBJECT \"\" BODY x TEXT y"),
	           "AND(FROM:alice,TO:bob b,CC:car,BCC:d,SUBJECT:,BODY:x,TEXT:y)");
	assert_str(tree(a, "HEADER Message-ID \"<a@b>\" HEADER X-Spam \"\""),
	           "AND(HEADER:Message-ID=<a@b>,HEADER:X-Spam=)");
	assert_str(tree(a, "MODSEQ 5"), "MODSEQ:5");
	assert_str(tree(a, "MODSEQ \"/flags/\\\\draft\" all 620162338"), "MODSEQ:620162338");
	arena_free(&a);
}

static void search_sets_and_logic(void **state)
{
	struct arena *a = arena_new(0);
	assert_str(tree(a, "1:3"), "UID:10-30");
	assert_str(tree(a, "2,4:*"), "UID:20-20,40-100");
	assert_str(tree(a, "UID 5:7,9"), "UID:5-7,9-9");
	assert_str(tree(a, "UID *"), "UID:100-100");
	assert_str(tree(a, "NOT SEEN"), "NOT(SET:1)");
	assert_str(tree(a, "OR SEEN FLAGGED"), "OR(SET:1,SET:4)");
	assert_str(tree(a, "OR (SEEN FROM x) NOT (DELETED)"), "OR(AND(SET:1,FROM:x),NOT(SET:8))");
	assert_str(tree(a, "(((ALL)))"), "ALL");
	assert_str(tree(a, "NOT NOT OR 1 UID 2"), "NOT(NOT(OR(UID:10-10,UID:2-2)))");
	struct imap_search_args q;
	const char *err;
	assert_int_equal(parse(a, "$", &q, &err), 0);
	assert_true(q.uses_saved);
	assert_int_equal(parse(a, "UID $ SEEN", &q, &err), 0);
	assert_true(q.uses_saved);
	assert_int_equal(parse(a, "SEEN", &q, &err), 0);
	assert_false(q.uses_saved);
	assert_false(q.modseq);
	assert_int_equal(parse(a, "OR MODSEQ 3 SEEN", &q, &err), 0);
	assert_true(q.modseq);
	/* sequence number out of range: the resolver's error */
	assert_int_equal(parse(a, "11", &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_str(err, "Invalid message sequence number");
	arena_free(&a);
}

static void search_return_and_charset(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_search_args q;
	const char *err;
	assert_int_equal(parse(a, "RETURN (MIN MAX) SEEN", &q, &err), 0);
	assert_true(q.esearch);
	assert_int_equal(q.ret, IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX);
	assert_int_equal(parse(a, "RETURN () ALL", &q, &err), 0);
	assert_int_equal(q.ret, IMAP_SEARCH_RET_ALL);
	assert_int_equal(parse(a, "RETURN (count all save) CHARSET UTF-8 ALL", &q, &err), 0);
	assert_int_equal(q.ret, IMAP_SEARCH_RET_COUNT | IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_SAVE);
	assert_str(q.charset, "UTF-8");
	assert_int_equal(parse(a, "CHARSET us-ascii SEEN", &q, &err), 0);
	assert_false(q.esearch);
	assert_int_equal(parse(a, "CHARSET \"UTF-8\" SUBJECT {5}\r\ncaf\xc3\xa9", &q, &err), 0);
	assert_int_equal(parse(a, "CHARSET ISO-8859-1 SEEN", &q, &err), IMAP_SEARCH_E_BADCHARSET);
	assert_int_equal(parse(a, "CHARSET KOI8-R ALL", &q, &err), IMAP_SEARCH_E_BADCHARSET);
	assert_int_equal(parse(a, "RETURN (FOO) ALL", &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_int_equal(parse(a, "RETURN MIN ALL", &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_int_equal(parse(a, "RETURN (MIN)", &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_int_equal(parse(a, "CHARSET UTF-8 RETURN (MIN) ALL", &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_int_equal(parse(a, "CHARSET", &q, &err), IMAP_SEARCH_E_SYNTAX);
	arena_free(&a);
}

static void search_errors(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_search_args q;
	const char *err;
	static const char *const bad[] = {
		"", "FOO", "SEEN FOO", "FROM", "HEADER Subject", "HEADER \"\" x", "HEADER a:b x",
		"LARGER", "LARGER x", "LARGER -1", "BEFORE 32-Feb-1994", "BEFORE 1994-02-01",
		"ON", "OR SEEN", "OR", "NOT", "()", "UID", "UID x", "UID 0", "0", "1:", "KEYWORD",
		"KEYWORD \\Recent", "KEYWORD \"x\"", "MODSEQ", "MODSEQ x", "MODSEQ \"/flags/a\" foo 1",
		"MODSEQ \"/flags/a\" all", "\"SEEN\"", "(SEEN) (FOO)",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (parse(a, bad[i], &q, &err) != IMAP_SEARCH_E_SYNTAX)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
	}
	arena_free(&a);
}

static void search_limits(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_search_args q;
	const char *err;
	char line[8000] = "";
	/* nesting: NOT x depth */
	for (int i = 0; i < IMAP_SEARCH_MAX_DEPTH; i++)
		strcat(line, "NOT ");
	strcat(line, "SEEN");
	assert_int_equal(parse(a, line, &q, &err), 0);
	line[0] = '\0';
	for (int i = 0; i < IMAP_SEARCH_MAX_DEPTH + 1; i++)
		strcat(line, "NOT ");
	strcat(line, "SEEN");
	assert_int_equal(parse(a, line, &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_str(err, "Search nested too deep");
	/* key count */
	line[0] = '\0';
	for (int i = 0; i < IMAP_SEARCH_MAX_KEYS; i++)
		strcat(line, i ? " SEEN" : "SEEN");
	assert_int_equal(parse(a, line, &q, &err), 0);
	strcat(line, " SEEN");
	assert_int_equal(parse(a, line, &q, &err), IMAP_SEARCH_E_SYNTAX);
	assert_str(err, "Too many search keys");
	/* no resolver: sets are refused, not crashed on */
	struct imap_search_env none = { 0 };
	struct imap_arg args[2] = { { .type = IMAP_ARG_ATOM, .str = "1", .len = 1 } };
	assert_int_equal(imap_search_args_parse(a, args, 1, &none, &q, &err), IMAP_SEARCH_E_SYNTAX);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(search_flag_keys),
		cmocka_unit_test(search_value_keys),
		cmocka_unit_test(search_sets_and_logic),
		cmocka_unit_test(search_return_and_charset),
		cmocka_unit_test(search_errors),
		cmocka_unit_test(search_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
