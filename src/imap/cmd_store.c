/*
 * STORE / UID STORE (RFC 9051 6.4.6, UNCHANGEDSINCE and [MODIFIED] of
 * RFC 7162 3.1.3), and the flag-list parser APPEND shares.
 *
 *   STORE set [(UNCHANGEDSINCE modseq)] [+|-]FLAGS[.SILENT] flag-list
 *
 * Answers: "* n FETCH ([UID u] FLAGS (...) [MODSEQ (m)])" for each message
 * of the set (not with .SILENT; with .SILENT and CONDSTORE only
 * "(UID u MODSEQ (m))" for the changed ones, as in RFC 7162's example).
 */
#include "imap/imap_fmt.h"
#include "imap/imap_internal.h"
#include "imap/imap_seqset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int imap_parse_flags(struct imap_session *s, const struct imap_arg *args, size_t n,
                     uint32_t *flags_r, const char *const **kw_r, size_t *nkw_r, const char **err)
{
	static const struct { const char *name; uint32_t bit; } sys[] = {
		{ "\\Seen", STORE_SEEN }, { "\\Answered", STORE_ANSWERED }, { "\\Flagged", STORE_FLAGGED },
		{ "\\Deleted", STORE_DELETED }, { "\\Draft", STORE_DRAFT },
	};
	const char **kw = arena_alloc(s->cmd_arena, (n + 1) * sizeof(*kw));
	size_t nkw = 0;
	*flags_r = 0;
	for (size_t i = 0; i < n; i++) {
		const char *a = args[i].str;
		/* NIL is an atom like any other here: the keyword "NIL". */
		if (args[i].type == IMAP_ARG_NIL ? a == NULL : !imap_arg_get_atom(&args[i], &a)) {
			*err = "Flags are atoms";
			return -1;
		}
		if (a[0] != '\\') {
			if (strlen(a) > STORE_KEYWORD_LEN) {
				*err = "Keyword too long";
				return -1;
			}
			kw[nkw++] = a;
			continue;
		}
		uint32_t bit = 0;
		for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++)
			if (strcasecmp(a, sys[k].name) == 0)
				bit = sys[k].bit;
		if (bit == 0 && strcasecmp(a, "\\Recent") != 0) {
			*err = "Unknown system flag";
			return -1;
		}
		*flags_r |= bit;   /* \Recent cannot be set: ignored */
	}
	*kw_r = kw;
	*nkw_r = nkw;
	return 0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* a is sorted (see below). */
static bool in_list(const uint32_t *a, size_t n, uint32_t uid)
{
	return n > 0 && bsearch(&uid, a, n, sizeof(*a), cmp_u32) != NULL;
}

/* The FETCH replies of one STORE, written as the output buffer allows
 * (STORE 1:* on a big mailbox is megabytes of them). */
struct store_reply {
	struct store_uidset set;
	struct store_flags_result res;
	bool silent, uid;
	size_t range_i;              /* next range of the set */
	size_t k;                    /* next map index */
	const char *tag;
};

/* True when the command is over (tagged reply written). Only the map
 * entries inside the set are visited: STORE of one message costs the
 * same in a mailbox of ten or of a million. */
static bool reply_run(struct imap_session *s)
{
	struct store_reply *r = s->cmd_ctx;
	struct imap_selected *sel = s->sel;
	struct imap_fmt_kw kw;
	imap_fmt_kw_load(s, &kw);
	for (; r->range_i < r->set.n; r->range_i++) {
		const struct store_range *rg = &r->set.r[r->range_i];
		if (r->k < sel->n && sel->uids[r->k] < rg->lo)
			r->k = imap_sel_lower(sel, rg->lo);
		for (; r->k < sel->n && sel->uids[r->k] <= rg->hi; r->k++) {
			if (conn_output_full(s->c))
				return false;
			uint32_t uid = sel->uids[r->k];
			if (in_list(r->res.modified, r->res.n_modified, uid))
				continue;
			const struct store_msg *m = store_mailbox_find(sel->mb, uid);
			if (m == NULL)
				continue;
			bool changed = in_list(r->res.changed, r->res.n_changed, uid);
			if (!r->silent)
				imap_untagged_fetch(s, &kw, (uint32_t)r->k + 1, m, s->cmd_uid, true, sel->condstore);
			else if (changed && sel->condstore)
				imap_untagged_fetch(s, &kw, (uint32_t)r->k + 1, m, s->cmd_uid, false, true);
		}
	}
	s->on_drained = NULL;
	s->cmd_ctx = NULL;
	if (r->res.n_modified > 0) {
		uint32_t *mod = arena_alloc(s->cmd_arena, r->res.n_modified * sizeof(*mod));
		for (size_t k = 0; k < r->res.n_modified; k++)
			mod[k] = r->uid ? r->res.modified[k] : imap_sel_seq(s, r->res.modified[k]);
		struct buf cb;
		buf_init(&cb, 16 * r->res.n_modified + 32);
		buf_append_str(&cb, "MODIFIED ");
		imap_seqset_write_list(&cb, mod, r->res.n_modified);
		imap_tagged(s, r->tag, "OK", buf_ptr(&cb), "Conditional STORE failed for some messages");
		buf_deinit(&cb);
	} else {
		imap_tagged(s, r->tag, "OK", NULL, "STORE completed");
	}
	return true;
}

static void reply_drained(struct imap_session *s)
{
	if (reply_run(s))
		imap_command_finish(s);
}

enum imap_cmd_result imap_cmd_store(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_selected *sel = s->sel;
	const struct imap_arg *a = cmd->args;
	const char *set_atom, *item, *err = "Usage: STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] (flags)";
	struct store_flags_req req = { 0 };
	size_t i = 1;
	if (cmd->nargs < 3 || !imap_arg_get_atom(&a[0], &set_atom))
		goto bad;
	if (a[1].type == IMAP_ARG_LIST) {
		const struct imap_arg *l;
		size_t n;
		imap_arg_get_list(&a[1], &l, &n);
		if (n != 2 || !imap_arg_atom_equals(&l[0], "UNCHANGEDSINCE") ||
		    !imap_arg_get_number(&l[1], &req.unchangedsince))
			goto bad;
		i = 2;
		imap_sel_enable_condstore(s);
	}
	if (i + 1 >= cmd->nargs || !imap_arg_get_atom(&a[i], &item))
		goto bad;
	const char *p = item;
	req.op = *p == '+' ? STORE_FLAGS_ADD : *p == '-' ? STORE_FLAGS_REMOVE : STORE_FLAGS_REPLACE;
	if (*p == '+' || *p == '-')
		p++;
	bool silent = strcasecmp(p, "FLAGS.SILENT") == 0;
	if (!silent && strcasecmp(p, "FLAGS") != 0)
		goto bad;
	const struct imap_arg *fl = &a[i + 1];
	size_t nfl = cmd->nargs - i - 1;
	if (nfl == 1 && fl->type == IMAP_ARG_LIST)
		imap_arg_get_list(fl, &fl, &nfl);
	if (imap_parse_flags(s, fl, nfl, &req.flags, &req.keywords, &req.n_keywords, &err) < 0)
		goto bad;
	struct store_uidset set;
	if (imap_sel_resolve_set(s, set_atom, cmd->uid, s->cmd_arena, &set, &err) < 0)
		goto bad;
	if (sel->readonly) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", "Mailbox is read-only (EXAMINE)");
		return IMAP_CMD_DONE;
	}
	struct store_flags_result res;
	int rc = set.n == 0 ? STORE_OK : store_flags(sel->mb, &set, &req, s->cmd_arena, &res);
	if (set.n == 0)
		memset(&res, 0, sizeof(res));
	if (rc != STORE_OK) {
		imap_store_fail(s, cmd->tag, rc, "store");
		return IMAP_CMD_DONE;
	}
	imap_sel_announce_keywords(s);
	if (res.n_changed > 1)
		qsort(res.changed, res.n_changed, sizeof(uint32_t), cmp_u32);
	if (res.n_modified > 1)
		qsort(res.modified, res.n_modified, sizeof(uint32_t), cmp_u32);
	struct store_reply *r = arena_alloc(s->cmd_arena, sizeof(*r));
	r->set = set;
	r->res = res;
	r->silent = silent;
	r->uid = cmd->uid;
	r->tag = cmd->tag;
	s->cmd_ctx = r;
	if (reply_run(s))
		return IMAP_CMD_DONE;
	/* The client reads slower than we write: go on when it drained. */
	s->on_drained = reply_drained;
	return IMAP_CMD_ASYNC;
bad:
	imap_tagged(s, cmd->tag, "BAD", NULL, err);
	return IMAP_CMD_DONE;
}
