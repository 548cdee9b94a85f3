/*
 * envelope: the IMAP ENVELOPE of a message header (RFC 9051 7.5.2).
 *
 * Values are the raw header values, unfolded (RFC 2047 words stay
 * encoded). The first occurrence of each field counts. An absent field is
 * NIL; a present but empty one is "". Sender and Reply-To default to From
 * when absent or empty, as the RFC requires. Address lists with no
 * address are NIL.
 */
#include "mime/mime.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/strutil.h"
#include "mime/address.h"
#include "mime/header.h"
#include "mime/imapstr.h"
#include "mime/internal.h"

enum env_field { E_DATE, E_SUBJECT, E_FROM, E_SENDER, E_REPLY_TO, E_TO, E_CC, E_BCC,
                 E_IN_REPLY_TO, E_MESSAGE_ID, E_COUNT };

static const char *const FIELD_NAMES[E_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id",
};

int mime_envelope_write(struct buf *b, struct arena *a, const char *data,
                        size_t hdr_start, size_t hdr_end)
{
	struct mime_field fields[E_COUNT];
	bool have[E_COUNT] = { false };
	struct mime_header_iter it;
	struct mime_field f;
	mime_header_iter_init(&it, data, hdr_start, hdr_end);
	while (mime_header_next(&it, &f)) {
		for (int i = 0; i < E_COUNT; i++) {
			if (!have[i] && str_ieq_n(f.name, f.name_len, FIELD_NAMES[i])) {
				have[i] = true;
				fields[i] = f;
			}
		}
	}
	struct mime_address *addr[E_COUNT] = { NULL };
	for (int i = E_FROM; i <= E_BCC; i++)
		if (have[i])
			addr[i] = mime_address_parse(a, fields[i].value, fields[i].value_len);
	if (addr[E_SENDER] == NULL)
		addr[E_SENDER] = addr[E_FROM];
	if (addr[E_REPLY_TO] == NULL)
		addr[E_REPLY_TO] = addr[E_FROM];

	if (buf_append(b, "(", 1) < 0)
		return -1;
	for (int i = 0; i < E_COUNT; i++) {
		if (i > 0 && buf_append(b, " ", 1) < 0)
			return -1;
		int r;
		if (i >= E_FROM && i <= E_BCC)
			r = mime_address_write_imap(b, addr[i]);
		else
			r = imapstr_append_nstring(b, have[i] ? mime_unfold(a, fields[i].value,
			                                                      fields[i].value_len)
			                                      : NULL);
		if (r < 0)
			return -1;
	}
	return buf_append(b, ")", 1);
}

const char *mime_envelope(struct arena *a, const struct mime_message *m,
                          const struct mime_part *p)
{
	struct buf b;
	mime_buf_init(&b, mime_out_max(p->hdr_end - p->hdr_start));
	if (mime_envelope_write(&b, a, m->data, p->hdr_start, p->hdr_end) < 0)
		buf_reset(&b, 0);
	const char *s = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return s;
}
