/* store_search_tail.c: text search of the messages the index does not
 * have yet (blob ids above its `upto`).
 *
 * Indexing a message costs a millisecond or more of FTS5 work, and a
 * search that had to index the newest messages first did it on the
 * session's thread, in small transactions (each a new FTS5 segment to
 * merge). Matching those few messages directly costs a parse of each:
 * the search stays exact and the background indexer does the indexing.
 *
 * Same answers as the index: a needle of three characters or more is
 * cut into trigrams by FTS5's own trigram tokenizer, so case folding is
 * SQLite's, and matches where the needle's trigrams are consecutive in
 * the text's (what the index's phrase query means). Shorter needles and
 * HEADER fields are matched as the index's rows are (store_search.c). */
#include "store/store_internal.h"

#include "lib/arena.h"
#include "mime/header.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRIGRAM_MAX 16     /* bytes of one folded trigram (3 code points) */

/* The searchable columns of the tail's messages, kept between searches:
 * a client that searches again (a phone refreshing a filter) would parse
 * every unindexed message again, and a TEXT search asks for several
 * columns of one message in a row. As many as the tail can hold, within
 * a byte budget (the newest entry is kept even if alone above it). */
#define TAIL_CACHE_N SEARCH_TAIL_MAX
#define TAIL_CACHE_BYTES (512 * 1024)

enum { COL_FROM, COL_TO, COL_CC, COL_BCC, COL_SUBJECT, COL_HEADERS, COL_BODY, COL_N };

struct tail_entry {
	int64_t blob_id;
	char *mem;                  /* the columns, one allocation */
	size_t bytes;
	const char *col[COL_N];     /* NULL: the message has no such text */
};

struct search_tail {
	sqlite3 *db;
	fts5_tokenizer api;
	Fts5Tokenizer *tok;
	bool tried;
	struct arena *a;            /* scratch for one summary */
	struct tail_entry cache[TAIL_CACHE_N];   /* a ring, oldest at head */
	size_t head, n, bytes;
};

/* A needle's trigrams: counted first, then stored. */
struct trigrams {
	size_t n, cap;
	unsigned char *len;
	char (*t)[TRIGRAM_MAX];
};

/* A scan of a text's trigrams for a needle's. Matches in progress are
 * the positions reached in the needle: at most one per needle trigram. */
struct scan {
	const struct trigrams *needle;
	size_t *at, n_at;
	bool found;
};

static int tokenizer_of(struct search_tail *t)
{
	if (t->tok != NULL)
		return 0;
	if (t->tried)
		return -1;
	t->tried = true;
	fts5_api *api = NULL;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(t->db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(s);
	sqlite3_finalize(s);
	void *ud = NULL;
	if (api == NULL || api->xFindTokenizer(api, "trigram", &ud, &t->api) != SQLITE_OK ||
	    t->api.xCreate(ud, NULL, 0, &t->tok) != SQLITE_OK) {
		t->tok = NULL;
		return -1;
	}
	return 0;
}

static int collect(void *ctx, int flags, const char *tok, int n, int start, int end)
{
	struct trigrams *g = ctx;
	if (n <= 0 || n > TRIGRAM_MAX)
		return SQLITE_ERROR;
	if (g->n < g->cap) {
		memcpy(g->t[g->n], tok, (size_t)n);
		g->len[g->n] = (unsigned char)n;
	}
	g->n++;
	return SQLITE_OK;
}

static void trigrams_free(void *p)
{
	struct trigrams *g = p;
	free(g->len);
	free(g->t);
	free(g);
}

static bool same(const struct trigrams *g, size_t i, const char *tok, int n)
{
	return g->len[i] == n && memcmp(g->t[i], tok, (size_t)n) == 0;
}

static int scan_one(void *ctx, int flags, const char *tok, int n, int start, int end)
{
	struct scan *sc = ctx;
	const struct trigrams *g = sc->needle;
	size_t keep = 0;
	for (size_t i = 0; i < sc->n_at; i++)
		if (same(g, sc->at[i], tok, n))
			sc->at[keep++] = sc->at[i] + 1;
	sc->n_at = keep;
	if (same(g, 0, tok, n))
		sc->at[sc->n_at++] = 1;
	for (size_t i = 0; i < sc->n_at; i++)
		if (sc->at[i] == g->n) {
			sc->found = true;
			return SQLITE_DONE;   /* stops the tokenizer */
		}
	return SQLITE_OK;
}

/* The needle's trigrams, kept with the statement while it runs. */
static const struct trigrams *needle_of(struct search_tail *t, sqlite3_context *c,
                                        sqlite3_value **v, int arg)
{
	struct trigrams *g = sqlite3_get_auxdata(c, arg);
	if (g != NULL)
		return g;
	const char *needle = (const char *)sqlite3_value_text(v[arg]);
	if (needle == NULL || tokenizer_of(t) < 0)
		return NULL;
	struct trigrams count = { 0 };
	int n = (int)strlen(needle);
	if (t->api.xTokenize(t->tok, &count, FTS5_TOKENIZE_QUERY, needle, n, collect) != SQLITE_OK ||
	    count.n == 0)
		return NULL;
	g = xcalloc(1, sizeof(*g));
	g->cap = count.n;
	g->len = xmalloc(g->cap);
	g->t = xmalloc(g->cap * sizeof(*g->t));
	if (t->api.xTokenize(t->tok, g, FTS5_TOKENIZE_QUERY, needle, n, collect) != SQLITE_OK ||
	    g->n != g->cap) {
		trigrams_free(g);
		return NULL;
	}
	/* Kept by SQLite for the next rows (or freed at once if it cannot). */
	sqlite3_set_auxdata(c, arg, g, trigrams_free);
	return sqlite3_get_auxdata(c, arg);
}

static bool trigram_has(struct search_tail *t, const struct trigrams *g, const char *text)
{
	if (text == NULL)
		return false;
	struct scan sc = { .needle = g, .at = xmalloc(g->n * sizeof(size_t)) };
	t->api.xTokenize(t->tok, &sc, FTS5_TOKENIZE_DOCUMENT, text, (int)strlen(text), scan_one);
	free(sc.at);
	return sc.found;
}

static void cache_evict_oldest(struct search_tail *t)
{
	struct tail_entry *e = &t->cache[t->head];
	t->bytes -= e->bytes;
	free(e->mem);
	memset(e, 0, sizeof(*e));
	t->head = (t->head + 1) % TAIL_CACHE_N;
	t->n--;
}

/* Copies the searchable columns of sum into the cache; returns the entry. */
static const struct tail_entry *cache_add(struct search_tail *t, int64_t id,
                                          const struct store_summary *sum)
{
	const char *src[COL_N] = { sum->from, sum->to, sum->cc, sum->bcc, sum->subject,
	                           sum->headers, sum->text };
	size_t len[COL_N], bytes = 0;
	for (int i = 0; i < COL_N; i++) {
		len[i] = src[i] != NULL ? strlen(src[i]) + 1 : 0;
		bytes += len[i];
	}
	while (t->n > 0 && (t->n == TAIL_CACHE_N || t->bytes + bytes > TAIL_CACHE_BYTES))
		cache_evict_oldest(t);
	struct tail_entry *e = &t->cache[(t->head + t->n) % TAIL_CACHE_N];
	e->blob_id = id;
	e->mem = xmalloc(bytes > 0 ? bytes : 1);
	e->bytes = bytes;
	char *p = e->mem;
	for (int i = 0; i < COL_N; i++) {
		e->col[i] = NULL;
		if (src[i] != NULL) {
			memcpy(p, src[i], len[i]);
			e->col[i] = p;
			p += len[i];
		}
	}
	t->n++;
	t->bytes += bytes;
	return e;
}

/* The columns of the blob (args blob_id, hash, size, inline, data at
 * 0..4), as the indexer makes its row. NULL: unreadable (the index has an
 * empty row for it too). */
static const struct tail_entry *summary_of(struct search_tail *t, struct store_account *acct,
                                           sqlite3_value **v)
{
	int64_t id = sqlite3_value_int64(v[0]);
	for (size_t i = 0; i < t->n; i++) {
		const struct tail_entry *e = &t->cache[(t->head + i) % TAIL_CACHE_N];
		if (e->blob_id == id)
			return e;
	}
	if (t->a == NULL)
		t->a = arena_new(64 * 1024);
	struct body b;
	memset(&b, 0, sizeof(b));
	const char *hash = (const char *)sqlite3_value_text(v[1]);
	if (sqlite3_value_int(v[3])) {
		b.data = sqlite3_value_blob(v[4]);
		b.len = (size_t)sqlite3_value_bytes(v[4]);
		if (b.data == NULL && b.len > 0)
			return NULL;
	} else if (hash == NULL ||
	           blob_map_file(acct->dir, hash, (uint64_t)sqlite3_value_int64(v[2]), &b) < 0) {
		return NULL;
	}
	struct store_summary sum;
	memset(&sum, 0, sizeof(sum));
	store_summarize(b.data != NULL ? b.data : "", b.len, t->a, &sum);
	body_release(&b);
	const struct tail_entry *e = cache_add(t, id, &sum);
	arena_reset(t->a);   /* the entry holds copies */
	return e;
}

static const char *column(const struct tail_entry *e, const char *name, size_t len)
{
	static const char *const names[COL_N] = { "hfrom", "hto", "hcc", "hbcc", "subject",
	                                          "headers", "body" };
	for (size_t i = 0; i < COL_N; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return e->col[i];
	return NULL;
}

/* mk_tail_text(blob_id, hash, size, inline, data, cols, needle): one of
 * the columns ("subject", "hfrom hto"...) contains needle. */
static void fn_tail_text(sqlite3_context *c, int argc, sqlite3_value **v)
{
	struct store_account *acct = sqlite3_user_data(c);
	struct search_tail *t = acct->tail;
	const char *cols = (const char *)sqlite3_value_text(v[5]);
	const char *needle = (const char *)sqlite3_value_text(v[6]);
	const struct tail_entry *s = summary_of(t, acct, v);
	if (s == NULL || cols == NULL || needle == NULL) {
		sqlite3_result_int(c, 0);
		return;
	}
	const struct trigrams *g = NULL;
	if (search_needs_trigrams(needle) && (g = needle_of(t, c, v, 6)) == NULL) {
		sqlite3_result_error(c, "cannot cut the search text into trigrams", -1);
		return;
	}
	int found = 0;
	while (*cols && !found) {
		size_t len = strcspn(cols, " ");
		const char *text = column(s, cols, len);
		found = g != NULL ? trigram_has(t, g, text) : search_icontains(text, needle);
		cols += len;
		cols += strspn(cols, " ");
	}
	sqlite3_result_int(c, found);
}

/* mk_tail_header(blob_id, hash, size, inline, data, field, needle). */
static void fn_tail_header(sqlite3_context *c, int argc, sqlite3_value **v)
{
	struct store_account *acct = sqlite3_user_data(c);
	const struct tail_entry *s = summary_of(acct->tail, acct, v);
	const char *field = (const char *)sqlite3_value_text(v[5]);
	const char *needle = (const char *)sqlite3_value_text(v[6]);
	const char *hdr = s != NULL ? s->col[COL_HEADERS] : NULL;
	sqlite3_result_int(c, hdr != NULL && field != NULL && needle != NULL &&
	                      search_header_has(hdr, strlen(hdr), field, needle));
}

int search_tail_register(struct store_account *acct)
{
	acct->tail = calloc(1, sizeof(*acct->tail));
	if (acct->tail == NULL)
		return -1;
	acct->tail->db = acct->db;
	if (sqlite3_create_function_v2(acct->db, "mk_tail_text", 7, SQLITE_UTF8, acct, fn_tail_text,
	                               NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(acct->db, "mk_tail_header", 7, SQLITE_UTF8, acct,
	                               fn_tail_header, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

void search_tail_free(struct store_account *acct)
{
	struct search_tail *t = acct->tail;
	if (t == NULL)
		return;
	if (t->tok != NULL)
		t->api.xDelete(t->tok);
	while (t->n > 0)
		cache_evict_oldest(t);
	arena_free(&t->a);
	free(t);
	acct->tail = NULL;
}
