#include "lib/date.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};
static const char *const day_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). The
 * March-based year puts the leap day last, so month lengths follow a
 * simple pattern and leap years only affect the year term. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static unsigned days_in_month(int y, unsigned m)
{
	static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : len[m - 1];
}

struct when {
	int year;
	unsigned mon, day, hour, min, sec;
	int tz;  /* minutes east of UTC */
};

static bool when_valid(const struct when *w)
{
	return w->year >= 1 && w->year <= 9999 && w->mon >= 1 && w->mon <= 12 && w->day >= 1 &&
	       w->day <= days_in_month(w->year, w->mon) && w->hour <= 23 && w->min <= 59 &&
	       w->sec <= 60 && w->tz >= -DATE_TZ_MAX_MINUTES && w->tz <= DATE_TZ_MAX_MINUTES;
}

static time_t when_to_time(const struct when *w)
{
	int64_t days = days_from_civil(w->year, w->mon, w->day);
	return (time_t)(days * 86400 + w->hour * 3600 + w->min * 60 + w->sec - (int64_t)w->tz * 60);
}

/* Break down t as seen in zone tz, clamped to years 1..9999. */
static void time_to_when(time_t t, int tz, struct when *w)
{
	static const int64_t lo = -62135596800LL;  /* 0001-01-01 00:00:00 */
	static const int64_t hi = 253402300799LL;  /* 9999-12-31 23:59:59 */
	if (tz < -DATE_TZ_MAX_MINUTES || tz > DATE_TZ_MAX_MINUTES)
		tz = 0;
	int64_t local = (int64_t)t + (int64_t)tz * 60;
	if (local < lo)
		local = lo;
	if (local > hi)
		local = hi;
	int64_t days = floor_div(local, 86400), secs = local - days * 86400;
	civil_from_days(days, &w->year, &w->mon, &w->day);
	w->hour = (unsigned)(secs / 3600);
	w->min = (unsigned)(secs / 60 % 60);
	w->sec = (unsigned)(secs % 60);
	w->tz = tz;
}

static int weekday(const struct when *w)
{
	int64_t days = days_from_civil(w->year, w->mon, w->day);
	return (int)(((days % 7) + 11) % 7);  /* 1970-01-01 was a Thursday (4) */
}

/* Index 0..11 of a month name: the three-letter abbreviation, or when
 * `lenient`, any longer prefix of the full name ("Sept", "November"). */
static int month_index(const char *s, size_t n, bool lenient)
{
	if (n < 3 || (!lenient && n != 3))
		return -1;
	for (int i = 0; i < 12; i++)
		if (n <= strlen(month_names[i]) && strncasecmp(s, month_names[i], n) == 0)
			return i;
	return -1;
}

static bool is_day_name(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n >= 3 && n <= strlen(day_names[i]) && strncasecmp(s, day_names[i], n) == 0)
			return true;
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n digits at s. */
static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* IMAP: day "-" Mon "-" yyyy; returns bytes used or 0. */
static size_t parse_imap_day(const char *s, size_t len, bool allow_space, struct when *w)
{
	size_t i;
	if (len >= 2 && allow_space && s[0] == ' ' && is_digit(s[1])) {
		w->day = (unsigned)(s[1] - '0');
		i = 2;
	} else if (len >= 2 && is_digit(s[0]) && is_digit(s[1])) {
		w->day = (unsigned)((s[0] - '0') * 10 + (s[1] - '0'));
		i = 2;
	} else if (len >= 1 && is_digit(s[0])) {
		w->day = (unsigned)(s[0] - '0');
		i = 1;
	} else {
		return 0;
	}
	unsigned y;
	if (len - i < 9 || s[i] != '-' || s[i + 4] != '-' || !digits(s + i + 5, 4, &y))
		return 0;
	int m = month_index(s + i + 1, 3, false);
	if (m < 0)
		return 0;
	w->mon = (unsigned)m + 1;
	w->year = (int)y;
	return i + 9;
}

int date_parse_imap_datetime(const char *s, size_t len, time_t *t_out, int *tz_out)
{
	struct when w = { 0 };
	size_t i = parse_imap_day(s, len, true, &w);
	/* " hh:mm:ss +hhmm" */
	if (i == 0 || len - i != 15)
		return -1;
	const char *p = s + i;
	unsigned zh, zm;
	if (p[0] != ' ' || !digits(p + 1, 2, &w.hour) || p[3] != ':' || !digits(p + 4, 2, &w.min) ||
	    p[6] != ':' || !digits(p + 7, 2, &w.sec) || p[9] != ' ' ||
	    (p[10] != '+' && p[10] != '-') || !digits(p + 11, 2, &zh) || !digits(p + 13, 2, &zm) ||
	    zm > 59)
		return -1;
	w.tz = (int)(zh * 60 + zm) * (p[10] == '-' ? -1 : 1);
	if (!when_valid(&w))
		return -1;
	*t_out = when_to_time(&w);
	*tz_out = w.tz;
	return 0;
}

static void format_zone(int tz, char out[6])
{
	unsigned a = (unsigned)(tz < 0 ? -tz : tz);
	snprintf(out, 6, "%c%02u%02u", tz < 0 ? '-' : '+', a / 60 % 100, a % 60);
}

void date_format_imap_datetime(time_t t, int tz_minutes, char out[DATE_IMAP_DATETIME_SIZE])
{
	struct when w;
	char zone[6];
	time_to_when(t, tz_minutes, &w);
	format_zone(w.tz, zone);
	snprintf(out, DATE_IMAP_DATETIME_SIZE, "%02u-%.3s-%04u %02u:%02u:%02u %.5s", w.day % 100,
	         month_names[w.mon - 1], (unsigned)w.year % 10000u, w.hour % 100, w.min % 100, w.sec % 100, zone);
}

int date_parse_imap_date(const char *s, size_t len, time_t *day_out)
{
	struct when w = { 0 };
	size_t i = parse_imap_day(s, len, false, &w);
	if (i == 0 || i != len || !when_valid(&w))
		return -1;
	*day_out = when_to_time(&w);
	return 0;
}

void date_format_imap_date(time_t t, char out[DATE_IMAP_DATE_SIZE])
{
	struct when w;
	time_to_when(t, 0, &w);
	snprintf(out, DATE_IMAP_DATE_SIZE, "%u-%.3s-%04u", w.day % 100, month_names[w.mon - 1],
	         (unsigned)w.year % 10000u);
}

time_t date_day_start(time_t t, int tz_minutes)
{
	struct when w;
	time_to_when(t, tz_minutes, &w);
	w.hour = w.min = w.sec = 0;
	w.tz = 0;
	return when_to_time(&w);
}

void date_format_rfc5322(time_t t, int tz_minutes, char out[DATE_RFC5322_SIZE])
{
	struct when w;
	char zone[6];
	time_to_when(t, tz_minutes, &w);
	format_zone(w.tz, zone);
	snprintf(out, DATE_RFC5322_SIZE, "%.3s, %02u %.3s %04u %02u:%02u:%02u %.5s",
	         day_names[weekday(&w)], w.day % 100, month_names[w.mon - 1], (unsigned)w.year % 10000u,
	         w.hour % 100, w.min % 100, w.sec % 100, zone);
}

/*
 * Lenient RFC 5322 parsing: a scanner over tokens separated by white space
 * and comments (CFWS).
 */
struct scan {
	const char *s;
	size_t len, i;
};

static bool at_end(const struct scan *sc)
{
	return sc->i >= sc->len;
}

static char peek(const struct scan *sc)
{
	return sc->i < sc->len ? sc->s[sc->i] : '\0';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Skip white space and (nested, \-quoted) comments. -1 on an unclosed
 * comment. */
static int skip_cfws(struct scan *sc)
{
	unsigned depth = 0;
	while (sc->i < sc->len) {
		char c = sc->s[sc->i];
		if (depth > 0 && c == '\\') {
			sc->i += 2;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return 0;
		sc->i++;
	}
	if (sc->i > sc->len)
		sc->i = sc->len;
	return depth == 0 ? 0 : -1;
}

/* A run of letters; its length (0 if none). */
static size_t scan_word(struct scan *sc, const char **w)
{
	*w = sc->s + sc->i;
	size_t n = 0;
	while (sc->i < sc->len && is_alpha(sc->s[sc->i]))
		sc->i++, n++;
	return n;
}

/* A run of 1..max digits; the count (0 if none or too many). */
static size_t scan_num(struct scan *sc, size_t max, unsigned *v)
{
	size_t n = 0;
	unsigned x = 0;
	while (sc->i < sc->len && is_digit(sc->s[sc->i])) {
		if (++n > max)
			return 0;
		x = x * 10 + (unsigned)(sc->s[sc->i++] - '0');
	}
	*v = x;
	return n;
}

static bool scan_char(struct scan *sc, char c)
{
	if (peek(sc) != c)
		return false;
	sc->i++;
	return true;
}

/* hh:mm[:ss], ":" or "." between the parts. */
static int scan_time(struct scan *sc, struct when *w)
{
	if (scan_num(sc, 2, &w->hour) == 0)
		return -1;
	char sep = peek(sc);
	if ((sep != ':' && sep != '.') || (sc->i++, scan_num(sc, 2, &w->min) != 2))
		return -1;
	w->sec = 0;
	if (peek(sc) == sep && sc->i + 1 < sc->len && is_digit(sc->s[sc->i + 1])) {
		sc->i++;
		if (scan_num(sc, 2, &w->sec) != 2)
			return -1;
	}
	return 0;
}

/* A zone, or nothing (= -0000). Returns 1 if a zone token was read. */
static int scan_zone(struct scan *sc, struct when *w)
{
	static const struct { const char *name; int tz; } names[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
		{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	};
	w->tz = 0;
	char c = peek(sc);
	if (c == '+' || c == '-') {
		sc->i++;
		unsigned hh, mm;
		if (sc->len - sc->i < 2 || !digits(sc->s + sc->i, 2, &hh))
			return -1;
		sc->i += 2;
		if (peek(sc) == ':')
			sc->i++;
		if (scan_num(sc, 2, &mm) != 2 || mm > 59)
			return -1;
		w->tz = (int)(hh * 60 + mm) * (c == '-' ? -1 : 1);
		/* "-0800 PST" without the parentheses: ignore the name. */
		size_t save = sc->i;
		const char *word;
		if (skip_cfws(sc) < 0 || scan_word(sc, &word) == 0)
			sc->i = save;
		return 1;
	}
	const char *word;
	size_t n = scan_word(sc, &word);
	if (n == 0)
		return 0;
	if (n > 5)
		return -1;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k].name) == n && strncasecmp(word, names[k].name, n) == 0)
			w->tz = names[k].tz;
	return 1;
}

/* RFC 5322 4.3: two-digit years are 1950..2049, three-digit + 1900. */
static int year_from(unsigned v, size_t ndigits)
{
	if (ndigits == 2)
		return (int)(v < 50 ? 2000 + v : 1900 + v);
	if (ndigits == 3)
		return (int)(1900 + v);
	return (int)v;
}

static int scan_month(struct scan *sc, struct when *w)
{
	const char *word;
	size_t n = scan_word(sc, &word);
	int m = month_index(word, n, true);
	if (m < 0)
		return -1;
	w->mon = (unsigned)m + 1;
	scan_char(sc, '.');  /* "Jan." */
	return 0;
}

/* "Jan  2 15:04:05 [zone] 2006 [zone]" after the day name. */
static int scan_asctime(struct scan *sc, struct when *w)
{
	unsigned v;
	size_t n;
	if (scan_month(sc, w) < 0 || skip_cfws(sc) < 0 || scan_num(sc, 2, &w->day) == 0 ||
	    skip_cfws(sc) < 0 || scan_time(sc, w) < 0 || skip_cfws(sc) < 0)
		return -1;
	bool zone_first = !is_digit(peek(sc));
	if (zone_first && (scan_zone(sc, w) < 0 || skip_cfws(sc) < 0))
		return -1;
	if ((n = scan_num(sc, 4, &v)) < 2)
		return -1;
	w->year = year_from(v, n);
	if (skip_cfws(sc) < 0 || (!zone_first && scan_zone(sc, w) < 0))
		return -1;
	return 0;
}

int date_parse_rfc5322(const char *s, size_t len, time_t *t_out, int *tz_out)
{
	struct scan sc = { s, len, 0 };
	struct when w = { 0 };
	const char *word;
	size_t n;
	unsigned v;

	if (skip_cfws(&sc) < 0)
		return -1;
	size_t save = sc.i;
	n = scan_word(&sc, &word);
	if (n > 0 && !is_day_name(word, n))
		sc.i = save;  /* maybe a month: asctime order */
	if (skip_cfws(&sc) < 0)
		return -1;
	scan_char(&sc, ',');
	if (skip_cfws(&sc) < 0)
		return -1;

	if (is_alpha(peek(&sc))) {
		if (scan_asctime(&sc, &w) < 0)
			return -1;
	} else {
		/* day month year time zone; "-" also accepted between the
		 * date parts ("2-Jan-2006"). */
		if (scan_num(&sc, 2, &w.day) == 0 || skip_cfws(&sc) < 0)
			return -1;
		bool dashed = scan_char(&sc, '-');
		if (skip_cfws(&sc) < 0 || scan_month(&sc, &w) < 0 || skip_cfws(&sc) < 0)
			return -1;
		if (dashed && !scan_char(&sc, '-'))
			return -1;
		if (skip_cfws(&sc) < 0 || (n = scan_num(&sc, 4, &v)) < 2)
			return -1;
		w.year = year_from(v, n);
		if (skip_cfws(&sc) < 0 || scan_time(&sc, &w) < 0 || skip_cfws(&sc) < 0 ||
		    scan_zone(&sc, &w) < 0)
			return -1;
	}
	if (skip_cfws(&sc) < 0 || !at_end(&sc) || !when_valid(&w))
		return -1;
	*t_out = when_to_time(&w);
	*tz_out = w.tz;
	return 0;
}
