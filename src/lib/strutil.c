#include "lib/strutil.h"

#include <string.h>
#include <strings.h>

int str_parse_u64n(const char *s, size_t len, uint64_t *out)
{
	if (len == 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int str_parse_u64(const char *s, uint64_t *out)
{
	return str_parse_u64n(s, strlen(s), out);
}

static int parse_scaled(const char *s, const char *units, const uint64_t *mult, uint64_t *out)
{
	size_t len = strlen(s), digits = 0;
	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	uint64_t v, m = 1;
	if (str_parse_u64n(s, digits, &v) < 0)
		return -1;
	const char *rest = s + digits;
	if (*rest != '\0') {
		const char *u = strchr(units, (*rest | 0x20));
		if (u == NULL || *u == '\0')
			return -1;
		m = mult[u - units];
		rest++;
		/* "10MB": a trailing b/B after a size unit. */
		if (*u != 'b' && (*rest | 0x20) == 'b' && strchr(units, 'k') != NULL)
			rest++;
		if (*rest != '\0')
			return -1;
	}
	if (m != 0 && v > UINT64_MAX / m)
		return -1;
	*out = v * m;
	return 0;
}

int str_parse_size(const char *s, uint64_t *out)
{
	static const uint64_t mult[] = { 1, 1024, 1024ull * 1024, 1024ull * 1024 * 1024,
	                                 1024ull * 1024 * 1024 * 1024 };
	return parse_scaled(s, "bkmgt", mult, out);
}

int str_parse_duration(const char *s, uint64_t *out)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400 };
	return parse_scaled(s, "smhd", mult, out);
}

int str_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

bool str_ieq_n(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}
