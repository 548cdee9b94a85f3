/*
 * date: the date formats of IMAP and RFC 5322, parsed and formatted.
 *
 * Times are time_t seconds since the epoch, UTC, plus a zone offset in
 * minutes east of UTC (+0200 -> 120, -0330 -> -210) where the format has
 * one. Years 1..9999 only (the formats have four-digit years). Pure
 * functions over (pointer, length): no locale, no TZ, no global state;
 * thread-safe.
 *
 * Parsers return 0, or -1 and leave the outputs alone.
 */
#ifndef MK_DATE_H
#define MK_DATE_H

#include <stddef.h>
#include <time.h>

/* Buffer sizes for the formatters, including the NUL. */
#define DATE_IMAP_DATETIME_SIZE 27  /* "21-Nov-2026 21:30:00 +0000" */
#define DATE_IMAP_DATE_SIZE 12      /* "21-Nov-2026" */
#define DATE_RFC5322_SIZE 32        /* "Sat, 21 Nov 2026 21:30:00 +0000" */

/* Largest zone offset the formats can carry: +/-99:59. */
#define DATE_TZ_MAX_MINUTES (99 * 60 + 59)

/*
 * IMAP date-time (INTERNALDATE, APPEND): "21-Nov-2026 21:30:00 +0000",
 * without the surrounding quotes (the IMAP parser removes them). The day
 * may be two digits, a space and a digit (RFC 3501 date-day-fixed), or one
 * digit. Month names are case-insensitive. Strict otherwise: single
 * spaces, seconds required, zone required.
 */
int date_parse_imap_datetime(const char *s, size_t len, time_t *t_out, int *tz_out);

/* "05-Nov-2026 21:30:00 +0100": the time t shown in zone tz_minutes, day
 * as two digits. t is clamped to years 1..9999, tz to +/-99:59. */
void date_format_imap_datetime(time_t t, int tz_minutes, char out[DATE_IMAP_DATETIME_SIZE]);

/*
 * IMAP date (SEARCH BEFORE/ON/SINCE...): "1-Feb-1994" or "01-Feb-1994".
 * *day_out is 00:00:00 UTC of that calendar day.
 */
int date_parse_imap_date(const char *s, size_t len, time_t *day_out);
/* "1-Feb-1994": the UTC calendar day of t (no leading zero). */
void date_format_imap_date(time_t t, char out[DATE_IMAP_DATE_SIZE]);

/* 00:00:00 UTC of the calendar day that time t falls on in zone
 * tz_minutes. IMAP SEARCH compares dates "disregarding time and timezone":
 * date_day_start(internaldate, its zone) against a parsed SEARCH date. */
time_t date_day_start(time_t t, int tz_minutes);

/*
 * RFC 5322 Date: header field body, leniently (RFC 5322 section 4.3 and
 * what real mailers send):
 *   - optional day of week, with or without the comma, abbreviated or full,
 *     and not checked against the date;
 *   - comments "(...)" (nested, with \-quoting) and any amount of white
 *     space (including folding CRLF) between tokens;
 *   - month abbreviated or spelled out, any case;
 *   - two-digit years: 00..49 -> 2000..2049, 50..99 -> 1950..1999; three
 *     digits: + 1900;
 *   - seconds optional; "." accepted for ":" in the time;
 *   - zones +hhmm / -hhmm (also +hh:mm); UT, GMT, Z = +0000; EST -0500,
 *     EDT -0400, CST -0600, CDT -0500, MST -0700, MDT -0600, PST -0800,
 *     PDT -0700; other letters (military zones, "CEST", ...) and a missing
 *     zone are taken as -0000, i.e. UTC with the offset unknown;
 *   - also the asctime order some mbox files carry:
 *     "Mon Jan  2 15:04:05 2006" (zone, if any, before or after the year).
 * *t_out is UTC; *tz_out the zone offset in minutes (0 when unknown).
 */
int date_parse_rfc5322(const char *s, size_t len, time_t *t_out, int *tz_out);

/* "Sat, 21 Nov 2026 21:30:00 +0000" (day two digits). Clamped as the IMAP
 * formatter. */
void date_format_rfc5322(time_t t, int tz_minutes, char out[DATE_RFC5322_SIZE]);

#endif
