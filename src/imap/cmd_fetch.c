/*
 * FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9; BINARY RFC 3516; CONDSTORE
 * CHANGEDSINCE and QRESYNC VANISHED RFC 7162).
 *
 * The messages are walked in sequence order over the session's map, in
 * batches: one store_fetch per batch gives the cached data, one
 * store_flags sets the implicit \Seen of the batch (non-PEEK body items;
 * not on EXAMINE), and each message's answer is then streamed (see
 * imap_fetch.h). A batch holds at most BATCH messages, so FETCH 1:* of a
 * big mailbox costs bounded memory; the command suspends whenever the
 * client is not reading and goes on from the `drained` hook.
 */
#include "imap/imap_fetch.h"

#include "imap/imap_seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/runtime.h"

#include <stdio.h>
#include <string.h>

#define BATCH 256

static void fetch_cleanup(void *p)
{
	struct fetch_ctx *f = p;
	fetch_message_done(f);
	arena_free(&f->batch);
	arena_free(&f->msg);
	buf_deinit(&f->text);
	if (f->s->cmd_ctx == f) {
		f->s->cmd_ctx = NULL;
		f->s->on_drained = NULL;
	}
}

/* How many UIDs the set names, counting no further than cap. */
static uint64_t set_size_at_most(const struct store_uidset *set, uint64_t cap)
{
	uint64_t n = 0;
	for (size_t i = 0; i < set->n && n < cap; i++)
		n += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return n;
}

/* Up to BATCH (seq, uid) pairs of the requested set, in sequence order. */
static size_t walk(struct fetch_ctx *f, uint32_t *uids, uint32_t *seqs)
{
	const struct imap_selected *sel = f->s->sel;
	size_t n = 0;
	while (n < BATCH && f->range_i < f->set.n) {
		const struct store_range *r = &f->set.r[f->range_i];
		if (f->map_i < sel->n && sel->uids[f->map_i] < r->lo)
			f->map_i = imap_sel_lower(sel, r->lo);
		while (n < BATCH && f->map_i < sel->n && sel->uids[f->map_i] <= r->hi) {
			uids[n] = sel->uids[f->map_i];
			seqs[n++] = (uint32_t)(f->map_i + 1);
			f->map_i++;
		}
		if (f->map_i >= sel->n || sel->uids[f->map_i] > r->hi)
			f->range_i++;
	}
	return n;
}

static struct store_uidset to_set(struct arena *a, const uint32_t *uids, size_t n)
{
	struct store_range *r = arena_alloc(a, (n + 1) * sizeof(*r));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && r[k - 1].hi + 1 == uids[i])
			r[k - 1].hi = uids[i];
		else
			r[k].lo = r[k].hi = uids[i], k++;
	}
	return (struct store_uidset){ .n = k, .r = r };
}

/* Set \Seen on the batch's unseen messages; their answers show FLAGS. */
static void implicit_seen(struct fetch_ctx *f)
{
	uint32_t *uids = arena_alloc(f->batch, (f->n_infos + 1) * sizeof(*uids));
	size_t n = 0;
	for (size_t i = 0; i < f->n_infos; i++)
		if (!(f->infos[i].flags & STORE_SEEN))
			uids[n++] = f->infos[i].uid;
	if (n == 0)
		return;
	struct store_uidset set = to_set(f->batch, uids, n);
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_SEEN };
	struct store_flags_result res;
	if (store_flags(f->s->sel->mb, &set, &req, f->batch, &res) != STORE_OK) {
		conn_log(f->s->c, LOGL_ERROR, "fetch: setting \\Seen failed: %s",
		         store_error(f->s->store));
		return;
	}
	for (size_t i = 0, k = 0; i < f->n_infos && k < res.n_changed; i++) {
		if (f->infos[i].uid != res.changed[k])
			continue;
		f->infos[i].flags |= STORE_SEEN;
		f->infos[i].modseq = res.modseq;
		f->flags_changed[i] = true;
		k++;
	}
}

/* The next batch; false when there is none (or on error: f->failed). */
static bool load_batch(struct fetch_ctx *f)
{
	arena_reset(f->batch);
	uint32_t *uids = arena_alloc(f->batch, BATCH * sizeof(*uids));
	uint32_t *seqs = arena_alloc(f->batch, BATCH * sizeof(*seqs));
	size_t n = walk(f, uids, seqs);
	f->n_infos = f->info_i = 0;
	if (n == 0)
		return false;
	f->infos = arena_alloc(f->batch, n * sizeof(*f->infos));
	f->seqs = arena_alloc(f->batch, n * sizeof(*f->seqs));
	f->flags_changed = arena_alloc(f->batch, n * sizeof(*f->flags_changed));
	struct store_uidset set = to_set(f->batch, uids, n);
	struct store_fetch *sf;
	if (store_fetch_begin(f->s->sel->mb, &set, f->want, &sf) != STORE_OK) {
		conn_log(f->s->c, LOGL_ERROR, "fetch: %s", store_error(f->s->store));
		f->failed = true;
		return false;
	}
	size_t k = 0, found = 0;
	int rc;
	struct store_msg_info *in = &f->infos[0];
	while (found < n && (rc = store_fetch_next(sf, f->batch, in)) == 1) {
		found++;
		while (k < n && uids[k] < in->uid)
			k++;
		if (k == n || uids[k] != in->uid)
			continue;
		if (f->args.changedsince && in->modseq <= f->args.changedsince_modseq)
			continue;
		f->seqs[f->n_infos] = seqs[k];
		in = &f->infos[++f->n_infos];
		if (f->n_infos == n)
			break;
	}
	store_fetch_end(&sf);
	if (found < n)
		f->expunged = true;
	if (f->args.sets_seen && !f->s->sel->readonly)
		implicit_seen(f);
	return true;
}

static void reply(struct fetch_ctx *f)
{
	struct imap_session *s = f->s;
	s->on_drained = NULL;
	s->cmd_ctx = NULL;
	if (s->c->closed)
		return;
	if (f->unknown_cte)
		imap_tagged(s, f->tag, "NO", "UNKNOWN-CTE",
		            "Cannot decode the part's Content-Transfer-Encoding");
	else if (f->failed)
		imap_tagged(s, f->tag, "NO", "SERVERBUG", "Internal error");
	/* Messages another session expunged get no answer, and the command
	 * still succeeds: OK [EXPUNGEISSUED] tells the client to NOOP soon
	 * (RFC 9051 7.1). A NO here makes clients retry the same FETCH or
	 * show an error for what is only a race (Dovecot answers the same
	 * way). UID FETCH skips them quietly: the EXPUNGE may follow it. */
	else if (f->expunged && !f->uid_cmd)
		imap_tagged(s, f->tag, "OK", "EXPUNGEISSUED",
		            "Some of the requested messages were expunged meanwhile");
	else
		imap_tagged(s, f->tag, "OK", NULL, f->uid_cmd ? "UID FETCH completed" : "FETCH completed");
}

/* Go on until done (true) or the client must read first (false). */
static bool run(struct fetch_ctx *f)
{
	if (f->from_view) {
		if (!fetch_view_run(f))
			return false;
		reply(f);
		return true;
	}
	for (;;) {
		if (f->in_message) {
			if (!fetch_write_pieces(f))
				return false;
			fetch_message_done(f);
			f->info_i++;
		}
		if (f->s->c->closed)
			return false;
		if (f->info_i >= f->n_infos && !load_batch(f))
			break;
		if (f->info_i >= f->n_infos)
			continue;
		int rc = fetch_build_message(f);
		if (rc == 1) {
			fetch_message_done(f);
			f->expunged = true;
			f->info_i++;
		} else if (rc == -2 || rc == -1) {
			fetch_message_done(f);
			f->unknown_cte = rc == -2;
			f->failed = rc == -1;
			break;
		}
	}
	reply(f);
	return true;
}

static void on_drained(struct imap_session *s)
{
	struct fetch_ctx *f = s->cmd_ctx;
	imap_idle_timer(s);
	if (f != NULL && run(f))
		imap_command_finish(s);
}

/* UID FETCH ... (CHANGEDSINCE n VANISHED): expunged UIDs of the set. */
static void send_vanished(struct fetch_ctx *f)
{
	struct store_changes ch;
	struct arena *a = f->s->cmd_arena;
	if (store_changes_since(f->s->sel->mb, f->args.changedsince_modseq, a, &ch) != STORE_OK) {
		f->failed = true;
		return;
	}
	uint32_t *v = arena_alloc(a, (ch.n_vanished + 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < ch.n_vanished; i++)
		if (store_uidset_has(&f->set, ch.vanished[i]))
			v[n++] = ch.vanished[i];
	if (n == 0)
		return;
	struct buf b;
	buf_init(&b, SIZE_MAX / 2);
	buf_append_str(&b, "* VANISHED (EARLIER) ");
	imap_seqset_write_list(&b, v, n);
	buf_append_str(&b, "\r\n");
	/* Long lists go out in pieces like any answer. */
	for (size_t off = 0; off < buf_len(&b); off += f->chunk) {
		size_t k = buf_len(&b) - off < f->chunk ? buf_len(&b) - off : f->chunk;
		conn_write(f->s->c, buf_ptr(&b) + off, k);
	}
	buf_deinit(&b);
}

enum imap_cmd_result imap_cmd_fetch(struct imap_session *s, const struct imap_command *cmd)
{
	const char *set_atom, *err = NULL;
	struct fetch_ctx *f = arena_alloc(s->cmd_arena, sizeof(*f));
	if (cmd->nargs < 2 || !imap_arg_get_atom(&cmd->args[0], &set_atom)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: FETCH sequence-set items");
		return IMAP_CMD_DONE;
	}
	if (imap_fetch_args_parse(s->cmd_arena, cmd->args + 1, cmd->nargs - 1, &f->args, &err) < 0 ||
	    imap_sel_resolve_set(s, set_atom, cmd->uid, s->cmd_arena, &f->set, &err) < 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, err);
		return IMAP_CMD_DONE;
	}
	if (f->args.vanished && (!cmd->uid || !(s->enabled & IMAP_ENABLED_QRESYNC))) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "VANISHED needs UID FETCH and ENABLE QRESYNC");
		return IMAP_CMD_DONE;
	}
	if (f->args.items & IMAP_FETCH_MODSEQ)
		imap_sel_enable_condstore(s);   /* CONDSTORE enabling (RFC 7162 3.1) */
	f->s = s;
	f->tag = cmd->tag;
	f->uid_cmd = cmd->uid;
	f->want = ((f->args.items & IMAP_FETCH_ENVELOPE) ? STORE_WANT_ENVELOPE : 0) |
	          ((f->args.items & (IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE)) ?
	           STORE_WANT_BODYSTRUCTURE : 0) |
	          ((f->args.items & IMAP_FETCH_PREVIEW) ? STORE_WANT_PREVIEW : 0);
	f->chunk = (size_t)runtime_config->output_buffer_limit / 4;
	if (f->chunk < 1024)
		f->chunk = 1024;
	if (f->chunk > 65536)
		f->chunk = 65536;
	/* UID/FLAGS/RFC822.SIZE/MODSEQ come from the view with no memory
	 * per message; everything else is read per batch. A few messages
	 * (the usual FETCH of a client showing a page) need small blocks. */
	f->from_view = fetch_view_applies(f);
	if (!f->from_view) {
		size_t block = set_size_at_most(&f->set, 33) <= 32 ? 8 * 1024 : 64 * 1024;
		f->batch = arena_new(block);
		f->msg = arena_new(block);
		buf_init(&f->text, FETCH_TEXT_MAX);
	}
	arena_on_free(s->cmd_arena, fetch_cleanup, f);
	s->cmd_ctx = f;
	s->on_drained = on_drained;
	if (f->args.items & IMAP_FETCH_FLAGS)
		imap_sel_announce_keywords(s);
	if (f->args.vanished)
		send_vanished(f);
	return run(f) ? IMAP_CMD_DONE : IMAP_CMD_ASYNC;
}
