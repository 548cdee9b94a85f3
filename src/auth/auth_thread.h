/*
 * auth_thread: the calling thread's own accounts handle (accounts.h wants
 * one per thread), opened on first use from runtime_config->data_dir, for
 * the quick lookups a session makes on its event loop (quota limits at
 * store open, recipient resolution). A lookup is one indexed SQLite read.
 */
#ifndef MK_AUTH_THREAD_H
#define MK_AUTH_THREAD_H

#include <stdint.h>

struct accounts;

/* NULL with *error_r if the database cannot be opened. */
struct accounts *auth_thread_accounts(const char **error_r);
void auth_thread_close(void);

/* The account's quota limits (0 = unlimited). 0, or -1 with *error_r. */
int auth_account_quota(int64_t account_id, uint64_t *bytes_r, uint64_t *messages_r,
                       const char **error_r);

#endif
