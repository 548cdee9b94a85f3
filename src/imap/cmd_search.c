/*
 * SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4), with ESEARCH
 * return options (RFC 4731; the IMAP4rev2 default), SEARCHRES "$" and
 * SAVE (RFC 5182) and CONDSTORE MODSEQ (RFC 7162 3.1.5).
 *
 * The criteria become one store_search query (imap_search_args.c); the
 * matches are cut to the messages this client knows (the session's map),
 * numbered, and answered as "* SEARCH ..." (IMAP4rev1 without RETURN) or
 * "* ESEARCH (TAG ...) ...". A result line for a big mailbox can be long:
 * it is written in chunks, suspending while the client does not read.
 */
#include "imap/imap_internal.h"

#include "imap/imap_fmt.h"
#include "imap/imap_resp.h"
#include "imap/imap_search_args.h"
#include "imap/imap_seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/runtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The answer, written out in chunks. */
struct search_out {
	struct imap_session *s;
	const char *tag, *done_text;
	char *text;
	size_t len, off, chunk;
};

static int resolve(void *ctx, const char *set, size_t len, bool uid, struct arena *a,
                   struct store_uidset *out, const char **error_r)
{
	return imap_sel_resolve_search_set(ctx, set, uid, a, out, error_r);
}

static bool write_out(struct search_out *o)
{
	while (o->off < o->len) {
		if (conn_output_full(o->s->c))
			return false;
		size_t n = o->len - o->off < o->chunk ? o->len - o->off : o->chunk;
		conn_write(o->s->c, o->text + o->off, n);
		o->off += n;
	}
	o->s->on_drained = NULL;
	o->s->cmd_ctx = NULL;
	imap_tagged(o->s, o->tag, "OK", NULL, o->done_text);
	return true;
}

static void on_drained(struct imap_session *s)
{
	struct search_out *o = s->cmd_ctx;
	imap_idle_timer(s);
	if (o != NULL && write_out(o))
		imap_command_finish(s);
}

static void forget(void *p)
{
	struct search_out *o = p;
	if (o->s->cmd_ctx == o) {
		o->s->cmd_ctx = NULL;
		o->s->on_drained = NULL;
	}
}

/* What SAVE keeps (RFC 5182 2.4): MIN and/or MAX alone save just those. */
static void save(struct imap_session *s, unsigned ret, const uint32_t *uids, size_t n)
{
	if (n == 0 || (ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) ||
	    !(ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX))) {
		imap_sel_save_result(s, uids, n);
		return;
	}
	uint32_t keep[2];
	size_t k = 0;
	if (ret & IMAP_SEARCH_RET_MIN)
		keep[k++] = uids[0];
	if ((ret & IMAP_SEARCH_RET_MAX) && (k == 0 || uids[n - 1] != keep[0]))
		keep[k++] = uids[n - 1];
	imap_sel_save_result(s, keep, k);
}

/* The MODSEQ of the answer (RFC 7162 3.1.5, RFC 4731 3.2): the highest
 * mod-sequence of the messages the answer returns. With only MIN and/or
 * MAX that is those one or two messages, not every match. */
static uint64_t result_modseq(struct imap_session *s, const struct imap_search_args *q,
                              const uint32_t *uids, size_t n)
{
	struct store_mailbox *mb = s->sel->mb;
	uint64_t modseq = 0;
	unsigned ret = q->esearch ? q->ret : IMAP_SEARCH_RET_ALL;
	bool ends = !(ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) &&
	            (ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX));
	for (size_t i = 0; i < n; i++) {
		if (ends && !((i == 0 && (ret & IMAP_SEARCH_RET_MIN)) ||
		              (i == n - 1 && (ret & IMAP_SEARCH_RET_MAX))))
			continue;
		const struct store_msg *m = store_mailbox_find(mb, uids[i]);
		if (m != NULL && m->modseq > modseq)
			modseq = m->modseq;
	}
	return modseq;
}

static int format(struct imap_session *s, const struct imap_search_args *q, bool uid,
                  const uint32_t *nums, size_t n, uint64_t modseq, struct buf *b)
{
	int rc = 0;
	bool esearch = q->esearch || (s->enabled & IMAP_ENABLED_REV2);
	if (!esearch) {
		rc |= buf_append_str(b, "* SEARCH");
		/* Numbers formatted in place, a few hundred at a time. */
		for (size_t i = 0; i < n && rc == 0;) {
			size_t k = n - i < 256 ? n - i : 256;
			char *p0 = buf_reserve(b, k * 11), *p = p0;
			if (p == NULL)
				return -1;
			for (size_t j = 0; j < k; j++) {
				*p++ = ' ';
				p = imap_fmt_u32(p, nums[i + j]);
			}
			buf_commit(b, (size_t)(p - p0));
			i += k;
		}
		if (q->modseq && n > 0)
			rc |= buf_printf(b, " (MODSEQ %" PRIu64 ")", modseq);
		return rc | buf_append_str(b, "\r\n");
	}
	unsigned ret = q->esearch ? q->ret : IMAP_SEARCH_RET_ALL;
	if (ret == IMAP_SEARCH_RET_SAVE)
		return 0;   /* SAVE alone: no ESEARCH response */
	rc |= buf_append_str(b, "* ESEARCH (TAG ");
	rc |= imap_resp_write_string(b, s->tag, strlen(s->tag), 0);
	rc |= buf_append_str(b, uid ? ") UID" : ")");
	if ((ret & IMAP_SEARCH_RET_MIN) && n > 0)
		rc |= buf_printf(b, " MIN %u", nums[0]);
	if ((ret & IMAP_SEARCH_RET_MAX) && n > 0)
		rc |= buf_printf(b, " MAX %u", nums[n - 1]);
	if (ret & IMAP_SEARCH_RET_COUNT)
		rc |= buf_printf(b, " COUNT %zu", n);
	if ((ret & IMAP_SEARCH_RET_ALL) && n > 0) {
		rc |= buf_append_str(b, " ALL ");
		rc |= imap_seqset_write_list(b, nums, n);
	}
	if (q->modseq && n > 0)
		rc |= buf_printf(b, " MODSEQ %" PRIu64, modseq);
	return rc | buf_append_str(b, "\r\n");
}

enum imap_cmd_result imap_cmd_search(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_search_env env = { .resolve_set = resolve, .ctx = s };
	struct imap_search_args q;
	const char *err = NULL;
	int rc = imap_search_args_parse(s->cmd_arena, cmd->args, cmd->nargs, &env, &q, &err);
	if (rc == IMAP_SEARCH_E_BADCHARSET) {
		imap_tagged(s, cmd->tag, "NO", "BADCHARSET (UTF-8 US-ASCII)", err);
		return IMAP_CMD_DONE;
	}
	if (rc != IMAP_SEARCH_OK) {
		imap_tagged(s, cmd->tag, "BAD", NULL, err);
		return IMAP_CMD_DONE;
	}
	if (q.modseq)
		imap_sel_enable_condstore(s);   /* CONDSTORE enabling */
	struct store_mailbox *mb = s->sel->mb;
	uint32_t *uids;
	size_t n;
	rc = store_search(mb, q.query, s->cmd_arena, &uids, &n);
	if (rc != STORE_OK) {
		if (q.ret & IMAP_SEARCH_RET_SAVE)
			imap_sel_save_result(s, NULL, 0);
		if (rc == STORE_E_LIMIT) {
			imap_tagged(s, cmd->tag, "NO", "LIMIT", "Search too complex");
		} else {
			conn_log(s->c, LOGL_ERROR, "search: %s", store_error(s->store));
			imap_tagged(s, cmd->tag, "NO", "SERVERBUG", "Internal error");
		}
		return IMAP_CMD_DONE;
	}
	/* Only messages the client knows; numbered for SEARCH. */
	uint32_t *nums = arena_alloc(s->cmd_arena, (n + 1) * sizeof(*nums));
	size_t k = 0;
	uint64_t modseq = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = imap_sel_seq(s, uids[i]);
		if (seq == 0)
			continue;
		uids[k] = uids[i];
		nums[k++] = cmd->uid ? uids[i] : seq;
	}
	if (q.modseq)
		modseq = result_modseq(s, &q, uids, k);
	if (q.ret & IMAP_SEARCH_RET_SAVE)
		save(s, q.ret, uids, k);
	struct buf b;
	buf_init(&b, SIZE_MAX / 2);
	format(s, &q, cmd->uid, nums, k, modseq, &b);
	struct search_out *o = arena_alloc(s->cmd_arena, sizeof(*o));
	o->s = s;
	o->tag = cmd->tag;
	o->done_text = cmd->uid ? "UID SEARCH completed" : "SEARCH completed";
	o->len = buf_len(&b);
	o->text = arena_memdup(s->cmd_arena, buf_ptr(&b), o->len);
	buf_deinit(&b);
	o->chunk = (size_t)runtime_config->output_buffer_limit / 4;
	if (o->chunk < 1024)
		o->chunk = 1024;
	if (write_out(o))
		return IMAP_CMD_DONE;
	s->cmd_ctx = o;
	s->on_drained = on_drained;
	arena_on_free(s->cmd_arena, forget, o);
	return IMAP_CMD_ASYNC;
}
