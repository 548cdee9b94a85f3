/*
 * bodystructure: IMAP BODY and BODYSTRUCTURE (RFC 9051 7.5.2, RFC 3501
 * 7.4.2) of a part tree.
 *
 * Strings are as the header gives them (type, subtype and parameter names
 * in their original case). An absent Content-Transfer-Encoding is "7BIT".
 * Sizes are octets of the body as stored; text and message/rfc822 parts
 * add their line count. BODYSTRUCTURE adds the extension data: MD5,
 * disposition, language and location for a single part, parameters,
 * disposition, language and location for a multipart.
 */
#include "mime/mime.h"

#include <inttypes.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/imapstr.h"
#include "mime/internal.h"

#define TRY(x) do { if ((x) < 0) return -1; } while (0)

static int write_params(struct buf *b, const struct mime_param *ps, size_t n)
{
	if (n == 0)
		return buf_append(b, "NIL", 3);
	TRY(buf_append(b, "(", 1));
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			TRY(buf_append(b, " ", 1));
		TRY(imapstr_append_nstring(b, ps[i].name));
		TRY(buf_append(b, " ", 1));
		TRY(imapstr_append_nstring(b, ps[i].value));
	}
	return buf_append(b, ")", 1);
}

/* Content-Language "en, de-CH": one string, or a list for several. */
static int write_language(struct buf *b, const char *lang)
{
	const char *tags[64];
	size_t lens[64], n = 0;
	for (const char *s = lang; s != NULL && *s != '\0' && n < 64;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *e = s;
		while (*e != '\0' && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if (e > s) {
			tags[n] = s;
			lens[n++] = (size_t)(e - s);
		}
		s = e;
		while (*s != '\0' && *s != ',')
			s++;
	}
	if (n == 0)
		return buf_append(b, "NIL", 3);
	if (n == 1)
		return imapstr_append(b, tags[0], lens[0]);
	TRY(buf_append(b, "(", 1));
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			TRY(buf_append(b, " ", 1));
		TRY(imapstr_append(b, tags[i], lens[i]));
	}
	return buf_append(b, ")", 1);
}

/* disposition, language, location: shared by both extension forms. */
static int write_ext_tail(struct buf *b, const struct mime_part *p)
{
	TRY(buf_append(b, " ", 1));
	if (p->disposition == NULL) {
		TRY(buf_append(b, "NIL", 3));
	} else {
		TRY(buf_append(b, "(", 1));
		TRY(imapstr_append_nstring(b, p->disposition));
		TRY(buf_append(b, " ", 1));
		TRY(write_params(b, p->disp_params, p->ndisp_params));
		TRY(buf_append(b, ")", 1));
	}
	TRY(buf_append(b, " ", 1));
	TRY(write_language(b, p->language));
	TRY(buf_append(b, " ", 1));
	return imapstr_append_nstring(b, p->location);
}

int mime_body_write(struct buf *b, struct arena *a, const struct mime_message *m,
                    const struct mime_part *p, bool extended)
{
	TRY(buf_append(b, "(", 1));
	if (p->flags & MIME_PART_MULTIPART) {
		for (const struct mime_part *c = p->children; c != NULL; c = c->next)
			TRY(mime_body_write(b, a, m, c, extended));
		TRY(buf_append(b, " ", 1));
		TRY(imapstr_append_nstring(b, p->subtype));
		if (extended) {
			TRY(buf_append(b, " ", 1));
			TRY(write_params(b, p->params, p->nparams));
			TRY(write_ext_tail(b, p));
		}
		return buf_append(b, ")", 1);
	}
	TRY(imapstr_append_nstring(b, p->type));
	TRY(buf_append(b, " ", 1));
	TRY(imapstr_append_nstring(b, p->subtype));
	TRY(buf_append(b, " ", 1));
	TRY(write_params(b, p->params, p->nparams));
	TRY(buf_append(b, " ", 1));
	TRY(imapstr_append_nstring(b, p->id));
	TRY(buf_append(b, " ", 1));
	TRY(imapstr_append_nstring(b, p->description));
	TRY(buf_append(b, " ", 1));
	TRY(imapstr_append_nstring(b, p->encoding ? p->encoding : "7BIT"));
	TRY(buf_printf(b, " %zu", p->body_end - p->body_start));
	if ((p->flags & MIME_PART_MESSAGE) && p->children != NULL) {
		const struct mime_part *msg = p->children;
		TRY(buf_append(b, " ", 1));
		TRY(mime_envelope_write(b, a, m->data, msg->hdr_start, msg->hdr_end));
		TRY(buf_append(b, " ", 1));
		TRY(mime_body_write(b, a, m, msg, extended));
		TRY(buf_printf(b, " %" PRIu64, p->body_lines));
	} else if (mime_part_is(p, "text", NULL)) {
		TRY(buf_printf(b, " %" PRIu64, p->body_lines));
	}
	if (extended) {
		TRY(buf_append(b, " ", 1));
		TRY(imapstr_append_nstring(b, p->md5));
		TRY(write_ext_tail(b, p));
	}
	return buf_append(b, ")", 1);
}

const char *mime_bodystructure(struct arena *a, const struct mime_message *m,
                               const struct mime_part *p, bool extended)
{
	struct buf b;
	mime_buf_init(&b, mime_out_max(m->len));
	if (mime_body_write(&b, a, m, p, extended) < 0)
		buf_reset(&b, 0);
	const char *s = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return s;
}
