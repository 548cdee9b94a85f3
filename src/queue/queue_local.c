/* queue_local: delivering a queued message into a local account's INBOX
 * (env.local_user: a DSN for a local sender, see queue.h).
 *
 * The store of a user may only be used on that user's worker (DESIGN.md
 * principle 4), so the delivery is posted there and its result posted
 * back to the scheduler, like a delivery group coming back from a delivery
 * thread. On the worker it is an ordinary local delivery: the account's
 * quota is read from accounts.db and given to the store, so a full
 * mailbox refuses the message (STORE_E_OVERQUOTA) and it stays queued and
 * is retried on the queue's schedule; at queue_lifetime it fails, and a
 * DSN (always from <>) is never bounced. An account that no longer exists
 * is a permanent failure. */
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "auth/accounts.h"
#include "auth/auth_thread.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/runtime.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { LOCAL_NO_ACCOUNT = 1 };  /* besides STORE_OK and the store errors */

struct local_task {
	struct qrunner *r;
	struct qmsg *m;          /* valid while m->groups_left counts this task */
	int64_t user;
	char path[4096];         /* the message file */
	int status;
	char error[200];
};

static _Thread_local char copy_buf[64 * 1024];

/* The account's quota: ACCOUNTS_OK, ACCOUNTS_ERR_NOT_FOUND or an error. */
static int account_quota(int64_t user, struct store_quota *q, const char **err)
{
	struct accounts *acc = auth_thread_accounts(err);
	if (acc == NULL)
		return ACCOUNTS_ERR_INTERNAL;
	struct arena *a = arena_new(1024);
	struct account acct;
	int rc = accounts_user_get_by_id(acc, a, user, &acct, err);
	if (rc == ACCOUNTS_OK) {
		q->max_bytes = acct.quota_bytes;
		q->max_messages = acct.quota_messages;
	}
	arena_free(&a);
	return rc;
}

/* Append the message file to the INBOX of the open store u. */
static int append_file(struct local_task *t, struct store_user *u)
{
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(t->error, sizeof(t->error), "opening the message: %s", strerror(errno));
		return STORE_E_INTERNAL;
	}
	struct store_append *ap;
	int rc = store_deliver_begin(u, 0, &ap);
	while (rc == STORE_OK) {
		ssize_t n = read(fd, copy_buf, sizeof(copy_buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(t->error, sizeof(t->error), "reading the message: %s", strerror(errno));
			store_append_abort(ap);
			rc = STORE_E_INTERNAL;
			break;
		}
		if (n == 0) {
			rc = store_append_commit(ap, &(struct store_append_opts){ 0 }, NULL, NULL);
			break;
		}
		if ((rc = store_append_write(ap, copy_buf, (size_t)n)) < 0)
			store_append_abort(ap);
	}
	close(fd);
	if (rc < 0 && t->error[0] == '\0')
		snprintf(t->error, sizeof(t->error), "%s", store_error(u));
	return rc;
}

static void local_done(void *arg);

/* On the account's worker. */
static void local_run(void *arg)
{
	struct local_task *t = arg;
	struct store_quota quota = { 0, 0 };
	const char *err = NULL;
	int rc = account_quota(t->user, &quota, &err);
	if (rc == ACCOUNTS_ERR_NOT_FOUND) {
		t->status = LOCAL_NO_ACCOUNT;
	} else if (rc != ACCOUNTS_OK) {
		t->status = STORE_E_INTERNAL;
		snprintf(t->error, sizeof(t->error), "accounts database: %s", err ? err : "?");
	} else {
		char uid[32];
		struct store_user *u = NULL;
		snprintf(uid, sizeof(uid), "%" PRId64, t->user);
		if (store_user_open(t->r->cfg->data_dir, uid, &quota, &u, &err) < 0) {
			t->status = STORE_E_INTERNAL;
			snprintf(t->error, sizeof(t->error), "opening the store: %s", err ? err : "?");
		} else {
			t->status = append_file(t, u);
			store_user_close(&u);
		}
	}
	ev_post(t->r->loop, local_done, t);
}

/* Back on the scheduler. */
static void local_done(void *arg)
{
	struct local_task *t = arg;
	struct qrunner *r = t->r;
	struct qmsg *m = t->m;
	struct queue_env *e = &m->env;
	r->locals_inflight--;
	m->groups_left--;
	if (r->stopping || m->deleted) {
		qr_settle(r, m);  /* deleted: drop; stopping: keep the last saved state */
		free(t);
		return;
	}
	enum queue_rcpt_state st;
	const char *status;
	char diag[QUEUE_TEXT_MAX];
	if (t->status == STORE_OK) {
		st = QUEUE_RCPT_DELIVERED;
		status = "2.0.0";
		snprintf(diag, sizeof(diag), "delivered to local account %" PRId64, t->user);
	} else if (t->status == LOCAL_NO_ACCOUNT) {
		st = QUEUE_RCPT_FAILED;
		status = "5.1.1";
		snprintf(diag, sizeof(diag), "local account %" PRId64 " no longer exists", t->user);
	} else {
		/* Over quota or a store failure: like any local delivery
		 * refused for now, it is tried again later. */
		st = QUEUE_RCPT_PENDING;
		status = t->status == STORE_E_OVERQUOTA ? "4.2.2" : "4.3.0";
		snprintf(diag, sizeof(diag), "local delivery to account %" PRId64 ": %s (%s)",
		         t->user, store_err_name(t->status), t->error);
	}
	for (size_t i = 0; i < e->n_rcpts; i++) {
		struct queue_rcpt *q = &e->rcpts[i];
		if (q->state != QUEUE_RCPT_PENDING)
			continue;
		q->state = st;
		queue_text_copy(q->status, sizeof(q->status), status);
		q->remote[0] = '\0';
		queue_text_copy(q->diag, sizeof(q->diag), diag);
		log_write(st == QUEUE_RCPT_DELIVERED ? LOGL_INFO : LOGL_WARN, "queue",
		          "id=%s to=<%s> relay=local user=%" PRId64 " result=%s status=%s%s%s", e->id,
		          q->addr, t->user, st == QUEUE_RCPT_DELIVERED ? "sent" : st == QUEUE_RCPT_FAILED
		                                                          ? "failed" : "deferred",
		          status, t->error[0] ? " error=" : "", t->error);
	}
	if (st != QUEUE_RCPT_DELIVERED)
		queue_text_copy(e->last_error, sizeof(e->last_error), diag);
	free(t);
	qw_finish_round(r, m);
}

void ql_round(struct qrunner *r, struct qmsg *m)
{
	struct queue_env *e = &m->env;
	struct worker *w = runtime_worker_count() > 0
	                       ? runtime_worker_for_user((uint64_t)e->local_user) : NULL;
	if (w == NULL) {
		/* No workers (not `serve`): nothing can deliver it now. */
		e->next_attempt = (int64_t)time(NULL) + (int64_t)r->retry.min;
		qr_reschedule(r);
		return;
	}
	struct local_task *t = xcalloc(1, sizeof(*t));
	t->r = r;
	t->m = m;
	t->user = e->local_user;
	queue_spool_path(t->path, sizeof(t->path), r->cfg->data_dir, "msg", e->id);
	m->groups_left++;
	r->locals_inflight++;
	ev_post(w->loop, local_run, t);
}
