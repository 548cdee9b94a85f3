/*
 * CREATE (with RFC 6154 USE), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE
 * (RFC 9051 6.3.4-6.3.8) and NAMESPACE (RFC 2342, 9051 6.3.10).
 *
 * Names come in through imap_mbox_arg() (encoding, validity); the store
 * enforces the hierarchy rules and never derives a path from a name.
 */
#include "imap/imap_internal.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned bit;
} special_uses[] = {
	{ "\\All", STORE_MB_ALL }, { "\\Archive", STORE_MB_ARCHIVE },
	{ "\\Drafts", STORE_MB_DRAFTS }, { "\\Flagged", STORE_MB_FLAGGED },
	{ "\\Junk", STORE_MB_JUNK }, { "\\Sent", STORE_MB_SENT },
	{ "\\Trash", STORE_MB_TRASH },
};

const char *imap_special_use_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++)
		if (special_uses[i].bit == bit)
			return special_uses[i].name;
	return NULL;
}

/* The mailbox name argument, or a tagged NO already sent. */
static const char *name_arg(struct imap_session *s, const struct imap_command *cmd, size_t i)
{
	const char *err;
	const char *name = imap_mbox_arg(s, &cmd->args[i], &err);
	if (name == NULL)
		imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
	return name;
}

static struct store_user *store_or_fail(struct imap_session *s, const char *tag)
{
	struct store_user *u = imap_store(s);
	if (u == NULL)
		imap_tagged(s, tag, "NO", "UNAVAILABLE", "Mail store unavailable, try again later");
	return u;
}

enum imap_cmd_result imap_cmd_create(struct imap_session *s, const struct imap_command *cmd)
{
	unsigned use = 0;
	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: CREATE mailbox [(USE (\\Special))]");
		return IMAP_CMD_DONE;
	}
	if (cmd->nargs == 2) {
		const struct imap_arg *l, *u;
		size_t n, nu;
		if (!imap_arg_get_list(&cmd->args[1], &l, &n) || n != 2 || !imap_arg_atom_equals(&l[0], "USE") ||
		    !imap_arg_get_list(&l[1], &u, &nu)) {
			imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: CREATE mailbox [(USE (\\Special))]");
			return IMAP_CMD_DONE;
		}
		for (size_t i = 0; i < nu; i++) {
			const char *a;
			unsigned bit = 0;
			if (imap_arg_get_atom(&u[i], &a))
				for (size_t k = 0; k < sizeof(special_uses) / sizeof(special_uses[0]); k++)
					if (strcasecmp(a, special_uses[k].name) == 0)
						bit = special_uses[k].bit;
			if (bit == 0) {
				imap_tagged(s, cmd->tag, "NO", "USEATTR", "Unknown special-use attribute");
				return IMAP_CMD_DONE;
			}
			if (use != 0 && use != bit) {
				imap_tagged(s, cmd->tag, "NO", "USEATTR", "One special-use attribute per mailbox");
				return IMAP_CMD_DONE;
			}
			use = bit;
		}
	}
	const char *name = name_arg(s, cmd, 0);
	struct store_user *u = name ? store_or_fail(s, cmd->tag) : NULL;
	if (u == NULL)
		return IMAP_CMD_DONE;
	int rc = store_mailbox_create(u, name, use);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "create");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "CREATE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 1) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: DELETE mailbox");
		return IMAP_CMD_DONE;
	}
	const char *name = name_arg(s, cmd, 0);
	struct store_user *u = name ? store_or_fail(s, cmd->tag) : NULL;
	if (u == NULL)
		return IMAP_CMD_DONE;
	if (strcmp(name, "INBOX") == 0) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", "INBOX cannot be deleted");
		return IMAP_CMD_DONE;
	}
	/* Deleting our own selected mailbox deselects it first. */
	if (s->sel != NULL && strcmp(s->sel->name, name) == 0)
		imap_sel_close(s);
	int rc = store_mailbox_delete(u, name);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "delete");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "DELETE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_rename(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 2) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: RENAME from to");
		return IMAP_CMD_DONE;
	}
	const char *from = name_arg(s, cmd, 0);
	const char *to = from ? name_arg(s, cmd, 1) : NULL;
	struct store_user *u = to ? store_or_fail(s, cmd->tag) : NULL;
	if (u == NULL)
		return IMAP_CMD_DONE;
	int rc = store_mailbox_rename(u, from, to);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "rename");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "RENAME completed");
	return IMAP_CMD_DONE;
}

static enum imap_cmd_result subscribe(struct imap_session *s, const struct imap_command *cmd, bool on)
{
	if (cmd->nargs != 1) {
		imap_tagged(s, cmd->tag, "BAD", NULL, on ? "Usage: SUBSCRIBE mailbox" : "Usage: UNSUBSCRIBE mailbox");
		return IMAP_CMD_DONE;
	}
	const char *name = name_arg(s, cmd, 0);
	struct store_user *u = name ? store_or_fail(s, cmd->tag) : NULL;
	if (u == NULL)
		return IMAP_CMD_DONE;
	int rc = store_mailbox_subscribe(u, name, on);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, on ? "subscribe" : "unsubscribe");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_subscribe(struct imap_session *s, const struct imap_command *cmd)
{
	return subscribe(s, cmd, true);
}

enum imap_cmd_result imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd)
{
	return subscribe(s, cmd, false);
}

/* One personal namespace, no prefix, "/" as the hierarchy delimiter. */
enum imap_cmd_result imap_cmd_namespace(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "NAMESPACE takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_tagged(s, cmd->tag, "OK", NULL, "NAMESPACE completed");
	return IMAP_CMD_DONE;
}
