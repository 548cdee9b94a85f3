/* store_keywords.c: the per-mailbox keyword table (name <-> bit). */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int keywords_load(struct store_user *u, struct view *v)
{
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++) {
		free(v->kw[i]);
		v->kw[i] = NULL;
	}
	/* Prepared once: every append to a mailbox nobody has selected loads
	 * its keywords. */
	sqlite3_stmt *s = stmt(u->acct, ST_KW_LIST);
	if (s == NULL)
		return store_dbfail(u, "keywords");
	sqlite3_bind_int64(s, 1, v->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int bit = sqlite3_column_int(s, 0);
		if (bit >= 0 && bit < STORE_KEYWORDS_MAX)
			v->kw[bit] = xstrdup((const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	return STORE_OK;
}

/* IMAP atoms without the flag specials: the protocol checks syntax, the
 * store refuses what could never be sent back. */
static bool valid_keyword(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > STORE_KEYWORD_LEN || k[0] == '\\')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"]", c) != NULL)
			return false;
	}
	return true;
}

int keywords_mask(struct store_user *u, struct view *v, const char *const *names, size_t n,
                  bool create, uint64_t *mask_r)
{
	uint64_t mask = 0;
	for (size_t i = 0; i < n; i++) {
		int bit = -1, free_bit = -1;
		for (int b = 0; b < STORE_KEYWORDS_MAX; b++) {
			if (v->kw[b] == NULL) {
				if (free_bit < 0)
					free_bit = b;
			} else if (strcasecmp(v->kw[b], names[i]) == 0) {
				bit = b;
				break;
			}
		}
		if (bit < 0 && !create)
			continue;
		if (bit < 0) {
			if (!valid_keyword(names[i]))
				return store_fail(u, STORE_E_BADNAME, "invalid keyword");
			if (free_bit < 0)
				return store_fail(u, STORE_E_LIMIT, "too many keywords in this mailbox");
			sqlite3_stmt *s = stmt(u->acct, ST_KW_INSERT);
			if (s == NULL)
				return store_dbfail(u, "keyword");
			sqlite3_bind_int64(s, 1, v->id);
			sqlite3_bind_int(s, 2, free_bit);
			sqlite3_bind_text(s, 3, names[i], -1, SQLITE_STATIC);
			if (sqlite3_step(s) != SQLITE_DONE)
				return store_dbfail(u, "keyword");
			v->kw[free_bit] = xstrdup(names[i]);
			view_note_keyword(v, u);
			bit = free_bit;
		}
		mask |= (uint64_t)1 << bit;
	}
	*mask_r = mask;
	return STORE_OK;
}
