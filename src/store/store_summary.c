/* store_summary.c: what the store caches about a message at append time,
 * from the MIME module. The one place that knows mime_summarize(). */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "lib/date.h"
#include "mime/mime.h"

#include <string.h>

/* The raw header block kept for HEADER <field> <string> searches. */
#define HEADERS_MAX (64 * 1024)

void store_summarize(const char *data, size_t len, struct arena *a, struct store_summary *s)
{
	struct mime_summary ms;
	memset(s, 0, sizeof(*s));
	memset(&ms, 0, sizeof(ms));
	mime_summarize(a, data, len, &ms);
	s->header_size = ms.header_size;
	s->envelope = ms.envelope != NULL ? ms.envelope : "";
	s->bodystructure = ms.bodystructure != NULL ? ms.bodystructure : "";
	s->body = ms.body != NULL ? ms.body : "";
	s->from = ms.from != NULL ? ms.from : "";
	s->to = ms.to != NULL ? ms.to : "";
	s->cc = ms.cc != NULL ? ms.cc : "";
	s->bcc = ms.bcc != NULL ? ms.bcc : "";
	s->subject = ms.subject != NULL ? ms.subject : "";
	s->message_id = ms.message_id != NULL ? ms.message_id : "";
	s->text = ms.search_text != NULL ? ms.search_text : "";
	s->preview = ms.preview != NULL ? ms.preview : "";
	size_t hl = s->header_size < len ? (size_t)s->header_size : len;
	if (hl > HEADERS_MAX)
		hl = HEADERS_MAX;
	s->headers = arena_strndup(a, data, hl);
	time_t t;
	int tz;
	if (ms.date_header != NULL && ms.date_header[0] != '\0' &&
	    date_parse_rfc5322(ms.date_header, strlen(ms.date_header), &t, &tz) == 0) {
		s->has_date = true;
		s->sent_date = (int64_t)t;
		s->sent_tz = tz;
	}
}
