/*
 * auth_login: the login step every protocol session shares.
 *
 *   1. the session checks runtime_plaintext_auth_ok() and collects the
 *      credentials (LOGIN, USER/PASS, AUTH PLAIN/LOGIN);
 *   2. auth_login_start() pauses the connection's input and verifies the
 *      password on the job pool (argon2id costs tens of ms: never on an
 *      event loop);
 *   3. a failure is answered only after the throttle's delay for this IP
 *      and account (failed logins slow down);
 *   4. on success the connection moves to the worker that owns the user
 *      (runtime_worker_for_user), and done() runs there.
 *
 * done() runs on the loop thread that then owns the connection, with
 * req->result set; input stays paused until the session resumes it. If the
 * session ends while a login is in flight it calls auth_login_cancel(), and
 * the request is freed without calling done().
 */
#ifndef MK_AUTH_LOGIN_H
#define MK_AUTH_LOGIN_H

#include "lib/conn.h"

#include <stdbool.h>
#include <stdint.h>

enum auth_login_result {
	AUTH_LOGIN_OK,
	AUTH_LOGIN_FAILED,     /* wrong user or password */
	AUTH_LOGIN_DISABLED,   /* account disabled */
	AUTH_LOGIN_TEMPFAIL,   /* database trouble, server busy */
};

struct auth_login_req;
typedef void auth_login_done_fn(struct conn *c, enum auth_login_result result,
                                int64_t user_id, const char *address);

/* Takes copies of user and password (the password is wiped after use).
 * Returns the request handle for auth_login_cancel(). */
struct auth_login_req *auth_login_start(struct conn *c, const char *user, const char *password,
                                        size_t password_len, auth_login_done_fn *done);
void auth_login_cancel(struct auth_login_req *req);

/* Close the calling thread's accounts handle (job pool thread exit). */
void auth_login_thread_exit(void);

#endif
