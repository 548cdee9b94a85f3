/* imap_search_args.c: SEARCH program -> struct store_search tree. */
#include "imap/imap_search_args.h"

#include "lib/arena.h"
#include "lib/date.h"

#include <string.h>
#include <strings.h>

struct sp {
	struct arena *a;
	const struct imap_search_env *env;
	struct imap_search_args *out;
	unsigned keys;
	const char *error;
};

enum arg_kind { A_NONE, A_STRING, A_DATE, A_NUMBER, A_KEYWORD, A_HEADER };

struct key_def {
	const char *name;
	enum store_sk sk;
	enum arg_kind arg;
	uint32_t flags;     /* FLAGS_SET / FLAGS_UNSET */
};

static const struct key_def keys[] = {
	{ "ALL", STORE_SK_ALL, A_NONE, 0 },
	{ "ANSWERED", STORE_SK_FLAGS_SET, A_NONE, STORE_ANSWERED },
	{ "DELETED", STORE_SK_FLAGS_SET, A_NONE, STORE_DELETED },
	{ "DRAFT", STORE_SK_FLAGS_SET, A_NONE, STORE_DRAFT },
	{ "FLAGGED", STORE_SK_FLAGS_SET, A_NONE, STORE_FLAGGED },
	{ "SEEN", STORE_SK_FLAGS_SET, A_NONE, STORE_SEEN },
	{ "UNANSWERED", STORE_SK_FLAGS_UNSET, A_NONE, STORE_ANSWERED },
	{ "UNDELETED", STORE_SK_FLAGS_UNSET, A_NONE, STORE_DELETED },
	{ "UNDRAFT", STORE_SK_FLAGS_UNSET, A_NONE, STORE_DRAFT },
	{ "UNFLAGGED", STORE_SK_FLAGS_UNSET, A_NONE, STORE_FLAGGED },
	{ "UNSEEN", STORE_SK_FLAGS_UNSET, A_NONE, STORE_SEEN },
	{ "NEW", STORE_SK_NEW, A_NONE, 0 },
	{ "OLD", STORE_SK_OLD, A_NONE, 0 },
	{ "RECENT", STORE_SK_RECENT, A_NONE, 0 },
	{ "KEYWORD", STORE_SK_KEYWORD, A_KEYWORD, 0 },
	{ "UNKEYWORD", STORE_SK_UNKEYWORD, A_KEYWORD, 0 },
	{ "LARGER", STORE_SK_LARGER, A_NUMBER, 0 },
	{ "SMALLER", STORE_SK_SMALLER, A_NUMBER, 0 },
	{ "BEFORE", STORE_SK_BEFORE, A_DATE, 0 },
	{ "ON", STORE_SK_ON, A_DATE, 0 },
	{ "SINCE", STORE_SK_SINCE, A_DATE, 0 },
	{ "SENTBEFORE", STORE_SK_SENTBEFORE, A_DATE, 0 },
	{ "SENTON", STORE_SK_SENTON, A_DATE, 0 },
	{ "SENTSINCE", STORE_SK_SENTSINCE, A_DATE, 0 },
	{ "HEADER", STORE_SK_HEADER, A_HEADER, 0 },
	{ "FROM", STORE_SK_FROM, A_STRING, 0 },
	{ "TO", STORE_SK_TO, A_STRING, 0 },
	{ "CC", STORE_SK_CC, A_STRING, 0 },
	{ "BCC", STORE_SK_BCC, A_STRING, 0 },
	{ "SUBJECT", STORE_SK_SUBJECT, A_STRING, 0 },
	{ "BODY", STORE_SK_BODY, A_STRING, 0 },
	{ "TEXT", STORE_SK_TEXT, A_STRING, 0 },
};

static const struct {
	const char *name;
	uint32_t flag;
} system_flags[] = {
	{ "\\Seen", STORE_SEEN }, { "\\Answered", STORE_ANSWERED },
	{ "\\Flagged", STORE_FLAGGED }, { "\\Deleted", STORE_DELETED },
	{ "\\Draft", STORE_DRAFT },
};

static struct store_search *node(struct sp *p, enum store_sk key)
{
	struct store_search *k = arena_alloc(p->a, sizeof(*k));
	k->key = key;
	return k;
}

static struct store_search *err(struct sp *p, const char *msg)
{
	if (p->error == NULL)
		p->error = msg;
	return NULL;
}

static bool is_set_start(const struct imap_arg *arg)
{
	if (arg->type != IMAP_ARG_ATOM || arg->len == 0)
		return false;
	char c = arg->str[0];
	return (c >= '0' && c <= '9') || c == '*' || c == '$';
}

/* A flag-keyword: an atom; system flags map to their bits. */
static struct store_search *keyword_key(struct sp *p, const struct key_def *d,
                                        const struct imap_arg *arg)
{
	const char *s = arg->str;
	/* NIL is an atom like any other here: the keyword "NIL". */
	if (arg->type == IMAP_ARG_NIL ? s == NULL : !imap_arg_get_atom(arg, &s))
		return err(p, "KEYWORD takes a flag name");
	if (s[0] == '\\') {
		for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++) {
			if (strcasecmp(s, system_flags[i].name) == 0) {
				struct store_search *k = node(p, d->sk == STORE_SK_KEYWORD ?
				                              STORE_SK_FLAGS_SET : STORE_SK_FLAGS_UNSET);
				k->u.flags = system_flags[i].flag;
				return k;
			}
		}
		return err(p, "Invalid flag in KEYWORD");
	}
	struct store_search *k = node(p, d->sk);
	k->u.str = s;
	return k;
}

/* One key with its arguments at args[*i]; *i is advanced past it. */
static struct store_search *parse_key(struct sp *p, const struct imap_arg *args, size_t n,
                                      size_t *i, unsigned depth);

static struct store_search *parse_and(struct sp *p, const struct imap_arg *args, size_t n,
                                      unsigned depth)
{
	struct store_search *head = NULL, **tail = &head;
	size_t count = 0, i = 0;
	while (i < n) {
		struct store_search *k = parse_key(p, args, n, &i, depth);
		if (k == NULL)
			return NULL;
		*tail = k;
		tail = &k->next;
		count++;
	}
	if (count == 0)
		return err(p, "Missing search key");
	if (count == 1)
		return head;
	struct store_search *and = node(p, STORE_SK_AND);
	and->kids = head;
	return and;
}

static struct store_search *set_key(struct sp *p, const struct imap_arg *arg, bool uid)
{
	struct store_search *k = node(p, STORE_SK_UID);
	const char *e = NULL;
	if (arg->type != IMAP_ARG_ATOM)
		return err(p, "Invalid sequence set");
	if (arg->len == 1 && arg->str[0] == '$')
		p->out->uses_saved = true;
	if (p->env == NULL || p->env->resolve_set == NULL)
		return err(p, "No mailbox for sequence sets");
	if (p->env->resolve_set(p->env->ctx, arg->str, (size_t)arg->len, uid, p->a, &k->u.set, &e) < 0)
		return err(p, e != NULL ? e : "Invalid sequence set");
	return k;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162). The
 * store keeps one modseq per message, so the entry is checked, not used. */
static struct store_search *modseq_key(struct sp *p, const struct imap_arg *args, size_t n,
                                       size_t *i)
{
	const char *s;
	size_t len;
	uint64_t v;
	if (*i < n && !imap_arg_get_number(&args[*i], &v)) {
		if (*i + 1 >= n || !imap_arg_get_string(&args[*i], &s, &len) ||
		    !(imap_arg_atom_equals(&args[*i + 1], "priv") ||
		      imap_arg_atom_equals(&args[*i + 1], "shared") ||
		      imap_arg_atom_equals(&args[*i + 1], "all")))
			return err(p, "Usage: MODSEQ [entry-name priv|shared|all] mod-sequence");
		*i += 2;
	}
	if (*i >= n || !imap_arg_get_number(&args[*i], &v))
		return err(p, "MODSEQ takes a mod-sequence");
	(*i)++;
	struct store_search *k = node(p, STORE_SK_MODSEQ);
	k->u.num = v;
	p->out->modseq = true;
	return k;
}

static struct store_search *parse_key(struct sp *p, const struct imap_arg *args, size_t n,
                                      size_t *i, unsigned depth)
{
	if (depth > IMAP_SEARCH_MAX_DEPTH)
		return err(p, "Search nested too deep");
	if (++p->keys > IMAP_SEARCH_MAX_KEYS)
		return err(p, "Too many search keys");
	if (*i >= n)
		return err(p, "Missing search key");
	const struct imap_arg *arg = &args[(*i)++];
	if (arg->type == IMAP_ARG_LIST) {
		if (arg->count == 0)
			return err(p, "Empty search key list");
		return parse_and(p, arg->list, arg->count, depth + 1);
	}
	if (is_set_start(arg))
		return set_key(p, arg, false);
	if (arg->type != IMAP_ARG_ATOM)
		return err(p, "Search keys are atoms");
	if (imap_arg_atom_equals(arg, "NOT") || imap_arg_atom_equals(arg, "OR")) {
		bool or = imap_arg_atom_equals(arg, "OR");
		struct store_search *k = node(p, or ? STORE_SK_OR : STORE_SK_NOT);
		k->kids = parse_key(p, args, n, i, depth + 1);
		if (k->kids == NULL)
			return NULL;
		if (or && (k->kids->next = parse_key(p, args, n, i, depth + 1)) == NULL)
			return NULL;
		return k;
	}
	if (imap_arg_atom_equals(arg, "UID")) {
		if (*i >= n)
			return err(p, "UID takes a set");
		return set_key(p, &args[(*i)++], true);
	}
	if (imap_arg_atom_equals(arg, "MODSEQ"))
		return modseq_key(p, args, n, i);
	const struct key_def *d = NULL;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (imap_arg_atom_equals(arg, keys[k].name))
			d = &keys[k];
	if (d == NULL)
		return err(p, "Unknown search key");
	if (d->arg != A_NONE && *i >= n)
		return err(p, "Search key needs an argument");
	struct store_search *k;
	const char *s, *v;
	size_t len, vlen;
	time_t day;
	switch (d->arg) {
	case A_NONE:
		k = node(p, d->sk);
		k->u.flags = d->flags;
		return k;
	case A_KEYWORD:
		return keyword_key(p, d, &args[(*i)++]);
	case A_NUMBER:
		k = node(p, d->sk);
		if (!imap_arg_get_number(&args[(*i)++], &k->u.num))
			return err(p, "Invalid number in search key");
		return k;
	case A_DATE:
		if (!imap_arg_get_astring(&args[(*i)++], &s, &len) ||
		    date_parse_imap_date(s, len, &day) < 0)
			return err(p, "Invalid date (use 1-Feb-1994)");
		k = node(p, d->sk);
		k->u.num = (uint64_t)(int64_t)day;
		return k;
	case A_STRING:
		if (!imap_arg_get_astring(&args[(*i)++], &s, &len))
			return err(p, "Search key takes a string");
		k = node(p, d->sk);
		k->u.str = s;
		return k;
	case A_HEADER:
		if (*i + 1 >= n || !imap_arg_get_astring(&args[*i], &s, &len) ||
		    !imap_arg_get_astring(&args[*i + 1], &v, &vlen) || len == 0)
			return err(p, "HEADER takes a field name and a string");
		*i += 2;
		for (size_t c = 0; c < len; c++)
			if ((unsigned char)s[c] <= 32 || (unsigned char)s[c] >= 127 || s[c] == ':')
				return err(p, "Invalid header field name");
		k = node(p, STORE_SK_HEADER);
		k->u.hdr.field = s;
		k->u.hdr.value = v;
		return k;
	}
	return err(p, "Unknown search key");
}

static int parse_return(struct sp *p, const struct imap_arg *arg)
{
	const struct imap_arg *l;
	size_t n;
	if (!imap_arg_get_list(arg, &l, &n))
		return -1;
	p->out->esearch = true;
	for (size_t i = 0; i < n; i++) {
		static const struct { const char *name; unsigned bit; } opts[] = {
			{ "MIN", IMAP_SEARCH_RET_MIN }, { "MAX", IMAP_SEARCH_RET_MAX },
			{ "ALL", IMAP_SEARCH_RET_ALL }, { "COUNT", IMAP_SEARCH_RET_COUNT },
			{ "SAVE", IMAP_SEARCH_RET_SAVE },
		};
		unsigned bit = 0;
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_atom_equals(&l[i], opts[k].name))
				bit = opts[k].bit;
		if (bit == 0)
			return -1;
		p->out->ret |= bit;
	}
	if (n == 0)
		p->out->ret = IMAP_SEARCH_RET_ALL;
	return 0;
}

int imap_search_args_parse(struct arena *a, const struct imap_arg *args, size_t n,
                           const struct imap_search_env *env,
                           struct imap_search_args *out, const char **error_r)
{
	memset(out, 0, sizeof(*out));
	struct sp p = { .a = a, .env = env, .out = out };
	size_t i = 0;
	if (i < n && imap_arg_atom_equals(&args[i], "RETURN")) {
		if (i + 1 >= n || parse_return(&p, &args[i + 1]) < 0) {
			*error_r = "Usage: RETURN ([MIN] [MAX] [ALL] [COUNT] [SAVE])";
			return IMAP_SEARCH_E_SYNTAX;
		}
		i += 2;
	}
	if (i < n && imap_arg_atom_equals(&args[i], "CHARSET")) {
		const char *cs;
		size_t len;
		if (i + 1 >= n || !imap_arg_get_astring(&args[i + 1], &cs, &len)) {
			*error_r = "CHARSET takes a charset name";
			return IMAP_SEARCH_E_SYNTAX;
		}
		out->charset = cs;
		if (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0) {
			*error_r = "Only UTF-8 and US-ASCII are supported";
			return IMAP_SEARCH_E_BADCHARSET;
		}
		i += 2;
	}
	out->query = parse_and(&p, args + i, n - i, 0);
	if (out->query == NULL) {
		*error_r = p.error != NULL ? p.error : "Invalid search";
		return IMAP_SEARCH_E_SYNTAX;
	}
	return IMAP_SEARCH_OK;
}
