/*
 * LIST (RFC 9051 6.3.9 with LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
 * SPECIAL-USE RFC 6154, CHILDREN RFC 3348) and LSUB (RFC 3501 6.3.9).
 *
 *   LIST [(selection-options)] reference pattern|(patterns) [RETURN (options)]
 *
 * The store hands the whole tree, sorted; matching is done here: "*"
 * matches anything, "%" anything but the delimiter "/", and the INBOX
 * prefix compares case-insensitively. A pattern that is not a valid name
 * encoding (modified UTF-7 for IMAP4rev1) is matched against the names as
 * they travel, so "&*" still finds "&AOk-", and one that can match nothing
 * gets OK with no answers (RFC 9051 6.3.9), not NO.
 *
 * A name that does not meet the selection (not subscribed) but has a
 * descendant that does, which the patterns do not show, is answered as a
 * parent: LSUB with \Noselect (RFC 3501 6.3.9, "foo/bar" subscribed and
 * "%" gives "foo"), LIST (SUBSCRIBED RECURSIVEMATCH) with CHILDINFO (RFC
 * 5258 3.5). A descendant the answer lists itself needs no such hint, so
 * then the parent is left out (as Dovecot does).
 */
#include "imap/imap_internal.h"

#include "lib/utf7.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	SEL_SUBSCRIBED = 1, SEL_REMOTE = 2, SEL_RECURSIVE = 4, SEL_SPECIAL = 8,
	RET_SUBSCRIBED = 16, RET_CHILDREN = 32, RET_SPECIAL = 64, RET_STATUS = 128,
};

struct list_req {
	unsigned opts;
	unsigned status_mask;
	const char **patterns;
	bool *wire;          /* matched against the wire form of names */
	size_t n_patterns;
	bool lsub;
	struct imap_session *s;
};

/* Dynamic programming over the name: O(pattern x name), no backtracking. */
static bool match(const char *p, const char *n)
{
	size_t nl = strlen(n);
	bool a[STORE_NAME_MAX + 2], b[STORE_NAME_MAX + 2];
	bool *cur = a, *nxt = b;
	if (nl > STORE_NAME_MAX)
		return false;
	cur[0] = true;
	for (size_t j = 1; j <= nl; j++)
		cur[j] = false;
	for (; *p != '\0'; p++) {
		bool r = false;
		for (size_t j = 0; j <= nl; j++) {
			if (*p == '*') {
				r = r || cur[j];
			} else if (*p == '%') {
				r = (j > 0 && n[j - 1] == '/') ? cur[j] : (r || cur[j]);
			} else {
				r = j > 0 && cur[j - 1] && n[j - 1] == *p;
			}
			nxt[j] = r;
		}
		bool *t = cur;
		cur = nxt;
		nxt = t;
	}
	return cur[nl];
}

/* reference + pattern, INBOX prefix upper-cased. */
static const char *full_pattern(struct imap_session *s, const char *ref, const char *pat)
{
	size_t rl = strlen(ref);
	if (rl > 0 && ref[rl - 1] == '/' && pat[0] == '/')
		pat++;
	char *f = arena_printf(s->cmd_arena, "%s%s", ref, pat);
	if (strncasecmp(f, "INBOX", 5) == 0 && (f[5] == '\0' || f[5] == '/'))
		memcpy(f, "INBOX", 5);
	return f;
}

static bool any_match(const struct list_req *q, const char *name)
{
	const char *w = NULL;
	for (size_t i = 0; i < q->n_patterns; i++) {
		if (!q->wire[i]) {
			if (match(q->patterns[i], name))
				return true;
			continue;
		}
		if (w == NULL)
			w = imap_utf8_names(q->s) ? name
			    : utf8_to_utf7_arena(q->s->cmd_arena, name, strlen(name));
		if (w != NULL && match(q->patterns[i], w))
			return true;
	}
	return false;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp((*(const struct store_mbox_entry *const *)a)->name,
	              (*(const struct store_mbox_entry *const *)b)->name);
}

static int find_entry(const void *key, const void *e)
{
	return strcmp(key, (*(const struct store_mbox_entry *const *)e)->name);
}
static void write_attrs(struct buf *b, const struct list_req *q, unsigned at)
{
	const char *sep = "";
#define ATTR(cond, text) if (cond) { buf_printf(b, "%s%s", sep, text); sep = " "; }
	bool nonexist = (at & STORE_MB_NONEXISTENT) != 0;
	ATTR(nonexist, "\\NonExistent");
	ATTR(!nonexist && (at & STORE_MB_NOSELECT), "\\Noselect");
	ATTR(!nonexist && (at & STORE_MB_HASCHILDREN), "\\HasChildren");
	ATTR(!nonexist && !(at & STORE_MB_HASCHILDREN), "\\HasNoChildren");
	ATTR((q->opts & (SEL_SUBSCRIBED | RET_SUBSCRIBED)) && (at & STORE_MB_SUBSCRIBED), "\\Subscribed");
	for (unsigned bit = STORE_MB_SENT; bit <= STORE_MB_FLAGGED; bit <<= 1) {
		const char *su = imap_special_use_name(bit);
		ATTR((at & bit) && su != NULL, su);
	}
#undef ATTR
}

static void list_one(struct imap_session *s, const struct list_req *q, const char *name,
                     unsigned attrs, bool parent)
{
	struct buf b;
	buf_init(&b, 16 * 1024);
	buf_append_str(&b, q->lsub ? "* LSUB (" : "* LIST (");
	if (q->lsub)
		buf_append_str(&b, parent || (attrs & (STORE_MB_NOSELECT | STORE_MB_NONEXISTENT))
		                   ? "\\Noselect" : "");
	else
		write_attrs(&b, q, attrs);
	buf_append_str(&b, ") \"/\" ");
	imap_mbox_write(s, &b, name);
	if (parent && !q->lsub) {
		buf_append_str(&b, " (\"CHILDINFO\" (");
		if (q->opts & SEL_SUBSCRIBED)
			buf_append_str(&b, (q->opts & SEL_SPECIAL) ? "\"SUBSCRIBED\" " : "\"SUBSCRIBED\"");
		if (q->opts & SEL_SPECIAL)
			buf_append_str(&b, "\"SPECIAL-USE\"");
		buf_append_str(&b, "))");
	}
	buf_append_str(&b, "\r\n");
	conn_write(s->c, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	if ((q->opts & RET_STATUS) && !(attrs & (STORE_MB_NOSELECT | STORE_MB_NONEXISTENT)))
		imap_status_send(s, name, q->status_mask);
}

static bool selected(const struct list_req *q, unsigned at)
{
	if ((q->lsub || (q->opts & SEL_SUBSCRIBED)) && !(at & STORE_MB_SUBSCRIBED))
		return false;
	return !(q->opts & SEL_SPECIAL) || (at & STORE_MB_SPECIAL_USE);
}

/* Parents to answer: names the patterns match, not selected themselves,
 * with a selected descendant the patterns do not match; sorted, unique. */
static size_t hidden_parents(const struct list_req *q, struct arena *a,
                             const struct store_mbox_entry *l, size_t n, const char ***out)
{
	size_t cap = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		if (selected(q, l[i].attrs))
			for (const char *c = l[i].name; (c = strchr(c, '/')) != NULL; c++)
				cap++;
	const char **p = arena_alloc(a, (cap + 1) * sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		if (!selected(q, l[i].attrs) || any_match(q, l[i].name))
			continue;
		for (const char *c = l[i].name; (c = strchr(c, '/')) != NULL; c++) {
			const char *anc = arena_strndup(a, l[i].name, (size_t)(c - l[i].name));
			if (any_match(q, anc))
				p[k++] = anc;
		}
	}
	qsort(p, k, sizeof(*p), cmp_name);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || strcmp(p[u - 1], p[i]) != 0)
			p[u++] = p[i];
	*out = p;
	return u;
}

static int run_list(struct imap_session *s, const struct list_req *q)
{
	struct store_user *u = imap_store(s);
	if (u == NULL)
		return STORE_E_INTERNAL;
	struct store_mbox_entry *l;
	size_t n;
	int rc = store_mailbox_list(u, s->cmd_arena, &l, &n);
	if (rc != STORE_OK)
		return rc;
	bool subscribed_only = q->lsub || (q->opts & SEL_SUBSCRIBED);
	for (size_t i = 0; i < n; i++) {
		unsigned at = l[i].attrs;
		if (!selected(q, at) || !any_match(q, l[i].name))
			continue;
		if (!subscribed_only && (at & STORE_MB_NONEXISTENT))
			continue;
		list_one(s, q, l[i].name, at, false);
	}
	if (!q->lsub && !(q->opts & SEL_RECURSIVE))
		return STORE_OK;
	const char **parents;
	size_t np = hidden_parents(q, s->cmd_arena, l, n, &parents);
	const struct store_mbox_entry **byname = arena_alloc(s->cmd_arena, (n + 1) * sizeof(*byname));
	for (size_t i = 0; i < n; i++)
		byname[i] = &l[i];
	qsort(byname, n, sizeof(*byname), cmp_entry);
	for (size_t i = 0; i < np; i++) {
		const struct store_mbox_entry **e = bsearch(parents[i], byname, n, sizeof(*byname), find_entry);
		unsigned at = e != NULL ? (*e)->attrs : STORE_MB_NONEXISTENT;
		if (e != NULL && selected(q, at))
			continue;   /* listed above */
		list_one(s, q, parents[i], at & ~STORE_MB_SUBSCRIBED, true);
	}
	return STORE_OK;
}

static bool parse_opts(const struct imap_arg *arg, bool ret, struct list_req *q, struct imap_session *s)
{
	const struct imap_arg *l;
	size_t n;
	if (!imap_arg_get_list(arg, &l, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!ret && imap_arg_atom_equals(&l[i], "SUBSCRIBED"))
			q->opts |= SEL_SUBSCRIBED;
		else if (!ret && imap_arg_atom_equals(&l[i], "REMOTE"))
			q->opts |= SEL_REMOTE;
		else if (!ret && imap_arg_atom_equals(&l[i], "RECURSIVEMATCH"))
			q->opts |= SEL_RECURSIVE;
		else if (!ret && imap_arg_atom_equals(&l[i], "SPECIAL-USE"))
			q->opts |= SEL_SPECIAL;
		else if (ret && imap_arg_atom_equals(&l[i], "SUBSCRIBED"))
			q->opts |= RET_SUBSCRIBED;
		else if (ret && imap_arg_atom_equals(&l[i], "CHILDREN"))
			q->opts |= RET_CHILDREN;
		else if (ret && imap_arg_atom_equals(&l[i], "SPECIAL-USE"))
			q->opts |= RET_SPECIAL;
		else if (ret && imap_arg_atom_equals(&l[i], "STATUS") && i + 1 < n &&
		         imap_status_parse(s, &l[i + 1], &q->status_mask) == 0)
			q->opts |= RET_STATUS, i++;
		else
			return false;
	}
	/* RECURSIVEMATCH needs another selection option to apply to. */
	return ret || !(q->opts & SEL_RECURSIVE) || (q->opts & (SEL_SUBSCRIBED | SEL_SPECIAL));
}

static enum imap_cmd_result do_list(struct imap_session *s, const struct imap_command *cmd, bool lsub)
{
	struct list_req q = { .lsub = lsub, .s = s };
	const struct imap_arg *a = cmd->args;
	size_t i = 0, nargs = cmd->nargs;
	const char *ref, *err = NULL;
	size_t rlen;
	if (!lsub && nargs > 0 && a[0].type == IMAP_ARG_LIST && !parse_opts(&a[i++], false, &q, s))
		goto bad;
	if (i + 2 > nargs || !imap_arg_get_astring(&a[i], &ref, &rlen))
		goto bad;
	if (memchr(ref, '\0', rlen) != NULL) {
		err = "Mailbox name contains NUL";
		goto no;
	}
	const char *uref = imap_mbox_decode(s, ref, rlen, false, &err);
	i++;
	const struct imap_arg *pl = &a[i];
	size_t np = 1;
	if (!lsub && a[i].type == IMAP_ARG_LIST && !imap_arg_get_list(&a[i], &pl, &np))
		goto bad;
	i++;
	if (i < nargs) {
		if (lsub || i + 2 != nargs || !imap_arg_atom_equals(&a[i], "RETURN") ||
		    !parse_opts(&a[i + 1], true, &q, s))
			goto bad;
	}
	q.patterns = arena_alloc(s->cmd_arena, (np + 1) * sizeof(*q.patterns));
	q.wire = arena_alloc(s->cmd_arena, (np + 1) * sizeof(*q.wire));
	bool delim_query = false;
	for (size_t k = 0; k < np; k++) {
		const char *p, *d;
		size_t plen;
		if (!imap_arg_get_astring(&pl[k], &p, &plen))
			goto bad;
		if (plen == 0 && np == 1) {
			delim_query = true;
			break;
		}
		if (memchr(p, '\0', plen) != NULL)
			continue;   /* matches no name */
		d = uref != NULL ? imap_mbox_decode(s, p, plen, false, &err) : NULL;
		q.wire[q.n_patterns] = d == NULL;
		q.patterns[q.n_patterns++] = d != NULL ? full_pattern(s, uref, d)
		                                       : full_pattern(s, arena_strndup(s->cmd_arena, ref, rlen),
		                                                      arena_strndup(s->cmd_arena, p, plen));
	}
	if (delim_query && !lsub) {
		imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
	} else if (!delim_query) {
		int rc = run_list(s, &q);
		if (rc != STORE_OK) {
			imap_store_fail(s, cmd->tag, rc, lsub ? "lsub" : "list");
			return IMAP_CMD_DONE;
		}
	}
	imap_tagged(s, cmd->tag, "OK", NULL, lsub ? "LSUB completed" : "LIST completed");
	return IMAP_CMD_DONE;
bad:
	imap_tagged(s, cmd->tag, "BAD", NULL,
	            lsub ? "Usage: LSUB reference pattern"
	                 : "Usage: LIST [(options)] reference pattern|(patterns) [RETURN (options)]");
	return IMAP_CMD_DONE;
no:
	imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_list(struct imap_session *s, const struct imap_command *cmd)
{
	return do_list(s, cmd, false);
}

/* LSUB is IMAP4rev1 only (RFC 9051 appendix E: LIST (SUBSCRIBED)). */
enum imap_cmd_result imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd)
{
	if (s->enabled & IMAP_ENABLED_REV2) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "LSUB is not part of IMAP4rev2; use LIST (SUBSCRIBED)");
		return IMAP_CMD_DONE;
	}
	return do_list(s, cmd, true);
}
