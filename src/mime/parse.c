/*
 * parse: the MIME part tree, in one linear pass over the message.
 *
 * Every open multipart pushes its boundary; each line starting with "--" is
 * checked against the stack, innermost first, so a missing close delimiter
 * of an inner multipart is ended by an outer boundary. The line end before
 * a delimiter line belongs to the delimiter (RFC 2046 5.1.1). Beyond
 * MIME_MAX_DEPTH or MIME_MAX_PARTS, content is scanned without creating
 * parts, so the work stays linear and the memory bounded.
 */
#include "mime/mime.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "mime/header.h"
#include "mime/param.h"

struct pstate {
	struct arena *a;
	struct mime_message *m;
	const char *d;
	size_t len, pos;
	uint64_t lineno;            /* LFs before pos */
	const char *bnd[MIME_MAX_DEPTH + 1];
	size_t bndlen[MIME_MAX_DEPTH + 1];
	int nbnd;
};

/* Where the body ended (the delimiter line), found by scan_to_boundary. */
struct stop {
	int idx;                    /* boundary index, -1 at end of message */
	bool close;
	size_t line_start;          /* start of the delimiter line (or len) */
	uint64_t line_no;           /* LFs before line_start */
};

/* Does the rest of the line at d[e..) hold only "--" (if close) and
 * whitespace? */
static bool line_rest_blank(const char *d, size_t e, size_t len)
{
	if (len - e >= 2 && d[e] == '-' && d[e + 1] == '-')
		e += 2;
	while (e < len && (d[e] == ' ' || d[e] == '\t' || d[e] == '\r'))
		e++;
	return e >= len || d[e] == '\n';
}

/* Index of the open boundary whose delimiter line starts at pos, or -1.
 * An exact delimiter line wins over a prefix match, so nested boundaries
 * that are prefixes of each other resolve right. */
static int match_boundary(const struct pstate *st, size_t pos, bool *close)
{
	const char *d = st->d;
	if (st->nbnd == 0 || st->len - pos < 2 || d[pos] != '-' || d[pos + 1] != '-')
		return -1;
	for (int strict = 1; strict >= 0; strict--) {
		for (int i = st->nbnd - 1; i >= 0; i--) {
			size_t bl = st->bndlen[i];
			if (st->len - pos - 2 < bl || memcmp(d + pos + 2, st->bnd[i], bl) != 0)
				continue;
			size_t e = pos + 2 + bl;
			if (strict && !line_rest_blank(d, e, st->len))
				continue;
			*close = st->len - e >= 2 && d[e] == '-' && d[e + 1] == '-';
			return i;
		}
	}
	return -1;
}

/* Advance line by line to the next delimiter line (or the end); st->pos is
 * left after that line. */
static void scan_to_boundary(struct pstate *st, struct stop *s)
{
	while (st->pos < st->len) {
		size_t ls = st->pos;
		bool close = false;
		int idx = match_boundary(st, ls, &close);
		size_t next = mime_line_next(st->d, ls, st->len);
		if (idx >= 0) {
			s->idx = idx;
			s->close = close;
			s->line_start = ls;
			s->line_no = st->lineno;
			st->pos = next;
			if (next > ls && st->d[next - 1] == '\n')
				st->lineno++;
			return;
		}
		st->pos = next;
		if (next > ls && st->d[next - 1] == '\n')
			st->lineno++;
	}
	s->idx = -1;
	s->close = false;
	s->line_start = st->len;
	s->line_no = st->lineno;
}

/* End the body of p at the delimiter s: the line end before the delimiter
 * line is not part of the body. */
static void end_body(struct pstate *st, struct mime_part *p, uint64_t body_line0,
                     const struct stop *s)
{
	size_t e = s->line_start;
	uint64_t lf = s->line_no - body_line0;
	if (s->idx >= 0 && e > p->body_start && st->d[e - 1] == '\n') {
		e--;
		lf--;
		if (e > p->body_start && st->d[e - 1] == '\r')
			e--;
	}
	if (e < p->body_start)
		e = p->body_start;
	p->body_end = e;
	p->body_lines = lf + (e > p->body_start && st->d[e - 1] != '\n');
}

static const char *field_value(struct arena *a, const struct mime_field *f)
{
	return mime_unfold(a, f->value, f->value_len);
}

static void read_content_fields(struct pstate *st, struct mime_part *p,
                                const struct mime_part *parent)
{
	struct mime_header_iter it;
	struct mime_field f;
	bool have_ct = false, have_cd = false;
	mime_header_iter_init(&it, st->d, p->hdr_start, p->hdr_end);
	while (mime_header_next(&it, &f)) {
		if (f.name_len < 8 || strncasecmp(f.name, "content-", 8) != 0)
			continue;
		const char *n = f.name + 8;
		size_t nl = f.name_len - 8;
#define IS(word) (nl == sizeof(word) - 1 && strncasecmp(n, word, nl) == 0)
		if (IS("type") && !have_ct) {
			struct mime_ctype ct;
			have_ct = true;
			mime_ctype_parse(st->a, f.value, f.value_len, true, &ct);
			if (ct.type != NULL) {
				p->type = ct.type;
				p->subtype = ct.subtype;
				p->params = ct.params;
				p->nparams = ct.nparams;
			}
		} else if (IS("disposition") && !have_cd) {
			struct mime_ctype cd;
			have_cd = true;
			mime_ctype_parse(st->a, f.value, f.value_len, false, &cd);
			if (cd.type != NULL) {
				p->disposition = cd.type;
				p->disp_params = cd.params;
				p->ndisp_params = cd.nparams;
			}
		} else if (IS("transfer-encoding") && !p->encoding)
			p->encoding = field_value(st->a, &f);
		else if (IS("id") && !p->id)
			p->id = field_value(st->a, &f);
		else if (IS("description") && !p->description)
			p->description = field_value(st->a, &f);
		else if (IS("md5") && !p->md5)
			p->md5 = field_value(st->a, &f);
		else if (IS("language") && !p->language)
			p->language = field_value(st->a, &f);
		else if (IS("location") && !p->location)
			p->location = field_value(st->a, &f);
#undef IS
	}
	if (p->type == NULL) {
		p->flags |= MIME_PART_DEFAULT_TYPE;
		bool digest = parent && mime_part_is(parent, "multipart", "digest");
		p->type = digest ? "message" : "text";
		p->subtype = digest ? "rfc822" : "plain";
		if (!digest) {
			struct mime_param *cs = arena_alloc(st->a, sizeof(*cs));
			cs->name = "charset";
			cs->value = "us-ascii";
			p->params = cs;
			p->nparams = 1;
		}
	}
}

static struct mime_part *new_part(struct pstate *st, struct mime_part *parent)
{
	struct mime_part *p = arena_alloc(st->a, sizeof(*p));
	p->parent = parent;
	p->depth = parent ? parent->depth + 1 : 0;
	st->m->nparts++;
	if (parent != NULL) {
		if (parent->last_child != NULL)
			parent->last_child->next = p;
		else
			parent->children = p;
		parent->last_child = p;
		parent->nchildren++;
	}
	return p;
}

/* Scan a header from st->pos: sets hdr_start/hdr_end/body_start. Returns
 * true if a delimiter line ended it (then *s is filled). */
static bool scan_header(struct pstate *st, struct mime_part *p, struct stop *s)
{
	p->hdr_start = st->pos;
	while (st->pos < st->len) {
		size_t ls = st->pos;
		const char *d = st->d;
		if (d[ls] == '\n' || (d[ls] == '\r' && ls + 1 < st->len && d[ls + 1] == '\n')) {
			p->hdr_end = ls;
			st->pos = mime_line_next(d, ls, st->len);
			st->lineno++;
			p->body_start = st->pos;
			return false;
		}
		bool close = false;
		int idx = match_boundary(st, ls, &close);
		if (idx >= 0) {
			p->hdr_end = p->body_start = ls;
			s->idx = idx;
			s->close = close;
			s->line_start = ls;
			s->line_no = st->lineno;
			st->pos = mime_line_next(d, ls, st->len);
			if (st->pos > ls && d[st->pos - 1] == '\n')
				st->lineno++;
			return true;
		}
		st->pos = mime_line_next(d, ls, st->len);
		if (st->pos > ls && d[st->pos - 1] == '\n')
			st->lineno++;
	}
	p->hdr_end = p->body_start = st->len;
	return false;
}

static void parse_part(struct pstate *st, struct mime_part *p, struct stop *s);

static struct mime_part *empty_text_part(struct pstate *st, struct mime_part *parent, size_t at)
{
	struct mime_part *c = new_part(st, parent);
	c->flags = MIME_PART_SYNTHETIC | MIME_PART_DEFAULT_TYPE;
	c->hdr_start = c->hdr_end = c->body_start = c->body_end = at;
	c->type = "text";
	c->subtype = "plain";
	struct mime_param *cs = arena_alloc(st->a, sizeof(*cs));
	cs->name = "charset";
	cs->value = "us-ascii";
	c->params = cs;
	c->nparams = 1;
	return c;
}

/* BODYSTRUCTURE's grammar needs a body part in every multipart and a
 * message in every message/rfc822: invent empty ones where the message
 * has none (no boundary, nesting too deep, header cut by a delimiter). */
static void add_missing_child(struct pstate *st, struct mime_part *p)
{
	if (p->children != NULL)
		return;
	if (strcasecmp(p->type, "multipart") == 0) {
		p->flags |= MIME_PART_MULTIPART;
		empty_text_part(st, p, p->body_start);
	} else if (mime_part_is(p, "message", "rfc822") || mime_part_is(p, "message", "global")) {
		p->flags |= MIME_PART_MESSAGE;
		struct mime_part *c = empty_text_part(st, p, p->body_start);
		c->flags &= ~(unsigned)MIME_PART_DEFAULT_TYPE;
	}
}

static void parse_multipart_body(struct pstate *st, struct mime_part *p, struct stop *s)
{
	int own = st->nbnd - 1;
	bool epilogue = false;
	for (;;) {
		scan_to_boundary(st, s);
		while (s->idx == own && !s->close && !epilogue) {
			if (st->m->nparts >= MIME_MAX_PARTS) {
				st->m->limits_hit = true;
				scan_to_boundary(st, s);
				continue;
			}
			struct mime_part *child = new_part(st, p);
			parse_part(st, child, s);
		}
		if (s->idx == own && s->close)
			epilogue = true;
		/* In the epilogue our own delimiter is just text. */
		if (s->idx != own)
			return;
	}
}

static void parse_part(struct pstate *st, struct mime_part *p, struct stop *s)
{
	if (scan_header(st, p, s)) {
		read_content_fields(st, p, p->parent);
		p->body_end = p->body_start;
		goto fixup;
	}
	read_content_fields(st, p, p->parent);
	uint64_t line0 = st->lineno;
	bool deep = p->depth >= MIME_MAX_DEPTH;
	const char *bnd = NULL;
	if (strcasecmp(p->type, "multipart") == 0) {
		bnd = mime_param_get(p->params, p->nparams, "boundary");
		if (bnd != NULL && (bnd[0] == '\0' || strlen(bnd) > MIME_MAX_BOUNDARY))
			bnd = NULL;
		/* An inner multipart reusing an open boundary cannot be told
		 * apart from its parent's parts: leave the lines to the parent. */
		for (int i = 0; bnd != NULL && i < st->nbnd; i++)
			if (strcmp(st->bnd[i], bnd) == 0)
				bnd = NULL;
	}
	if (deep && (bnd || mime_part_is(p, "message", "rfc822") ||
	             mime_part_is(p, "message", "global"))) {
		st->m->limits_hit = true;
		bnd = NULL;
	} else if (bnd != NULL) {
		p->flags |= MIME_PART_MULTIPART;
		st->bnd[st->nbnd] = bnd;
		st->bndlen[st->nbnd] = strlen(bnd);
		st->nbnd++;
		parse_multipart_body(st, p, s);
		st->nbnd--;
		end_body(st, p, line0, s);
		goto fixup;
	} else if (mime_part_is(p, "message", "rfc822") || mime_part_is(p, "message", "global")) {
		p->flags |= MIME_PART_MESSAGE;
		struct mime_part *child = new_part(st, p);
		parse_part(st, child, s);
		end_body(st, p, line0, s);
		return;
	}
	scan_to_boundary(st, s);
	end_body(st, p, line0, s);
fixup:
	add_missing_child(st, p);
}

struct mime_message *mime_parse(struct arena *a, const char *msg, size_t len)
{
	struct mime_message *m = arena_alloc(a, sizeof(*m));
	struct pstate *st = arena_alloc(a, sizeof(*st));
	m->data = msg;
	m->len = len;
	st->a = a;
	st->m = m;
	st->d = msg;
	st->len = len;
	m->root = new_part(st, NULL);
	struct stop s;
	parse_part(st, m->root, &s);
	/* The top level has no delimiters: its body runs to the end. */
	m->root->body_end = len;
	return m;
}

bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype)
{
	return strcasecmp(p->type, type) == 0 &&
	       (subtype == NULL || strcasecmp(p->subtype, subtype) == 0);
}

const char *mime_part_filename(struct arena *a, const struct mime_part *p)
{
	const char *f = mime_param_decoded(a, p->disp_params, p->ndisp_params, "filename");
	if (f == NULL)
		f = mime_param_decoded(a, p->params, p->nparams, "name");
	return f;
}
