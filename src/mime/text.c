#include "mime/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/internal.h"

static int append_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(b, u, n);
}

static const struct { const char *name; unsigned long cp; } ENTITIES[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", 0xA0 }, { "copy", 0xA9 }, { "reg", 0xAE }, { "euro", 0x20AC },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "hellip", 0x2026 },
	{ "laquo", 0xAB }, { "raquo", 0xBB }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201C }, { "rdquo", 0x201D }, { "bull", 0x2022 }, { "middot", 0xB7 },
	{ "auml", 0xE4 }, { "ouml", 0xF6 }, { "uuml", 0xFC }, { "szlig", 0xDF },
	{ "eacute", 0xE9 }, { "egrave", 0xE8 }, { "agrave", 0xE0 }, { "ccedil", 0xE7 },
};

/* An entity at s[0..n) ('&' first): its length, or 0 if not one. */
static size_t entity(const char *s, size_t n, unsigned long *cp)
{
	size_t e = 1;
	while (e < n && e < 12 && s[e] != ';')
		e++;
	if (e >= n || s[e] != ';' || e < 2)
		return 0;
	if (s[1] == '#') {
		char num[12];
		memcpy(num, s + 2, e - 2);
		num[e - 2] = '\0';
		char *end;
		bool hex = num[0] == 'x' || num[0] == 'X';
		*cp = strtoul(num + hex, &end, hex ? 16 : 10);
		return *end == '\0' && end != num + hex ? e + 1 : 0;
	}
	for (size_t i = 0; i < sizeof(ENTITIES) / sizeof(ENTITIES[0]); i++) {
		if (strlen(ENTITIES[i].name) == e - 1 && memcmp(ENTITIES[i].name, s + 1, e - 1) == 0) {
			*cp = ENTITIES[i].cp;
			return e + 1;
		}
	}
	return 0;
}

/* Offset after the end of what a "<" at s[i] opens (a tag, a comment, or a
 * script/style element with its content). */
static size_t skip_markup(const char *s, size_t n, size_t i)
{
	if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
		return e ? (size_t)(e - s) + 3 : n;
	}
	static const char *const raw[] = { "script", "style" };
	for (int k = 0; k < 2; k++) {
		size_t l = strlen(raw[k]);
		if (n - i > l + 1 && strncasecmp(s + i + 1, raw[k], l) == 0 &&
		    (s[i + 1 + l] == '>' || s[i + 1 + l] == ' ' || s[i + 1 + l] == '\t' ||
		     s[i + 1 + l] == '\r' || s[i + 1 + l] == '\n')) {
			char close[10];
			size_t cl = (size_t)snprintf(close, sizeof(close), "</%s", raw[k]);
			for (size_t j = i + 1 + l; j + cl <= n; j++)
				if (s[j] == '<' && strncasecmp(s + j, close, cl) == 0) {
					const char *gt = memchr(s + j, '>', n - j);
					return gt ? (size_t)(gt - s) + 1 : n;
				}
			return n;
		}
	}
	const char *gt = memchr(s + i, '>', n - i);
	return gt ? (size_t)(gt - s) + 1 : n;
}

int mime_html_to_text(struct buf *b, const char *s, size_t n)
{
	size_t i = 0, run = 0;
	while (i < n) {
		if (s[i] == '<' && i + 1 < n && (s[i + 1] == '/' || s[i + 1] == '!' ||
		                                 ((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z'))) {
			if (buf_append(b, s + run, i - run) < 0)
				return -1;
			/* A tag separates words; one space is enough. */
			if (buf_len(b) > 0 && buf_ptr(b)[buf_len(b) - 1] != ' ' &&
			    buf_append(b, " ", 1) < 0)
				return -1;
			i = run = skip_markup(s, n, i);
			continue;
		}
		unsigned long cp;
		size_t el;
		if (s[i] == '&' && (el = entity(s + i, n - i, &cp)) > 0) {
			if (buf_append(b, s + run, i - run) < 0 || append_utf8(b, cp == 0xA0 ? ' ' : cp) < 0)
				return -1;
			i = run = i + el;
			continue;
		}
		i++;
	}
	return buf_append(b, s + run, n - run);
}

int mime_part_text(struct buf *b, struct arena *a, const struct mime_message *m,
                   const struct mime_part *p, size_t max_in)
{
	size_t len;
	char *raw = mime_decode_body(a, m, p, max_in, &len);
	if (raw == NULL)
		return 0;
	const char *cs = mime_param_get(p->params, p->nparams, "charset");
	if (!mime_part_is(p, "text", "html"))
		return charset_to_utf8(b, cs, raw, len);
	struct buf u;
	mime_buf_init(&u, len * 4 + 16);
	charset_to_utf8(&u, cs, raw, len);
	int r = mime_html_to_text(b, buf_ptr(&u), buf_len(&u));
	buf_deinit(&u);
	return r;
}

static bool is_attachment(const struct mime_part *p)
{
	return p->disposition != NULL && strcasecmp(p->disposition, "attachment") == 0;
}

static const struct mime_part *find_text(const struct mime_part *p, const char *subtype)
{
	if (p->children == NULL)
		return mime_part_is(p, "text", subtype) && !is_attachment(p) ? p : NULL;
	if (p->flags & MIME_PART_MESSAGE)
		return NULL;   /* an attached message is not the main text */
	for (const struct mime_part *c = p->children; c != NULL; c = c->next) {
		const struct mime_part *t = find_text(c, subtype);
		if (t != NULL)
			return t;
	}
	return NULL;
}

const struct mime_part *mime_main_text_part(const struct mime_message *m)
{
	const struct mime_part *p = find_text(m->root, "plain");
	return p ? p : find_text(m->root, "html");
}

char *mime_preview_of(struct arena *a, const char *text, size_t n, size_t max_chars)
{
	char *out = arena_alloc(a, n + 1);
	size_t o = 0, chars = 0;
	bool space = false;
	for (size_t i = 0; i < n && chars < max_chars; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
			space = o > 0;
			continue;
		}
		if (space) {
			if (chars + 1 >= max_chars)
				break;   /* no trailing space */
			out[o++] = ' ';
			space = false;
			chars++;
		}
		out[o++] = (char)c;
		if ((c & 0xC0) != 0x80 && ++chars >= max_chars) {
			/* Copy the rest of this character's bytes. */
			while (i + 1 < n && ((unsigned char)text[i + 1] & 0xC0) == 0x80)
				out[o++] = text[++i];
		}
	}
	out[o] = '\0';
	return out;
}
