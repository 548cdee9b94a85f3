#include "mime/encword.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "mime/charset.h"
#include "mime/internal.h"

size_t encword_b_decode(const char *s, size_t n, unsigned char *out)
{
	size_t o = 0;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = base64_value((unsigned char)s[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t encword_q_decode(const char *s, size_t n, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '_')
			out[o++] = ' ';
		else if (s[i] == '=' && i + 2 < n && (h = hex_value((unsigned char)s[i + 1])) >= 0 &&
		         (l = hex_value((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (unsigned char)(h << 4 | l);
			i += 2;
		} else
			out[o++] = (unsigned char)s[i];
	}
	return o;
}

struct ew {
	const char *charset;
	size_t charset_len;   /* without a "*lang" suffix */
	char enc;
	const char *text;
	size_t text_len;
	size_t end;           /* offset after "?=" */
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* An encoded word starting at s[i] ("=?"), or false. */
static bool parse_ew(const char *s, size_t n, size_t i, struct ew *w)
{
	size_t p = i + 2, cs = p;
	while (p < n && s[p] != '?' && !is_ws(s[p]) && p - cs < 63)
		p++;
	if (p >= n || s[p] != '?' || p == cs || p + 3 > n)
		return false;
	w->charset = s + cs;
	w->charset_len = p - cs;
	const char *star = memchr(w->charset, '*', w->charset_len);
	if (star)
		w->charset_len = (size_t)(star - w->charset);
	char e = s[p + 1];
	if ((e != 'B' && e != 'b' && e != 'Q' && e != 'q') || s[p + 2] != '?')
		return false;
	w->enc = (char)(e | 0x20);
	size_t t = p + 3, q = t;
	while (q + 1 < n && !(s[q] == '?' && s[q + 1] == '=') && !is_ws(s[q]))
		q++;
	if (q + 1 >= n || s[q] != '?' || s[q + 1] != '=') {
		/* No later "=?" before q can end in "?=" either: skip there,
		 * keeping the scan linear. */
		w->end = q;
		return false;
	}
	w->text = s + t;
	w->text_len = q - t;
	w->end = q + 2;
	return true;
}

/* Text outside encoded words: UTF-8 if it is valid UTF-8, else (raw
 * 8-bit headers from old mailers) windows-1252. */
static int plain_text(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t l = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, n - i);
		if (l == 0)
			return charset_to_utf8(b, "windows-1252", s, n);
		i += l;
	}
	return buf_append(b, s, n);
}

struct pending {
	char charset[64];
	struct buf bytes;
};

static int flush(struct buf *b, struct pending *pd)
{
	int r = 0;
	if (buf_len(&pd->bytes) > 0)
		r = charset_to_utf8(b, pd->charset, buf_ptr(&pd->bytes), buf_len(&pd->bytes));
	buf_reset(&pd->bytes, 256);
	pd->charset[0] = '\0';
	return r;
}

int encword_decode(struct buf *b, const char *s, size_t n)
{
	struct pending pd = { .charset = "" };
	mime_buf_init(&pd.bytes, n + 1);
	size_t i = 0, run = 0;
	bool after_ew = false;
	int r = 0;
	while (i + 1 < n && r == 0) {
		struct ew w = { .end = 0 };
		if (s[i] != '=' || s[i + 1] != '?') {
			i++;
			continue;
		}
		if (!parse_ew(s, n, i, &w)) {
			i = w.end > i ? w.end : i + 1;
			continue;
		}
		bool gap_ws = true;
		for (size_t k = run; k < i; k++)
			gap_ws = gap_ws && is_ws(s[k]);
		char cs[64];
		memcpy(cs, w.charset, w.charset_len);
		cs[w.charset_len] = '\0';
		if (!(after_ew && gap_ws) || strcasecmp(cs, pd.charset) != 0) {
			r = flush(b, &pd);
			if (r == 0 && !(after_ew && gap_ws))
				r = plain_text(b, s + run, i - run);
			memcpy(pd.charset, cs, w.charset_len + 1);
		}
		/* Decoded text is never longer than the encoded text, and all
		 * of it fits in the n + 1 bytes the buffer allows. */
		char *dst = w.text_len > 0 ? buf_reserve(&pd.bytes, w.text_len) : NULL;
		if (dst != NULL) {
			size_t dl = w.enc == 'b'
				? encword_b_decode(w.text, w.text_len, (unsigned char *)dst)
				: encword_q_decode(w.text, w.text_len, (unsigned char *)dst);
			buf_commit(&pd.bytes, dl);
		}
		i = run = w.end;
		after_ew = true;
	}
	if (r == 0)
		r = flush(b, &pd);
	if (r == 0)
		r = plain_text(b, s + run, n - run);
	buf_deinit(&pd.bytes);
	return r;
}

char *encword_decode_arena(struct arena *a, const char *s, size_t n)
{
	struct buf b;
	mime_buf_init(&b, n * 4 + 16);
	encword_decode(&b, s, n);
	char *out = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return out;
}
