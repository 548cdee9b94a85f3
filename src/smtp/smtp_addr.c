#include "smtp/smtp_addr.h"

#include <string.h>
#include <strings.h>

/* Length of the well-formed UTF-8 sequence of a non-ASCII character at
 * s[0..n), or 0 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned min;
	unsigned cp;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

struct cursor {
	const unsigned char *s;
	size_t n, i;
	bool utf8_ok, saw_utf8;
};

/* One non-ASCII character if allowed; its length or 0. */
static size_t take_utf8(struct cursor *k)
{
	if (!k->utf8_ok || k->s[k->i] < 0x80)
		return 0;
	size_t l = utf8_char(k->s + k->i, k->n - k->i);
	if (l > 0)
		k->saw_utf8 = true;
	return l;
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
 * (or a U-label with SMTPUTF8). Returns its length or 0. */
static size_t scan_domain(struct cursor *k)
{
	size_t start = k->i;
	for (;;) {
		size_t label = k->i;
		unsigned char last = 0;
		while (k->i < k->n) {
			unsigned char c = k->s[k->i];
			size_t u;
			if (is_letdig(c) || (c == '-' && k->i > label)) {
				last = c;
				k->i++;
			} else if ((u = take_utf8(k)) > 0) {
				last = 'a';
				k->i += u;
			} else {
				break;
			}
		}
		if (k->i == label || last == '-' || k->i - label > 63)
			return 0;
		if (k->i < k->n && k->s[k->i] == '.' && k->i + 1 < k->n &&
		    (is_letdig(k->s[k->i + 1]) || k->s[k->i + 1] >= 0x80)) {
			k->i++;
			continue;
		}
		return k->i - start;
	}
}

/* "[" ... "]": IPv4, "IPv6:...", or a general literal "tag:text"; the
 * content is dcontent (printable ASCII except [ \ ]). */
static size_t scan_literal(struct cursor *k)
{
	size_t start = k->i;
	k->i++;
	while (k->i < k->n && k->s[k->i] != ']') {
		unsigned char c = k->s[k->i];
		if (c < 33 || c > 126 || c == '[' || c == '\\')
			return 0;
		k->i++;
	}
	if (k->i >= k->n || k->i == start + 1)
		return 0;
	k->i++;
	return k->i - start;
}

/* Dot-string or Quoted-string; writes the normal form into out. */
static int scan_local(struct cursor *k, char *out, size_t *out_len)
{
	size_t o = 0;
	if (k->i < k->n && k->s[k->i] == '"') {
		k->i++;
		char tmp[SMTP_LOCAL_MAX + 1];
		size_t t = 0;
		bool dotstring = true;
		while (k->i < k->n && k->s[k->i] != '"') {
			unsigned char c = k->s[k->i];
			size_t u = 0;
			if (c == '\\') {
				if (k->i + 1 >= k->n || k->s[k->i + 1] < 32 || k->s[k->i + 1] > 126)
					return -1;
				c = k->s[k->i + 1];
				k->i += 2;
				dotstring = false;  /* keep the quoting as sent */
				if (t + 2 > SMTP_LOCAL_MAX)
					return -1;
				tmp[t++] = '\\';
				tmp[t++] = (char)c;
				continue;
			}
			if (c >= 32 && c <= 126) {
				u = 1;
			} else if ((u = take_utf8(k)) == 0) {
				return -1;
			}
			if (!(is_atext(c) || c == '.' || c >= 0x80))
				dotstring = false;
			if (t + u > SMTP_LOCAL_MAX)
				return -1;
			memcpy(tmp + t, k->s + k->i, u);
			t += u;
			k->i += u;
		}
		if (k->i >= k->n)
			return -1;
		k->i++;
		if (t == 0 || tmp[0] == '.' || tmp[t - 1] == '.' || memmem(tmp, t, "..", 2) != NULL)
			dotstring = false;
		if (dotstring) {
			memcpy(out, tmp, t);
			o = t;
		} else {
			if (t + 2 > SMTP_LOCAL_MAX + 2)
				return -1;
			out[o++] = '"';
			memcpy(out + o, tmp, t);
			o += t;
			out[o++] = '"';
		}
		*out_len = o;
		return 0;
	}
	size_t start = k->i;
	bool need_atom = true;
	while (k->i < k->n) {
		unsigned char c = k->s[k->i];
		size_t u;
		if (is_atext(c)) {
			k->i++;
			need_atom = false;
		} else if ((u = take_utf8(k)) > 0) {
			k->i += u;
			need_atom = false;
		} else if (c == '.' && !need_atom) {
			k->i++;
			need_atom = true;
		} else {
			break;
		}
	}
	size_t len = k->i - start;
	if (len == 0 || need_atom || len > SMTP_LOCAL_MAX)
		return -1;
	memcpy(out, k->s + start, len);
	*out_len = len;
	return 0;
}

int smtp_path_parse(const char *s, size_t n, unsigned flags, struct smtp_path *out,
                    size_t *used_r, const char **error_r)
{
	struct cursor k = { (const unsigned char *)s, n, 0, (flags & SMTP_PATH_UTF8) != 0, false };
	memset(out, 0, sizeof(*out));
	*error_r = "Bad address syntax";
	if (n == 0 || s[0] != '<')
		return -1;
	k.i = 1;
	if (k.i < n && s[k.i] == '>') {
		if (!(flags & SMTP_PATH_ALLOW_NULL)) {
			*error_r = "Null address not allowed here";
			return -1;
		}
		out->is_null = true;
		*used_r = 2;
		return 0;
	}
	if ((flags & SMTP_PATH_ALLOW_POSTMASTER) && n - k.i >= 11 &&
	    strncasecmp(s + k.i, "postmaster>", 11) == 0) {
		out->is_postmaster = true;
		memcpy(out->addr, "Postmaster", 11);
		out->local_len = 10;
		*used_r = k.i + 11;
		return 0;
	}
	/* A-d-l: "@dom,@dom:" (obsolete source route; ignored, RFC 5321 C). */
	if (k.i < n && s[k.i] == '@') {
		for (;;) {
			k.i++;
			if (scan_domain(&k) == 0)
				return -1;
			if (k.i < n && s[k.i] == ',' && k.i + 1 < n && s[k.i + 1] == '@') {
				k.i++;
				continue;
			}
			if (k.i >= n || s[k.i] != ':')
				return -1;
			k.i++;
			break;
		}
	}
	char local[SMTP_LOCAL_MAX + 3];
	size_t llen;
	if (scan_local(&k, local, &llen) < 0)
		return -1;
	if (k.i >= n || s[k.i] != '@')
		return -1;
	k.i++;
	size_t dstart = k.i, dlen;
	bool literal = k.i < n && s[k.i] == '[';
	dlen = literal ? scan_literal(&k) : scan_domain(&k);
	if (dlen == 0 || dlen > SMTP_DOMAIN_MAX)
		return -1;
	if (k.i >= n || s[k.i] != '>')
		return -1;
	if (k.saw_utf8 && !(flags & SMTP_PATH_UTF8)) {
		*error_r = "Non-ASCII address without SMTPUTF8";
		return -1;
	}
	if (llen + 1 + dlen > SMTP_PATH_MAX - 2) {
		*error_r = "Address too long";
		return -1;
	}
	memcpy(out->addr, local, llen);
	out->addr[llen] = '@';
	char *d = out->addr + llen + 1;
	memcpy(d, s + dstart, dlen);
	d[dlen] = '\0';
	if (!literal) {
		for (size_t i = 0; i < dlen; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] = (char)(d[i] - 'A' + 'a');
	}
	out->local_len = llen;
	out->has_utf8 = k.saw_utf8;
	out->domain_literal = literal;
	*used_r = k.i + 1;
	return 0;
}

const char *smtp_path_domain(const struct smtp_path *p)
{
	return p->addr + p->local_len + (p->addr[p->local_len] == '@' ? 1 : 0);
}
