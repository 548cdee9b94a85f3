#include "mime/param.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/charset.h"
#include "mime/encword.h"
#include "mime/internal.h"

struct cursor {
	const char *s;
	size_t n, i;
};

static bool is_tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static void skip_cfws(struct cursor *c)
{
	while (c->i < c->n) {
		char ch = c->s[c->i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			c->i++;
		} else if (ch == '(') {
			unsigned depth = 0;
			for (; c->i < c->n; c->i++) {
				if (c->s[c->i] == '\\')
					c->i++;
				else if (c->s[c->i] == '(')
					depth++;
				else if (c->s[c->i] == ')' && --depth == 0) {
					c->i++;
					break;
				}
			}
		} else
			return;
	}
}

static char *token(struct arena *a, struct cursor *c)
{
	size_t st = c->i;
	while (c->i < c->n && (unsigned char)c->s[c->i] > ' ' && !is_tspecial(c->s[c->i]))
		c->i++;
	return c->i > st ? arena_strndup(a, c->s + st, c->i - st) : NULL;
}

static char *quoted(struct arena *a, struct cursor *c)
{
	size_t st = ++c->i, e = st;
	while (e < c->n && c->s[e] != '"')
		e += c->s[e] == '\\' && e + 1 < c->n ? 2 : 1;
	char *out = arena_alloc(a, e - st + 1);
	size_t o = 0;
	for (size_t k = st; k < e; k++) {
		if (c->s[k] == '\\' && k + 1 < e)
			k++;
		if (c->s[k] != '\r' && c->s[k] != '\n')
			out[o++] = c->s[k];
	}
	c->i = e < c->n ? e + 1 : c->n;
	out[o] = '\0';
	return out;
}

/* Skip a quoted string without copying it. */
static void skip_quoted(struct cursor *c)
{
	for (c->i++; c->i < c->n && c->s[c->i] != '"'; c->i++)
		if (c->s[c->i] == '\\' && c->i + 1 < c->n)
			c->i++;
	if (c->i < c->n)
		c->i++;
}

static char *unquoted_value(struct arena *a, struct cursor *c)
{
	size_t st = c->i;
	/* A token, unless more text follows before the next ';' (a broken
	 * "name=my file.pdf"): then all of it. A comment may follow. */
	while (c->i < c->n && (unsigned char)c->s[c->i] > ' ' && c->s[c->i] != ';' &&
	       c->s[c->i] != '(' && c->s[c->i] != '"')
		c->i++;
	size_t tok_end = c->i;
	skip_cfws(c);
	if (c->i >= c->n || c->s[c->i] == ';' || (tok_end < c->n && c->s[tok_end] == '(')) {
		c->i = tok_end;
		return arena_strndup(a, c->s + st, tok_end - st);
	}
	while (c->i < c->n && c->s[c->i] != ';')
		c->i++;
	size_t e = c->i;
	while (e > st && (c->s[e - 1] == ' ' || c->s[e - 1] == '\t' ||
	                  c->s[e - 1] == '\r' || c->s[e - 1] == '\n'))
		e--;
	char *out = arena_alloc(a, e - st + 1);
	size_t o = 0;
	for (size_t k = st; k < e; k++)
		if (c->s[k] != '\r' && c->s[k] != '\n')
			out[o++] = c->s[k];
	return out;
}

/* "base*N" or "base*N*": the length of base and N; -1 if not numbered. */
static long section_number(const char *name, size_t *base_len, bool *extended)
{
	const char *star = strchr(name, '*');
	if (star == NULL || star == name || star[1] < '0' || star[1] > '9')
		return -1;
	char *end;
	long num = strtol(star + 1, &end, 10);
	if (num > 999 || (*end != '\0' && strcmp(end, "*") != 0))
		return -1;
	*base_len = (size_t)(star - name);
	*extended = *end == '*';
	return num;
}

/* Merge "x*0", "x*1*", ... into one "x" or "x*" parameter, in place. */
static void merge_continuations(struct arena *a, struct mime_ctype *ct)
{
	size_t out = 0;
	bool used[MIME_MAX_PARAMS] = { false };
	for (size_t i = 0; i < ct->nparams; i++) {
		if (used[i])
			continue;
		size_t blen;
		bool ext;
		long num = section_number(ct->params[i].name, &blen, &ext);
		if (num < 0) {
			ct->params[out++] = ct->params[i];
			continue;
		}
		struct buf v;
		mime_buf_init(&v, 1 << 20);
		bool first_ext = false;
		/* Append pieces in numeric order: pick the next number each time. */
		for (long want = 0, found = 1; found; want++) {
			found = 0;
			for (size_t j = i; j < ct->nparams; j++) {
				size_t bl;
				bool e;
				if (used[j] || section_number(ct->params[j].name, &bl, &e) != want ||
				    bl != blen || strncasecmp(ct->params[j].name, ct->params[i].name, blen) != 0)
					continue;
				used[j] = true;
				found = 1;
				if (want == 0)
					first_ext = e;
				buf_append_str(&v, ct->params[j].value);
				break;
			}
		}
		/* Pieces with a gap in the numbering are dropped. */
		for (size_t j = i; j < ct->nparams; j++) {
			size_t bl;
			bool e;
			if (!used[j] && section_number(ct->params[j].name, &bl, &e) >= 0 && bl == blen &&
			    strncasecmp(ct->params[j].name, ct->params[i].name, blen) == 0)
				used[j] = true;
		}
		ct->params[out].name = arena_printf(a, "%.*s%s", (int)blen, ct->params[i].name,
		                                    first_ext ? "*" : "");
		ct->params[out].value = arena_strndup(a, buf_ptr(&v), buf_len(&v));
		out++;
		buf_deinit(&v);
	}
	ct->nparams = out;
}

void mime_ctype_parse(struct arena *a, const char *v, size_t n, bool with_subtype,
                      struct mime_ctype *out)
{
	struct cursor c = { v, n, 0 };
	memset(out, 0, sizeof(*out));
	skip_cfws(&c);
	out->type = token(a, &c);
	skip_cfws(&c);
	if (with_subtype && out->type != NULL) {
		if (c.i < c.n && c.s[c.i] == '/') {
			c.i++;
			skip_cfws(&c);
			out->subtype = token(a, &c);
		}
		if (out->subtype == NULL)
			out->type = NULL;
	}
	out->params = arena_alloc(a, sizeof(struct mime_param) * MIME_MAX_PARAMS);
	while (c.i < c.n && out->nparams < MIME_MAX_PARAMS) {
		/* Skip to the next ';' (junk after a value is ignored). */
		while (c.i < c.n && c.s[c.i] != ';') {
			if (c.s[c.i] == '"')
				skip_quoted(&c);
			else
				c.i++;
		}
		if (c.i >= c.n)
			break;
		c.i++;
		skip_cfws(&c);
		char *name = token(a, &c);
		skip_cfws(&c);
		if (name == NULL || c.i >= c.n || c.s[c.i] != '=')
			continue;
		c.i++;
		skip_cfws(&c);
		char *value = c.i < c.n && c.s[c.i] == '"' ? quoted(a, &c) : unquoted_value(a, &c);
		out->params[out->nparams].name = name;
		out->params[out->nparams].value = value;
		out->nparams++;
	}
	merge_continuations(a, out);
}

char *mime_rfc2231_decode(struct arena *a, const char *v)
{
	const char *q1 = strchr(v, '\'');
	const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	char charset[64] = "";
	const char *text = v;
	if (q2 != NULL) {
		size_t cl = (size_t)(q1 - v);
		if (cl < sizeof(charset)) {
			memcpy(charset, v, cl);
			charset[cl] = '\0';
		}
		text = q2 + 1;
	}
	size_t n = strlen(text), o = 0;
	char *raw = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		static const char hex[] = "0123456789abcdef";
		const char *h, *l;
		if (text[i] == '%' && text[i + 1] && text[i + 2] &&
		    (h = strchr(hex, text[i + 1] | 0x20)) && (l = strchr(hex, text[i + 2] | 0x20))) {
			raw[o++] = (char)((h - hex) << 4 | (l - hex));
			i += 2;
		} else
			raw[o++] = text[i];
	}
	struct buf b;
	mime_buf_init(&b, o * 4 + 16);
	charset_to_utf8(&b, charset, raw, o);
	char *res = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return res;
}

const char *mime_param_get(const struct mime_param *params, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	return NULL;
}

const char *mime_param_decoded(struct arena *a, const struct mime_param *params,
                               size_t n, const char *name)
{
	char ext[128];
	if (snprintf(ext, sizeof(ext), "%s*", name) < (int)sizeof(ext)) {
		const char *v = mime_param_get(params, n, ext);
		if (v != NULL)
			return mime_rfc2231_decode(a, v);
	}
	const char *v = mime_param_get(params, n, name);
	return v ? encword_decode_arena(a, v, strlen(v)) : NULL;
}
