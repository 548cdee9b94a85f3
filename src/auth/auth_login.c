#include "auth/auth_login.h"
#include "auth/accounts.h"
#include "auth/password.h"
#include "auth/sasl.h"
#include "auth/throttle.h"
#include "lib/arena.h"
#include "lib/jobs.h"
#include "lib/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lives from auth_login_start() until done() is called or, once
 * cancelled, until the in-flight step (job or delay) comes back. */
struct auth_login_req {
	struct conn *c;
	struct ev_loop *loop;   /* the loop the conn was on at start */
	auth_login_done_fn *done;
	bool cancelled, in_job;
	struct ev_timer delay;
	char user[256];
	char password[SASL_PASSWORD_MAX + 1];
	size_t password_len;
	char ip[INET6_ADDRSTRLEN];
	/* results, written by the job thread */
	enum auth_login_result result;
	int64_t user_id;
	char address[256];
	uint64_t delay_ms;
};

/* Failed logins slow down: one table for the whole process. */
static struct throttle *throttle;
static pthread_once_t throttle_once = PTHREAD_ONCE_INIT;

static void throttle_create(void)
{
	struct throttle_params p;
	throttle_params_default(&p, (uint32_t)runtime_config->auth_fail_delay_max);
	throttle = throttle_new(&p);
}

/* Record the outcome; the delay before answering a failure. */
static uint64_t throttle_record(const char *ip, const char *user, bool ok)
{
	pthread_once(&throttle_once, throttle_create);
	uint64_t now = ev_clock_ms();
	if (ok) {
		throttle_success(throttle, ip, user, now);
		return 0;
	}
	throttle_failure(throttle, ip, user, now);
	return throttle_delay_ms(throttle, ip, user, now);
}

/* One accounts handle per job thread, opened on first use. */
static _Thread_local struct accounts *thread_accounts;

void auth_login_thread_exit(void)
{
	accounts_close(&thread_accounts);
}

static void verify(struct auth_login_req *r)
{
	const char *err;
	r->result = AUTH_LOGIN_TEMPFAIL;
	if (thread_accounts == NULL &&
	    accounts_open(runtime_config->data_dir, &thread_accounts, &err) < 0)
		return;
	struct arena *a = arena_new(1024);
	struct account acct;
	int rc = accounts_user_get(thread_accounts, a, r->user, &acct, &err);
	if (rc == ACCOUNTS_ERR_NOT_FOUND || rc == ACCOUNTS_ERR_INVALID) {
		/* The same work as for a real account: timing reveals nothing. */
		password_verify_dummy(r->password, r->password_len);
		r->result = AUTH_LOGIN_FAILED;
	} else if (rc == ACCOUNTS_OK) {
		if (password_verify(acct.password_hash, r->password, r->password_len) != 0) {
			r->result = AUTH_LOGIN_FAILED;
		} else if (acct.disabled) {
			r->result = AUTH_LOGIN_DISABLED;
		} else {
			r->result = AUTH_LOGIN_OK;
			r->user_id = acct.id;
			snprintf(r->address, sizeof(r->address), "%s", acct.address);
		}
	}
	arena_free(&a);
}

static void verify_work(void *arg)
{
	struct auth_login_req *r = arg;
	verify(r);
	memset(r->password, 0, sizeof(r->password));
	if (r->result != AUTH_LOGIN_TEMPFAIL)
		r->delay_ms = throttle_record(r->ip, r->user, r->result == AUTH_LOGIN_OK);
}

static void finish(struct auth_login_req *r)
{
	struct conn *c = r->c;
	auth_login_done_fn *done = r->done;
	enum auth_login_result res = r->result;
	int64_t id = r->user_id;
	char addr[256];
	memcpy(addr, r->address, sizeof(addr));
	free(r);
	done(c, res, id, addr);
}

static void delay_over(struct ev_loop *loop, struct ev_timer *t)
{
	finish(t->data);
}

static void moved(struct conn *c, void *arg)
{
	finish(arg);
}

static void verify_done(void *arg)
{
	struct auth_login_req *r = arg;
	r->in_job = false;
	if (r->cancelled) {
		free(r);
		return;
	}
	if (r->result == AUTH_LOGIN_OK) {
		struct worker *to = runtime_worker_for_user((uint64_t)r->user_id);
		if (to != NULL && to->loop != r->c->loop) {
			conn_move(r->c, to->loop, &to->conns, moved, r);
			return;
		}
	} else if (r->delay_ms > 0) {
		r->delay.cb = delay_over;
		r->delay.data = r;
		ev_timer_start(r->loop, &r->delay, r->delay_ms);
		return;
	}
	finish(r);
}

struct auth_login_req *auth_login_start(struct conn *c, const char *user, const char *password,
                                        size_t password_len, auth_login_done_fn *done)
{
	struct auth_login_req *r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->loop = c->loop;
	r->done = done;
	snprintf(r->ip, sizeof(r->ip), "%s", c->ip);
	snprintf(r->user, sizeof(r->user), "%s", user);
	if (password_len >= sizeof(r->password))
		password_len = sizeof(r->password) - 1;
	memcpy(r->password, password, password_len);
	r->password_len = password_len;
	conn_pause_input(c);
	r->in_job = true;
	if (jobs_submit(c->loop, verify_work, verify_done, r) < 0) {
		/* Pool saturated: answer at once rather than queue without bound. */
		memset(r->password, 0, sizeof(r->password));
		r->in_job = false;
		r->result = AUTH_LOGIN_TEMPFAIL;
		r->delay.cb = delay_over;
		r->delay.data = r;
		ev_timer_start(r->loop, &r->delay, 0);
	}
	return r;
}

void auth_login_cancel(struct auth_login_req *r)
{
	if (r == NULL)
		return;
	if (r->in_job) {
		r->cancelled = true;  /* verify_done frees it */
		return;
	}
	ev_timer_stop(r->loop, &r->delay);
	free(r);
}
