/*
 * Untagged updates for the selected mailbox (RFC 9051 7.5.1, RFC 7162
 * 3.2.10): what the store watcher recorded (imap_mailbox.c) goes out as
 * EXPUNGE or VANISHED, EXISTS (+ RECENT for IMAP4rev1), FLAGS and
 * FETCH (FLAGS [MODSEQ]), keeping the sequence number map in step with
 * what the client was told.
 */
#include "imap/imap_fmt.h"
#include "imap/imap_internal.h"
#include "imap/imap_seqset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static size_t sort_unique(uint32_t *a, size_t n)
{
	if (n < 2)
		return n;
	qsort(a, n, sizeof(*a), cmp_u32);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (a[i] != a[w - 1])
			a[w++] = a[i];
	return w;
}

static bool has_uid(const uint32_t *a, size_t n, uint32_t uid)
{
	return bsearch(&uid, a, n, sizeof(*a), cmp_u32) != NULL;
}

void imap_sel_send_flags(struct imap_session *s)
{
	struct imap_selected *sel = s->sel;
	struct buf b;
	buf_init(&b, 32 * 1024);
	size_t nkw;
	const char *const *kw = store_mailbox_keywords(sel->mb, &nkw);
	size_t used = 0;
	buf_append_str(&b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (size_t i = 0; i < nkw; i++) {
		if (kw[i] != NULL) {
			buf_printf(&b, " %s", kw[i]);
			used++;
		}
	}
	buf_append_str(&b, ")\r\n");
	if (sel->readonly) {
		buf_append_str(&b, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	} else {
		buf_append_str(&b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
		for (size_t i = 0; i < nkw; i++)
			if (kw[i] != NULL)
				buf_printf(&b, " %s", kw[i]);
		/* New keywords only while the mailbox's table has room. */
		buf_append_str(&b, used < STORE_KEYWORDS_MAX ? " \\*)] Flags permitted\r\n"
		                                              : ")] Flags permitted\r\n");
	}
	conn_write(s->c, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
}

void imap_sel_announce_keywords(struct imap_session *s)
{
	if (s->sel != NULL && s->sel->pend_keywords) {
		s->sel->pend_keywords = false;
		imap_sel_send_flags(s);
	}
}

static void repend(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*a = xrealloc(*a, *cap * sizeof(**a));
	}
	(*a)[(*n)++] = v;
}

/* Remove the pending expunges from the map and tell the client. Output is
 * bounded: once the connection's buffer is full, what is left stays in
 * the map and pending, for the next flush (the drained hook in IDLE, or
 * the next command). */
static void send_expunges(struct imap_session *s, uint32_t *exp, size_t n_exp)
{
	struct imap_selected *sel = s->sel;
	bool vanished = (s->enabled & IMAP_ENABLED_QRESYNC) != 0;
	uint32_t *gone = vanished ? xmalloc(n_exp * sizeof(*gone)) : NULL;
	size_t n_gone = 0, w = 0;
	bool full = false;
	for (size_t i = 0; i < sel->n; i++) {
		uint32_t uid = sel->uids[i];
		if (!has_uid(exp, n_exp, uid)) {
			sel->uids[w++] = uid;
			continue;
		}
		if (full || (!vanished && conn_output_full(s->c)) || (vanished && n_gone >= 20000)) {
			full = sel->flush_incomplete = true;
			sel->uids[w++] = uid;
			repend(&sel->pend_exp, &sel->n_pend_exp, &sel->cap_pend_exp, uid);
			continue;
		}
		if (vanished)
			gone[n_gone++] = uid;
		else
			conn_printf(s->c, "* %zu EXPUNGE\r\n", w + 1);
	}
	sel->n = w;
	if (vanished && n_gone > 0) {
		struct buf b;
		buf_init(&b, 16 * n_gone + 64);
		buf_append_str(&b, "* VANISHED ");
		imap_seqset_write_list(&b, gone, n_gone);
		buf_append_str(&b, "\r\n");
		conn_write(s->c, buf_ptr(&b), buf_len(&b));
		buf_deinit(&b);
	}
	free(gone);
}

/* New messages enter the map; EXISTS (and RECENT) when the count grew.
 * Runs before every tagged reply: it reads the view as it is, without a
 * poll of its own for other connections' commits (the command's own
 * store calls, NOOP and IDLE's timer poll; this thread's changes are
 * already in the view). */
static void send_new(struct imap_session *s, bool force)
{
	struct imap_selected *sel = s->sel;
	size_t n;
	const struct store_msg *m = store_mailbox_msgs_nopoll(sel->mb, &n);
	uint32_t last = sel->n > 0 ? sel->uids[sel->n - 1] : 0;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m[mid].uid <= last)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t add = n - lo;
	if (add == 0 && !force)
		return;
	if (sel->n + add > sel->cap) {
		sel->cap = (sel->n + add) * 2;
		sel->uids = xrealloc(sel->uids, sel->cap * sizeof(*sel->uids));
	}
	for (size_t i = lo; i < n; i++)
		sel->uids[sel->n++] = m[i].uid;
	if (add == 0)
		return;
	conn_printf(s->c, "* %zu EXISTS\r\n", sel->n);
	if (!(s->enabled & IMAP_ENABLED_REV2)) {
		uint32_t recent = store_mailbox_claim_recent(sel->mb);
		conn_printf(s->c, "* %" PRIu32 " RECENT\r\n", recent);
	}
}

bool imap_untagged_fetch(struct imap_session *s, const struct imap_fmt_kw *kw, uint32_t seq,
                         const struct store_msg *m, bool uid, bool flags, bool modseq)
{
	size_t room = IMAP_FMT_FETCH_HEAD_ROOM + 32 + IMAP_FMT_U64_MAX +
	              (flags ? imap_fmt_flags_room(kw, m->keywords) : 0);
	char *p0 = conn_reserve(s->c, room), *p = p0;
	if (p == NULL)
		return false;
	const char *sep;
	p = imap_fmt_fetch_head(p, s, kw, seq, m->uid, uid, flags, m->flags, m->keywords, &sep);
	if (modseq) {
		p = imap_fmt_mem(p, sep, strlen(sep));
		p = imap_fmt_mem(p, "MODSEQ (", 8);
		p = imap_fmt_u64(p, m->modseq);
		*p++ = ')';
	}
	p = imap_fmt_mem(p, ")\r\n", 3);
	conn_commit(s->c, (size_t)(p - p0));
	return true;
}

static void send_flag_changes(struct imap_session *s, uint32_t *uids, size_t n)
{
	struct imap_selected *sel = s->sel;
	bool with_uid = s->cmd_uid || (s->enabled & IMAP_ENABLED_QRESYNC);
	struct imap_fmt_kw kw;
	if (n > 0)
		imap_fmt_kw_load(s, &kw);
	for (size_t i = 0; i < n; i++) {
		if (conn_output_full(s->c)) {
			/* The rest waits for the buffer to drain. */
			sel->flush_incomplete = true;
			repend(&sel->pend_flags, &sel->n_pend_flags, &sel->cap_pend_flags, uids[i]);
			continue;
		}
		uint32_t seq = imap_sel_seq(s, uids[i]);
		const struct store_msg *m = seq ? store_mailbox_find(sel->mb, uids[i]) : NULL;
		if (m == NULL)
			continue;
		if (!imap_untagged_fetch(s, &kw, seq, m, with_uid, true, sel->condstore))
			return;
	}
}

void imap_sel_flush_updates(struct imap_session *s, bool allow_expunge)
{
	struct imap_selected *sel = s->sel;
	if (sel == NULL || s->c->closed || s->c->closing)
		return;
	if (sel->gone) {
		imap_bye(s, NULL, "Selected mailbox was deleted, have to disconnect", "mailbox-deleted");
		return;
	}
	sel->flush_incomplete = false;
	/* Take the pending lists: store calls below may record more. */
	uint32_t *exp = sel->pend_exp, *fl = sel->pend_flags;
	size_t n_exp = sort_unique(exp, sel->n_pend_exp), n_fl = sort_unique(fl, sel->n_pend_flags);
	size_t cap_exp = sel->cap_pend_exp;
	bool is_new = sel->pend_new, kw = sel->pend_keywords;
	sel->pend_exp = sel->pend_flags = NULL;
	sel->n_pend_exp = sel->n_pend_flags = sel->cap_pend_exp = sel->cap_pend_flags = 0;
	sel->pend_new = sel->pend_keywords = false;

	if (n_exp > 0 && allow_expunge) {
		send_expunges(s, exp, n_exp);
	} else if (n_exp > 0) {
		/* Keep them for later, with whatever arrived meanwhile. */
		for (size_t i = 0; i < sel->n_pend_exp; i++) {
			if (n_exp == cap_exp) {
				cap_exp *= 2;
				exp = xrealloc(exp, cap_exp * sizeof(*exp));
			}
			exp[n_exp++] = sel->pend_exp[i];
		}
		free(sel->pend_exp);
		sel->pend_exp = exp;
		sel->n_pend_exp = n_exp;
		sel->cap_pend_exp = cap_exp;
		exp = NULL;
	}
	free(exp);
	if (kw)
		imap_sel_send_flags(s);
	send_new(s, is_new);
	if (s->sel != NULL)
		send_flag_changes(s, fl, n_fl);
	free(fl);
}

struct sel_reply {
	const char *tag, *code, *text;
};

static bool reply_done(struct imap_session *s)
{
	struct sel_reply *r = s->cmd_ctx;
	imap_sel_flush_updates(s, s->expunge_ok);
	if (s->sel != NULL && s->sel->flush_incomplete && !s->c->closing && !s->c->closed)
		return false;
	s->on_drained = NULL;
	s->cmd_ctx = NULL;
	imap_tagged(s, r->tag, "OK", r->code, r->text);
	return true;
}

static void reply_drained(struct imap_session *s)
{
	if (reply_done(s))
		imap_command_finish(s);
}

enum imap_cmd_result imap_sel_reply(struct imap_session *s, const char *tag, const char *code,
                                    const char *text)
{
	struct sel_reply *r = arena_alloc(s->cmd_arena, sizeof(*r));
	r->tag = tag;
	r->code = code != NULL ? arena_strdup(s->cmd_arena, code) : NULL;
	r->text = text;
	s->cmd_ctx = r;
	if (reply_done(s))
		return IMAP_CMD_DONE;
	s->on_drained = reply_drained;
	return IMAP_CMD_ASYNC;
}
