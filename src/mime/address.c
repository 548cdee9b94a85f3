#include "mime/address.h"

#include <stdbool.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/imapstr.h"
#include "mime/internal.h"

enum tok_kind { T_END, T_WORD, T_QUOTED, T_DOMLIT, T_SPECIAL };

struct lexer {
	struct arena *a;
	const char *s;
	size_t n, i;
	const char *comment;      /* text of the last comment seen */
};

struct token {
	enum tok_kind kind;
	char ch;                  /* T_SPECIAL */
	const char *text;         /* T_WORD, T_QUOTED (unescaped), T_DOMLIT */
	size_t len;
	bool space_before;
};

static bool is_special(char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The comment at lx->i, its text unescaped (nested parens kept). */
static const char *comment_text(struct lexer *lx)
{
	size_t st = lx->i, e = st;
	unsigned depth = 0;
	for (; e < lx->n; e++) {
		if (lx->s[e] == '\\' && e + 1 < lx->n)
			e++;
		else if (lx->s[e] == '(')
			depth++;
		else if (lx->s[e] == ')' && --depth == 0)
			break;
	}
	lx->i = e < lx->n ? e + 1 : lx->n;
	char *text = arena_alloc(lx->a, e - st + 1);
	size_t o = 0;
	depth = 0;
	for (size_t k = st; k < e; k++) {
		char c = lx->s[k];
		if (c == '\\' && k + 1 < e) {
			text[o++] = lx->s[++k];
			continue;
		}
		if ((c == '(' && depth++ == 0) || c == '\r' || c == '\n')
			continue;
		if (c == ')')
			depth--;
		text[o++] = c;
	}
	text[o] = '\0';
	return text;
}

/* Skip whitespace and comments; remember the last comment's text. */
static bool skip_cfws(struct lexer *lx)
{
	bool skipped = false;
	while (lx->i < lx->n) {
		if (is_ws(lx->s[lx->i])) {
			lx->i++;
			skipped = true;
		} else if (lx->s[lx->i] == '(') {
			lx->comment = comment_text(lx);
			skipped = true;
		} else
			break;
	}
	return skipped;
}

static struct token next_token(struct lexer *lx)
{
	struct token t = { .kind = T_END };
	t.space_before = skip_cfws(lx);
	if (lx->i >= lx->n)
		return t;
	char c = lx->s[lx->i];
	if (c == '"') {
		size_t st = ++lx->i, e = st;
		while (e < lx->n && lx->s[e] != '"')
			e += lx->s[e] == '\\' && e + 1 < lx->n ? 2 : 1;
		char *text = arena_alloc(lx->a, e - st + 1);
		size_t o = 0;
		for (size_t k = st; k < e; k++) {
			if (lx->s[k] == '\\' && k + 1 < e)
				k++;
			if (lx->s[k] != '\r' && lx->s[k] != '\n')
				text[o++] = lx->s[k];
		}
		lx->i = e < lx->n ? e + 1 : lx->n;
		t.kind = T_QUOTED;
		t.text = text;
		t.len = o;
	} else if (c == '[') {
		size_t st = lx->i;
		while (lx->i < lx->n && lx->s[lx->i] != ']')
			lx->i++;
		if (lx->i < lx->n)
			lx->i++;
		t.kind = T_DOMLIT;
		t.text = lx->s + st;
		t.len = lx->i - st;
	} else if (is_special(c)) {
		lx->i++;
		t.kind = T_SPECIAL;
		t.ch = c;
	} else {
		size_t st = lx->i;
		while (lx->i < lx->n && !is_special(lx->s[lx->i]) && !is_ws(lx->s[lx->i]))
			lx->i++;
		t.kind = T_WORD;
		t.text = lx->s + st;
		t.len = lx->i - st;
	}
	return t;
}

struct parser {
	struct lexer lx;
	struct token tok;         /* current lookahead */
	struct mime_address *head, **tail;
	unsigned count;
};

static void advance(struct parser *p)
{
	p->tok = next_token(&p->lx);
}

static bool at_special(const struct parser *p, char c)
{
	return p->tok.kind == T_SPECIAL && p->tok.ch == c;
}

static void emit(struct parser *p, const char *name, const char *route,
                 const char *mailbox, const char *host)
{
	if (p->count >= MIME_MAX_ADDRESSES)
		return;
	struct mime_address *ad = arena_alloc(p->lx.a, sizeof(*ad));
	ad->name = name;
	ad->route = route;
	ad->mailbox = mailbox;
	ad->host = host;
	*p->tail = ad;
	p->tail = &ad->next;
	p->count++;
}

/* Words, quoted strings and dots up to a special that ends a phrase, as
 * a display name (*spaced: one space where the input had whitespace) and
 * as a local part or domain (*glued). NULL if there were none. */
static void collect(struct parser *p, bool domain, char **spaced, char **glued)
{
	struct buf sp, gl;
	mime_buf_init(&sp, p->lx.n + 1);
	mime_buf_init(&gl, p->lx.n + 1);
	bool first = true;
	while (p->tok.kind == T_WORD || p->tok.kind == T_QUOTED ||
	       (domain && p->tok.kind == T_DOMLIT) || at_special(p, '.')) {
		if (!first && p->tok.space_before)
			buf_append(&sp, " ", 1);
		const char *t = p->tok.kind == T_SPECIAL ? "." : p->tok.text;
		size_t tl = p->tok.kind == T_SPECIAL ? 1 : p->tok.len;
		buf_append(&sp, t, tl);
		buf_append(&gl, t, tl);
		first = false;
		advance(p);
	}
	if (spaced)
		*spaced = first ? NULL : arena_strndup(p->lx.a, buf_ptr(&sp), buf_len(&sp));
	if (glued)
		*glued = first ? NULL : arena_strndup(p->lx.a, buf_ptr(&gl), buf_len(&gl));
	buf_deinit(&sp);
	buf_deinit(&gl);
}

/* "<" [route ":"] local "@" domain ">", the "<" already consumed. */
static void angle_addr(struct parser *p, const char *name)
{
	char *route = NULL;
	if (at_special(p, '@')) {
		struct buf b;
		mime_buf_init(&b, p->lx.n + 1);
		while (p->tok.kind != T_END && !at_special(p, ':') && !at_special(p, '>')) {
			if (p->tok.kind == T_SPECIAL)
				buf_append(&b, &p->tok.ch, 1);
			else
				buf_append(&b, p->tok.text, p->tok.len);
			advance(p);
		}
		route = arena_strndup(p->lx.a, buf_ptr(&b), buf_len(&b));
		buf_deinit(&b);
		if (at_special(p, ':'))
			advance(p);
	}
	char *local = NULL, *host = NULL;
	collect(p, false, NULL, &local);
	if (at_special(p, '@')) {
		advance(p);
		collect(p, true, NULL, &host);
	}
	/* Skip junk up to the closing '>'. */
	while (p->tok.kind != T_END && !at_special(p, '>') && !at_special(p, ',') &&
	       !at_special(p, ';'))
		advance(p);
	if (at_special(p, '>'))
		advance(p);
	emit(p, name, route, local ? local : "", host ? host : "");
}

static void parse_list(struct parser *p)
{
	bool in_group = false;
	advance(p);
	while (p->tok.kind != T_END) {
		if (at_special(p, ',')) {
			advance(p);
			continue;
		}
		p->lx.comment = NULL;
		char *phrase = NULL, *glued = NULL;
		collect(p, false, &phrase, &glued);
		if (at_special(p, '<')) {
			advance(p);
			angle_addr(p, phrase);
		} else if (at_special(p, ':') && !in_group) {
			advance(p);
			emit(p, NULL, NULL, phrase ? phrase : "", NULL);
			in_group = true;
		} else if (at_special(p, '@') && phrase != NULL) {
			/* addr-spec: the words were the local part. */
			char *host = NULL;
			advance(p);
			collect(p, true, NULL, &host);
			/* A comment after the address names it. */
			while (p->tok.kind != T_END && !at_special(p, ',') && !at_special(p, ';'))
				advance(p);
			emit(p, p->lx.comment, NULL, glued, host ? host : "");
		} else if (at_special(p, ';')) {
			if (phrase != NULL)
				emit(p, NULL, NULL, phrase, "");
			if (in_group)
				emit(p, NULL, NULL, NULL, NULL);
			in_group = false;
			advance(p);
		} else if (phrase != NULL) {
			/* A bare word list: a mailbox without a domain. */
			emit(p, NULL, NULL, phrase, "");
			if (p->tok.kind != T_END && !at_special(p, ','))
				advance(p);
		} else
			advance(p);   /* stray special */
	}
	if (in_group)
		emit(p, NULL, NULL, NULL, NULL);
}

struct mime_address *mime_address_parse(struct arena *a, const char *s, size_t n)
{
	struct parser p = { .lx = { .a = a, .s = s, .n = n } };
	p.tail = &p.head;
	parse_list(&p);
	return p.head;
}

int mime_address_write_imap(struct buf *b, const struct mime_address *list)
{
	if (list == NULL)
		return buf_append(b, "NIL", 3);
	if (buf_append(b, "(", 1) < 0)
		return -1;
	for (const struct mime_address *ad = list; ad != NULL; ad = ad->next) {
		if (buf_append(b, "(", 1) < 0 || imapstr_append_nstring(b, ad->name) < 0 ||
		    buf_append(b, " ", 1) < 0 || imapstr_append_nstring(b, ad->route) < 0 ||
		    buf_append(b, " ", 1) < 0 || imapstr_append_nstring(b, ad->mailbox) < 0 ||
		    buf_append(b, " ", 1) < 0 || imapstr_append_nstring(b, ad->host) < 0 ||
		    buf_append(b, ")", 1) < 0)
			return -1;
	}
	return buf_append(b, ")", 1);
}
