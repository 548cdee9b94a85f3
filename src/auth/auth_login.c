#include "auth/auth_login.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/login_cache.h"
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
	char user_esc[128];       /* for the log */
	char password[SASL_PASSWORD_MAX + 1];
	size_t password_len;
	char ip[INET6_ADDRSTRLEN];
	/* results, written by the job thread */
	enum auth_login_result result;
	int64_t user_id;
	char address[256];
	char reason[200];
	uint64_t delay_ms;
};

/* Failed logins slow down: one table for the whole process. */
static struct throttle *throttle;
static pthread_once_t throttle_once = PTHREAD_ONCE_INIT;

/* Recent successful verifications (login_cache.h); NULL when off. */
static struct login_cache *login_cache;

static void throttle_create(void)
{
	struct throttle_params p;
	throttle_params_default(&p, (uint32_t)runtime_config->auth_fail_delay_max);
	throttle = throttle_new(&p);
	if (runtime_config->auth_cache_ttl > 0)
		login_cache = login_cache_new(runtime_config->auth_cache_ttl * 1000, 4096);
}

/* One accounts handle per job thread, opened on first use. */
static _Thread_local struct accounts *thread_accounts;

void auth_login_thread_exit(void)
{
	accounts_close(&thread_accounts);
}

static void verify_work(void *arg)
{
	struct auth_login_req *r = arg;
	const char *err;
	pthread_once(&throttle_once, throttle_create);
	r->result = AUTH_LOGIN_TEMPFAIL;
	if (thread_accounts == NULL &&
	    accounts_open(runtime_config->data_dir, &thread_accounts, &err) < 0) {
		snprintf(r->reason, sizeof(r->reason), "accounts database: %s", err);
	} else {
		struct auth_request req = {
			.username = r->user,
			.password = r->password,
			.password_len = r->password_len,
			.remote_ip = r->ip,
			.now_ms = ev_clock_ms(),
			.cache = login_cache,
		};
		struct auth_result res;
		auth_verify(thread_accounts, throttle, &req, &res);
		static const enum auth_login_result map[] = {
			[AUTH_OK] = AUTH_LOGIN_OK, [AUTH_FAIL] = AUTH_LOGIN_FAILED,
			[AUTH_DISABLED] = AUTH_LOGIN_DISABLED, [AUTH_TEMPFAIL] = AUTH_LOGIN_TEMPFAIL,
		};
		r->result = map[res.status];
		r->user_id = res.account_id;
		r->delay_ms = res.delay_ms;
		snprintf(r->address, sizeof(r->address), "%s", res.address);
		snprintf(r->reason, sizeof(r->reason), "%s", res.reason);
	}
	memset(r->password, 0, sizeof(r->password));
}

static void finish(struct auth_login_req *r)
{
	struct conn *c = r->c;
	if (r->result != AUTH_LOGIN_OK)
		conn_log(c, LOGL_INFO, "auth failed user=%s reason=\"%s\" delay_ms=%llu",
		         r->user_esc, r->reason, (unsigned long long)r->delay_ms);
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
	log_escape(r->user_esc, sizeof(r->user_esc), user, strlen(user));
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
