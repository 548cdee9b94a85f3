/*
 * COPY, MOVE (RFC 6851) and their UID forms, with COPYUID (UIDPLUS, RFC
 * 4315), [TRYCREATE] for a missing destination and [OVERQUOTA] (RFC 9208).
 * MOVE's expunges reach the client through the watcher like anyone's:
 * "* OK [COPYUID ...]" first, then EXPUNGE/VANISHED, then the tagged OK.
 */
#include "imap/imap_internal.h"
#include "imap/imap_seqset.h"

#include <inttypes.h>
#include <stdio.h>

static enum imap_cmd_result copy_move(struct imap_session *s, const struct imap_command *cmd, bool move)
{
	const char *set_atom, *err;
	if (cmd->nargs != 2 || !imap_arg_get_atom(&cmd->args[0], &set_atom)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, move ? "Usage: MOVE set mailbox" : "Usage: COPY set mailbox");
		return IMAP_CMD_DONE;
	}
	struct store_uidset set;
	if (imap_sel_resolve_set(s, set_atom, cmd->uid, s->cmd_arena, &set, &err) < 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, err);
		return IMAP_CMD_DONE;
	}
	const char *dest = imap_mbox_arg(s, &cmd->args[1], &err);
	if (dest == NULL) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
		return IMAP_CMD_DONE;
	}
	if (move && s->sel->readonly) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", "Mailbox is read-only (EXAMINE)");
		return IMAP_CMD_DONE;
	}
	struct store_copy_result res = { 0 };
	int rc = set.n == 0 ? STORE_OK : store_copy(s->sel->mb, &set, dest, move, s->cmd_arena, &res);
	if (rc == STORE_E_NOTFOUND) {
		imap_tagged(s, cmd->tag, "NO", "TRYCREATE", "Destination mailbox does not exist");
		return IMAP_CMD_DONE;
	}
	if (rc != STORE_OK) {
		imap_store_fail(s, cmd->tag, rc, move ? "move" : "copy");
		return IMAP_CMD_DONE;
	}
	char *code = NULL;
	if (res.n > 0) {
		struct buf b;
		buf_init(&b, 32 * res.n + 64);
		buf_printf(&b, "COPYUID %" PRIu32 " ", res.uidvalidity);
		imap_seqset_write_list(&b, res.src_uids, res.n);
		buf_append_str(&b, " ");
		imap_seqset_write_list(&b, res.dst_uids, res.n);
		code = arena_strdup(s->cmd_arena, buf_ptr(&b));
		buf_deinit(&b);
	}
	if (move) {
		if (code != NULL)
			conn_printf(s->c, "* OK [%s] Moved\r\n", code);
		return imap_sel_reply(s, cmd->tag, NULL, "MOVE completed");
	} else {
		imap_tagged(s, cmd->tag, "OK", code, "COPY completed");
	}
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_copy(struct imap_session *s, const struct imap_command *cmd)
{
	return copy_move(s, cmd, false);
}

enum imap_cmd_result imap_cmd_move(struct imap_session *s, const struct imap_command *cmd)
{
	return copy_move(s, cmd, true);
}

/* EXPUNGE, and UID EXPUNGE set (UIDPLUS): the untagged EXPUNGE (or
 * VANISHED) lines come from the watcher, flushed before the tagged OK. */
enum imap_cmd_result imap_cmd_expunge(struct imap_session *s, const struct imap_command *cmd)
{
	const char *set_atom, *err;
	struct store_uidset set = { 0 };
	if (cmd->nargs != (cmd->uid ? 1u : 0u) ||
	    (cmd->uid && !imap_arg_get_atom(&cmd->args[0], &set_atom))) {
		imap_tagged(s, cmd->tag, "BAD", NULL, cmd->uid ? "Usage: UID EXPUNGE set" : "EXPUNGE takes no arguments");
		return IMAP_CMD_DONE;
	}
	if (cmd->uid && imap_sel_resolve_set(s, set_atom, true, s->cmd_arena, &set, &err) < 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, err);
		return IMAP_CMD_DONE;
	}
	if (s->sel->readonly) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", "Mailbox is read-only (EXAMINE)");
		return IMAP_CMD_DONE;
	}
	uint32_t *uids;
	size_t n;
	int rc = STORE_OK;
	if (!cmd->uid || set.n > 0)
		rc = store_expunge(s->sel->mb, cmd->uid ? STORE_EXPUNGE_DELETED_IN_SET : STORE_EXPUNGE_DELETED,
		                   cmd->uid ? &set : NULL, s->cmd_arena, &uids, &n);
	if (rc != STORE_OK) {
		imap_store_fail(s, cmd->tag, rc, "expunge");
		return IMAP_CMD_DONE;
	}
	return imap_sel_reply(s, cmd->tag, NULL, "EXPUNGE completed");
}
