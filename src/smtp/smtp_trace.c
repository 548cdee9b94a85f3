#include "smtp/smtp_trace.h"
#include "lib/arena.h"
#include "lib/date.h"
#include "mime/address.h"
#include "mime/header.h"

#include <string.h>
#include <strings.h>

static void clean_helo(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; in[i] != '\0' && o + 1 < outlen && i < 100; i++) {
		unsigned char c = (unsigned char)in[i];
		out[o++] = (c < 33 || c > 126 || c == '(' || c == ')' || c == '\\' || c == ',' ||
		            c == ';') ? '?' : (char)c;
	}
	out[o] = '\0';
}

int smtp_received_write(struct buf *b, const struct smtp_received *r)
{
	char helo[101], date[DATE_RFC5322_SIZE];
	clean_helo(r->helo ? r->helo : "", helo, sizeof(helo));
	date_format_rfc5322(r->now, r->tz_minutes, date);
	int rc = buf_printf(b, "Received: from %s ([%s])\r\n\tby %s (mailkeep) with %s id %s",
	                    helo[0] ? helo : "unknown", r->ip, r->by, r->with, r->id);
	if (rc == 0 && r->for_addr != NULL)
		rc = buf_printf(b, "\r\n\tfor <%s>; %s\r\n", r->for_addr, date);
	else if (rc == 0)
		rc = buf_printf(b, ";\r\n\t%s\r\n", date);
	return rc;
}

const char *smtp_with_name(bool lmtp, bool esmtp, bool tls, bool auth, bool utf8)
{
	static const char *const names[2][2][2] = {
		/* [utf8][tls][auth] */
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};
	static const char *const lnames[2][2][2] = {
		{ { "LMTP", "LMTPA" }, { "LMTPS", "LMTPSA" } },
		{ { "UTF8LMTP", "UTF8LMTPA" }, { "UTF8LMTPS", "UTF8LMTPSA" } },
	};
	if (lmtp)
		return lnames[utf8][tls][auth];
	if (!esmtp)
		return "SMTP";
	return names[utf8][tls][auth];
}

bool smtp_header_has(const char *hdr, size_t len, const char *name)
{
	struct mime_field f;
	return mime_header_find(hdr, 0, len, name, &f);
}

int smtp_header_mailboxes(struct arena *a, const char *hdr, size_t len, const char *name,
                          const char **out, size_t max)
{
	struct mime_header_iter it;
	struct mime_field f;
	size_t n = 0, nlen = strlen(name);
	mime_header_iter_init(&it, hdr, 0, len);
	while (mime_header_next(&it, &f)) {
		if (f.name_len != nlen || strncasecmp(f.name, name, nlen) != 0)
			continue;
		struct mime_address *list = mime_address_parse(a, f.value, f.value_len);
		for (struct mime_address *m = list; m != NULL; m = m->next) {
			if (m->host == NULL)
				continue;  /* group marker */
			if (m->host[0] == '\0' || m->mailbox == NULL || m->mailbox[0] == '\0')
				return -1;
			if (n < max)
				out[n] = arena_printf(a, "%s@%s", m->mailbox, m->host);
			n++;
		}
	}
	return n > max ? (int)max : (int)n;
}

int smtp_message_id_write(struct buf *b, const char *host, unsigned long long r1,
                          unsigned long long r2)
{
	return buf_printf(b, "Message-ID: <%016llx.%016llx@%s>\r\n", r1, r2, host);
}
