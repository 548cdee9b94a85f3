/*
 * strutil: small string parsers with overflow checks. Each returns 0 and
 * writes *out, or -1 and leaves *out alone. The whole string must be used.
 */
#ifndef MK_STRUTIL_H
#define MK_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only (no sign, no spaces). */
int str_parse_u64(const char *s, uint64_t *out);
/* Same, over s[0..len). */
int str_parse_u64n(const char *s, size_t len, uint64_t *out);
/* "512", "10K", "50M", "2G", "1T" (powers of 1024; case-insensitive,
 * optional trailing 'B' as in "10MB"). */
int str_parse_size(const char *s, uint64_t *out);
/* "30", "30s", "10m", "2h", "5d" -> seconds. */
int str_parse_duration(const char *s, uint64_t *out);
/* yes/no/true/false/on/off/1/0, case-insensitive. */
int str_parse_bool(const char *s, bool *out);

/* ASCII case-insensitive compare of s[0..n) with a NUL-terminated word. */
bool str_ieq_n(const char *s, size_t n, const char *word);

#endif
