/*
 * store_stmt_cache.c: statements whose SQL text is built at run time,
 * kept prepared per connection. Preparing is most of the cost of a small
 * query (parsing and planning a SEARCH or a FETCH's column list takes
 * longer than running it over ten messages), and the same few texts come
 * back all the time: the parameters change, the text does not.
 *
 * The slots ST_CACHE_FIRST..ST_CACHE_LAST of the account hold them, the
 * most recently used first; the least recently used is finalized when a
 * new text comes. schema_close() finalizes them with the others.
 */
#include "store/store_internal.h"

#include <string.h>

/* Move slot i to the front. */
static void to_front(struct store_account *acct, int i)
{
	sqlite3_stmt *s = acct->st[i];
	memmove(&acct->st[ST_CACHE_FIRST + 1], &acct->st[ST_CACHE_FIRST],
	        (size_t)(i - ST_CACHE_FIRST) * sizeof(s));
	acct->st[ST_CACHE_FIRST] = s;
}

sqlite3_stmt *stmt_cached(struct store_account *acct, const char *sql, bool *owned_r)
{
	*owned_r = false;
	bool in_use = false;
	for (int i = ST_CACHE_FIRST; i <= ST_CACHE_LAST; i++) {
		sqlite3_stmt *s = acct->st[i];
		if (s == NULL)
			break;
		if (strcmp(sqlite3_sql(s), sql) != 0)
			continue;
		/* Still stepping for someone else: a private copy this time. */
		if (sqlite3_stmt_busy(s)) {
			in_use = true;
			break;
		}
		to_front(acct, i);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	sqlite3_stmt *s;
	if (sqlite3_prepare_v3(acct->db, sql, -1, in_use ? 0 : SQLITE_PREPARE_PERSISTENT, &s,
	                       NULL) != SQLITE_OK)
		return NULL;
	if (in_use) {
		*owned_r = true;
		return s;
	}
	sqlite3_finalize(acct->st[ST_CACHE_LAST]);
	acct->st[ST_CACHE_LAST] = s;
	to_front(acct, ST_CACHE_LAST);
	return s;
}

void stmt_release(sqlite3_stmt *s, bool owned)
{
	if (owned)
		sqlite3_finalize(s);
	else if (s != NULL)
		sqlite3_reset(s);
}

sqlite3_stmt *stmt_take(struct store_account *acct, const char *sql)
{
	for (int i = ST_CACHE_FIRST; i <= ST_CACHE_LAST && acct->st[i] != NULL; i++) {
		sqlite3_stmt *s = acct->st[i];
		if (strcmp(sqlite3_sql(s), sql) != 0 || sqlite3_stmt_busy(s))
			continue;
		memmove(&acct->st[i], &acct->st[i + 1],
		        (size_t)(ST_CACHE_LAST - i) * sizeof(s));
		acct->st[ST_CACHE_LAST] = NULL;
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	sqlite3_stmt *s;
	if (sqlite3_prepare_v3(acct->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

void stmt_give(struct store_account *acct, sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	/* Another one of the same text came meanwhile: keep one. */
	for (int i = ST_CACHE_FIRST; i <= ST_CACHE_LAST && acct->st[i] != NULL; i++) {
		if (strcmp(sqlite3_sql(acct->st[i]), sqlite3_sql(s)) == 0) {
			sqlite3_finalize(s);
			return;
		}
	}
	sqlite3_finalize(acct->st[ST_CACHE_LAST]);
	acct->st[ST_CACHE_LAST] = s;
	to_front(acct, ST_CACHE_LAST);
}
