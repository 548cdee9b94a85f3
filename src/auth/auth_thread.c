#include "auth/auth_thread.h"
#include "auth/accounts.h"
#include "lib/arena.h"
#include "lib/runtime.h"

static _Thread_local struct accounts *thread_acc;

struct accounts *auth_thread_accounts(const char **error_r)
{
	if (thread_acc == NULL &&
	    accounts_open(runtime_config->data_dir, &thread_acc, error_r) != ACCOUNTS_OK)
		return NULL;
	return thread_acc;
}

void auth_thread_close(void)
{
	accounts_close(&thread_acc);
}

int auth_account_quota(int64_t account_id, uint64_t *bytes_r, uint64_t *messages_r,
                       const char **error_r)
{
	struct accounts *acc = auth_thread_accounts(error_r);
	if (acc == NULL)
		return -1;
	struct arena *a = arena_new(1024);
	struct account acct;
	int rc = accounts_user_get_by_id(acc, a, account_id, &acct, error_r);
	if (rc == ACCOUNTS_OK) {
		*bytes_r = acct.quota_bytes;
		*messages_r = acct.quota_messages;
	}
	arena_free(&a);
	return rc == ACCOUNTS_OK ? 0 : -1;
}
