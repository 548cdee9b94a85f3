/*
 * fuzz_lib_date: the IMAP and RFC 5322 date parsers.
 * Checks: no crash or overflow on any input; whatever parses formats to
 * text that parses back to the same instant and zone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/date.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_range(time_t t, int tz)
{
	check((long long)t >= -62135596800LL - 6000 * 60 && (long long)t <= 253402300799LL + 6000 * 60);
	check(tz >= -DATE_TZ_MAX_MINUTES && tz <= DATE_TZ_MAX_MINUTES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	time_t t, t2;
	int tz, tz2;
	char dt[DATE_IMAP_DATETIME_SIZE], r[DATE_RFC5322_SIZE], d[DATE_IMAP_DATE_SIZE];

	if (date_parse_imap_datetime(s, size, &t, &tz) == 0) {
		check_range(t, tz);
		date_format_imap_datetime(t, tz, dt);
		check(date_parse_imap_datetime(dt, strlen(dt), &t2, &tz2) == 0);
		check(t2 == t && tz2 == tz);
	}
	if (date_parse_imap_date(s, size, &t) == 0) {
		check(date_day_start(t, 0) == t);
		date_format_imap_date(t, d);
		check(date_parse_imap_date(d, strlen(d), &t2) == 0 && t2 == t);
	}
	if (date_parse_rfc5322(s, size, &t, &tz) == 0) {
		check_range(t, tz);
		date_format_rfc5322(t, tz, r);
		/* a leap second (:60) formats as the next minute; the instant stays */
		check(date_parse_rfc5322(r, strlen(r), &t2, &tz2) == 0);
		check(t2 == t && tz2 == tz);
		date_format_imap_datetime(t, tz, dt);
		check(date_parse_imap_datetime(dt, strlen(dt), &t2, &tz2) == 0 && t2 == t);
	}
	/* formatters on arbitrary values never overflow */
	if (size >= sizeof(int64_t) + sizeof(int32_t)) {
		int64_t x;
		int32_t z;
		memcpy(&x, data, sizeof(x));
		memcpy(&z, data + sizeof(x), sizeof(z));
		date_format_imap_datetime((time_t)x, z, dt);
		date_format_rfc5322((time_t)x, z, r);
		date_format_imap_date((time_t)x, d);
		(void)date_day_start((time_t)x, z);
	}
	return 0;
}
