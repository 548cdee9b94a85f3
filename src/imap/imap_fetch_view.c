/*
 * imap_fetch_view.c: FETCH answered from the store's in-memory view alone
 * (see imap_fetch.h). UID, FLAGS, RFC822.SIZE and MODSEQ are all in the
 * view, so "UID FETCH 1:* (FLAGS)", what a client syncing a big mailbox
 * sends, is a merge of two sorted arrays (the session's map and the
 * view) with every line formatted straight into the connection's output
 * buffer: no SQL, no per-message memory, no printf.
 *
 * A message of the map the view no longer has was expunged by another
 * session (a ghost, imap_internal.h): it gets no line, and the command
 * says EXPUNGEISSUED (cmd_fetch.c).
 */
#include "imap/imap_fetch.h"

#include "imap/imap_fmt.h"

#include <string.h>

#define VIEW_ITEMS (IMAP_FETCH_UID | IMAP_FETCH_FLAGS | IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_MODSEQ)
/* Output is reserved this much at a time and filled with whole lines. */
#define WINDOW (32 * 1024)

bool fetch_view_applies(const struct fetch_ctx *f)
{
	return (f->args.items & ~VIEW_ITEMS) == 0 && f->args.nsects == 0 && !f->args.sets_seen;
}

/* The first view entry at or after `from` with a UID >= uid: usually
 * `from` itself or the next one, as map and view mostly agree. */
static size_t view_seek(const struct store_msg *m, size_t n, size_t from, uint32_t uid)
{
	if (from < n && m[from].uid >= uid)
		return from;
	if (from + 1 < n && m[from + 1].uid >= uid)
		return from + 1;
	size_t lo = from + 1 < n ? from + 1 : n, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct line_fmt {
	bool uid, flags, size, modseq, rev1;
	struct imap_fmt_kw kw;
};

/* Most bytes one message's line can take. */
static size_t line_room(const struct line_fmt *lf, const struct store_msg *m)
{
	return 2 + 10 + 8 + 15 + 6 + (lf->flags ? imap_fmt_flags_room(&lf->kw, m->keywords) : 0) +
	       13 + IMAP_FMT_U64_MAX + 9 + IMAP_FMT_U64_MAX + 4;
}

static char *line(struct fetch_ctx *f, const struct line_fmt *lf, char *p, uint32_t seq,
                  const struct store_msg *m)
{
	bool sp = false;
	p = imap_fmt_mem(p, "* ", 2);
	p = imap_fmt_u32(p, seq);
	p = imap_fmt_mem(p, " FETCH (", 8);
	if (lf->uid) {
		p = imap_fmt_mem(p, "UID ", 4);
		p = imap_fmt_u32(p, m->uid);
		sp = true;
	}
	if (lf->flags) {
		if (sp)
			*p++ = ' ';
		p = imap_fmt_mem(p, "FLAGS ", 6);
		p = imap_fmt_flags(p, &lf->kw, m->flags, m->keywords,
		                   lf->rev1 && imap_fmt_recent(f->s, m->uid));
		sp = true;
	}
	if (lf->size) {
		if (sp)
			*p++ = ' ';
		p = imap_fmt_mem(p, "RFC822.SIZE ", 12);
		p = imap_fmt_u64(p, m->size);
		sp = true;
	}
	if (lf->modseq) {
		if (sp)
			*p++ = ' ';
		p = imap_fmt_mem(p, "MODSEQ (", 8);
		p = imap_fmt_u64(p, m->modseq);
		*p++ = ')';
	}
	return imap_fmt_mem(p, ")\r\n", 3);
}

bool fetch_view_run(struct fetch_ctx *f)
{
	struct imap_session *s = f->s;
	const struct imap_selected *sel = s->sel;
	unsigned items = f->args.items;
	struct line_fmt lf = {
		.uid = (items & IMAP_FETCH_UID) || f->uid_cmd,
		.flags = (items & IMAP_FETCH_FLAGS) != 0,
		.size = (items & IMAP_FETCH_RFC822_SIZE) != 0,
		/* CONDSTORE asks for MODSEQ explicitly here: FETCH sets no flag. */
		.modseq = (items & IMAP_FETCH_MODSEQ) != 0,
		.rev1 = !(s->enabled & IMAP_ENABLED_REV2),
	};
	/* The view's pointers live until the next store call: taken anew on
	 * every resumption. */
	size_t vn;
	const struct store_msg *vm = store_mailbox_msgs(sel->mb, &vn);
	imap_fmt_kw_load(s, &lf.kw);
	size_t vi = 0;
	char *p = NULL, *start = NULL, *end = NULL;
	while (f->range_i < f->set.n) {
		const struct store_range *r = &f->set.r[f->range_i];
		if (f->map_i < sel->n && sel->uids[f->map_i] < r->lo)
			f->map_i = imap_sel_lower(sel, r->lo);
		for (; f->map_i < sel->n && sel->uids[f->map_i] <= r->hi; f->map_i++) {
			uint32_t uid = sel->uids[f->map_i];
			vi = view_seek(vm, vn, vi, uid);
			if (vi == vn || vm[vi].uid != uid) {
				f->expunged = true;   /* a ghost: nothing to say about it */
				continue;
			}
			const struct store_msg *m = &vm[vi];
			if (f->args.changedsince && m->modseq <= f->args.changedsince_modseq)
				continue;
			size_t need = line_room(&lf, m);
			if (p == NULL || (size_t)(end - p) < need) {
				if (p != NULL)
					conn_commit(s->c, (size_t)(p - start));
				p = NULL;
				if (conn_output_full(s->c))
					return false;
				size_t want = need > WINDOW ? need : WINDOW;
				if ((start = p = conn_reserve(s->c, want)) == NULL)
					return false;
				end = p + want;
			}
			p = line(f, &lf, p, (uint32_t)(f->map_i + 1), m);
		}
		f->range_i++;
	}
	if (p != NULL)
		conn_commit(s->c, (size_t)(p - start));
	return true;
}
