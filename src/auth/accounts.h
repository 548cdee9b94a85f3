/*
 * accounts: the account database, <data_dir>/accounts.db (SQLite, WAL,
 * foreign keys on, synchronous=FULL).
 *
 * Holds domains, accounts, aliases (including one catch-all per domain),
 * per-account quota limits and the administrator attribute (an account
 * that may change quotas over IMAP, RFC 9208 SETQUOTA). An account's id is
 * the user id that names its store directory <data_dir>/users/<id>/; ids
 * are never reused, so deleting an account and adding another never hands
 * it the old mail.
 *
 * Addresses are validated and normalized by address.h (domain lower-cased,
 * local part kept as given); lookups are ASCII case-insensitive on the
 * whole address, so Alice@Example.COM finds alice@example.com.
 *
 * Threads: one handle per thread (each is its own SQLite connection); a
 * handle is never used by two threads at once. Several processes (the
 * server and the CLI) may use the database at the same time; a writer
 * waits up to 5 s for another's lock.
 *
 * Return values: 0 (ACCOUNTS_OK) or a negative enum accounts_status. On
 * failure *error_r is a message for a human, valid until the next accounts_*
 * call in the same thread. Results that carry strings are allocated from the
 * caller's arena.
 *
 * The schema version is kept in PRAGMA user_version; accounts_open() creates
 * or upgrades the schema in place and refuses a database newer than it
 * knows. Version 2 added accounts.admin (existing accounts: not admins).
 */
#ifndef MK_ACCOUNTS_H
#define MK_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct accounts;

enum accounts_status {
	ACCOUNTS_OK = 0,
	ACCOUNTS_ERR_INTERNAL = -1,   /* database or file system failure */
	ACCOUNTS_ERR_NOT_FOUND = -2,  /* no such account, alias or domain */
	ACCOUNTS_ERR_EXISTS = -3,     /* already there (or taken by an alias/account) */
	ACCOUNTS_ERR_INVALID = -4,    /* bad address, domain, password or value */
	ACCOUNTS_ERR_IN_USE = -5,     /* domain still has accounts or aliases */
};

#define ACCOUNTS_SCHEMA_VERSION 2

struct account {
	int64_t id;
	const char *address;        /* normal form */
	const char *password_hash;  /* encoded argon2id */
	int64_t created;            /* unix seconds */
	bool disabled;
	bool admin;                 /* may set quotas of any account (IMAP) */
	uint64_t quota_bytes;       /* 0 = unlimited */
	uint64_t quota_messages;    /* 0 = unlimited */
};

struct alias {
	const char *source;   /* "local@domain", or "@domain" for the catch-all */
	const char *target;   /* the account's address */
	int64_t target_id;
};

/* Open (creating the directory 0700 and the database 0600 if missing) or
 * fail with *error_r. */
int accounts_open(const char *data_dir, struct accounts **acc_r, const char **error_r);
void accounts_close(struct accounts **acc);

/* Domains the server accepts mail for. Deleting a domain that still has
 * accounts or aliases fails with ACCOUNTS_ERR_IN_USE. */
int accounts_domain_add(struct accounts *acc, const char *domain, const char **error_r);
int accounts_domain_del(struct accounts *acc, const char *domain, const char **error_r);
/* 0 if the domain is local, ACCOUNTS_ERR_NOT_FOUND if not. */
int accounts_domain_exists(struct accounts *acc, const char *domain, const char **error_r);
/* Sorted names into an arena array. */
int accounts_domain_list(struct accounts *acc, struct arena *a, const char ***names_r,
                         size_t *n_r, const char **error_r);

/* Add an account with password[0..len) (hashed here, argon2id); its domain
 * is added if new. Refused if the address is an account or an alias
 * source already. *id_r (may be NULL) gets the new id. */
int accounts_user_add(struct accounts *acc, const char *address, const char *password,
                      size_t len, int64_t *id_r, const char **error_r);
int accounts_user_passwd(struct accounts *acc, const char *address, const char *password,
                         size_t len, const char **error_r);
/* Store an already computed hash (rehash after login). */
int accounts_user_set_hash(struct accounts *acc, int64_t id, const char *encoded,
                           const char **error_r);
/* Remove the account row and the aliases that point to it (*aliases_r, may
 * be NULL, gets their number). The account's mail directory is left alone. */
int accounts_user_del(struct accounts *acc, const char *address, unsigned *aliases_r,
                      const char **error_r);
int accounts_user_set_disabled(struct accounts *acc, const char *address, bool disabled,
                               const char **error_r);
int accounts_user_set_admin(struct accounts *acc, const char *address, bool admin,
                            const char **error_r);
int accounts_user_get(struct accounts *acc, struct arena *a, const char *address,
                      struct account *out, const char **error_r);
int accounts_user_get_by_id(struct accounts *acc, struct arena *a, int64_t id,
                            struct account *out, const char **error_r);
/* All accounts sorted by domain, then address. */
int accounts_user_list(struct accounts *acc, struct arena *a, struct account **list_r,
                       size_t *n_r, const char **error_r);

/* Quota limits; 0 = unlimited. Values above INT64_MAX are invalid. */
int accounts_quota_set(struct accounts *acc, const char *address, uint64_t bytes,
                       uint64_t messages, const char **error_r);
int accounts_quota_get(struct accounts *acc, const char *address, uint64_t *bytes_r,
                       uint64_t *messages_r, const char **error_r);

/* Alias source ("local@domain" or "@domain") -> an existing local account.
 * The source's domain is added if new; a source that is an account
 * already is refused. Deleting the target account deletes its aliases. */
int accounts_alias_add(struct accounts *acc, const char *source, const char *target,
                       const char **error_r);
int accounts_alias_del(struct accounts *acc, const char *source, const char **error_r);
/* Sorted by source. */
int accounts_alias_list(struct accounts *acc, struct arena *a, struct alias **list_r,
                        size_t *n_r, const char **error_r);

/* The account that receives mail for an address: the account itself, else
 * an alias of the whole address, else (for local+tag@domain) the same two
 * for local@domain, else the domain's catch-all. Disabled accounts still
 * receive mail (disabling blocks logins only). ACCOUNTS_ERR_NOT_FOUND if no
 * one does, ACCOUNTS_ERR_INVALID if the address is not plausible. */
int accounts_resolve_recipient(struct accounts *acc, const char *address, int64_t *id_r,
                               const char **error_r);

#endif
