/* store_mailbox.c: mailbox names, create, delete, rename, subscriptions. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Length of the UTF-8 sequence at s (max n bytes), 0 if invalid or a
 * control character (C0, DEL, C1). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x20 || c == 0x7f)
		return 0;
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned cp;
	if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
	else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
	else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

int store_name_normalize(const char *name, char *out)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == STORE_DELIM)
		n--;    /* RFC 9051 6.3.4: "foo/" creates "foo" */
	if (n == 0 || n > STORE_NAME_MAX)
		return STORE_E_BADNAME;
	unsigned depth = 1;
	for (size_t i = 0; i < n;) {
		char c = name[i];
		if (c == '*' || c == '%')
			return STORE_E_BADNAME;
		if (c == STORE_DELIM) {
			if (i == 0 || name[i - 1] == STORE_DELIM || ++depth > STORE_NAME_DEPTH)
				return STORE_E_BADNAME;
		}
		size_t k = utf8_char((const unsigned char *)name + i, n - i);
		if (k == 0)
			return STORE_E_BADNAME;
		i += k;
	}
	memcpy(out, name, n);
	out[n] = '\0';
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == STORE_DELIM))
		memcpy(out, "INBOX", 5);
	return STORE_OK;
}

static int normalize(struct store_user *u, const char *name, char *out)
{
	if (store_name_normalize(name, out) < 0)
		return store_fail(u, STORE_E_BADNAME, "invalid mailbox name");
	return STORE_OK;
}

int mailbox_lookup(struct store_user *u, const char *name, int64_t *id_r, bool *noselect_r)
{
	sqlite3_stmt *s = stmt(u->acct, ST_MB_BY_NAME);
	if (s == NULL)
		return store_dbfail(u, "lookup");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(s, 0);
		if (noselect_r != NULL)
			*noselect_r = sqlite3_column_int(s, 1) != 0;
		sqlite3_reset(s);
		return STORE_OK;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_dbfail(u, "lookup");
	return store_fail(u, STORE_E_NOTFOUND, "no such mailbox");
}

int mailbox_insert(struct store_user *u, const char *name, unsigned special_use, int64_t *id_r)
{
	uint32_t uv = schema_next_uidvalidity(u->acct);
	sqlite3_stmt *s;
	if (uv == 0 || sqlite3_prepare_v2(u->acct->db,
	    "INSERT INTO mailbox(name, uidvalidity, uidnext, highestmodseq, special_use)"
	    " VALUES (?1, ?2, 1, 1, ?3)", -1, &s, NULL) != SQLITE_OK)
		return store_dbfail(u, "create");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, uv);
	sqlite3_bind_int(s, 3, (int)special_use);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_dbfail(u, "create");
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(u->acct->db);
	return STORE_OK;
}

/* Runs a one-off statement with up to two text and one integer binding. */
static int run(struct store_user *u, const char *sql, const char *t1, const char *t2, int64_t i3)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(u->acct->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_dbfail(u, "prepare");
	if (t1 != NULL)
		sqlite3_bind_text(s, 1, t1, -1, SQLITE_STATIC);
	if (t2 != NULL)
		sqlite3_bind_text(s, 2, t2, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, i3);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : store_dbfail(u, "update");
}

/* Creates every missing superior of name as a normal mailbox. */
static int create_superiors(struct store_user *u, const char *name)
{
	char buf[STORE_NAME_MAX + 1];
	for (const char *p = strchr(name, STORE_DELIM); p != NULL; p = strchr(p + 1, STORE_DELIM)) {
		memcpy(buf, name, (size_t)(p - name));
		buf[p - name] = '\0';
		int64_t id;
		int rc = mailbox_lookup(u, buf, &id, NULL);
		if (rc == STORE_E_NOTFOUND)
			rc = mailbox_insert(u, buf, 0, NULL);
		if (rc < 0)
			return rc;
	}
	return STORE_OK;
}

int store_mailbox_create(struct store_user *u, const char *name, unsigned special_use)
{
	char nm[STORE_NAME_MAX + 1];
	int rc = normalize(u, name, nm);
	if (rc < 0)
		return rc;
	special_use &= STORE_MB_SPECIAL_USE;
	if ((rc = txn_begin(u)) < 0)
		return rc;
	int64_t id;
	bool noselect = false;
	rc = mailbox_lookup(u, nm, &id, &noselect);
	if (rc == STORE_OK && !noselect) {
		txn_abort_clean(u);
		return store_fail(u, STORE_E_EXISTS, "mailbox already exists");
	}
	if (rc == STORE_OK) {
		/* A new incarnation of a \Noselect name. */
		rc = run(u, "UPDATE mailbox SET noselect = 0, uidvalidity = ?3 WHERE name = ?1", nm,
		         NULL, schema_next_uidvalidity(u->acct));
	} else if (rc == STORE_E_NOTFOUND) {
		rc = create_superiors(u, nm);
		if (rc == STORE_OK)
			rc = mailbox_insert(u, nm, special_use, NULL);
	}
	if (rc < 0) {
		txn_rollback(u);
		return rc;
	}
	return txn_commit(u);
}

static int has_children(struct store_user *u, const char *name, bool *yes)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(u->acct->db, "SELECT 1 FROM mailbox WHERE name > ?1 || '/'"
	                       " AND name < ?1 || '0' LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return store_dbfail(u, "children");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	*yes = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return STORE_OK;
}

/* Removes every message of the mailbox: blob references, quota, FTS rows
 * of blobs nobody uses any more. No tombstones: the name's incarnation
 * ends (a re-created mailbox gets a new UIDVALIDITY). */
static int mailbox_empty(struct store_user *u, int64_t id)
{
	static const char *const sql[] = {
		"UPDATE quota_usage SET"
		" bytes = bytes - (SELECT total(size) FROM message WHERE mailbox_id = ?3),"
		" messages = messages - (SELECT count(*) FROM message WHERE mailbox_id = ?3)",
		"UPDATE blob SET refs = refs - (SELECT count(*) FROM message m"
		" WHERE m.blob_id = blob.id AND m.mailbox_id = ?3)"
		" WHERE id IN (SELECT blob_id FROM message WHERE mailbox_id = ?3)",
		"DELETE FROM message WHERE mailbox_id = ?3",
		"DELETE FROM tombstone WHERE mailbox_id = ?3",
		"DELETE FROM keyword WHERE mailbox_id = ?3",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		int rc = run(u, sql[i], NULL, NULL, id);
		if (rc < 0)
			return rc;
	}
	return blob_collect_unused(u);
}

int store_mailbox_delete(struct store_user *u, const char *name)
{
	char nm[STORE_NAME_MAX + 1];
	int rc = normalize(u, name, nm);
	if (rc < 0)
		return rc;
	if (strcmp(nm, "INBOX") == 0)
		return store_fail(u, STORE_E_NOTALLOWED, "INBOX cannot be deleted");
	if ((rc = txn_begin(u)) < 0)
		return rc;
	int64_t id;
	bool noselect = false, children = false;
	if ((rc = mailbox_lookup(u, nm, &id, &noselect)) < 0 ||
	    (rc = has_children(u, nm, &children)) < 0) {
		txn_abort_clean(u);
		return rc;
	}
	if (children && noselect) {
		txn_abort_clean(u);
		return store_fail(u, STORE_E_HASCHILDREN, "mailbox has children");
	}
	rc = mailbox_empty(u, id);
	if (rc == STORE_OK && children)
		rc = run(u, "UPDATE mailbox SET noselect = 1 WHERE id = ?3", NULL, NULL, id);
	else if (rc == STORE_OK)
		rc = run(u, "DELETE FROM mailbox WHERE id = ?3", NULL, NULL, id);
	if (rc < 0) {
		txn_rollback(u);
		return rc;
	}
	struct view *v = view_find_loaded(u->acct, id);
	if (v != NULL)
		view_note_gone(v, u);
	return txn_commit(u);
}

static int rename_inbox(struct store_user *u, const char *to)
{
	int64_t inbox, dest;
	int rc = mailbox_lookup(u, "INBOX", &inbox, NULL);
	if (rc < 0 || (rc = mailbox_insert(u, to, 0, &dest)) < 0)
		return rc;
	struct view *v = view_get(u, inbox);
	if (v == NULL)
		return STORE_E_INTERNAL;
	uint64_t modseq;
	if ((rc = mailbox_bump_modseq(u, v, &modseq)) < 0)
		goto out;
	static const char *const sql[] = {
		"UPDATE mailbox SET uidnext = (SELECT uidnext FROM mailbox WHERE name = 'INBOX'),"
		" highestmodseq = (SELECT highestmodseq FROM mailbox WHERE name = 'INBOX')"
		" WHERE name = ?1",
		"INSERT INTO keyword(mailbox_id, bit, name) SELECT (SELECT id FROM mailbox WHERE"
		" name = ?1), bit, name FROM keyword WHERE mailbox_id = ?3",
		"INSERT OR REPLACE INTO tombstone(mailbox_id, uid, modseq)"
		" SELECT mailbox_id, uid, (SELECT highestmodseq FROM mailbox WHERE id = ?3)"
		" FROM message WHERE mailbox_id = ?3",
		"UPDATE message SET mailbox_id = (SELECT id FROM mailbox WHERE name = ?1)"
		" WHERE mailbox_id = ?3",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == STORE_OK; i++)
		rc = run(u, sql[i], to, NULL, inbox);
	while (rc == STORE_OK && v->n > 0)
		view_note_expunged(v, u, v->n - 1);
out:
	view_release(v);
	return rc;
}

int store_mailbox_rename(struct store_user *u, const char *from, const char *to)
{
	char f[STORE_NAME_MAX + 1], t[STORE_NAME_MAX + 1];
	int rc;
	if ((rc = normalize(u, from, f)) < 0 || (rc = normalize(u, to, t)) < 0)
		return rc;
	size_t fl = strlen(f);
	if (strcmp(t, "INBOX") == 0 ||
	    (strncmp(t, f, fl) == 0 && (t[fl] == '\0' || t[fl] == STORE_DELIM)))
		return store_fail(u, STORE_E_NOTALLOWED, "cannot rename a mailbox to that name");
	if ((rc = txn_begin(u)) < 0)
		return rc;
	int64_t id;
	if ((rc = mailbox_lookup(u, f, &id, NULL)) < 0) {
		txn_abort_clean(u);
		return rc;
	}
	if ((rc = mailbox_lookup(u, t, &id, NULL)) != STORE_E_NOTFOUND) {
		txn_abort_clean(u);
		return rc < 0 ? rc : store_fail(u, STORE_E_EXISTS, "mailbox already exists");
	}
	rc = create_superiors(u, t);
	if (rc == STORE_OK && strcmp(f, "INBOX") == 0) {
		rc = rename_inbox(u, t);
	} else if (rc == STORE_OK) {
		/* The mailbox and its children: "f" and "f/..." */
		static const char *const sql[] = {
			"UPDATE mailbox SET name = ?2 || substr(name, length(?1) + 1)"
			" WHERE name = ?1 OR (name > ?1 || '/' AND name < ?1 || '0')",
			"UPDATE OR REPLACE subscription SET name = ?2 || substr(name, length(?1) + 1)"
			" WHERE name = ?1 OR (name > ?1 || '/' AND name < ?1 || '0')",
		};
		for (size_t i = 0; i < 2 && rc == STORE_OK; i++)
			rc = run(u, sql[i], f, t, 0);
	}
	if (rc < 0) {
		txn_rollback(u);
		return rc;
	}
	if ((rc = txn_commit(u)) < 0)
		return rc;
	/* Loaded views keep their id; refresh their names. */
	for (struct view *v = u->acct->views; v != NULL; v = v->next) {
		sqlite3_stmt *s = stmt(u->acct, ST_MB_BY_ID);
		if (s == NULL)
			break;
		sqlite3_bind_int64(s, 1, v->id);
		if (sqlite3_step(s) == SQLITE_ROW) {
			free(v->name);
			v->name = xstrdup((const char *)sqlite3_column_text(s, 0));
		}
		sqlite3_reset(s);
	}
	return STORE_OK;
}

int store_mailbox_subscribe(struct store_user *u, const char *name, bool on)
{
	char nm[STORE_NAME_MAX + 1];
	int rc = normalize(u, name, nm);
	if (rc < 0)
		return rc;
	return run(u, on ? "INSERT OR IGNORE INTO subscription(name) VALUES (?1)"
	                 : "DELETE FROM subscription WHERE name = ?1", nm, NULL, 0);
}
