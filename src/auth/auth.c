#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/login_cache.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "lib/arena.h"

const char *auth_status_name(enum auth_status status)
{
	switch (status) {
	case AUTH_OK: return "ok";
	case AUTH_FAIL: return "failed";
	case AUTH_DISABLED: return "disabled";
	case AUTH_TEMPFAIL: return "tempfail";
	}
	return "?";
}

/* "alice" -> "alice@<the only domain>"; 0 if done, -1 if not applicable. */
static int complete_bare_name(struct accounts *acc, struct arena *a, const char *user,
                              char out[ADDRESS_MAX + 1])
{
	const char **domains;
	size_t n;
	const char *error;
	if (strchr(user, '@') != NULL ||
	    accounts_domain_list(acc, a, &domains, &n, &error) != ACCOUNTS_OK || n != 1)
		return -1;
	int len = snprintf(out, ADDRESS_MAX + 1, "%s@%s", user, domains[0]);
	return len > 0 && len <= ADDRESS_MAX ? 0 : -1;
}

static void set_reason(struct auth_result *res, const char *text)
{
	snprintf(res->reason, sizeof(res->reason), "%s", text);
}

static void verify(struct accounts *acc, struct arena *a, const struct auth_request *req,
                   const char *username, struct auth_result *res)
{
	struct account acct;
	const char *error;
	int rc = accounts_user_get(acc, a, username, &acct, &error);
	if (rc == ACCOUNTS_ERR_NOT_FOUND || rc == ACCOUNTS_ERR_INVALID) {
		password_verify_dummy(req->password, req->password_len);
		res->status = AUTH_FAIL;
		set_reason(res, rc == ACCOUNTS_ERR_INVALID ? "user name is not an address"
		                                                 : "unknown user");
		return;
	}
	if (rc != ACCOUNTS_OK) {
		res->status = AUTH_TEMPFAIL;
		set_reason(res, error);
		return;
	}
	bool cached = login_cache_check(req->cache, acct.id, acct.password_hash, req->password,
	                                req->password_len, req->now_ms);
	rc = cached ? PASSWORD_OK : password_verify(acct.password_hash, req->password, req->password_len);
	if (rc != PASSWORD_OK) {
		res->status = AUTH_FAIL;
		set_reason(res, rc == PASSWORD_BAD_HASH ? "stored password hash is malformed"
		                                               : "wrong password");
		return;
	}
	snprintf(res->address, sizeof(res->address), "%s", acct.address);
	res->account_id = acct.id;
	if (acct.disabled) {
		res->status = AUTH_DISABLED;
		set_reason(res, "account disabled");
		return;
	}
	res->status = AUTH_OK;
	if (cached)
		return;
	if (!password_needs_rehash(acct.password_hash)) {
		login_cache_store(req->cache, acct.id, acct.password_hash, req->password,
		                  req->password_len, req->now_ms);
	} else {
		char fresh[PASSWORD_HASH_MAX];
		/* Best effort: the login stands even if the update fails. */
		if (password_hash(req->password, req->password_len, fresh, &error) == 0)
			(void)accounts_user_set_hash(acc, acct.id, fresh, &error);
		explicit_bzero(fresh, sizeof(fresh));
	}
}

void auth_verify(struct accounts *acc, struct throttle *t, const struct auth_request *req,
                 struct auth_result *res)
{
	memset(res, 0, sizeof(*res));
	struct arena *a = arena_new(0);
	const char *username = req->username != NULL ? req->username : "";
	char full[ADDRESS_MAX + 1];
	if (complete_bare_name(acc, a, username, full) == 0)
		username = full;
	verify(acc, a, req, username, res);
	arena_free(&a);

	if (t == NULL || res->status == AUTH_TEMPFAIL)
		return;
	/* The throttle keys on what the client typed (case-folded), or the
	 * canonical address once known, so "alice" and "alice@x" count as one. */
	const char *key = res->address[0] != '\0' ? res->address : username;
	if (res->status == AUTH_OK) {
		throttle_success(t, req->remote_ip, key, req->now_ms);
	} else if (res->status == AUTH_FAIL) {
		throttle_failure(t, req->remote_ip, key, req->now_ms);
		res->delay_ms = throttle_delay_ms(t, req->remote_ip, key, req->now_ms);
	}
}
