#include "mime/charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;      /* overlong */
		else if (c == 0xED)
			hi = 0x9F;      /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;      /* > U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

int utf8_sanitize(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0, i = 0;
	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = utf8_seq_len(u + i, n - i);
		if (l > 0) {
			i += l;
			continue;
		}
		if (buf_append(b, s + run, i - run) < 0 || buf_append(b, REPLACEMENT, 3) < 0)
			return -1;
		run = ++i;
	}
	return buf_append(b, s + run, n - run);
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	/* Back up over continuation bytes to the start of the last sequence. */
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return k;
}

static const struct { const char *label, *iconv_name; } ALIASES[] = {
	{ "iso-8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
	{ "iso_8859-1", "WINDOWS-1252" }, { "gb2312", "GBK" },
	{ "x-gbk", "GBK" }, { "shift_jis", "CP932" }, { "x-sjis", "CP932" },
	{ "sjis", "CP932" }, { "euc-kr", "CP949" }, { "ks_c_5601-1987", "CP949" },
	{ "tis-620", "CP874" }, { "iso-8859-11", "CP874" },
};

static bool is_utf8_label(const char *cs)
{
	return cs == NULL || *cs == '\0' || strcasecmp(cs, "utf-8") == 0 ||
	       strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
	       strcasecmp(cs, "ascii") == 0 || strcasecmp(cs, "unknown-8bit") == 0 ||
	       strcasecmp(cs, "x-unknown") == 0;
}

#define CACHE_SLOTS 4
struct cd_slot {
	char name[48];
	iconv_t cd;
};
static _Thread_local struct cd_slot cache[CACHE_SLOTS];
static _Thread_local unsigned cache_next;

/* A reset descriptor for charset, or (iconv_t)-1 if iconv does not know it. */
static iconv_t get_cd(const char *charset)
{
	const char *name = charset;
	for (size_t i = 0; i < sizeof(ALIASES) / sizeof(ALIASES[0]); i++)
		if (strcasecmp(charset, ALIASES[i].label) == 0)
			name = ALIASES[i].iconv_name;
	if (strlen(name) >= sizeof(cache[0].name))
		return (iconv_t)-1;
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].name[0] && strcasecmp(cache[i].name, name) == 0) {
			if (cache[i].cd != (iconv_t)-1)
				iconv(cache[i].cd, NULL, NULL, NULL, NULL);
			return cache[i].cd;
		}
	}
	iconv_t cd = iconv_open("UTF-8", name);
	struct cd_slot *s = &cache[cache_next++ % CACHE_SLOTS];
	if (s->name[0] && s->cd != (iconv_t)-1)
		iconv_close(s->cd);
	strcpy(s->name, name);
	s->cd = cd;
	return cd;
}

int charset_to_utf8(struct buf *b, const char *charset, const char *s, size_t n)
{
	if (is_utf8_label(charset))
		return utf8_sanitize(b, s, n);
	iconv_t cd = get_cd(charset);
	if (cd == (iconv_t)-1)
		return utf8_sanitize(b, s, n);
	char *in = (char *)s;
	size_t inleft = n;
	char tmp[4096];
	for (;;) {
		char *out = tmp;
		size_t outleft = sizeof(tmp);
		size_t r = inleft > 0 ? iconv(cd, &in, &inleft, &out, &outleft)
		                      : iconv(cd, NULL, NULL, &out, &outleft);
		int err = r == (size_t)-1 ? errno : 0;
		/* iconv writes whole characters, but glibc's UTF-8 reader
		 * passes old 5- and 6-byte forms through: check its output. */
		if (out > tmp && utf8_sanitize(b, tmp, (size_t)(out - tmp)) < 0)
			return -1;
		if (err == E2BIG)
			continue;
		if (err == EILSEQ || err == EINVAL) {
			if (buf_append(b, REPLACEMENT, 3) < 0)
				return -1;
			if (err == EINVAL || inleft == 0)
				return 0;
			in++;
			inleft--;
			continue;
		}
		if (inleft == 0 && err == 0) {
			/* Flush the shift state of stateful charsets once. */
			out = tmp;
			outleft = sizeof(tmp);
			iconv(cd, NULL, NULL, &out, &outleft);
			if (out > tmp && utf8_sanitize(b, tmp, (size_t)(out - tmp)) < 0)
				return -1;
			return 0;
		}
		if (err != 0)
			return 0;
	}
}
