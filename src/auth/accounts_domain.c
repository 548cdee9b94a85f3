/* accounts: domains. */
#include "auth/accounts_int.h"

#include <string.h>
#include <time.h>

#include "auth/address.h"
#include "lib/arena.h"

int acc_domain_ensure(struct accounts *acc, const char *domain, int64_t *id_r,
                      const char **error_r)
{
	int rc = acc_lookup_id(acc, "SELECT id FROM domains WHERE name = ?", domain, id_r, error_r);
	if (rc != ACCOUNTS_ERR_NOT_FOUND)
		return rc;
	sqlite3_stmt *stmt = acc_prepare(acc, error_r,
	                                 "INSERT INTO domains (name, created) VALUES (?, ?)", "ti",
	                                 domain, (int64_t)time(NULL));
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	if (acc_exec_stmt(stmt) != 0)
		return acc_db_fail(acc, error_r, "adding the domain");
	*id_r = sqlite3_last_insert_rowid(acc->db);
	return ACCOUNTS_OK;
}

int accounts_domain_add(struct accounts *acc, const char *domain, const char **error_r)
{
	char name[ADDRESS_DOMAIN_MAX + 1];
	int rc = acc_normalize_domain(domain, name, error_r);
	if (rc < 0)
		return rc;
	sqlite3_stmt *stmt = acc_prepare(acc, error_r,
	                                 "INSERT INTO domains (name, created) VALUES (?, ?)", "ti",
	                                 name, (int64_t)time(NULL));
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	rc = acc_exec_stmt(stmt);
	if (rc == SQLITE_CONSTRAINT)
		return acc_fail(error_r, ACCOUNTS_ERR_EXISTS, "domain %s exists already", name);
	if (rc != 0)
		return acc_db_fail(acc, error_r, "adding the domain");
	return ACCOUNTS_OK;
}

static int count_in_domain(struct accounts *acc, const char *sql, int64_t domain_id,
                           int64_t *n_r, const char **error_r)
{
	sqlite3_stmt *stmt = acc_prepare(acc, error_r, sql, "i", domain_id);
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	int rc = sqlite3_step(stmt);
	*n_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : acc_db_fail(acc, error_r, "counting");
}

int accounts_domain_del(struct accounts *acc, const char *domain, const char **error_r)
{
	char name[ADDRESS_DOMAIN_MAX + 1];
	int64_t id, n_accounts, n_aliases;
	int rc = acc_normalize_domain(domain, name, error_r);
	if (rc < 0)
		return rc;
	if (acc_begin(acc, error_r) < 0)
		return ACCOUNTS_ERR_INTERNAL;
	rc = acc_lookup_id(acc, "SELECT id FROM domains WHERE name = ?", name, &id, error_r);
	if (rc == ACCOUNTS_ERR_NOT_FOUND)
		rc = acc_fail(error_r, rc, "no domain %s", name);
	if (rc < 0)
		goto out;
	if ((rc = count_in_domain(acc, "SELECT count(*) FROM accounts WHERE domain_id = ?", id,
	                          &n_accounts, error_r)) < 0 ||
	    (rc = count_in_domain(acc, "SELECT count(*) FROM aliases WHERE domain_id = ?", id,
	                          &n_aliases, error_r)) < 0)
		goto out;
	if (n_accounts > 0 || n_aliases > 0) {
		rc = acc_fail(error_r, ACCOUNTS_ERR_IN_USE,
		              "domain %s still has %lld account(s) and %lld alias(es); delete them first",
		              name, (long long)n_accounts, (long long)n_aliases);
		goto out;
	}
	sqlite3_stmt *stmt = acc_prepare(acc, error_r, "DELETE FROM domains WHERE id = ?", "i", id);
	if (stmt == NULL || acc_exec_stmt(stmt) != 0) {
		rc = stmt == NULL ? ACCOUNTS_ERR_INTERNAL : acc_db_fail(acc, error_r, "deleting");
		goto out;
	}
	return acc_commit(acc, error_r) < 0 ? ACCOUNTS_ERR_INTERNAL : ACCOUNTS_OK;
out:
	acc_rollback(acc);
	return rc;
}

int accounts_domain_exists(struct accounts *acc, const char *domain, const char **error_r)
{
	char name[ADDRESS_DOMAIN_MAX + 1];
	int64_t id;
	int rc = acc_normalize_domain(domain, name, error_r);
	if (rc < 0)
		return rc;
	rc = acc_lookup_id(acc, "SELECT id FROM domains WHERE name = ?", name, &id, error_r);
	if (rc == ACCOUNTS_ERR_NOT_FOUND)
		return acc_fail(error_r, rc, "no domain %s", name);
	return rc;
}

int accounts_domain_list(struct accounts *acc, struct arena *a, const char ***names_r,
                         size_t *n_r, const char **error_r)
{
	sqlite3_stmt *stmt = acc_prepare(acc, error_r, "SELECT name FROM domains ORDER BY name", "");
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	size_t n = 0, cap = 16;
	const char **names = arena_alloc(a, cap * sizeof(*names));
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			const char **bigger = arena_alloc(a, 2 * cap * sizeof(*names));
			memcpy(bigger, names, n * sizeof(*names));
			names = bigger;
			cap *= 2;
		}
		names[n++] = arena_strdup(a, (const char *)sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return acc_db_fail(acc, error_r, "listing domains");
	*names_r = names;
	*n_r = n;
	return ACCOUNTS_OK;
}
