/*
 * Mailbox names on the wire, and store errors as IMAP response codes.
 *
 * IMAP4rev1 clients write names in modified UTF-7 (RFC 3501 5.1.3); after
 * ENABLE IMAP4rev2 or UTF8=ACCEPT they are UTF-8 (RFC 9051 5.1, RFC 6855
 * 3). The store works in UTF-8 only.
 */
#include "imap/imap_internal.h"
#include "imap/imap_resp.h"
#include "lib/utf7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool imap_utf8_names(const struct imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_REV2 | IMAP_ENABLED_UTF8)) != 0;
}

const char *imap_mbox_decode(struct imap_session *s, const char *wire, size_t len, bool normalize,
                             const char **err)
{
	if (memchr(wire, '\0', len) != NULL) {
		*err = "Mailbox name contains NUL";
		return NULL;
	}
	char *utf8;
	if (imap_utf8_names(s)) {
		if (!utf8_is_valid(wire, len)) {
			*err = "Mailbox name is not valid UTF-8";
			return NULL;
		}
		utf8 = arena_strndup(s->cmd_arena, wire, len);
	} else {
		utf8 = utf7_to_utf8_arena(s->cmd_arena, wire, len);
		if (utf8 == NULL) {
			*err = "Mailbox name is not valid modified UTF-7 (RFC 3501 5.1.3)";
			return NULL;
		}
	}
	if (!normalize)
		return utf8;
	if (strlen(utf8) > STORE_NAME_MAX) {
		*err = "Mailbox name is too long";
		return NULL;
	}
	char *out = arena_alloc(s->cmd_arena, STORE_NAME_MAX + 1);
	if (store_name_normalize(utf8, out) != STORE_OK) {
		*err = "Invalid mailbox name (empty level, control character, '*' or '%', or too deep)";
		return NULL;
	}
	return out;
}

const char *imap_mbox_arg(struct imap_session *s, const struct imap_arg *arg, const char **err)
{
	const char *str;
	size_t len;
	if (!imap_arg_get_astring(arg, &str, &len)) {
		*err = "Mailbox name expected";
		return NULL;
	}
	return imap_mbox_decode(s, str, len, true, err);
}

int imap_mbox_write(struct imap_session *s, struct buf *b, const char *name)
{
	if (imap_utf8_names(s))
		return imap_resp_write_astring(b, name, strlen(name), IMAP_RESP_UTF8);
	const char *w = utf8_to_utf7_arena(s->cmd_arena, name, strlen(name));
	if (w == NULL)
		return -1;
	return imap_resp_write_astring(b, w, strlen(w), 0);
}

void imap_store_fail(struct imap_session *s, const char *tag, int err, const char *what)
{
	const char *code, *text;
	switch (err) {
	case STORE_E_NOTFOUND:
		code = "NONEXISTENT", text = "Mailbox does not exist";
		break;
	case STORE_E_EXISTS:
		code = "ALREADYEXISTS", text = "Mailbox already exists";
		break;
	case STORE_E_BADNAME:
		code = "CANNOT", text = "Invalid name";
		break;
	case STORE_E_NOTALLOWED:
		code = "CANNOT", text = "Operation not allowed on this mailbox";
		break;
	case STORE_E_HASCHILDREN:
		code = "INUSE", text = "Mailbox has children; delete them first";
		break;
	case STORE_E_OVERQUOTA:
		code = "OVERQUOTA", text = "Quota exceeded";
		break;
	case STORE_E_LIMIT:
		code = "LIMIT", text = "Limit exceeded";
		break;
	case STORE_E_NOSELECT:
		code = "CANNOT", text = "Mailbox is not selectable (\\Noselect)";
		break;
	case STORE_E_EXPUNGED:
		code = "EXPUNGEISSUED", text = "Some messages were expunged meanwhile";
		break;
	default: {
		/* Details in the log, an id for the user to quote. */
		static _Thread_local unsigned long counter;
		char id[64], msg[128];
		snprintf(id, sizeof(id), "%llx-%lx", (unsigned long long)s->c->id, ++counter);
		conn_log(s->c, LOGL_ERROR, "internal error id=%s op=%s err=%s detail=\"%s\"", id,
		         what, store_err_name(err), s->store ? store_error(s->store) : "no store");
		snprintf(msg, sizeof(msg), "Internal error [%s]", id);
		imap_tagged(s, tag, "NO", "SERVERBUG", msg);
		return;
	}
	}
	imap_tagged(s, tag, "NO", code, text);
}
