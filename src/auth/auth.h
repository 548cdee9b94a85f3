/*
 * auth: checking a user name and password, the one call every protocol's
 * login (IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS/AUTH, SMTP AUTH) makes
 * once it has the credentials (see sasl.h for getting them).
 *
 * auth_verify() is synchronous and slow (argon2id: tens of ms, 19 MiB):
 * run it on a worker thread, never on an event loop. It is thread-safe as
 * long as each thread passes its own struct accounts (accounts.h); the
 * throttle may be shared by all threads.
 *
 * User names: the full address, matched case-insensitively. A bare local
 * part ("alice") is accepted when exactly one domain exists (small
 * installs); with several domains it is an unknown user.
 *
 * Unknown users cost the same time as real ones (a verification against a
 * dummy hash), and a disabled account is only reported as disabled when the
 * password was right, so neither timing nor answers tell an attacker which
 * accounts exist.
 */
#ifndef MK_AUTH_H
#define MK_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/address.h"

struct accounts;
struct login_cache;
struct throttle;

enum auth_status {
	AUTH_OK,        /* account_id and address are set */
	AUTH_FAIL,      /* unknown user or wrong password (the client is told no more) */
	AUTH_DISABLED,  /* right password, account disabled */
	AUTH_TEMPFAIL,  /* database trouble: try again later */
};

struct auth_request {
	const char *username;     /* as the client sent it */
	const char *password;
	size_t password_len;
	const char *remote_ip;    /* for the throttle; NULL if none */
	uint64_t now_ms;          /* monotonic clock, for the throttle and cache */
	struct login_cache *cache; /* recent successes (login_cache.h); NULL = none */
};

struct auth_result {
	enum auth_status status;
	int64_t account_id;
	char address[ADDRESS_MAX + 1];  /* canonical address on AUTH_OK */
	/* For the log line: "wrong password", "unknown user", "account
	 * disabled", the database error... never the password. */
	char reason[200];
	/* With a throttle: how long to hold the answer to this attempt (0 on
	 * success). */
	uint32_t delay_ms;
};

/* Verify the credentials. With a throttle (may be NULL) the outcome is
 * recorded there: a failure counts against the IP and the user name, a
 * success clears that pair, and res->delay_ms is the delay now due.
 * After a successful login a hash with outdated parameters is replaced. */
void auth_verify(struct accounts *acc, struct throttle *t, const struct auth_request *req,
                 struct auth_result *res);

const char *auth_status_name(enum auth_status status);

#endif
