#include "unit.h"
#include "lib/date.h"

#include <stdio.h>

/* 2006-01-02 15:04:05 UTC, and the same wall-clock time at minute 0. */
#define T0 1136214245LL
#define T0_NOSEC (T0 - 5)

static void rfc5322_real_world(void **state)
{
	static const struct {
		const char *s;
		long long local;  /* wall-clock time as if UTC */
		int tz;
	} cases[] = {
		{ "Mon, 2 Jan 2006 15:04:05 -0700", T0, -420 },
		{ "Mon, 02 Jan 2006 15:04:05 +0000", T0, 0 },
		{ "2 Jan 2006 15:04 -0700", T0_NOSEC, -420 },
		{ "Tue, 15 Nov 1994 08:12:31 GMT", 784887151, 0 },
		{ "Thu, 13 Feb 1969 23:32:54 -0330 (Newfoundland Time)", -27736026, -210 },
		{ "Fri, 21 Nov 1997 09:55:06 -0600", 880106106, -360 },
		{ "Mon,  2 Jan 2006 15:04:05 +0000 (UTC)", T0, 0 },
		{ "21 Nov 97 09:55:06 GMT", 880106106, 0 },
		{ "Sat, 01 Jan 2000 00:00:00 -0000", 946684800, 0 },
		{ "Mon, 2 Jan 2006 15:04:05 UT", T0, 0 },
		{ "Mon, 2 Jan 2006 15:04:05 EST", T0, -300 },
		{ "Mon, 2 Jan 2006 15:04:05 EDT", T0, -240 },
		{ "Mon, 2 Jan 2006 15:04:05 CST", T0, -360 },
		{ "Mon, 2 Jan 2006 15:04:05 CDT", T0, -300 },
		{ "Mon, 2 Jan 2006 15:04:05 MST", T0, -420 },
		{ "Mon, 2 Jan 2006 15:04:05 MDT", T0, -360 },
		{ "Mon, 2 Jan 2006 15:04:05 pst", T0, -480 },
		{ "Mon, 2 Jan 2006 15:04:05 PDT", T0, -420 },
		{ "Mon, 2 Jan 2006 15:04:05 A", T0, 0 },       /* military: -0000 */
		{ "Mon, 2 Jan 2006 15:04:05 z", T0, 0 },
		{ "Mon, 2 Jan 2006 15:04:05 CEST", T0, 0 },    /* unknown name: -0000 */
		{ "Mon, 2 Jan 2006 15:04:05", T0, 0 },         /* no zone at all */
		{ "Monday, 2 January 2006 15:04:05 +0100", T0, 60 },
		{ "Mon, 2 Sept 2006 15:04:05 +0100", T0 + 243 * 86400LL, 60 },
		{ "Thur, 5 Jan 2006 15:04:05 +0100", T0 + 3 * 86400, 60 },
		{ "Mon Jan  2 15:04:05 2006", T0, 0 },          /* asctime */
		{ "Mon Jan 2 15:04:05 MST 2006", T0, -420 },
		{ "Mon Jan 2 15:04:05 2006 +0100", T0, 60 },
		{ "  Mon ,  2  Jan  2006  15:04:05  +0100  ", T0, 60 },
		{ "Mon, 2 Jan 2006\r\n 15:04:05 +0100", T0, 60 },
		{ "Mon,\t2 Jan 2006 15:04:05\t+0100", T0, 60 },
		{ "(x) Mon, (y) 2 (z) Jan (a (nested \\) b)) 2006 15:04:05 +0100 (c)", T0, 60 },
		{ "2 Jan 2006 15:04:05 +0100 (CET)", T0, 60 },
		{ "Mon, 2 Jan 06 15:04:05 +0100", T0, 60 },
		{ "Mon, 2 Jan 106 15:04:05 +0100", T0, 60 },   /* three-digit year + 1900 */
		{ "Sat, 1 Jan 49 00:00:00 +0000", 2493072000LL, 0 },                 /* 2049 */
		{ "Sun, 1 Jan 50 00:00:00 +0000", -631152000, 0 },                  /* 1950 */
		{ "mon, 02 JAN 2006 15:04:05 +01:00", T0, 60 },
		{ "Mon, 2 Jan 2006 15.04.05 +0100", T0, 60 },
		{ "Mon, 2 Jan 2006 15:04:05 -0800 PST", T0, -480 },
		{ "2-Jan-2006 15:04:05 +0100", T0, 60 },
		{ "Mon, 2 Jan. 2006 15:04:05 +0000", T0, 0 },
		{ "Tue, 29 Feb 2000 12:00:00 +0000", 951782400 + 12 * 3600, 0 },
		{ "Sun, 31 Dec 2006 23:59:60 +0000", 1167609600, 0 },  /* leap second */
		{ "Mon, 2 Jan 2006 15:04:05 +9959", T0, 5999 },
		{ "Wed, 1 Jan 0001 00:00:00 +0000", -62135596800LL, 0 },
		{ "Fri, 31 Dec 9999 23:59:59 +0000", 253402300799LL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 1;
		int tz = 12345;
		if (date_parse_rfc5322(cases[i].s, strlen(cases[i].s), &t, &tz) != 0)
			fail_msg("refused '%s'", cases[i].s);
		long long want = cases[i].local - cases[i].tz * 60LL;
		if ((long long)t != want || tz != cases[i].tz)
			fail_msg("'%s': got t=%lld tz=%d, want t=%lld tz=%d", cases[i].s, (long long)t, tz,
			         want, cases[i].tz);
	}
}

static void rfc5322_refused(void **state)
{
	static const char *const bad[] = {
		"", "   ", "Mon", "Mon, 2 Jan 2006", "Mon, 2 Jan 2006 15", "2 Jan 2006 15:",
		"32 Jan 2006 00:00:00 +0000", "0 Jan 2006 00:00:00 +0000",
		"29 Feb 2001 00:00:00 +0000", "31 Apr 2006 00:00:00 +0000",
		"2 Foo 2006 15:04:05 +0000", "2 Ja 2006 15:04:05 +0000",
		"2 Jan 2006 24:00:00 +0000", "2 Jan 2006 15:60:00 +0000", "2 Jan 2006 15:04:61 +0000",
		"2 Jan 2006 15:4:05 +0000", "2 Jan 2006 15:04:05 +0060", "2 Jan 2006 15:04:05 +01",
		"2 Jan 2006 15:04:05 +01000", "2 Jan 2006 15:04:05 +0000 junk 1",
		"2 Jan 2006 15:04:05 +0000 (unclosed", "2 Jan 10000 15:04:05 +0000",
		"2 Jan 0000 15:04:05 +0000", "2 Jan 6 15:04:05 +0000",
		"2 Jan 2006 15:04:05 NOTAZONE", "123 Jan 2006 15:04:05 +0000",
		"Mon, , 2 Jan 2006 15:04:05 +0000", "2-Jan 2006 15:04:05 +0000",
		"Jan 2006 15:04:05 +0000", "Mon Jan 2 15:04:05", "2 Jan 2006 15:04:05 +0000\x01",
		"Mon, 2 Jan 2006 15:04:05 +0000 +0000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t = 7;
		int tz = 7;
		if (date_parse_rfc5322(bad[i], strlen(bad[i]), &t, &tz) != -1)
			fail_msg("accepted '%s' as %lld %d", bad[i], (long long)t, tz);
		assert_int_equal(t, 7);
		assert_int_equal(tz, 7);
	}
	/* the length bounds the input: no read past it */
	time_t t;
	int tz;
	assert_int_equal(date_parse_rfc5322("2 Jan 2006 15:04:05 +0000", 22, &t, &tz), -1);
	assert_int_equal(date_parse_rfc5322("2 Jan 2006 15:04:05 +0000XX", 25, &t, &tz), 0);
}

static void imap_datetime(void **state)
{
	static const struct {
		const char *s;
		long long t;
		int tz;
	} good[] = {
		{ "21-Nov-2026 21:30:00 +0000", 1795296600, 0 },
		{ "21-nov-2026 22:30:00 +0100", 1795296600, 60 },
		{ " 1-Feb-1994 00:00:00 +0000", 760060800, 0 },
		{ "01-Feb-1994 00:00:00 +0000", 760060800, 0 },
		{ "1-Feb-1994 01:30:00 +0130", 760060800, 90 },
		{ "31-Jan-1994 22:00:00 -0200", 760060800, -120 },
		{ "29-Feb-2000 00:00:00 +0000", 951782400, 0 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		time_t t;
		int tz;
		if (date_parse_imap_datetime(good[i].s, strlen(good[i].s), &t, &tz) != 0)
			fail_msg("refused '%s'", good[i].s);
		assert_int_equal((long long)t, good[i].t);
		assert_int_equal(tz, good[i].tz);
	}
	static const char *const bad[] = {
		"", "21-Nov-2026", "21-Nov-2026 21:30 +0000", "21-Nov-26 21:30:00 +0000",
		"21-November-2026 21:30:00 +0000", "21 Nov 2026 21:30:00 +0000",
		"21-Nov-2026  21:30:00 +0000", "21-Nov-2026 21:30:00 +000", "21-Nov-2026 21:30:00 0000",
		"31-Nov-2026 21:30:00 +0000", "21-Nov-2026 21:30:00 +0000 ", "  1-Feb-1994 00:00:00 +0000",
		"21-Nov-2026 24:00:00 +0000", "21-Nov-2026 21:30:00 +0060", "121-Nov-2026 21:30:00 +0000",
		"21-Nov-2026 21:30:00 GMT", "00-Nov-2026 21:30:00 +0000", "21-Nov-0000 21:30:00 +0000",
		"21-Nov-2026 2:30:00 +0000", "\"21-Nov-2026 21:30:00 +0000\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t;
		int tz;
		if (date_parse_imap_datetime(bad[i], strlen(bad[i]), &t, &tz) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void imap_date_and_day_start(void **state)
{
	time_t d;
	assert_int_equal(date_parse_imap_date("1-Feb-1994", 10, &d), 0);
	assert_int_equal((long long)d, 760060800);
	assert_int_equal(date_parse_imap_date("01-FEB-1994", 11, &d), 0);
	assert_int_equal((long long)d, 760060800);
	assert_int_equal(date_parse_imap_date("1-Feb-1994 ", 11, &d), -1);
	assert_int_equal(date_parse_imap_date(" 1-Feb-1994", 11, &d), -1);
	assert_int_equal(date_parse_imap_date("30-Feb-1994", 11, &d), -1);
	assert_int_equal(date_parse_imap_date("1-Feb-94", 8, &d), -1);

	char out[DATE_IMAP_DATE_SIZE];
	date_format_imap_date(760060800 + 3600, out);
	assert_str(out, "1-Feb-1994");
	date_format_imap_date(1795296600, out);
	assert_str(out, "21-Nov-2026");

	assert_int_equal((long long)date_day_start(1795296600, 0), 1795219200);
	/* 21:30 UTC is 00:30 the next day at +0300 */
	assert_int_equal((long long)date_day_start(1795296600, 180), 1795305600);
	assert_int_equal((long long)date_day_start(1795296600, -1320), 1795132800);
	assert_int_equal((long long)date_day_start(-1, 0), -86400);
}

static void formatters(void **state)
{
	char dt[DATE_IMAP_DATETIME_SIZE], r[DATE_RFC5322_SIZE];
	date_format_imap_datetime(1795296600, 0, dt);
	assert_str(dt, "21-Nov-2026 21:30:00 +0000");
	date_format_imap_datetime(1795296600, 60, dt);
	assert_str(dt, "21-Nov-2026 22:30:00 +0100");
	date_format_imap_datetime(0, -210, dt);
	assert_str(dt, "31-Dec-1969 20:30:00 -0330");
	date_format_imap_datetime(760060800, 0, dt);
	assert_str(dt, "01-Feb-1994 00:00:00 +0000");

	date_format_rfc5322(1795296600, 0, r);
	assert_str(r, "Sat, 21 Nov 2026 21:30:00 +0000");
	date_format_rfc5322(T0 + 7 * 3600, -420, r);
	assert_str(r, "Mon, 02 Jan 2006 15:04:05 -0700");
	date_format_rfc5322(0, 0, r);
	assert_str(r, "Thu, 01 Jan 1970 00:00:00 +0000");

	/* clamped, never overflowing the buffer */
	date_format_imap_datetime((time_t)INT64_MAX, 0, dt);
	assert_str(dt, "31-Dec-9999 23:59:59 +0000");
	date_format_imap_datetime((time_t)INT64_MIN, 0, dt);
	assert_str(dt, "01-Jan-0001 00:00:00 +0000");
	date_format_rfc5322(0, 100000, r);  /* absurd zone: shown as UTC */
	assert_str(r, "Thu, 01 Jan 1970 00:00:00 +0000");
	date_format_rfc5322(253402300799LL, -DATE_TZ_MAX_MINUTES, r);
	assert_str(r, "Mon, 27 Dec 9999 20:00:59 -9959");
}

/* format -> parse gives back the same instant and zone, for both formats,
 * across the whole year range. */
static void round_trips(void **state)
{
	uint64_t seed = 99;
	for (int i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		long long lo = -62135596800LL + 6000 * 60, hi = 253402300799LL - 6000 * 60;
		time_t t = (time_t)(lo + (long long)((seed >> 11) % (uint64_t)(hi - lo)));
		int tz = (int)((seed >> 3) % (2 * DATE_TZ_MAX_MINUTES + 1)) - DATE_TZ_MAX_MINUTES;
		char dt[DATE_IMAP_DATETIME_SIZE], r[DATE_RFC5322_SIZE];
		time_t t2;
		int tz2;
		date_format_imap_datetime(t, tz, dt);
		assert_int_equal(strlen(dt), 26);
		assert_int_equal(date_parse_imap_datetime(dt, strlen(dt), &t2, &tz2), 0);
		assert_int_equal((long long)t2, (long long)t);
		assert_int_equal(tz2, tz);
		date_format_rfc5322(t, tz, r);
		assert_int_equal(date_parse_rfc5322(r, strlen(r), &t2, &tz2), 0);
		assert_int_equal((long long)t2, (long long)t);
		assert_int_equal(tz2, tz);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5322_real_world),
		cmocka_unit_test(rfc5322_refused),
		cmocka_unit_test(imap_datetime),
		cmocka_unit_test(imap_date_and_day_start),
		cmocka_unit_test(formatters),
		cmocka_unit_test(round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
