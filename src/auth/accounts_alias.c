/* accounts: aliases, catch-alls, and resolving a recipient to an account. */
#include "auth/accounts_int.h"

#include <string.h>
#include <time.h>

#include "auth/address.h"
#include "lib/arena.h"

/* "local@domain" or "@domain" in normal form into out. */
static int normalize_source(const char *source, char out[ADDRESS_MAX + 1],
                            const char **error_r)
{
	if (source[0] == '@') {
		out[0] = '@';
		return acc_normalize_domain(source + 1, out + 1, error_r);
	}
	return acc_normalize_address(source, out, error_r);
}

int accounts_alias_add(struct accounts *acc, const char *source, const char *target,
                       const char **error_r)
{
	char src[ADDRESS_MAX + 1], dst[ADDRESS_MAX + 1];
	int rc;
	if ((rc = normalize_source(source, src, error_r)) < 0 ||
	    (rc = acc_normalize_address(target, dst, error_r)) < 0)
		return rc;
	if (acc_begin(acc, error_r) < 0)
		return ACCOUNTS_ERR_INTERNAL;
	int64_t target_id, domain_id, other;
	rc = acc_lookup_id(acc, "SELECT id FROM accounts WHERE address = ?", dst, &target_id,
	                   error_r);
	if (rc == ACCOUNTS_ERR_NOT_FOUND)
		rc = acc_fail(error_r, rc, "target %s is not a local account", dst);
	if (rc < 0)
		goto out;
	rc = acc_lookup_id(acc, "SELECT id FROM accounts WHERE address = ?", src, &other, error_r);
	if (rc == ACCOUNTS_OK)
		rc = acc_fail(error_r, ACCOUNTS_ERR_EXISTS, "%s is an account, not an alias", src);
	if (rc != ACCOUNTS_ERR_NOT_FOUND)
		goto out;
	rc = acc_lookup_id(acc, "SELECT id FROM aliases WHERE source = ?", src, &other, error_r);
	if (rc == ACCOUNTS_OK)
		rc = acc_fail(error_r, ACCOUNTS_ERR_EXISTS, "alias %s exists already", src);
	if (rc != ACCOUNTS_ERR_NOT_FOUND)
		goto out;
	if ((rc = acc_domain_ensure(acc, address_domain(src), &domain_id, error_r)) < 0)
		goto out;
	sqlite3_stmt *stmt = acc_prepare(
		acc, error_r,
		"INSERT INTO aliases (source, domain_id, target_id, created) VALUES (?, ?, ?, ?)",
		"tiii", src, domain_id, target_id, (int64_t)time(NULL));
	if (stmt == NULL || acc_exec_stmt(stmt) != 0) {
		rc = stmt == NULL ? ACCOUNTS_ERR_INTERNAL : acc_db_fail(acc, error_r, "adding the alias");
		goto out;
	}
	return acc_commit(acc, error_r) < 0 ? ACCOUNTS_ERR_INTERNAL : ACCOUNTS_OK;
out:
	acc_rollback(acc);
	return rc;
}

int accounts_alias_del(struct accounts *acc, const char *source, const char **error_r)
{
	char src[ADDRESS_MAX + 1];
	int rc = normalize_source(source, src, error_r);
	if (rc < 0)
		return rc;
	sqlite3_stmt *stmt = acc_prepare(acc, error_r, "DELETE FROM aliases WHERE source = ?", "t",
	                                 src);
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	if (acc_exec_stmt(stmt) != 0)
		return acc_db_fail(acc, error_r, "deleting the alias");
	if (sqlite3_changes(acc->db) == 0)
		return acc_fail(error_r, ACCOUNTS_ERR_NOT_FOUND, "no alias %s", src);
	return ACCOUNTS_OK;
}

int accounts_alias_list(struct accounts *acc, struct arena *a, struct alias **list_r,
                        size_t *n_r, const char **error_r)
{
	sqlite3_stmt *stmt = acc_prepare(
		acc, error_r,
		"SELECT aliases.source, accounts.address, accounts.id FROM aliases"
		" JOIN accounts ON accounts.id = aliases.target_id"
		" ORDER BY substr(aliases.source, instr(aliases.source, '@') + 1), aliases.source", "");
	if (stmt == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	size_t n = 0, cap = 16;
	struct alias *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			struct alias *bigger = arena_alloc(a, 2 * cap * sizeof(*list));
			memcpy(bigger, list, n * sizeof(*list));
			list = bigger;
			cap *= 2;
		}
		list[n].source = arena_strdup(a, (const char *)sqlite3_column_text(stmt, 0));
		list[n].target = arena_strdup(a, (const char *)sqlite3_column_text(stmt, 1));
		list[n].target_id = sqlite3_column_int64(stmt, 2);
		n++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return acc_db_fail(acc, error_r, "listing aliases");
	*list_r = list;
	*n_r = n;
	return ACCOUNTS_OK;
}

/* The account itself, else an alias of exactly this address. */
static int resolve_exact(struct accounts *acc, const char *addr, int64_t *id_r,
                         const char **error_r)
{
	int rc = acc_lookup_id(acc, "SELECT id FROM accounts WHERE address = ?", addr, id_r,
	                       error_r);
	if (rc != ACCOUNTS_ERR_NOT_FOUND)
		return rc;
	return acc_lookup_id(acc, "SELECT target_id FROM aliases WHERE source = ?", addr, id_r,
	                     error_r);
}

int accounts_resolve_recipient(struct accounts *acc, const char *address, int64_t *id_r,
                               const char **error_r)
{
	char addr[ADDRESS_MAX + 1];
	int rc = acc_normalize_address(address, addr, error_r);
	if (rc < 0)
		return rc;
	if ((rc = resolve_exact(acc, addr, id_r, error_r)) != ACCOUNTS_ERR_NOT_FOUND)
		return rc;
	/* Subaddress: local+tag@domain is delivered as local@domain. */
	char *plus = strchr(addr, '+');
	char *at = strrchr(addr, '@');
	if (plus != NULL && plus != addr && plus < at) {
		char base[ADDRESS_MAX + 1];
		size_t local_len = (size_t)(plus - addr);
		memcpy(base, addr, local_len);
		strcpy(base + local_len, at);
		if ((rc = resolve_exact(acc, base, id_r, error_r)) != ACCOUNTS_ERR_NOT_FOUND)
			return rc;
	}
	rc = acc_lookup_id(acc, "SELECT target_id FROM aliases WHERE source = ?", at, id_r, error_r);
	if (rc == ACCOUNTS_ERR_NOT_FOUND)
		return acc_fail(error_r, rc, "no such recipient %s", addr);
	return rc;
}
