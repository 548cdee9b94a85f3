/* store_search.c: SEARCH criteria translated to one SQL query over the
 * message rows, the blob's cached columns and the trigram FTS index,
 * with the messages the index does not have yet matched one by one
 * (store_search_tail.c). */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/header.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEARCH_SQL_MAX (256 * 1024)
#define SEARCH_PARAMS_MAX 512

enum param_type { P_INT, P_TEXT, P_SET };
struct param {
	enum param_type type;
	int64_t i;
	const char *s;
	const struct store_uidset *set;
};

struct query {
	struct store_mailbox *mb;
	struct buf sql;
	struct param p[SEARCH_PARAMS_MAX];
	int np;
	struct store_uidset recent;
	bool overflow, need_blob;
	bool need_fts;      /* reads the index: catch it up first */
};

/* ---- SQL functions, registered on every connection ---- */

static const char uidset_ptr_type[] = "store_uidset";

/* mk_uidset(uid, set): uid is in the bound set. */
static void fn_uidset(sqlite3_context *c, int argc, sqlite3_value **v)
{
	const struct store_uidset *set = sqlite3_value_pointer(v[1], uidset_ptr_type);
	sqlite3_result_int(c, set != NULL && store_uidset_has(set, (uint32_t)sqlite3_value_int64(v[0])));
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

bool search_needs_trigrams(const char *needle)
{
	return utf8_chars(needle) >= 3;
}

bool search_icontains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

bool search_header_has(const char *hdr, size_t len, const char *field, const char *needle)
{
	struct mime_header_iter it;
	struct mime_field f;
	size_t flen = strlen(field);
	mime_header_iter_init(&it, hdr, 0, len);
	struct arena *a = NULL;
	bool found = false;
	while (!found && mime_header_next(&it, &f)) {
		if (f.name_len != flen || strncasecmp(f.name, field, flen) != 0)
			continue;
		if (needle[0] == '\0') {
			found = true;
			break;
		}
		if (a == NULL)
			a = arena_new(4096);
		found = strcasestr(mime_unfold(a, f.value, f.value_len), needle) != NULL;
	}
	if (a != NULL)
		arena_free(&a);
	return found;
}

/* mk_icontains(text, needle): ASCII case-insensitive substring; used for
 * needles shorter than a trigram. */
static void fn_icontains(sqlite3_context *c, int argc, sqlite3_value **v)
{
	const char *hay = (const char *)sqlite3_value_text(v[0]);
	const char *needle = (const char *)sqlite3_value_text(v[1]);
	sqlite3_result_int(c, needle != NULL && search_icontains(hay, needle));
}

/* mk_header_has(headers, field, needle): a field of that name whose
 * unfolded value contains needle ("" = the field exists). */
static void fn_header_has(sqlite3_context *c, int argc, sqlite3_value **v)
{
	const char *hdr = (const char *)sqlite3_value_text(v[0]);
	const char *field = (const char *)sqlite3_value_text(v[1]);
	const char *needle = (const char *)sqlite3_value_text(v[2]);
	sqlite3_result_int(c, hdr != NULL && field != NULL && needle != NULL &&
	                      search_header_has(hdr, (size_t)sqlite3_value_bytes(v[0]), field, needle));
}

int search_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	if (sqlite3_create_function_v2(db, "mk_uidset", 2, SQLITE_UTF8, NULL, fn_uidset, NULL,
	                               NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(db, "mk_icontains", 2, flags, NULL, fn_icontains, NULL,
	                               NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(db, "mk_header_has", 3, flags, NULL, fn_header_has, NULL,
	                               NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

/* ---- translation ---- */

static void emit(struct query *q, const char *s)
{
	if (buf_append_str(&q->sql, s) < 0)
		q->overflow = true;
}

static void param(struct query *q, struct param p)
{
	if (q->np == SEARCH_PARAMS_MAX) {
		q->overflow = true;
		return;
	}
	q->p[q->np++] = p;
	if (buf_printf(&q->sql, "?%d", q->np + 1) < 0)   /* ?1 is the mailbox */
		q->overflow = true;
}

static void emit_int(struct query *q, const char *before, int64_t i, const char *after)
{
	emit(q, before);
	param(q, (struct param){ .type = P_INT, .i = i });
	emit(q, after);
}

/* Ends the index's "m.blob_id IN (SELECT rowid FROM ix.fts ..." with the
 * blobs above its upto that the tail function (store_search_tail.c)
 * matches, and the closing parenthesis. One IN list, so the plan stays
 * "index rows, then their messages" rather than a scan of the mailbox. */
static void emit_tail(struct query *q, const char *fn, const char *a1, const char *a2)
{
	emit(q, " UNION ALL SELECT t.id FROM blob t"
	        " WHERE t.id > ifnull((SELECT value FROM ix.meta WHERE key = 'upto'), 0) AND ");
	emit(q, fn);
	emit(q, "(t.id, t.hash, t.size, t.inline,"
	        " (SELECT d.data FROM blob_data d WHERE d.id = t.id), ");
	param(q, (struct param){ .type = P_TEXT, .s = a1 });
	emit(q, ", ");
	param(q, (struct param){ .type = P_TEXT, .s = a2 });
	emit(q, "))");
}

/* A case-insensitive substring search in FTS columns ("{a b}" form). */
static void text_match(struct query *q, const char *cols, const char *needle,
                       struct arena *a)
{
	if (needle[0] == '\0') {
		emit(q, "1");
		return;
	}
	q->need_fts = true;
	emit(q, "m.blob_id IN (SELECT rowid FROM ix.fts WHERE ");
	if (search_needs_trigrams(needle)) {
		/* An FTS5 string: double the quotes. Trigram: a phrase is a
		 * substring, case-folded. */
		struct buf m;
		buf_init(&m, 2 * strlen(needle) + 64);
		buf_printf(&m, "{%s} : \"", cols);
		for (const char *s = needle; *s; s++) {
			if (*s == '"')
				buf_append(&m, "\"", 1);
			buf_append(&m, s, 1);
		}
		buf_append(&m, "\"", 1);
		emit(q, "fts MATCH ");
		param(q, (struct param){ .type = P_TEXT, .s = arena_strdup(a, buf_ptr(&m)) });
		buf_deinit(&m);
	} else {
		/* Too short for a trigram: scan the cached text. */
		const char *c = cols;
		bool first = true;
		while (*c) {
			size_t len = strcspn(c, " ");
			emit(q, first ? "(mk_icontains(" : " OR mk_icontains(");
			emit(q, arena_strndup(a, c, len));
			emit(q, ", ");
			param(q, (struct param){ .type = P_TEXT, .s = needle });
			emit(q, ")");
			first = false;
			c += len;
			c += strspn(c, " ");
		}
		emit(q, ")");
	}
	emit_tail(q, "mk_tail_text", cols, needle);
}

static void translate(struct query *q, const struct store_search *k, struct arena *a);

static void list(struct query *q, const struct store_search *kids, const char *op,
                 const char *empty, struct arena *a)
{
	if (kids == NULL) {
		emit(q, empty);
		return;
	}
	emit(q, "(");
	for (const struct store_search *c = kids; c != NULL; c = c->next) {
		translate(q, c, a);
		if (c->next != NULL)
			emit(q, op);
	}
	emit(q, ")");
}

static int keyword_bit(struct view *v, const char *name)
{
	for (int b = 0; b < STORE_KEYWORDS_MAX; b++)
		if (v->kw[b] != NULL && strcasecmp(v->kw[b], name) == 0)
			return b;
	return -1;
}

static const char *header_column(const char *field)
{
	static const char *const map[][2] = {
		{ "from", "hfrom" }, { "to", "hto" }, { "cc", "hcc" }, { "bcc", "hbcc" },
		{ "subject", "subject" },
	};
	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(field, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static void translate(struct query *q, const struct store_search *k, struct arena *a)
{
	int bit;
	switch (k->key) {
	case STORE_SK_ALL: emit(q, "1"); break;
	case STORE_SK_AND: list(q, k->kids, " AND ", "1", a); break;
	case STORE_SK_OR: list(q, k->kids, " OR ", "0", a); break;
	case STORE_SK_NOT:
		emit(q, "NOT ");
		list(q, k->kids, " AND ", "1", a);
		break;
	case STORE_SK_FLAGS_SET:
		emit_int(q, "(m.flags & ", k->u.flags, ")");
		emit_int(q, " = ", k->u.flags, "");
		break;
	case STORE_SK_FLAGS_UNSET: emit_int(q, "(m.flags & ", k->u.flags, ") = 0"); break;
	case STORE_SK_KEYWORD:
	case STORE_SK_UNKEYWORD:
		bit = keyword_bit(q->mb->v, k->u.str);
		if (bit < 0)
			emit(q, k->key == STORE_SK_KEYWORD ? "0" : "1");
		else
			emit_int(q, "((m.keywords >> ", bit,
			         k->key == STORE_SK_KEYWORD ? ") & 1) = 1" : ") & 1) = 0");
		break;
	case STORE_SK_RECENT:
	case STORE_SK_OLD:
	case STORE_SK_NEW:
		emit(q, k->key == STORE_SK_OLD ? "NOT mk_uidset(m.uid, " : "(mk_uidset(m.uid, ");
		param(q, (struct param){ .type = P_SET, .set = &q->recent });
		emit(q, k->key == STORE_SK_NEW ? ") AND (m.flags & 1) = 0)" :
		        k->key == STORE_SK_RECENT ? "))" : ")");
		break;
	case STORE_SK_LARGER: emit_int(q, "m.size > ", (int64_t)k->u.num, ""); break;
	case STORE_SK_SMALLER: emit_int(q, "m.size < ", (int64_t)k->u.num, ""); break;
	case STORE_SK_BEFORE: emit_int(q, "m.internal_day < ", (int64_t)k->u.num, ""); break;
	case STORE_SK_ON: emit_int(q, "m.internal_day = ", (int64_t)k->u.num, ""); break;
	case STORE_SK_SINCE: emit_int(q, "m.internal_day >= ", (int64_t)k->u.num, ""); break;
	/* No usable Date: header: the internal date stands in for it. */
	case STORE_SK_SENTBEFORE:
		q->need_blob = true;
		emit_int(q, "coalesce(b.sent_day, m.internal_day) < ", (int64_t)k->u.num, "");
		break;
	case STORE_SK_SENTON:
		q->need_blob = true;
		emit_int(q, "coalesce(b.sent_day, m.internal_day) = ", (int64_t)k->u.num, "");
		break;
	case STORE_SK_SENTSINCE:
		q->need_blob = true;
		emit_int(q, "coalesce(b.sent_day, m.internal_day) >= ", (int64_t)k->u.num, "");
		break;
	case STORE_SK_HEADER: {
		const char *colname = header_column(k->u.hdr.field);
		if (colname != NULL && k->u.hdr.value[0] != '\0') {
			text_match(q, colname, k->u.hdr.value, a);
			break;
		}
		q->need_fts = true;
		emit(q, "m.blob_id IN (SELECT rowid FROM ix.fts WHERE mk_header_has(headers, ");
		param(q, (struct param){ .type = P_TEXT, .s = k->u.hdr.field });
		emit(q, ", ");
		param(q, (struct param){ .type = P_TEXT, .s = k->u.hdr.value });
		emit(q, ")");
		emit_tail(q, "mk_tail_header", k->u.hdr.field, k->u.hdr.value);
		break;
	}
	case STORE_SK_FROM: text_match(q, "hfrom", k->u.str, a); break;
	case STORE_SK_TO: text_match(q, "hto", k->u.str, a); break;
	case STORE_SK_CC: text_match(q, "hcc", k->u.str, a); break;
	case STORE_SK_BCC: text_match(q, "hbcc", k->u.str, a); break;
	case STORE_SK_SUBJECT: text_match(q, "subject", k->u.str, a); break;
	case STORE_SK_BODY: text_match(q, "body", k->u.str, a); break;
	case STORE_SK_TEXT:
		text_match(q, "hfrom hto hcc hbcc subject headers body", k->u.str, a);
		break;
	case STORE_SK_UID:
		emit(q, "mk_uidset(m.uid, ");
		param(q, (struct param){ .type = P_SET, .set = &k->u.set });
		emit(q, ")");
		break;
	case STORE_SK_MODSEQ: emit_int(q, "m.modseq >= ", (int64_t)k->u.num, ""); break;
	default: emit(q, "0"); break;
	}
}

/* A positive text criterion at the top of the AND chain: the query is
 * planned from the index's few blob ids (message_blob holds blob_id,
 * mailbox_id and uid) rather than as a scan of the mailbox checking each
 * message against the id list. Mirrors translate(): these keys become
 * "m.blob_id IN (...)". */
static bool index_drives(const struct store_search *k)
{
	switch (k->key) {
	case STORE_SK_FROM: case STORE_SK_TO: case STORE_SK_CC: case STORE_SK_BCC:
	case STORE_SK_SUBJECT: case STORE_SK_BODY: case STORE_SK_TEXT:
		return k->u.str[0] != '\0';
	case STORE_SK_HEADER:
		return true;
	case STORE_SK_AND:
		for (const struct store_search *c = k->kids; c != NULL; c = c->next)
			if (index_drives(c))
				return true;
		return false;
	default:
		return false;
	}
}

/* ---- keys the view answers alone ---- */

/* Flags, keywords, sizes, UIDs, modseq, internal dates and \Recent are
 * all in the view: a search made only of those (UNSEEN, FLAGGED, DELETED,
 * SINCE, UID ranges..., what clients send most) is a loop over it, with
 * no SQL at all. */
static bool view_answers(const struct store_search *k)
{
	switch (k->key) {
	case STORE_SK_ALL: case STORE_SK_FLAGS_SET: case STORE_SK_FLAGS_UNSET:
	case STORE_SK_KEYWORD: case STORE_SK_UNKEYWORD:
	case STORE_SK_RECENT: case STORE_SK_OLD: case STORE_SK_NEW:
	case STORE_SK_LARGER: case STORE_SK_SMALLER: case STORE_SK_UID: case STORE_SK_MODSEQ:
	case STORE_SK_BEFORE: case STORE_SK_ON: case STORE_SK_SINCE:
		return true;
	case STORE_SK_AND: case STORE_SK_OR: case STORE_SK_NOT:
		for (const struct store_search *c = k->kids; c != NULL; c = c->next)
			if (!view_answers(c))
				return false;
		return true;
	default:
		return false;
	}
}

/* The same meaning as translate()'s SQL, for one message. */
static bool view_match(struct store_mailbox *mb, const struct store_search *k,
                       const struct store_msg *m)
{
	const struct store_uidset recent = { .n = mb->n_recent, .r = mb->recent };
	int bit;
	switch (k->key) {
	case STORE_SK_ALL: return true;
	case STORE_SK_AND:
	case STORE_SK_NOT:
		for (const struct store_search *c = k->kids; c != NULL; c = c->next)
			if (!view_match(mb, c, m))
				return k->key == STORE_SK_NOT;
		return k->key == STORE_SK_AND;
	case STORE_SK_OR:
		for (const struct store_search *c = k->kids; c != NULL; c = c->next)
			if (view_match(mb, c, m))
				return true;
		return false;
	case STORE_SK_FLAGS_SET: return (m->flags & k->u.flags) == k->u.flags;
	case STORE_SK_FLAGS_UNSET: return (m->flags & k->u.flags) == 0;
	case STORE_SK_KEYWORD:
	case STORE_SK_UNKEYWORD:
		bit = keyword_bit(mb->v, k->u.str);
		if (bit < 0)
			return k->key == STORE_SK_UNKEYWORD;
		return ((m->keywords >> bit) & 1) == (k->key == STORE_SK_KEYWORD);
	case STORE_SK_RECENT: return store_uidset_has(&recent, m->uid);
	case STORE_SK_OLD: return !store_uidset_has(&recent, m->uid);
	case STORE_SK_NEW: return store_uidset_has(&recent, m->uid) && !(m->flags & STORE_SEEN);
	case STORE_SK_LARGER: return m->size > k->u.num;
	case STORE_SK_SMALLER: return m->size < k->u.num;
	case STORE_SK_UID: return store_uidset_has(&k->u.set, m->uid);
	case STORE_SK_MODSEQ: return m->modseq >= k->u.num;
	case STORE_SK_BEFORE: return m->day < (int64_t)k->u.num;
	case STORE_SK_ON: return m->day == (int64_t)k->u.num;
	case STORE_SK_SINCE: return m->day >= (int64_t)k->u.num;
	default: return false;
	}
}

int store_search(struct store_mailbox *mb, const struct store_search *k, struct arena *a,
                 uint32_t **uids_r, size_t *n_r)
{
	struct store_user *u = mb->user;
	*uids_r = NULL;
	*n_r = 0;
	int rc = account_sync(u);
	if (rc < 0)
		return rc;
	view_usable(u, mb->v);
	if (view_answers(k)) {
		struct view *v = mb->v;
		uint32_t *uids = arena_alloc(a, (v->n + 1) * sizeof(uint32_t));
		size_t n = 0;
		for (size_t i = 0; i < v->n; i++)
			if (view_match(mb, k, &v->msgs[i]))
				uids[n++] = v->msgs[i].uid;
		*uids_r = uids;
		*n_r = n;
		return STORE_OK;
	}
	struct query *q = xcalloc(1, sizeof(*q));
	q->mb = mb;
	q->recent.n = mb->n_recent;
	q->recent.r = mb->recent;
	buf_init(&q->sql, SEARCH_SQL_MAX);
	translate(q, k, a);
	emit(q, " ORDER BY m.uid");
	/* The blob row is joined only for the Date: keys. */
	char *where = arena_strdup(a, buf_ptr(&q->sql));
	buf_reset(&q->sql, 0);
	emit(q, "SELECT m.uid FROM message m");
	if (index_drives(k))
		emit(q, " INDEXED BY message_blob");
	emit(q, q->need_blob ? " JOIN blob b ON b.id = m.blob_id WHERE m.mailbox_id = ?1 AND " :
	                       " WHERE m.mailbox_id = ?1 AND ");
	emit(q, where);
	sqlite3_stmt *s = NULL;
	bool owned = false;
	if (q->overflow) {
		rc = store_fail(u, STORE_E_LIMIT, "search too complex");
		goto out;
	}
	/* The index is checked (ours, readable); messages stored since it was
	 * last filled are matched one by one (store_search_tail.c). */
	if (q->need_fts && (rc = index_ready_for_search(u)) < 0)
		goto out;
	/* Same criteria, same text: the statement is kept prepared. */
	if ((s = stmt_cached(u->acct, buf_ptr(&q->sql), &owned)) == NULL) {
		rc = store_dbfail(u, "search");
		goto out;
	}
	sqlite3_bind_int64(s, 1, mb->v->id);
	for (int i = 0; i < q->np; i++) {
		struct param *p = &q->p[i];
		if (p->type == P_INT)
			sqlite3_bind_int64(s, i + 2, p->i);
		else if (p->type == P_TEXT)
			sqlite3_bind_text(s, i + 2, p->s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_pointer(s, i + 2, (void *)p->set, uidset_ptr_type, NULL);
	}
	/* At most every message of the view matches. */
	size_t cap = mb->v->n + 1, n = 0;
	uint32_t *uids = arena_alloc(a, cap * sizeof(uint32_t));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap)
			break;
		uids[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_dbfail(u, "search");
		goto out;
	}
	*uids_r = uids;
	*n_r = n;
	rc = STORE_OK;
out:
	stmt_release(s, owned);
	buf_deinit(&q->sql);
	free(q);
	return rc;
}
