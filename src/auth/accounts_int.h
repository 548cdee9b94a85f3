/*
 * accounts_int: what accounts.c, accounts_user.c and accounts_alias.c share.
 * Not for use outside src/auth/accounts*.c.
 */
#ifndef MK_ACCOUNTS_INT_H
#define MK_ACCOUNTS_INT_H

#include <sqlite3.h>

#include "auth/accounts.h"

struct accounts {
	sqlite3 *db;
	/* Kept prepared: read at every APPEND and delivery (quota limits). */
	sqlite3_stmt *by_id;
};

/* Format a message into this thread's error buffer, point *error_r at it and
 * return status. */
int acc_fail(const char **error_r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ACCOUNTS_ERR_INTERNAL with "what: <sqlite message>". */
int acc_db_fail(struct accounts *acc, const char **error_r, const char *what);

/* Prepare sql and bind the text/int64 arguments described by `types`
 * ('t' = const char *, 'i' = int64_t). NULL on failure (message in
 * *error_r). */
sqlite3_stmt *acc_prepare(struct accounts *acc, const char **error_r, const char *sql,
                          const char *types, ...);

/* Run a statement that returns no rows (or ignore them); 0 or the sqlite
 * result code. Finalizes stmt. */
int acc_exec_stmt(sqlite3_stmt *stmt);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 or -1 with *error_r. */
int acc_begin(struct accounts *acc, const char **error_r);
int acc_commit(struct accounts *acc, const char **error_r);
void acc_rollback(struct accounts *acc);

/* Normalize an address or domain, reporting "'<input>': <why>". */
int acc_normalize_address(const char *in, char *out, const char **error_r);
int acc_normalize_domain(const char *in, char *out, const char **error_r);

/* The id of a domain, inserting it if missing (inside a transaction). */
int acc_domain_ensure(struct accounts *acc, const char *domain, int64_t *id_r,
                      const char **error_r);

/* 0 and *id_r, ACCOUNTS_ERR_NOT_FOUND, or ACCOUNTS_ERR_INTERNAL. */
int acc_lookup_id(struct accounts *acc, const char *sql, const char *key, int64_t *id_r,
                  const char **error_r);

#endif
