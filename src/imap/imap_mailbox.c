/*
 * The selected mailbox: the session's sequence number map, its pending
 * untagged updates and the accessors commands use (see imap_internal.h,
 * "The selected mailbox", for how to use them). Flushing the updates is
 * in imap_notify.c.
 */
#include "imap/imap_fmt.h"
#include "imap/imap_internal.h"
#include "imap/imap_seqset.h"
#include "auth/auth_thread.h"
#include "lib/runtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_user *imap_store(struct imap_session *s)
{
	if (s->store != NULL)
		return s->store;
	const char *err = "unknown";
	struct store_quota q = { 0 };
	if (auth_account_quota(s->user_id, &q.max_bytes, &q.max_messages, &err) < 0) {
		conn_log(s->c, LOGL_ERROR, "quota lookup failed: %s", err);
		return NULL;
	}
	char id[32];
	snprintf(id, sizeof(id), "%lld", (long long)s->user_id);
	if (store_user_open(runtime_config->data_dir, id, &q, &s->store, &err) != STORE_OK) {
		conn_log(s->c, LOGL_ERROR, "store open failed: %s", err);
		s->store = NULL;
	}
	return s->store;
}

static void push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*a = xrealloc(*a, *cap * sizeof(**a));
	}
	(*a)[(*n)++] = v;
}

/* Runs inside whichever store call committed or polled: only record. */
static void sel_watch(const struct store_event *ev, void *ctx)
{
	struct imap_session *s = ctx;
	struct imap_selected *sel = s->sel;
	if (sel == NULL || ev->mb != sel->mb)
		return;
	if (ev->mailbox_gone)
		sel->gone = true;
	if (ev->keywords_changed)
		sel->pend_keywords = true;
	if (ev->n_added > 0)
		sel->pend_new = true;
	for (size_t i = 0; i < ev->n_expunged; i++)
		push_u32(&sel->pend_exp, &sel->n_pend_exp, &sel->cap_pend_exp, ev->expunged[i]);
	if (!ev->own)
		for (size_t i = 0; i < ev->n_changed; i++)
			push_u32(&sel->pend_flags, &sel->n_pend_flags, &sel->cap_pend_flags,
			         ev->changed[i].uid);
	if (s->idling && !s->c->closed)
		ev_defer(s->c->loop, &s->notify_defer);
}

void imap_sel_close(struct imap_session *s)
{
	struct imap_selected *sel = s->sel;
	if (sel == NULL)
		return;
	s->sel = NULL;
	if (sel->mb != NULL) {
		store_watch(sel->mb, NULL, NULL);
		store_mailbox_close(&sel->mb);
	}
	free(sel->name);
	free(sel->uids);
	free(sel->pend_exp);
	free(sel->pend_flags);
	free(sel->saved);
	free(sel);
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTH;
}

int imap_sel_open(struct imap_session *s, const char *name, bool readonly,
                  struct store_status *st)
{
	bool had = s->sel != NULL;
	imap_sel_close(s);
	if (had)
		imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	struct store_user *u = imap_store(s);
	if (u == NULL)
		return STORE_E_INTERNAL;
	unsigned flags = readonly ? STORE_OPEN_READONLY : 0;
	if (!readonly && !(s->enabled & IMAP_ENABLED_REV2))
		flags |= STORE_OPEN_RECENT;
	struct store_mailbox *mb;
	int rc = store_mailbox_open(u, name, flags, &mb);
	if (rc != STORE_OK)
		return rc;
	struct imap_selected *sel = xcalloc(1, sizeof(*sel));
	sel->mb = mb;
	sel->name = xstrdup(name);
	sel->readonly = readonly;
	sel->condstore = (s->enabled & (IMAP_ENABLED_CONDSTORE | IMAP_ENABLED_QRESYNC)) != 0;
	size_t n;
	const uint32_t *uids = store_mailbox_uids(mb, &n);
	sel->cap = n > 0 ? n : 16;
	sel->uids = xmalloc(sel->cap * sizeof(*sel->uids));
	if (n > 0)
		memcpy(sel->uids, uids, n * sizeof(*sel->uids));
	sel->n = n;
	store_mailbox_get_status(mb, st);
	sel->uidvalidity = st->uidvalidity;
	s->sel = sel;
	s->state = IMAP_STATE_SELECTED;
	store_watch(mb, sel_watch, s);
	return STORE_OK;
}

uint32_t imap_sel_uid(const struct imap_session *s, uint32_t seq)
{
	if (s->sel == NULL || seq == 0 || seq > s->sel->n)
		return 0;
	return s->sel->uids[seq - 1];
}

size_t imap_sel_lower(const struct imap_selected *sel, uint32_t uid)
{
	size_t lo = 0, hi = sel->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sel->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t imap_sel_seq(const struct imap_session *s, uint32_t uid)
{
	if (s->sel == NULL)
		return 0;
	size_t i = imap_sel_lower(s->sel, uid);
	return i < s->sel->n && s->sel->uids[i] == uid ? (uint32_t)(i + 1) : 0;
}

/* Append [lo, hi] to out, merging with the last range when adjacent. */
static void add_range(struct store_range *r, size_t *n, uint32_t lo, uint32_t hi)
{
	if (*n > 0 && r[*n - 1].hi != UINT32_MAX && r[*n - 1].hi + 1 >= lo) {
		if (hi > r[*n - 1].hi)
			r[*n - 1].hi = hi;
		return;
	}
	r[*n].lo = lo;
	r[*n].hi = hi;
	(*n)++;
}

static void saved_set(struct imap_session *s, struct arena *a, struct store_uidset *out)
{
	const struct imap_selected *sel = s->sel;
	struct store_range *r = arena_alloc(a, (sel->n_saved + 1) * sizeof(*r));
	size_t n = 0;
	for (size_t i = 0; i < sel->n_saved; i++)
		add_range(r, &n, sel->saved[i], sel->saved[i]);
	out->r = r;
	out->n = n;
}

static int resolve_set(struct imap_session *s, const char *set_atom, bool uid_mode,
                       bool clip, struct arena *a, struct store_uidset *out, const char **err)
{
	struct imap_selected *sel = s->sel;
	struct imap_seqset parsed, res;
	out->n = 0;
	out->r = NULL;
	if (sel == NULL) {
		*err = "No mailbox selected";
		return -1;
	}
	if (imap_seqset_parse(a, set_atom, strlen(set_atom), 100000, &parsed, err) < 0)
		return -1;
	if (parsed.saved) {
		saved_set(s, a, out);
		return 0;
	}
	uint32_t last_uid = sel->n > 0 ? sel->uids[sel->n - 1] : 0;
	imap_seqset_resolve(a, &parsed, uid_mode ? last_uid : (uint32_t)sel->n, &res);
	struct store_range *r = arena_alloc(a, (res.count + 1) * sizeof(*r));
	size_t n = 0;
	for (size_t i = 0; i < res.count; i++) {
		uint32_t lo = res.ranges[i].lo, hi = res.ranges[i].hi;
		if (uid_mode) {
			if (lo > last_uid)
				continue;
			add_range(r, &n, lo, hi < last_uid ? hi : last_uid);
			continue;
		}
		if (hi > sel->n) {
			if (clip && lo > sel->n)
				continue;
			if (clip)
				hi = (uint32_t)sel->n;
			else if (parsed.has_star && sel->n == 0)
				continue;   /* "1:*" in an empty mailbox: nothing */
			else {
				*err = "Invalid message sequence number";
				return -1;
			}
		}
		/* Between two map entries a UID is either in the map or was
		 * expunged, so the UID range is exact. */
		add_range(r, &n, sel->uids[lo - 1], sel->uids[hi - 1]);
	}
	out->r = r;
	out->n = n;
	return 0;
}

int imap_sel_resolve_set(struct imap_session *s, const char *set_atom, bool uid_mode,
                         struct arena *a, struct store_uidset *out, const char **err)
{
	return resolve_set(s, set_atom, uid_mode, false, a, out, err);
}

int imap_sel_resolve_search_set(struct imap_session *s, const char *set_atom, bool uid_mode,
                                struct arena *a, struct store_uidset *out, const char **err)
{
	return resolve_set(s, set_atom, uid_mode, true, a, out, err);
}

void imap_sel_enable_condstore(struct imap_session *s)
{
	s->enabled |= IMAP_ENABLED_CONDSTORE;
	if (s->sel == NULL || s->sel->condstore)
		return;
	s->sel->condstore = true;
	struct store_status st;
	store_mailbox_get_status(s->sel->mb, &st);
	conn_printf(s->c, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest\r\n", st.highestmodseq);
}

int imap_sel_write_flags(struct imap_session *s, struct buf *b, const struct store_msg *m)
{
	/* One formatter for every flag list (imap_fmt.c). */
	struct imap_fmt_kw kw = { 0 };
	if (s->sel != NULL)
		imap_fmt_kw_load(s, &kw);
	char *p0 = buf_reserve(b, imap_fmt_flags_room(&kw, s->sel != NULL ? m->keywords : 0));
	if (p0 == NULL)
		return -1;
	char *p = imap_fmt_flags(p0, &kw, m->flags, s->sel != NULL ? m->keywords : 0,
	                         imap_fmt_recent(s, m->uid));
	buf_commit(b, (size_t)(p - p0));
	return 0;
}

void imap_sel_save_result(struct imap_session *s, const uint32_t *uids, size_t n)
{
	struct imap_selected *sel = s->sel;
	if (sel == NULL)
		return;
	free(sel->saved);
	sel->saved = n > 0 ? xmalloc(n * sizeof(*uids)) : NULL;
	if (n > 0)
		memcpy(sel->saved, uids, n * sizeof(*uids));
	sel->n_saved = n;
}
