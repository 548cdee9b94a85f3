#include "imap/imap_resp.h"

#include "lib/buf.h"

#include <inttypes.h>
#include <string.h>

/* Length of a well-formed UTF-8 sequence at s[0..n), or 0 (RFC 3629). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool imap_resp_quoted_ok(const char *s, size_t n, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n > IMAP_RESP_QUOTED_MAX || (flags & IMAP_RESP_LITERAL) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (u[i] == '\0' || u[i] == '\r' || u[i] == '\n')
			return false;
		if (u[i] >= 0x80) {
			size_t k = (flags & IMAP_RESP_UTF8) != 0 ? utf8_seq_len(u + i, n - i) : 0;
			if (k == 0)
				return false;
			i += k - 1;
		}
	}
	return true;
}

/* Undo a partial write so -1 leaves the buffer as it was. */
static int fail(struct buf *b, size_t len0)
{
	b->len = len0;
	if (b->data != NULL)
		b->data[b->off + b->len] = '\0';
	return -1;
}

static int append(struct buf *b, const char *s, size_t n)
{
	return n == 0 ? 0 : buf_append(b, s, n);
}

int imap_resp_write_literal_head(struct buf *b, uint64_t n, bool binary)
{
	return buf_printf(b, "%s{%" PRIu64 "}\r\n", binary ? "~" : "", n);
}

int imap_resp_write_string(struct buf *b, const char *s, size_t n, unsigned flags)
{
	size_t len0 = buf_len(b);
	if (imap_resp_quoted_ok(s, n, flags)) {
		if (append(b, "\"", 1) < 0)
			return -1;
		size_t run = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] != '"' && s[i] != '\\')
				continue;
			if (append(b, s + run, i - run) < 0 || append(b, "\\", 1) < 0)
				return fail(b, len0);
			run = i;
		}
		if (append(b, s + run, n - run) < 0 || append(b, "\"", 1) < 0)
			return fail(b, len0);
		return 0;
	}
	bool binary = n > 0 && memchr(s, '\0', n) != NULL;
	if (binary && (flags & IMAP_RESP_BINARY) == 0)
		return -1;
	if (imap_resp_write_literal_head(b, n, binary) < 0 || append(b, s, n) < 0)
		return fail(b, len0);
	return 0;
}

int imap_resp_write_nstring(struct buf *b, const char *s, size_t n, unsigned flags)
{
	if (s == NULL)
		return append(b, "NIL", 3);
	return imap_resp_write_string(b, s, n, flags);
}

int imap_resp_write_astring(struct buf *b, const char *s, size_t n, unsigned flags)
{
	return imap_resp_write_string(b, s, n, flags);
}

/* ATOM-CHAR: CHAR except atom-specials (RFC 9051). */
static bool is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

static bool is_atom(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_atom_char((unsigned char)*s))
			return false;
	return true;
}

int imap_resp_write_atom(struct buf *b, const char *s)
{
	if (!is_atom(s))
		return -1;
	return append(b, s, strlen(s));
}

static bool is_flag(const char *f)
{
	if (f[0] == '\\')
		return strcmp(f, "\\*") == 0 || is_atom(f + 1);
	return is_atom(f);
}

int imap_resp_write_flags(struct buf *b, const char *const *flags, size_t n)
{
	size_t len0 = buf_len(b);
	for (size_t i = 0; i < n; i++)
		if (!is_flag(flags[i]))
			return -1;
	if (append(b, "(", 1) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && append(b, " ", 1) < 0) || append(b, flags[i], strlen(flags[i])) < 0)
			return fail(b, len0);
	if (append(b, ")", 1) < 0)
		return fail(b, len0);
	return 0;
}

int imap_resp_write_text(struct buf *b, const char *s)
{
	size_t len0 = buf_len(b);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char out = c < 0x20 || c == 0x7f ? ' ' : c >= 0x80 ? '?' : (char)c;
		if (buf_append(b, &out, 1) < 0)
			return fail(b, len0);
	}
	return 0;
}
