/*
 * reencode: binary leaf parts to base64 (see reencode.h). One walk over
 * the part tree in document order; between the parts that are rewritten,
 * the message is copied through untouched.
 */
#include "mime/reencode.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/base64.h"
#include "lib/strutil.h"
#include "mime/decode.h"
#include "mime/header.h"

#define NO_NUL ((size_t)-1)

static const char CTE_BASE64[] = "Content-Transfer-Encoding: base64\r\n";

/* The next part in document order (pre-order), or NULL. */
static const struct mime_part *next_part(const struct mime_part *p)
{
	if (p->children != NULL)
		return p->children;
	for (; p != NULL; p = p->parent)
		if (p->next != NULL)
			return p->next;
	return NULL;
}

/* 7bit/8bit content as RFC 2045 2.7/2.8 defines it, line length aside:
 * no NUL, and CR and LF only as CRLF. */
static bool is_crlf_text(const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '\0')
			return false;
		if (c == '\r' && (i + 1 == n || d[i + 1] != '\n'))
			return false;
		if (c == '\n' && (i == 0 || d[i - 1] != '\r'))
			return false;
	}
	return true;
}

bool mime_reencode_part(const struct mime_message *m, const struct mime_part *p)
{
	if (p->children != NULL || p->body_end <= p->body_start)
		return false;
	if (mime_part_cte(p) != MIME_CTE_IDENTITY)
		return false;
	if (strcasecmp(p->type, "multipart") == 0 || strcasecmp(p->type, "message") == 0)
		return false;
	if (p->encoding != NULL && strcasecmp(p->encoding, "binary") == 0)
		return true;
	return !is_crlf_text(m->data + p->body_start, p->body_end - p->body_start);
}

static size_t find_nul(const char *d, size_t from, size_t to)
{
	const char *z = from < to ? memchr(d + from, '\0', to - from) : NULL;
	return z != NULL ? (size_t)(z - d) : NO_NUL;
}

static bool is_cte_field(const struct mime_field *f)
{
	return str_ieq_n(f->name, f->name_len, "Content-Transfer-Encoding");
}

/* Bytes of the part's header that the rewrite drops: its CTE fields. */
static size_t cte_fields_len(const struct mime_message *m, const struct mime_part *p)
{
	struct mime_header_iter it;
	struct mime_field f;
	size_t n = 0;
	mime_header_iter_init(&it, m->data, p->hdr_start, p->hdr_end);
	while (mime_header_next(&it, &f))
		if (is_cte_field(&f))
			n += f.end - f.start;
	return n;
}

/* Size of n bytes as base64 lines joined by CRLF (+ CRLF after the last
 * when the body ends the message). */
static uint64_t base64_lines_len(uint64_t n, bool at_end)
{
	uint64_t lines = (n + MIME_REENCODE_LINE_IN - 1) / MIME_REENCODE_LINE_IN;
	uint64_t chars = n / MIME_REENCODE_LINE_IN * MIME_REENCODE_LINE +
	                 (n % MIME_REENCODE_LINE_IN + 2) / 3 * 4;
	return chars + 2 * (lines - 1) + (at_end ? 2 : 0);
}

static void refuse(const struct mime_message *m, size_t nul, struct mime_reencode_plan *plan)
{
	plan->status = MIME_REENCODE_REFUSED;
	plan->nul_at = nul;
	for (const struct mime_part *p = m->root; p != NULL; p = next_part(p))
		if (nul >= p->hdr_start && nul < p->hdr_end)
			plan->nul_in_header = true;
}

enum mime_reencode_status mime_reencode_check(const struct mime_message *m,
                                              struct mime_reencode_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->nul_at = NO_NUL;
	size_t pos = 0, nul;
	uint64_t out = 0;
	for (const struct mime_part *p = m->root; p != NULL; p = next_part(p)) {
		if (!mime_reencode_part(m, p))
			continue;
		/* Everything up to this body (its header too) is kept. */
		if ((nul = find_nul(m->data, pos, p->body_start)) != NO_NUL) {
			refuse(m, nul, plan);
			return plan->status;
		}
		out += p->body_start - pos - cte_fields_len(m, p) + (sizeof(CTE_BASE64) - 1);
		out += base64_lines_len(p->body_end - p->body_start, p->body_end == m->len);
		pos = p->body_end;
		plan->parts++;
	}
	if ((nul = find_nul(m->data, pos, m->len)) != NO_NUL) {
		refuse(m, nul, plan);
		return plan->status;
	}
	plan->out_size = out + (m->len - pos);
	plan->status = plan->parts > 0 ? MIME_REENCODE_CHANGED : MIME_REENCODE_UNCHANGED;
	return plan->status;
}

/* ---- writing ------------------------------------------------------------ */

struct out {
	mime_reencode_write_fn *fn;
	void *ctx;
	int rc;
	size_t n;
	char buf[MIME_REENCODE_CHUNK];
};

static void out_flush(struct out *o)
{
	if (o->rc == 0 && o->n > 0)
		o->rc = o->fn(o->ctx, o->buf, o->n);
	o->n = 0;
}

/* Bytes of the message itself go out directly, in bounded pieces. */
static void out_raw(struct out *o, const char *d, size_t n)
{
	out_flush(o);
	for (size_t off = 0; off < n && o->rc == 0; off += MIME_REENCODE_CHUNK) {
		size_t k = n - off < MIME_REENCODE_CHUNK ? n - off : MIME_REENCODE_CHUNK;
		o->rc = o->fn(o->ctx, d + off, k);
	}
}

static void out_put(struct out *o, const char *d, size_t n)
{
	if (sizeof(o->buf) - o->n < n)
		out_flush(o);
	memcpy(o->buf + o->n, d, n);
	o->n += n;
}

/* The part's header without its CTE fields, then the base64 one. */
static void write_header(struct out *o, const struct mime_message *m, const struct mime_part *p)
{
	struct mime_header_iter it;
	struct mime_field f;
	size_t pos = p->hdr_start;
	mime_header_iter_init(&it, m->data, p->hdr_start, p->hdr_end);
	while (mime_header_next(&it, &f)) {
		if (!is_cte_field(&f))
			continue;
		out_raw(o, m->data + pos, f.start - pos);
		pos = f.end;
	}
	out_raw(o, m->data + pos, p->hdr_end - pos);
	out_put(o, CTE_BASE64, sizeof(CTE_BASE64) - 1);
}

static void write_base64(struct out *o, const char *d, size_t n, bool at_end)
{
	for (size_t off = 0; off < n && o->rc == 0; off += MIME_REENCODE_LINE_IN) {
		size_t k = n - off < MIME_REENCODE_LINE_IN ? n - off : MIME_REENCODE_LINE_IN;
		/* Room for CRLF, a line and base64_encode's NUL. */
		if (sizeof(o->buf) - o->n < 2 + MIME_REENCODE_LINE + 1)
			out_flush(o);
		if (off > 0) {
			o->buf[o->n++] = '\r';
			o->buf[o->n++] = '\n';
		}
		o->n += base64_encode(d + off, k, o->buf + o->n, sizeof(o->buf) - o->n);
	}
	if (at_end)
		out_put(o, "\r\n", 2);
}

int mime_reencode_write(const struct mime_message *m, mime_reencode_write_fn *fn, void *ctx)
{
	/* 16 KiB of buffer: on the heap rather than on the caller's stack. */
	struct out *o = xmalloc(sizeof(*o));
	o->fn = fn;
	o->ctx = ctx;
	o->rc = 0;
	o->n = 0;
	size_t pos = 0;
	for (const struct mime_part *p = m->root; p != NULL && o->rc == 0; p = next_part(p)) {
		if (!mime_reencode_part(m, p))
			continue;
		out_raw(o, m->data + pos, p->hdr_start - pos);
		write_header(o, m, p);
		out_raw(o, m->data + p->hdr_end, p->body_start - p->hdr_end);
		write_base64(o, m->data + p->body_start, p->body_end - p->body_start,
		             p->body_end == m->len);
		pos = p->body_end;
	}
	out_raw(o, m->data + pos, m->len - pos);
	out_flush(o);
	int rc = o->rc;
	free(o);
	return rc;
}
