#include "unit.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/utf7.h"

/* UTF-8 / modified UTF-7 pairs, both directions. */
static const struct {
	const char *utf8, *utf7;
} pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "&", "&-" },
	{ "a&b&&", "a&-b&-&-" },
	{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },                       /* Entwürfe */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },                            /* RFC 3501 example */
	{ "\xc3\xa4", "&AOQ-" },                                         /* ä: 1 unit, 4 pad bits */
	{ "\xc3\xa4\xc3\xa4", "&AOQA5A-" },                              /* 2 units, 2 pad bits */
	{ "\xc3\xa4\xc3\xa4\xc3\xa4", "&AOQA5ADk-" },                    /* 3 units, 0 pad bits */
	{ "\xc3\xa4-", "&AOQ--" },
	{ "\xc3\xa4&", "&AOQ-&-" },
	{ "&\xc3\xa4", "&-&AOQ-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },                              /* U+1F600, surrogate pair */
	{ "x\x01y", "x&AAE-y" },                                         /* control char is encoded */
	{ "\x7f", "&AH8-" },                                             /* DEL too */
	{ "\xef\xbf\xbd", "&,,0-" },                                     /* U+FFFD */
	{ "Sent Items", "Sent Items" },
	{ "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5",
	  "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" },                         /* Отправленные */
};

static void known_pairs_both_ways(void **state)
{
	struct buf b;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		buf_init(&b, 1024);
		assert_int_equal(utf8_to_utf7(pairs[i].utf8, strlen(pairs[i].utf8), &b), UTF7_OK);
		assert_str(buf_ptr(&b), pairs[i].utf7);
		buf_reset(&b, 0);
		assert_int_equal(utf7_to_utf8(pairs[i].utf7, strlen(pairs[i].utf7), &b), UTF7_OK);
		assert_str(buf_ptr(&b), pairs[i].utf8);
		assert_true(utf7_is_valid(pairs[i].utf7, strlen(pairs[i].utf7)));
		assert_true(utf8_is_valid(pairs[i].utf8, strlen(pairs[i].utf8)));
		buf_deinit(&b);
	}
}

static void invalid_utf7_refused(void **state)
{
	static const char *const bad[] = {
		"&",          /* unterminated shift */
		"&AOQ",       /* unterminated shift */
		"a&AOQ",
		"&AGE-",      /* "a" encoded: must be direct */
		"&ACY-",      /* "&" encoded: must be "&-" */
		"&ACA-",      /* space encoded */
		"&AOQ-&AOQ-", /* two shifts back to back */
		"&AOR-",      /* nonzero padding bits */
		"&AOQA-",     /* a trailing char that carries no unit */
		"&AOQ=-",     /* base64 padding is not used */
		"&AO/-",      /* "/" is "," in modified base64 */
		"&A-",        /* too short for one unit */
		"&AAA-",      /* U+0000 */
		"&2D0-",      /* high surrogate alone */
		"&2D3YPQ-",   /* high surrogate then high */
		"&3gA-",      /* low surrogate alone */
		"&AOTeAA-",   /* low surrogate after a normal unit */
		"a\x01",      /* raw control */
		"a\x7f",      /* raw DEL */
		"\xc3\xa4",   /* raw 8-bit */
		"a\0b",       /* raw NUL (length 3) */
		"&AOQ&-",     /* & inside a shift */
		"&AO Q-",
	};
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, "keep");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = i == 20 ? 3 : strlen(bad[i]);
		if (utf7_is_valid(bad[i], len))
			fail_msg("accepted invalid UTF-7 #%zu '%s'", i, bad[i]);
		assert_int_equal(utf7_to_utf8(bad[i], len, &b), UTF7_INVALID);
		assert_str(buf_ptr(&b), "keep");  /* left as it was */
	}
	buf_deinit(&b);
}

static void strict_utf8(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "plain", true },
		{ "\xc2\x80", true },                 /* U+0080 */
		{ "\xdf\xbf", true },                 /* U+07FF */
		{ "\xe0\xa0\x80", true },             /* U+0800 */
		{ "\xed\x9f\xbf", true },             /* U+D7FF */
		{ "\xee\x80\x80", true },             /* U+E000 */
		{ "\xf0\x90\x80\x80", true },         /* U+10000 */
		{ "\xf4\x8f\xbf\xbf", true },         /* U+10FFFF */
		{ "\xc0\x80", false },                /* overlong NUL */
		{ "\xc1\xbf", false },                /* overlong */
		{ "\xe0\x9f\xbf", false },            /* overlong */
		{ "\xf0\x8f\xbf\xbf", false },        /* overlong */
		{ "\xed\xa0\x80", false },            /* U+D800 */
		{ "\xed\xbf\xbf", false },            /* U+DFFF */
		{ "\xf4\x90\x80\x80", false },        /* U+110000 */
		{ "\xf5\x80\x80\x80", false },
		{ "\xff", false },
		{ "\x80", false },                    /* lone continuation */
		{ "\xc3", false },                    /* truncated */
		{ "\xe2\x82", false },                /* truncated */
		{ "\xc3\x28", false },                /* bad continuation */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (utf8_is_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("utf8_is_valid #%zu: expected %d", i, cases[i].ok);

	struct buf b;
	buf_init(&b, 100);
	assert_int_equal(utf8_to_utf7("a\xc0\x80", 3, &b), UTF7_INVALID);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(utf8_to_utf7("a\0b", 3, &b), UTF7_INVALID);  /* U+0000 has no UTF-7 */
	assert_int_equal(utf8_to_utf7("\xc3\xa4\xed\xa0\x80", 5, &b), UTF7_INVALID);
	assert_int_equal(buf_len(&b), 0);
	buf_deinit(&b);
}

static void ceiling_reports_toobig_and_restores(void **state)
{
	struct buf b;
	buf_init(&b, 8);
	buf_append_str(&b, "ab");
	assert_int_equal(utf8_to_utf7("\xc3\xa4\xc3\xa4\xc3\xa4", 6, &b), UTF7_TOOBIG);
	assert_str(buf_ptr(&b), "ab");
	assert_int_equal(utf7_to_utf8("abcdefghij", 10, &b), UTF7_TOOBIG);
	assert_str(buf_ptr(&b), "ab");
	assert_int_equal(utf7_to_utf8("cdefgh", 6, &b), UTF7_OK);
	assert_str(buf_ptr(&b), "abcdefgh");
	buf_deinit(&b);
}

static void arena_variants(void **state)
{
	struct arena *a = arena_new(0);
	assert_str(utf7_to_utf8_arena(a, "Entw&APw-rfe", 12), "Entw\xc3\xbcrfe");
	assert_str(utf8_to_utf7_arena(a, "Entw\xc3\xbcrfe", 9), "Entw&APw-rfe");
	assert_null(utf7_to_utf8_arena(a, "&AGE-", 5));
	assert_null(utf8_to_utf7_arena(a, "\xff", 1));
	/* UTF-8 can be longer than its UTF-7: 8 base64 chars carry three
	 * 3-byte characters (found by fuzzing: the arena ceiling was len) */
	const char *u7 = "&,DDDDDDDDDDDDDDDDD1eADA3-";
	char *u8 = utf7_to_utf8_arena(a, u7, strlen(u7));
	assert_non_null(u8);
	assert_int_equal(strlen(u8), 27);
	assert_true(strlen(u8) > strlen(u7));
	assert_true(strlen(u8) <= UTF7_MAX_UTF8_LEN(strlen(u7)));
	assert_str(utf8_to_utf7_arena(a, u8, strlen(u8)), u7);
	/* worst-case growth: every other byte a control char */
	assert_str(utf8_to_utf7_arena(a, "\x01" "a\x01", 3), "&AAE-a&AAE-");
	arena_free(&a);
}

/* Deterministic pseudo-random code points: UTF-8 -> UTF-7 -> UTF-8 is the
 * identity, and the UTF-7 is valid and re-encodes to itself. */
static void round_trip_property(void **state)
{
	uint32_t seed = 12345;
	struct buf u8, u7, back;
	for (int round = 0; round < 3000; round++) {
		buf_init(&u8, 4096);
		buf_init(&u7, 4096 * 5);
		buf_init(&back, 4096);
		int n = (int)(seed % 12);
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			uint32_t r = (seed >> 8) % 100, cp;
			if (r < 40)
				cp = 0x20 + (seed >> 16) % 95;          /* printable ASCII, & included */
			else if (r < 50)
				cp = 1 + (seed >> 16) % 0x1f;           /* controls */
			else if (r < 80)
				cp = 0x80 + (seed >> 12) % 0xd780;      /* BMP below surrogates */
			else if (r < 90)
				cp = 0xe000 + (seed >> 16) % 0x2000;
			else
				cp = 0x10000 + (seed >> 4) % 0x100000;  /* astral */
			char tmp[4];
			size_t k;
			if (cp < 0x80) {
				tmp[0] = (char)cp, k = 1;
			} else if (cp < 0x800) {
				tmp[0] = (char)(0xc0 | cp >> 6), tmp[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
			} else if (cp < 0x10000) {
				tmp[0] = (char)(0xe0 | cp >> 12), tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				tmp[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
			} else {
				tmp[0] = (char)(0xf0 | cp >> 18), tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), tmp[3] = (char)(0x80 | (cp & 0x3f));
				k = 4;
			}
			buf_append(&u8, tmp, k);
		}
		assert_true(utf8_is_valid(buf_ptr(&u8), buf_len(&u8)));
		assert_int_equal(utf8_to_utf7(buf_ptr(&u8), buf_len(&u8), &u7), UTF7_OK);
		assert_true(utf7_is_valid(buf_ptr(&u7), buf_len(&u7)));
		assert_int_equal(utf7_to_utf8(buf_ptr(&u7), buf_len(&u7), &back), UTF7_OK);
		assert_int_equal(buf_len(&back), buf_len(&u8));
		assert_memory_equal(buf_ptr(&back), buf_ptr(&u8), buf_len(&u8));
		assert_true(buf_len(&u7) <= 5 * buf_len(&u8));
		buf_deinit(&u8);
		buf_deinit(&u7);
		buf_deinit(&back);
		seed = seed * 1103515245 + 12345;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_pairs_both_ways),
		cmocka_unit_test(invalid_utf7_refused),
		cmocka_unit_test(strict_utf8),
		cmocka_unit_test(ceiling_reports_toobig_and_restores),
		cmocka_unit_test(arena_variants),
		cmocka_unit_test(round_trip_property),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
