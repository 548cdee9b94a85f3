#include "mime/section.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/header.h"
#include "mime/internal.h"

static bool kw(const char *s, size_t n, size_t *i, const char *word)
{
	size_t l = strlen(word);
	if (n - *i < l || strncasecmp(s + *i, word, l) != 0)
		return false;
	*i += l;
	return true;
}

/* "(" name *(SP name) ")" with names atoms or quoted strings. */
static int parse_field_list(struct arena *a, const char *s, size_t n, size_t *i,
                            struct mime_section *out)
{
	if (*i >= n || s[*i] != ' ')
		return -1;
	(*i)++;
	if (*i >= n || s[*i] != '(')
		return -1;
	(*i)++;
	out->fields = arena_alloc(a, sizeof(char *) * MIME_SECTION_MAX_FIELDS);
	for (;;) {
		if (out->nfields >= MIME_SECTION_MAX_FIELDS)
			return -1;
		size_t st = *i;
		if (*i < n && s[*i] == '"') {
			char *v = arena_alloc(a, n - *i);
			size_t o = 0;
			for ((*i)++; *i < n && s[*i] != '"'; (*i)++) {
				if (s[*i] == '\\' && *i + 1 < n)
					(*i)++;
				v[o++] = s[*i];
			}
			if (*i >= n)
				return -1;
			(*i)++;
			out->fields[out->nfields++] = v;
		} else {
			while (*i < n && s[*i] > ' ' && s[*i] < 0x7f && s[*i] != '(' && s[*i] != ')' &&
			       s[*i] != '"' && s[*i] != '{' && s[*i] != '%' && s[*i] != '*' && s[*i] != '\\')
				(*i)++;
			if (*i == st)
				return -1;
			out->fields[out->nfields++] = arena_strndup(a, s + st, *i - st);
		}
		if (*i < n && s[*i] == ')') {
			(*i)++;
			return 0;
		}
		if (*i >= n || s[*i] != ' ')
			return -1;
		(*i)++;
	}
}

int mime_section_parse(struct arena *a, const char *s, size_t n, struct mime_section *out)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	/* Part numbers: nz-number *("." nz-number), each followed by "." or
	 * the end. */
	while (i < n && s[i] >= '1' && s[i] <= '9') {
		size_t st = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		uint64_t v;
		if (str_parse_u64n(s + st, i - st, &v) < 0 || v > 0xFFFFFFFFu ||
		    out->npath >= MIME_SECTION_MAX_PATH)
			return -1;
		out->path[out->npath++] = (unsigned)v;
		if (i == n)
			return 0;
		if (s[i] != '.')
			return -1;
		i++;
	}
	if (i == n)
		return out->npath == 0 && n == 0 ? 0 : -1;
	if (kw(s, n, &i, "HEADER.FIELDS.NOT")) {
		out->kind = MIME_SECTION_HEADER_FIELDS_NOT;
		if (parse_field_list(a, s, n, &i, out) < 0)
			return -1;
	} else if (kw(s, n, &i, "HEADER.FIELDS")) {
		out->kind = MIME_SECTION_HEADER_FIELDS;
		if (parse_field_list(a, s, n, &i, out) < 0)
			return -1;
	} else if (kw(s, n, &i, "HEADER")) {
		out->kind = MIME_SECTION_HEADER;
	} else if (kw(s, n, &i, "TEXT")) {
		out->kind = MIME_SECTION_TEXT;
	} else if (out->npath > 0 && kw(s, n, &i, "MIME")) {
		out->kind = MIME_SECTION_MIME;
	} else
		return -1;
	return i == n ? 0 : -1;
}

const struct mime_part *mime_find_part(const struct mime_message *m,
                                       const unsigned *path, size_t npath)
{
	const struct mime_part *cur = m->root;
	bool at_message = true;   /* cur is a message whose parts we number */
	for (size_t i = 0; i < npath; i++) {
		if (!at_message && (cur->flags & MIME_PART_MESSAGE)) {
			cur = cur->children;
			at_message = true;
		}
		if (cur->flags & MIME_PART_MULTIPART) {
			const struct mime_part *c = cur->children;
			for (unsigned k = 1; c != NULL && k < path[i]; k++)
				c = c->next;
			if (c == NULL)
				return NULL;
			cur = c;
		} else if (!at_message || path[i] != 1) {
			return NULL;   /* a non-multipart message has only part 1 */
		}
		at_message = false;
	}
	return cur;
}

static bool in_list(const struct mime_section *s, const struct mime_field *f)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (str_ieq_n(f->name, f->name_len, s->fields[i]))
			return true;
	return false;
}

static void header_fields(struct arena *a, const struct mime_message *m,
                          const struct mime_part *msg, const struct mime_section *s,
                          struct mime_extract *out)
{
	bool want = s->kind == MIME_SECTION_HEADER_FIELDS;
	struct buf b;
	mime_buf_init(&b, msg->hdr_end - msg->hdr_start + 3);
	struct mime_header_iter it;
	struct mime_field f;
	mime_header_iter_init(&it, m->data, msg->hdr_start, msg->hdr_end);
	while (mime_header_next(&it, &f)) {
		if (in_list(s, &f) != want)
			continue;
		buf_append(&b, m->data + f.start, f.end - f.start);
		if (m->data[f.end - 1] != '\n')
			buf_append(&b, "\r\n", 2);
	}
	buf_append(&b, "\r\n", 2);
	out->len = buf_len(&b);
	out->data = arena_memdup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
}

void mime_section_extract(struct arena *a, const struct mime_message *m,
                          const struct mime_section *s, struct mime_extract *out)
{
	memset(out, 0, sizeof(*out));
	out->data = "";
	const struct mime_part *p = mime_find_part(m, s->path, s->npath);
	if (p == NULL)
		return;
	if (s->kind == MIME_SECTION_BODY) {
		out->data = NULL;
		out->off = s->npath == 0 ? 0 : p->body_start;
		out->len = s->npath == 0 ? m->len : p->body_end - p->body_start;
		return;
	}
	if (s->kind == MIME_SECTION_MIME) {
		out->data = NULL;
		out->off = p->hdr_start;
		out->len = p->body_start - p->hdr_start;
		return;
	}
	if (s->npath > 0) {
		if (!(p->flags & MIME_PART_MESSAGE))
			return;
		p = p->children;
	}
	switch (s->kind) {
	case MIME_SECTION_HEADER:
		out->data = NULL;
		out->off = p->hdr_start;
		out->len = p->body_start - p->hdr_start;
		break;
	case MIME_SECTION_TEXT:
		out->data = NULL;
		out->off = p->body_start;
		out->len = p->body_end - p->body_start;
		break;
	default:
		header_fields(a, m, p, s, out);
		break;
	}
}

void mime_extract_partial(struct mime_extract *x, uint64_t start, uint64_t count)
{
	if (start >= x->len) {
		x->off += x->len;
		if (x->data != NULL)
			x->data += x->len;
		x->len = 0;
		return;
	}
	x->off += start;
	if (x->data != NULL)
		x->data += start;
	x->len -= start;
	if (count < x->len)
		x->len = count;
}

const char *mime_extract_ptr(const struct mime_message *m, const struct mime_extract *x)
{
	return x->data != NULL ? x->data : m->data + x->off;
}

enum mime_binary_status mime_binary_section(const struct mime_message *m,
                                            const unsigned *path, size_t npath,
                                            uint64_t *off_r, uint64_t *len_r,
                                            enum mime_cte *cte_r)
{
	*off_r = *len_r = 0;
	*cte_r = MIME_CTE_IDENTITY;
	if (npath == 0) {
		*len_r = m->len;
		return MIME_BINARY_OK;
	}
	const struct mime_part *p = mime_find_part(m, path, npath);
	if (p == NULL)
		return MIME_BINARY_NO_PART;
	*cte_r = mime_part_cte(p);
	if (*cte_r == MIME_CTE_UNKNOWN)
		return MIME_BINARY_UNKNOWN_CTE;
	*off_r = p->body_start;
	*len_r = p->body_end - p->body_start;
	return MIME_BINARY_OK;
}
