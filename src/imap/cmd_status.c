/*
 * STATUS (RFC 9051 6.3.11; SIZE and DELETED of RFC 9051 / RFC 8438,
 * HIGHESTMODSEQ of RFC 7162, APPENDLIMIT of RFC 7889) and CHECK. The
 * status writer is shared with LIST RETURN (STATUS ...) (RFC 5819).
 */
#include "imap/imap_internal.h"
#include "lib/runtime.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned bit;
} items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES }, { "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY }, { "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "RECENT", IMAP_STATUS_RECENT }, { "DELETED", IMAP_STATUS_DELETED },
	{ "SIZE", IMAP_STATUS_SIZE }, { "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
};

int imap_status_parse(struct imap_session *s, const struct imap_arg *list, unsigned *mask)
{
	const struct imap_arg *l;
	size_t n;
	*mask = 0;
	if (!imap_arg_get_list(list, &l, &n) || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *a;
		unsigned bit = 0;
		if (!imap_arg_get_atom(&l[i], &a))
			return -1;
		for (size_t k = 0; k < sizeof(items) / sizeof(items[0]); k++)
			if (strcasecmp(a, items[k].name) == 0)
				bit = items[k].bit;
		/* RECENT is gone from IMAP4rev2 (RFC 9051 appendix E). */
		if (bit == 0 || (bit == IMAP_STATUS_RECENT && (s->enabled & IMAP_ENABLED_REV2)))
			return -1;
		*mask |= bit;
	}
	if (*mask & IMAP_STATUS_HIGHESTMODSEQ)
		imap_sel_enable_condstore(s);  /* a CONDSTORE-enabling command */
	return 0;
}

static int count_deleted(struct store_user *u, const char *name, uint32_t *n_r)
{
	struct store_mailbox *mb;
	int rc = store_mailbox_open(u, name, STORE_OPEN_READONLY, &mb);
	if (rc != STORE_OK)
		return rc;
	size_t n;
	const struct store_msg *m = store_mailbox_msgs(mb, &n);
	uint32_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += (m[i].flags & STORE_DELETED) != 0;
	store_mailbox_close(&mb);
	*n_r = d;
	return STORE_OK;
}

int imap_status_send(struct imap_session *s, const char *name, unsigned mask)
{
	struct store_user *u = imap_store(s);
	if (u == NULL)
		return STORE_E_INTERNAL;
	struct store_status st;
	int rc = store_mailbox_status(u, name, &st);
	uint32_t deleted = 0;
	if (rc == STORE_OK && (mask & IMAP_STATUS_DELETED))
		rc = count_deleted(u, name, &deleted);
	if (rc != STORE_OK)
		return rc;
	struct buf b;
	buf_init(&b, 8192);
	buf_append_str(&b, "* STATUS ");
	imap_mbox_write(s, &b, name);
	const char *sep = " (";
#define ITEM(bit, fmt, val)                                          \
	if (mask & (bit)) {                                          \
		buf_printf(&b, "%s" fmt, sep, val);                  \
		sep = " ";                                           \
	}
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %" PRIu32, st.messages);
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %" PRIu32, st.uidnext);
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %" PRIu32, st.uidvalidity);
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %" PRIu32, st.unseen);
	ITEM(IMAP_STATUS_RECENT, "RECENT %" PRIu32, st.recent);
	ITEM(IMAP_STATUS_DELETED, "DELETED %" PRIu32, deleted);
	ITEM(IMAP_STATUS_SIZE, "SIZE %" PRIu64, st.size);
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %" PRIu64, st.highestmodseq);
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %" PRIu64, (uint64_t)runtime_config->max_message_size);
#undef ITEM
	buf_append_str(&b, ")\r\n");
	conn_write(s->c, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return STORE_OK;
}

enum imap_cmd_result imap_cmd_status(struct imap_session *s, const struct imap_command *cmd)
{
	unsigned mask;
	const char *err;
	if (cmd->nargs != 2 || imap_status_parse(s, &cmd->args[1], &mask) < 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL,
		            "Usage: STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE"
		            " HIGHESTMODSEQ APPENDLIMIT)");
		return IMAP_CMD_DONE;
	}
	const char *name = imap_mbox_arg(s, &cmd->args[0], &err);
	if (name == NULL) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
		return IMAP_CMD_DONE;
	}
	int rc = imap_status_send(s, name, mask);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "status");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "STATUS completed");
	return IMAP_CMD_DONE;
}

/* CHECK (IMAP4rev1 only; harmless in rev2): every change is durable when
 * its command answers, so this is a NOOP that reports updates. */
enum imap_cmd_result imap_cmd_check(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "CHECK takes no arguments");
		return IMAP_CMD_DONE;
	}
	if (s->store != NULL)
		store_user_poll(s->store);
	return imap_sel_reply(s, cmd->tag, NULL, "CHECK completed");
	return IMAP_CMD_DONE;
}
