/*
 * SELECT, EXAMINE (RFC 9051 6.3.2/6.3.3, CONDSTORE and QRESYNC select
 * parameters of RFC 7162), CLOSE (6.4.1) and UNSELECT (RFC 3691).
 */
#include "imap/imap_internal.h"
#include "imap/imap_seqset.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct qresync {
	bool on;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset known;    /* resolved; count 0 = all */
};

/* "(QRESYNC (uidvalidity modseq [known-uids [seq-match]]))" */
static bool parse_qresync(struct imap_session *s, const struct imap_arg *arg, struct qresync *q,
                          const char **err)
{
	const struct imap_arg *l;
	size_t n;
	uint64_t v;
	if (!imap_arg_get_list(arg, &l, &n) || n < 2 || n > 4 || !imap_arg_get_number(&l[0], &v) ||
	    v == 0 || v > UINT32_MAX) {
		*err = "QRESYNC needs (uidvalidity modseq [known-uids [seq-match]])";
		return false;
	}
	q->uidvalidity = (uint32_t)v;
	if (!imap_arg_get_number(&l[1], &q->modseq) || q->modseq == 0) {
		*err = "QRESYNC modseq must be a positive number";
		return false;
	}
	const char *set;
	if (n >= 3) {
		struct imap_seqset parsed;
		if (!imap_arg_get_atom(&l[2], &set) ||
		    imap_seqset_parse(s->cmd_arena, set, strlen(set), 100000, &parsed, err) < 0 ||
		    parsed.saved) {
			*err = "QRESYNC known-uids must be a UID set";
			return false;
		}
		imap_seqset_resolve(s->cmd_arena, &parsed, UINT32_MAX, &q->known);
	}
	/* seq-match is an optimisation for the server; answering with every
	 * vanished UID in known-uids is always correct, so it is only checked. */
	if (n == 4 && (l[3].type != IMAP_ARG_LIST || l[3].count != 2)) {
		*err = "QRESYNC seq-match must be (seqs uids)";
		return false;
	}
	q->on = true;
	return true;
}

static bool parse_params(struct imap_session *s, const struct imap_command *cmd, struct qresync *q,
                         bool *condstore)
{
	const struct imap_arg *l;
	size_t n;
	const char *err = "Unknown SELECT parameter";
	if (cmd->nargs == 1)
		return true;
	if (cmd->nargs != 2 || !imap_arg_get_list(&cmd->args[1], &l, &n)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: SELECT mailbox [(CONDSTORE|QRESYNC (...))]");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_atom_equals(&l[i], "CONDSTORE")) {
			*condstore = true;
		} else if (imap_arg_atom_equals(&l[i], "QRESYNC") && i + 1 < n) {
			if (!(s->enabled & IMAP_ENABLED_QRESYNC)) {
				imap_tagged(s, cmd->tag, "BAD", NULL, "ENABLE QRESYNC first");
				return false;
			}
			if (!parse_qresync(s, &l[++i], q, &err))
				goto bad;
		} else {
			goto bad;
		}
	}
	return true;
bad:
	imap_tagged(s, cmd->tag, "BAD", NULL, err);
	return false;
}

/* VANISHED (EARLIER) and FETCH for what changed since the client's
 * modseq (RFC 7162 3.2.5.2), written as the output buffer allows (a
 * resync of a big mailbox can be megabytes), then the tagged OK. */
struct qr_reply {
	uint32_t *v;                 /* vanished UIDs to report */
	size_t nv, vi;
	struct store_msg *c;         /* changed messages (copied) */
	size_t nc, ci;
	const char *tag;
	bool readonly;
};

static bool qr_run(struct imap_session *s)
{
	struct qr_reply *r = s->cmd_ctx;
	struct buf b;
	buf_init(&b, 256 * 1024);
	while (r->vi < r->nv && !conn_output_full(s->c)) {
		size_t n = r->nv - r->vi < 4096 ? r->nv - r->vi : 4096;
		buf_reset(&b, 256 * 1024);
		buf_append_str(&b, "* VANISHED (EARLIER) ");
		imap_seqset_write_list(&b, r->v + r->vi, n);
		buf_append_str(&b, "\r\n");
		conn_write(s->c, buf_ptr(&b), buf_len(&b));
		r->vi += n;
	}
	for (; r->vi == r->nv && r->ci < r->nc && !conn_output_full(s->c); r->ci++) {
		const struct store_msg *m = &r->c[r->ci];
		uint32_t seq = imap_sel_seq(s, m->uid);
		if (seq == 0)
			continue;
		buf_reset(&b, 256 * 1024);
		buf_printf(&b, "* %" PRIu32 " FETCH (UID %" PRIu32 " FLAGS ", seq, m->uid);
		imap_sel_write_flags(s, &b, m);
		buf_printf(&b, " MODSEQ (%" PRIu64 "))\r\n", m->modseq);
		conn_write(s->c, buf_ptr(&b), buf_len(&b));
	}
	buf_deinit(&b);
	if (r->vi < r->nv || r->ci < r->nc)
		return false;
	s->on_drained = NULL;
	s->cmd_ctx = NULL;
	imap_tagged(s, r->tag, "OK", r->readonly ? "READ-ONLY" : "READ-WRITE",
	            r->readonly ? "EXAMINE completed" : "SELECT completed");
	return true;
}

static void qr_drained(struct imap_session *s)
{
	if (qr_run(s))
		imap_command_finish(s);
}

static enum imap_cmd_result send_qresync(struct imap_session *s, const struct qresync *q,
                                         const char *tag, bool readonly)
{
	struct imap_selected *sel = s->sel;
	struct store_changes ch = { 0 };
	struct qr_reply *r = arena_alloc(s->cmd_arena, sizeof(*r));
	r->tag = tag;
	r->readonly = readonly;
	s->cmd_ctx = r;
	if (q->uidvalidity == sel->uidvalidity &&
	    store_changes_since(sel->mb, q->modseq, s->cmd_arena, &ch) == STORE_OK) {
		r->v = arena_alloc(s->cmd_arena, (ch.n_vanished + 1) * sizeof(*r->v));
		for (size_t i = 0; i < ch.n_vanished; i++)
			if (q->known.count == 0 || imap_seqset_contains(&q->known, ch.vanished[i]))
				r->v[r->nv++] = ch.vanished[i];
		/* Copy the changes: the view may move under later store calls. */
		r->nc = ch.n_changed;
		r->c = arena_alloc(s->cmd_arena, (r->nc + 1) * sizeof(*r->c));
		if (r->nc > 0)
			memcpy(r->c, ch.changed, r->nc * sizeof(*r->c));
	}
	if (qr_run(s))
		return IMAP_CMD_DONE;
	s->on_drained = qr_drained;
	return IMAP_CMD_ASYNC;
}

static enum imap_cmd_result do_select(struct imap_session *s, const struct imap_command *cmd,
                                      bool readonly)
{
	const char *err;
	struct qresync q = { 0 };
	bool condstore = false;
	if (cmd->nargs < 1) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: SELECT mailbox");
		return IMAP_CMD_DONE;
	}
	if (!parse_params(s, cmd, &q, &condstore))
		return IMAP_CMD_DONE;
	const char *name = imap_mbox_arg(s, &cmd->args[0], &err);
	if (name == NULL) {
		imap_sel_close(s);
		imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
		return IMAP_CMD_DONE;
	}
	if (condstore || q.on)
		s->enabled |= IMAP_ENABLED_CONDSTORE;
	struct store_status st;
	int rc = imap_sel_open(s, name, readonly, &st);
	if (rc != STORE_OK) {
		imap_store_fail(s, cmd->tag, rc, "select");
		return IMAP_CMD_DONE;
	}
	struct imap_selected *sel = s->sel;
	bool rev2 = (s->enabled & IMAP_ENABLED_REV2) != 0;
	imap_sel_send_flags(s);
	conn_printf(s->c, "* %zu EXISTS\r\n", sel->n);
	if (!rev2) {
		uint32_t recent = readonly ? st.recent : store_mailbox_claim_recent(sel->mb);
		conn_printf(s->c, "* %" PRIu32 " RECENT\r\n", recent);
		if (st.first_unseen > 0)
			conn_printf(s->c, "* OK [UNSEEN %" PRIu32 "] First unseen\r\n", st.first_unseen);
	}
	conn_printf(s->c, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid\r\n", st.uidvalidity);
	conn_printf(s->c, "* OK [UIDNEXT %" PRIu32 "] Predicted next UID\r\n", st.uidnext);
	conn_printf(s->c, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest\r\n", st.highestmodseq);
	if (rev2) {
		struct buf b;
		buf_init(&b, 8192);
		buf_append_str(&b, "* LIST () \"/\" ");
		imap_mbox_write(s, &b, name);
		buf_append_str(&b, "\r\n");
		conn_write(s->c, buf_ptr(&b), buf_len(&b));
		buf_deinit(&b);
	}
	if (q.on)
		return send_qresync(s, &q, cmd->tag, readonly);
	imap_tagged(s, cmd->tag, "OK", readonly ? "READ-ONLY" : "READ-WRITE",
	            readonly ? "EXAMINE completed" : "SELECT completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_select(struct imap_session *s, const struct imap_command *cmd)
{
	return do_select(s, cmd, false);
}

enum imap_cmd_result imap_cmd_examine(struct imap_session *s, const struct imap_command *cmd)
{
	return do_select(s, cmd, true);
}

/* CLOSE: expunge \Deleted messages silently (unless read-only), deselect. */
enum imap_cmd_result imap_cmd_close(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "CLOSE takes no arguments");
		return IMAP_CMD_DONE;
	}
	int rc = STORE_OK;
	if (!s->sel->readonly) {
		uint32_t *uids;
		size_t n;
		rc = store_expunge(s->sel->mb, STORE_EXPUNGE_DELETED, NULL, s->cmd_arena, &uids, &n);
	}
	imap_sel_close(s);
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "close-expunge");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "CLOSE completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_unselect(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "UNSELECT takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_sel_close(s);
	imap_tagged(s, cmd->tag, "OK", NULL, "UNSELECT completed");
	return IMAP_CMD_DONE;
}
