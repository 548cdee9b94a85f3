#include "unit.h"
#include "lib/strutil.h"

static void u64_bounds_and_junk(void **state)
{
	uint64_t v = 0;
	assert_int_equal(str_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_parse_u64("007", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(str_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	static const char *const bad[] = {
		"", "18446744073709551616", "99999999999999999999", "-1", "+1", " 1", "1 ", "1x",
		"0x10", "1.0", "1,000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (str_parse_u64(bad[i], &v) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(v, 42);  /* untouched on failure */
	}
	/* the n variant stops at n, even inside a longer string */
	assert_int_equal(str_parse_u64n("12345", 3, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(str_parse_u64n("12a45", 2, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(str_parse_u64n("12", 0, &v), -1);
}

static void sizes(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "512", 512 }, { "10K", 10240 }, { "10k", 10240 },
		{ "50M", 50ull << 20 }, { "2G", 2ull << 30 }, { "1T", 1ull << 40 },
		{ "10MB", 10ull << 20 }, { "10mb", 10ull << 20 }, { "10Kb", 10240 }, { "10B", 10 },
		{ "10b", 10 }, { "16777215T", 16777215ull << 40 },
		{ "18446744073709551615", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 1;
		if (str_parse_size(good[i].s, &v) != 0 || v != good[i].v)
			fail_msg("'%s': got %llu", good[i].s, (unsigned long long)v);
	}
	static const char *const bad[] = {
		"", "K", "M10", "10X", "10KBB", "10BB", "10 K", " 10K", "10K ", "-1K", "1.5M",
		"16777216T", "17179869184G", "10s", "10KK", "10E",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 42;
		if (str_parse_size(bad[i], &v) != -1)
			fail_msg("accepted size '%s' as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 42);
	}
}

static void durations(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "30", 30 }, { "30s", 30 }, { "30S", 30 }, { "10m", 600 },
		{ "10M", 600 }, { "2h", 7200 }, { "5d", 432000 }, { "0d", 0 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 1;
		if (str_parse_duration(good[i].s, &v) != 0 || v != good[i].v)
			fail_msg("'%s': got %llu", good[i].s, (unsigned long long)v);
	}
	static const char *const bad[] = {
		"", "s", "1w", "10mb", "10ms", "1.5h", "1 h", "h1", "10K", "-5s",
		"213503982334602d",  /* overflows seconds */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 42;
		if (str_parse_duration(bad[i], &v) != -1)
			fail_msg("accepted duration '%s' as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 42);
	}
	uint64_t v;
	assert_int_equal(str_parse_duration("213503982334601d", &v), 0);
}

static void booleans(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "on", "ON", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "off", "Off", "0" };
	static const char *const bad[] = { "", "y", "n", "2", "yes ", " no", "enable", "10" };
	bool b;
	for (size_t i = 0; i < 7; i++) {
		b = false;
		assert_int_equal(str_parse_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(str_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		if (str_parse_bool(bad[i], &b) != -1)
			fail_msg("accepted bool '%s'", bad[i]);
		assert_true(b);
	}
}

static void case_insensitive_compare(void **state)
{
	assert_true(str_ieq_n("INBOX", 5, "inbox"));
	assert_true(str_ieq_n("InBoXes", 5, "inbox"));  /* only n bytes compared */
	assert_false(str_ieq_n("INB", 3, "inbox"));
	assert_false(str_ieq_n("INBOXES", 7, "inbox"));
	assert_true(str_ieq_n("", 0, ""));
	assert_false(str_ieq_n("\xc3\x84", 2, "\xc3\xa4"));  /* ASCII only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(u64_bounds_and_junk),
		cmocka_unit_test(sizes),
		cmocka_unit_test(durations),
		cmocka_unit_test(booleans),
		cmocka_unit_test(case_insensitive_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
