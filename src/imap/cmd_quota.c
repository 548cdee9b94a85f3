/*
 * QUOTA (RFC 9208): one quota root per user, named "", holding every
 * mailbox; resources STORAGE (KiB, copies counted) and MESSAGE. Limits
 * are the account's (`mailkeep quota`); SETQUOTA is for administrators,
 * and there are none over IMAP yet, so it is refused with [NOPERM].
 */
#include "imap/imap_internal.h"

#include <inttypes.h>

/* "* QUOTA "" (STORAGE used limit MESSAGE used limit)": only resources
 * that have a limit are listed. */
static int send_quota(struct imap_session *s)
{
	struct store_user *u = imap_store(s);
	if (u == NULL)
		return STORE_E_INTERNAL;
	uint64_t bytes, msgs;
	struct store_quota q;
	int rc = store_user_quota(u, &bytes, &msgs, &q);
	if (rc != STORE_OK)
		return rc;
	struct buf b;
	buf_init(&b, 256);
	buf_append_str(&b, "* QUOTA \"\" (");
	const char *sep = "";
	if (q.max_bytes > 0) {
		buf_printf(&b, "STORAGE %" PRIu64 " %" PRIu64, (bytes + 1023) / 1024, q.max_bytes / 1024);
		sep = " ";
	}
	if (q.max_messages > 0)
		buf_printf(&b, "%sMESSAGE %" PRIu64 " %" PRIu64, sep, msgs, q.max_messages);
	buf_append_str(&b, ")\r\n");
	conn_write(s->c, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	return STORE_OK;
}

enum imap_cmd_result imap_cmd_getquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root;
	size_t len;
	if (cmd->nargs != 1 || !imap_arg_get_astring(&cmd->args[0], &root, &len)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: GETQUOTA root");
		return IMAP_CMD_DONE;
	}
	if (len != 0) {
		imap_tagged(s, cmd->tag, "NO", "NONEXISTENT", "No such quota root; the only one is \"\"");
		return IMAP_CMD_DONE;
	}
	int rc = send_quota(s);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "getquota");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "GETQUOTA completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd)
{
	const char *err;
	if (cmd->nargs != 1) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: GETQUOTAROOT mailbox");
		return IMAP_CMD_DONE;
	}
	const char *name = imap_mbox_arg(s, &cmd->args[0], &err);
	if (name == NULL) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
		return IMAP_CMD_DONE;
	}
	struct store_user *u = imap_store(s);
	struct store_status st;
	int rc = u == NULL ? STORE_E_INTERNAL : store_mailbox_status(u, name, &st);
	if (rc == STORE_OK) {
		struct buf b;
		buf_init(&b, 8192);
		buf_append_str(&b, "* QUOTAROOT ");
		imap_mbox_write(s, &b, name);
		buf_append_str(&b, " \"\"\r\n");
		conn_write(s->c, buf_ptr(&b), buf_len(&b));
		buf_deinit(&b);
		rc = send_quota(s);
	}
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "getquotaroot");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "GETQUOTAROOT completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_setquota(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: SETQUOTA root (resource limit ...)");
		return IMAP_CMD_DONE;
	}
	imap_tagged(s, cmd->tag, "NO", "NOPERM", "Only an administrator may change quotas");
	return IMAP_CMD_DONE;
}
