#include "lib/utf7.h"
#include "lib/base64.h"

#include <stdint.h>
#include <string.h>

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Modified BASE64 (RFC 3501 5.1.3): ',' takes the place of '/'. */
static int b64value(unsigned char c)
{
	if (c == ',')
		return 63;
	return c == '/' ? -1 : base64_value(c);
}

static bool is_direct(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Decode one UTF-8 sequence at s[*i..len). Returns the code point and
 * advances *i, or returns UINT32_MAX for an invalid sequence. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp, min;
	size_t n;
	if (c < 0x80) {
		(*i)++;
		return c;
	} else if (c >= 0xc2 && c <= 0xdf) {
		cp = c & 0x1f, n = 1, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		cp = c & 0x0f, n = 2, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		cp = c & 0x07, n = 3, min = 0x10000;
	} else {
		return UINT32_MAX;
	}
	if (len - *i - 1 < n)
		return UINT32_MAX;
	for (size_t k = 1; k <= n; k++) {
		unsigned char cc = s[*i + k];
		if ((cc & 0xc0) != 0x80)
			return UINT32_MAX;
		cp = (cp << 6) | (cc & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return UINT32_MAX;
	*i += n + 1;
	return cp;
}

bool utf8_is_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len)
		if (utf8_next(u, len, &i) == UINT32_MAX)
			return false;
	return true;
}

static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the base64 run s[0..n) (between "&" and "-", n > 0), appending
 * UTF-8 to out unless out is NULL (validation only). */
static int decode_shift(const unsigned char *s, size_t n, struct buf *out)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64value(s[i]);
		if (v < 0)
			return UTF7_INVALID;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		uint32_t cp;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return UTF7_INVALID;
			cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00);
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
			continue;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return UTF7_INVALID;
		} else if (unit == 0 || is_direct(unit)) {
			return UTF7_INVALID;  /* NUL, or ASCII that must be direct */
		} else {
			cp = unit;
		}
		if (out != NULL) {
			char tmp[4];
			if (buf_append(out, tmp, utf8_put(cp, tmp)) < 0)
				return UTF7_TOOBIG;
		}
	}
	/* Canonical end: a whole number of units, padding bits zero. */
	if (high != 0 || nbits >= 6 || bits != 0)
		return UTF7_INVALID;
	return UTF7_OK;
}

static int utf7_decode(const char *str, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	bool after_shift = false;  /* the previous byte closed a base64 run */
	while (i < len) {
		unsigned char c = s[i];
		if (c != '&') {
			if (!is_direct(c))
				return UTF7_INVALID;
			if (out != NULL && buf_append(out, &c, 1) < 0)
				return UTF7_TOOBIG;
			i++;
			after_shift = false;
			continue;
		}
		const unsigned char *dash = memchr(s + i + 1, '-', len - i - 1);
		if (dash == NULL)
			return UTF7_INVALID;
		size_t n = (size_t)(dash - (s + i + 1));
		if (n == 0) {
			if (out != NULL && buf_append(out, "&", 1) < 0)
				return UTF7_TOOBIG;
			after_shift = false;
		} else {
			/* "&A-&B-" must have been written "&AB-". */
			if (after_shift)
				return UTF7_INVALID;
			int r = decode_shift(s + i + 1, n, out);
			if (r != UTF7_OK)
				return r;
			after_shift = true;
		}
		i += n + 2;
	}
	return UTF7_OK;
}

bool utf7_is_valid(const char *s, size_t len)
{
	return utf7_decode(s, len, NULL) == UTF7_OK;
}

int utf7_to_utf8(const char *s, size_t len, struct buf *out)
{
	size_t before = out->len;
	int r = utf7_decode(s, len, out);
	if (r != UTF7_OK && out->len > before) {
		out->len = before;
		out->data[out->off + before] = '\0';
	}
	return r;
}

/* Streaming base64 writer for one shift: "&", the units, then "-". */
struct shift_writer {
	bool open;
	uint32_t bits;
	unsigned nbits;
};

static int shift_unit(struct shift_writer *w, uint16_t unit, struct buf *out)
{
	char chunk[4];
	size_t k = 0;
	if (!w->open) {
		chunk[k++] = '&';
		w->open = true;
	}
	w->bits = (w->bits << 16) | unit;
	w->nbits += 16;
	while (w->nbits >= 6) {
		w->nbits -= 6;
		chunk[k++] = b64chars[(w->bits >> w->nbits) & 0x3f];
	}
	w->bits &= (1u << w->nbits) - 1;
	return buf_append(out, chunk, k);
}

static int shift_close(struct shift_writer *w, struct buf *out)
{
	if (!w->open)
		return 0;
	char chunk[2];
	size_t k = 0;
	if (w->nbits > 0)
		chunk[k++] = b64chars[(w->bits << (6 - w->nbits)) & 0x3f];
	chunk[k++] = '-';
	w->open = false;
	w->bits = 0;
	w->nbits = 0;
	return buf_append(out, chunk, k);
}

static int encode(const unsigned char *s, size_t len, struct buf *out)
{
	struct shift_writer w = { 0 };
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		uint32_t cp = utf8_next(s, len, &i);
		if (cp == UINT32_MAX || cp == 0)
			return UTF7_INVALID;
		if (is_direct(cp)) {
			if (shift_close(&w, out) < 0)
				return UTF7_TOOBIG;
			if (buf_append(out, cp == '&' ? "&-" : (const char *)s + start,
			               cp == '&' ? 2 : 1) < 0)
				return UTF7_TOOBIG;
			continue;
		}
		int r;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			r = shift_unit(&w, (uint16_t)(0xd800 + (cp >> 10)), out);
			if (r == 0)
				r = shift_unit(&w, (uint16_t)(0xdc00 + (cp & 0x3ff)), out);
		} else {
			r = shift_unit(&w, (uint16_t)cp, out);
		}
		if (r < 0)
			return UTF7_TOOBIG;
	}
	return shift_close(&w, out) < 0 ? UTF7_TOOBIG : UTF7_OK;
}

int utf8_to_utf7(const char *s, size_t len, struct buf *out)
{
	size_t before = out->len;
	int r = encode((const unsigned char *)s, len, out);
	if (r != UTF7_OK && out->len > before) {
		out->len = before;
		out->data[out->off + before] = '\0';
	}
	return r;
}

static char *to_arena(struct arena *a, const char *s, size_t len, size_t max,
                      int (*conv)(const char *, size_t, struct buf *))
{
	struct buf b;
	buf_init(&b, max);
	char *res = NULL;
	if (conv(s, len, &b) == UTF7_OK)
		res = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return res;
}

char *utf7_to_utf8_arena(struct arena *a, const char *s, size_t len)
{
	return to_arena(a, s, len, UTF7_MAX_UTF8_LEN(len), utf7_to_utf8);
}

char *utf8_to_utf7_arena(struct arena *a, const char *s, size_t len)
{
	return to_arena(a, s, len, UTF7_MAX_UTF7_LEN(len) + 1, utf8_to_utf7);
}
