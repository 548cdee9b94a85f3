/*
 * summary: what the store caches for a message at APPEND / delivery time
 * (see mime_summarize in mime.h).
 */
#include "mime/mime.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/address.h"
#include "mime/charset.h"
#include "mime/encword.h"
#include "mime/header.h"
#include "mime/text.h"
#include "mime/internal.h"

static const char *decoded_field(struct arena *a, const struct mime_message *m,
                                 const char *name)
{
	struct mime_field f;
	const struct mime_part *r = m->root;
	if (!mime_header_find(m->data, r->hdr_start, r->hdr_end, name, &f))
		return "";
	char *unfolded = mime_unfold(a, f.value, f.value_len);
	return encword_decode_arena(a, unfolded, strlen(unfolded));
}

/* An address field for SEARCH FROM/TO/CC/BCC: the decoded field, then
 * each address as mailbox@host where the field does not already hold it
 * written that way ("<a (c)@ (c) b.org>" is a@b.org: RFC 5322 3.2.2 lets
 * comments and folding sit between an addr-spec's parts). */
static const char *address_field(struct arena *a, const struct mime_message *m,
                                 const char *name)
{
	struct mime_field f;
	const struct mime_part *r = m->root;
	if (!mime_header_find(m->data, r->hdr_start, r->hdr_end, name, &f))
		return "";
	char *unfolded = mime_unfold(a, f.value, f.value_len);
	const char *text = encword_decode_arena(a, unfolded, strlen(unfolded));
	struct buf b;
	mime_buf_init(&b, MIME_SEARCH_TEXT_MAX);
	buf_append(&b, text, strlen(text));
	for (const struct mime_address *ad = mime_address_parse(a, unfolded, strlen(unfolded));
	     ad != NULL; ad = ad->next) {
		if (ad->host == NULL || ad->mailbox == NULL)
			continue;   /* group markers */
		const char *spec = *ad->host ? arena_printf(a, "%s@%s", ad->mailbox, ad->host)
		                             : ad->mailbox;
		if (*spec != '\0' && strstr(text, spec) == NULL)
			buf_printf(&b, "\n%s", spec);
	}
	const char *out = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return out;
}

static bool is_attachment(struct arena *a, const struct mime_part *p)
{
	if (p->parent == NULL || (p->flags & MIME_PART_MULTIPART))
		return false;
	if (p->disposition != NULL)
		return strcasecmp(p->disposition, "attachment") == 0 ||
		       (strcasecmp(p->disposition, "inline") != 0 && mime_part_filename(a, p));
	/* No disposition: a named part that is not text is an attachment. */
	return !mime_part_is(p, "text", NULL) && mime_part_filename(a, p) != NULL;
}

struct walk {
	struct arena *a;
	const struct mime_message *m;
	struct buf text;
	bool full;
	bool has_attachments;
};

static void add_text(struct walk *w, const char *s, size_t n)
{
	if (w->full)
		return;
	if (buf_len(&w->text) > 0 && buf_append(&w->text, "\n", 1) < 0) {
		w->full = true;
		return;
	}
	if (buf_append(&w->text, s, n) < 0) {
		buf_append(&w->text, s, utf8_cut(s, n, buf_room(&w->text)));
		w->full = true;
	}
}

static void walk_parts(struct walk *w, const struct mime_part *p)
{
	if (is_attachment(w->a, p))
		w->has_attachments = true;
	const char *fname = mime_part_filename(w->a, p);
	if (fname != NULL && *fname != '\0')
		add_text(w, fname, strlen(fname));
	if (p->children == NULL && mime_part_is(p, "text", NULL) && !w->full &&
	    p->body_end > p->body_start) {
		if (buf_len(&w->text) > 0 && buf_append(&w->text, "\n", 1) < 0)
			w->full = true;
		/* Enough input for what room is left, whatever the encoding. */
		size_t max_in = buf_room(&w->text) * 4 + 1024;
		if (!w->full && mime_part_text(&w->text, w->a, w->m, p, max_in) < 0)
			w->full = true;
	}
	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		walk_parts(w, c);
}

int mime_summarize_parsed(struct arena *a, const struct mime_message *m,
                          struct mime_summary *out)
{
	memset(out, 0, sizeof(*out));
	const struct mime_part *r = m->root;
	out->envelope = mime_envelope(a, m, r);
	out->body = mime_bodystructure(a, m, r, false);
	out->bodystructure = mime_bodystructure(a, m, r, true);
	if (!*out->envelope || !*out->body || !*out->bodystructure)
		return -1;
	out->subject = decoded_field(a, m, "subject");
	out->from = address_field(a, m, "from");
	out->to = address_field(a, m, "to");
	out->cc = address_field(a, m, "cc");
	out->bcc = address_field(a, m, "bcc");
	out->message_id = decoded_field(a, m, "message-id");
	out->in_reply_to = decoded_field(a, m, "in-reply-to");
	struct mime_field f;
	out->date_header = mime_header_find(m->data, r->hdr_start, r->hdr_end, "date", &f)
		? mime_unfold(a, f.value, f.value_len) : "";
	out->header_size = r->body_start - r->hdr_start;
	out->body_size = m->len - r->body_start;

	struct walk w = { .a = a, .m = m };
	mime_buf_init(&w.text, MIME_SEARCH_TEXT_MAX);
	walk_parts(&w, r);
	out->search_text = arena_strndup(a, buf_ptr(&w.text), buf_len(&w.text));
	out->has_attachments = w.has_attachments;

	out->preview = "";
	const struct mime_part *main = mime_main_text_part(m);
	if (main != NULL) {
		struct buf t;
		mime_buf_init(&t, MIME_PREVIEW_CHARS * 8);
		mime_part_text(&t, a, m, main, MIME_PREVIEW_CHARS * 64);
		out->preview = mime_preview_of(a, buf_ptr(&t), buf_len(&t), MIME_PREVIEW_CHARS);
		buf_deinit(&t);
	}
	buf_deinit(&w.text);
	return 0;
}

int mime_summarize(struct arena *a, const char *msg, size_t len, struct mime_summary *out)
{
	return mime_summarize_parsed(a, mime_parse(a, msg, len), out);
}
