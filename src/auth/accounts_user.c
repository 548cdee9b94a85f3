/* accounts: users (accounts), their quota limits and admin attribute. */
#include "auth/accounts_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/address.h"
#include "auth/password.h"
#include "lib/arena.h"

#define ACCOUNT_COLUMNS \
	"id, address, password_hash, created, disabled, quota_bytes, quota_messages, admin"

static void row_to_account(sqlite3_stmt *stmt, struct arena *a, struct account *out)
{
	out->id = sqlite3_column_int64(stmt, 0);
	out->address = arena_strdup(a, (const char *)sqlite3_column_text(stmt, 1));
	out->password_hash = arena_strdup(a, (const char *)sqlite3_column_text(stmt, 2));
	out->created = sqlite3_column_int64(stmt, 3);
	out->disabled = sqlite3_column_int(stmt, 4) != 0;
	out->quota_bytes = (uint64_t)sqlite3_column_int64(stmt, 5);
	out->quota_messages = (uint64_t)sqlite3_column_int64(stmt, 6);
	out->admin = sqlite3_column_int(stmt, 7) != 0;
}

static int get_one(struct accounts *acc, struct arena *a, sqlite3_stmt *stmt,
                   struct account *out, const char *what, const char **error_r)
{
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		row_to_account(stmt, a, out);
	if (stmt == acc->by_id) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	} else {
		sqlite3_finalize(stmt);
	}
	if (rc == SQLITE_ROW)
		return ACCOUNTS_OK;
	if (rc == SQLITE_DONE)
		return acc_fail(error_r, ACCOUNTS_ERR_NOT_FOUND, "no account %s", what);
	return acc_db_fail(acc, error_r, "reading the account");
}

int accounts_user_get(struct accounts *acc, struct arena *a, const char *address,
                      struct account *out, const char **error_r)
{
	char addr[ADDRESS_MAX + 1];
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	return get_one(acc, a,
	               acc_prepare(acc, error_r,
	                           "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE address = ?",
	                           "t", addr),
	               out, addr, error_r);
}

int accounts_user_get_by_id(struct accounts *acc, struct arena *a, int64_t id,
                            struct account *out, const char **error_r)
{
	char what[32];
	snprintf(what, sizeof(what), "with id %lld", (long long)id);
	if (acc->by_id == NULL &&
	    sqlite3_prepare_v3(acc->db, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?", -1,
	                       SQLITE_PREPARE_PERSISTENT, &acc->by_id, NULL) != SQLITE_OK)
		return acc_db_fail(acc, error_r, "prepare");
	sqlite3_bind_int64(acc->by_id, 1, id);
	return get_one(acc, a, acc->by_id, out, what, error_r);
}

int accounts_user_list(struct accounts *acc, struct arena *a, struct account **list_r,
                       size_t *n_r, const char **error_r)
{
	sqlite3_stmt *stmt = acc_prepare(
		acc, error_r,
		"SELECT " ACCOUNT_COLUMNS " FROM accounts"
		" ORDER BY substr(address, instr(address, '@') + 1), address", "");
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	size_t n = 0, cap = 16;
	struct account *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			struct account *bigger = arena_alloc(a, 2 * cap * sizeof(*list));
			memcpy(bigger, list, n * sizeof(*list));
			list = bigger;
			cap *= 2;
		}
		row_to_account(stmt, a, &list[n++]);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return acc_db_fail(acc, error_r, "listing accounts");
	*list_r = list;
	*n_r = n;
	return ACCOUNTS_OK;
}

int accounts_user_add(struct accounts *acc, const char *address, const char *password,
                      size_t len, int64_t *id_r, const char **error_r)
{
	char addr[ADDRESS_MAX + 1], hash[PASSWORD_HASH_MAX];
	const char *why;
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	/* Hash before taking the write lock: argon2 takes a while. */
	if (password_hash(password, len, hash, &why) < 0)
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "%s", why);
	if (acc_begin(acc, error_r) < 0)
		return ACCOUNTS_ERR_INTERNAL;
	int64_t domain_id, other;
	rc = acc_lookup_id(acc, "SELECT id FROM accounts WHERE address = ?", addr, &other, error_r);
	if (rc == ACCOUNTS_OK)
		rc = acc_fail(error_r, ACCOUNTS_ERR_EXISTS, "account %s exists already", addr);
	if (rc != ACCOUNTS_ERR_NOT_FOUND)
		goto out;
	rc = acc_lookup_id(acc, "SELECT id FROM aliases WHERE source = ?", addr, &other, error_r);
	if (rc == ACCOUNTS_OK)
		rc = acc_fail(error_r, ACCOUNTS_ERR_EXISTS, "%s is an alias; delete the alias first",
		              addr);
	if (rc != ACCOUNTS_ERR_NOT_FOUND)
		goto out;
	if ((rc = acc_domain_ensure(acc, address_domain(addr), &domain_id, error_r)) < 0)
		goto out;
	sqlite3_stmt *stmt = acc_prepare(
		acc, error_r,
		"INSERT INTO accounts (address, domain_id, password_hash, created) VALUES (?, ?, ?, ?)",
		"titi", addr, domain_id, hash, (int64_t)time(NULL));
	if (stmt == NULL || acc_exec_stmt(stmt) != 0) {
		rc = stmt == NULL ? ACCOUNTS_ERR_INTERNAL : acc_db_fail(acc, error_r, "adding the account");
		goto out;
	}
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(acc->db);
	return acc_commit(acc, error_r) < 0 ? ACCOUNTS_ERR_INTERNAL : ACCOUNTS_OK;
out:
	acc_rollback(acc);
	return rc;
}

/* Run an UPDATE/DELETE on one account; NOT_FOUND when it touched no row. */
static int change_one(struct accounts *acc, sqlite3_stmt *stmt, const char *what,
                      const char **error_r)
{
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	if (acc_exec_stmt(stmt) != 0)
		return acc_db_fail(acc, error_r, "updating the account");
	if (sqlite3_changes(acc->db) == 0)
		return acc_fail(error_r, ACCOUNTS_ERR_NOT_FOUND, "no account %s", what);
	return ACCOUNTS_OK;
}

int accounts_user_passwd(struct accounts *acc, const char *address, const char *password,
                         size_t len, const char **error_r)
{
	char addr[ADDRESS_MAX + 1], hash[PASSWORD_HASH_MAX];
	const char *why;
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	if (password_hash(password, len, hash, &why) < 0)
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "%s", why);
	return change_one(acc,
	                  acc_prepare(acc, error_r,
	                              "UPDATE accounts SET password_hash = ? WHERE address = ?", "tt",
	                              hash, addr),
	                  addr, error_r);
}

int accounts_user_set_hash(struct accounts *acc, int64_t id, const char *encoded,
                           const char **error_r)
{
	if (strncmp(encoded, "$argon2", 7) != 0)
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "not an argon2 hash");
	char what[32];
	snprintf(what, sizeof(what), "with id %lld", (long long)id);
	return change_one(acc,
	                  acc_prepare(acc, error_r,
	                              "UPDATE accounts SET password_hash = ? WHERE id = ?", "ti",
	                              encoded, id),
	                  what, error_r);
}

int accounts_user_del(struct accounts *acc, const char *address, unsigned *aliases_r,
                      const char **error_r)
{
	char addr[ADDRESS_MAX + 1];
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	if (acc_begin(acc, error_r) < 0)
		return ACCOUNTS_ERR_INTERNAL;
	int64_t id;
	rc = acc_lookup_id(acc, "SELECT id FROM accounts WHERE address = ?", addr, &id, error_r);
	if (rc == ACCOUNTS_ERR_NOT_FOUND)
		rc = acc_fail(error_r, rc, "no account %s", addr);
	if (rc < 0)
		goto out;
	/* Aliases go by ON DELETE CASCADE; count them first to tell the user. */
	sqlite3_stmt *stmt = acc_prepare(acc, error_r,
	                                 "SELECT count(*) FROM aliases WHERE target_id = ?", "i", id);
	if (stmt == NULL) {
		rc = ACCOUNTS_ERR_INTERNAL;
		goto out;
	}
	unsigned n_aliases = sqlite3_step(stmt) == SQLITE_ROW ? (unsigned)sqlite3_column_int(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	stmt = acc_prepare(acc, error_r, "DELETE FROM accounts WHERE id = ?", "i", id);
	if ((rc = change_one(acc, stmt, addr, error_r)) < 0)
		goto out;
	if (acc_commit(acc, error_r) < 0)
		return ACCOUNTS_ERR_INTERNAL;
	if (aliases_r != NULL)
		*aliases_r = n_aliases;
	return ACCOUNTS_OK;
out:
	acc_rollback(acc);
	return rc;
}

/* One boolean column of an account (sql: "UPDATE ... SET col = ? WHERE
 * address = ?"). */
static int set_bool(struct accounts *acc, const char *address, const char *sql, bool value,
                    const char **error_r)
{
	char addr[ADDRESS_MAX + 1];
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	return change_one(acc, acc_prepare(acc, error_r, sql, "it", (int64_t)value, addr), addr,
	                  error_r);
}

int accounts_user_set_disabled(struct accounts *acc, const char *address, bool disabled,
                               const char **error_r)
{
	return set_bool(acc, address, "UPDATE accounts SET disabled = ? WHERE address = ?",
	                disabled, error_r);
}

int accounts_user_set_admin(struct accounts *acc, const char *address, bool admin,
                            const char **error_r)
{
	return set_bool(acc, address, "UPDATE accounts SET admin = ? WHERE address = ?", admin,
	                error_r);
}

int accounts_quota_set(struct accounts *acc, const char *address, uint64_t bytes,
                       uint64_t messages, const char **error_r)
{
	char addr[ADDRESS_MAX + 1];
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	if (bytes > INT64_MAX || messages > INT64_MAX)
		return acc_fail(error_r, ACCOUNTS_ERR_INVALID, "quota value too large");
	return change_one(acc,
	                  acc_prepare(acc, error_r,
	                              "UPDATE accounts SET quota_bytes = ?, quota_messages = ?"
	                              " WHERE address = ?",
	                              "iit", (int64_t)bytes, (int64_t)messages, addr),
	                  addr, error_r);
}

int accounts_quota_get(struct accounts *acc, const char *address, uint64_t *bytes_r,
                       uint64_t *messages_r, const char **error_r)
{
	struct arena *a = arena_new(0);
	struct account acct;
	int rc = accounts_user_get(acc, a, address, &acct, error_r);
	if (rc == ACCOUNTS_OK) {
		*bytes_r = acct.quota_bytes;
		*messages_r = acct.quota_messages;
	}
	arena_free(&a);
	return rc;
}
