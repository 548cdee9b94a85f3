/* queue_runner: the scheduler thread (see queue.h and queue_int.h). */
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "lib/arena.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct qrunner *queue_R;
/* Guards queue_R for qr_notify() from other threads. */
static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static bool accepting;

struct qmsg *qr_find(struct qrunner *r, const char *id)
{
	for (struct qmsg *m = r->msgs; m != NULL; m = m->next)
		if (strcmp(m->env.id, id) == 0)
			return m;
	return NULL;
}

void qr_add(struct qrunner *r, struct queue_env *env)
{
	struct qmsg *m = xcalloc(1, sizeof(*m));
	m->env = *env;
	memset(env, 0, sizeof(*env));
	m->next = r->msgs;
	r->msgs = m;
	qr_reschedule(r);
}

static void unlink_msg(struct qrunner *r, struct qmsg *m)
{
	for (struct qmsg **p = &r->msgs; *p != NULL; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			break;
		}
	}
	queue_env_clear(&m->env);
	free(m);
}

void qr_settle(struct qrunner *r, struct qmsg *m)
{
	char *err = NULL;
	const struct queue_env *e = &m->env;
	if (m->groups_left > 0)
		return;
	if (m->deleted) {
		unlink_msg(r, m);
		return;
	}
	bool done = queue_env_count(e, QUEUE_RCPT_PENDING) == 0 &&
	            queue_env_count(e, QUEUE_RCPT_FAILED) == 0 &&
	            queue_env_count(e, QUEUE_RCPT_RELAYED) == 0;
	if (done) {
		if (queue_spool_remove(r->cfg->data_dir, e->id, &err) < 0) {
			log_write(LOGL_ERROR, "queue", "id=%s cannot remove: %s", e->id, err);
			free(err);
		} else {
			log_write(LOGL_INFO, "queue", "id=%s done delivered=%zu bounced=%zu", e->id,
			          queue_env_count(e, QUEUE_RCPT_DELIVERED),
			          queue_env_count(e, QUEUE_RCPT_BOUNCED));
		}
		unlink_msg(r, m);
		return;
	}
	if (queue_spool_save_env(r->cfg->data_dir, e, &err) < 0) {
		log_write(LOGL_ERROR, "queue", "id=%s cannot save the envelope: %s", e->id, err);
		free(err);
	}
}

/* ---- scheduling ---------------------------------------------------------- */

static void run_due(struct ev_loop *loop, struct ev_defer *d)
{
	struct qrunner *r = d->data;
	if (r->stopping)
		return;
	int64_t now = (int64_t)time(NULL), soonest = INT64_MAX;
	struct qmsg *next;
	for (struct qmsg *m = r->msgs; m != NULL; m = next) {
		next = m->next;  /* m may be settled (freed) below */
		if (m->groups_left > 0 || m->deleted)
			continue;
		if (m->env.next_attempt > now) {
			if (m->env.next_attempt < soonest)
				soonest = m->env.next_attempt;
			continue;
		}
		if (queue_env_count(&m->env, QUEUE_RCPT_PENDING) > 0) {
			if (m->env.local_user != 0)
				ql_round(r, m);
			else
				qw_round(r, m);
		} else {
			qb_report(r, m);  /* a DSN that could not be queued before */
			qr_settle(r, m);
		}
	}
	ev_timer_stop(loop, &r->timer);
	if (soonest != INT64_MAX)
		ev_timer_start(loop, &r->timer, (uint64_t)(soonest - now) * 1000);
}

static void timer_fired(struct ev_loop *loop, struct ev_timer *t)
{
	struct qrunner *r = t->data;
	run_due(loop, &r->resched);
}

void qr_reschedule(struct qrunner *r)
{
	ev_defer(r->loop, &r->resched);
}

static void notified(void *arg)
{
	char *id = arg;
	struct qrunner *r = queue_R;
	char *err = NULL;
	struct queue_env env;
	if (r != NULL && !r->stopping && qr_find(r, id) == NULL) {
		if (queue_spool_load_env(r->cfg->data_dir, id, &env, &err) == 0) {
			qr_add(r, &env);
		} else {
			log_write(LOGL_ERROR, "queue", "id=%s cannot load: %s", id, err);
			free(err);
		}
	}
	free(id);
}

void qr_notify(const char *id)
{
	pthread_mutex_lock(&notify_lock);
	if (queue_R != NULL && accepting)
		ev_post(queue_R->loop, notified, xstrdup(id));
	pthread_mutex_unlock(&notify_lock);
}

/* ---- start and stop ------------------------------------------------------- */

static void load_spool(struct qrunner *r)
{
	char (*ids)[QUEUE_ID_LEN + 1];
	size_t n;
	char *err = NULL;
	queue_spool_collect(r->cfg->data_dir, 3600);
	if (queue_spool_list(r->cfg->data_dir, &ids, &n, &err) < 0) {
		log_write(LOGL_ERROR, "queue", "cannot list the spool: %s", err);
		free(err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct queue_env env;
		if (queue_spool_load_env(r->cfg->data_dir, ids[i], &env, &err) < 0) {
			log_write(LOGL_ERROR, "queue", "id=%s skipped: %s", ids[i], err);
			free(err);
			err = NULL;
			continue;
		}
		qr_add(r, &env);
	}
	free(ids);
	if (n > 0)
		log_write(LOGL_INFO, "queue", "loaded %zu queued message(s)", n);
}

static void *runner_main(void *arg)
{
	struct qrunner *r = arg;
	load_spool(r);
	ev_loop_run(r->loop);
	return NULL;
}

static char *read_password(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	if (f == NULL)
		return NULL;
	char *ok = fgets(line, sizeof(line), f);
	fclose(f);
	if (ok == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *p = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return p;
}

int queue_runner_start(const struct config *cfg)
{
	char *err = NULL;
	if (queue_spool_init(cfg->data_dir, &err) < 0)
		goto fail;
	int lock_fd = queue_spool_lock(cfg->data_dir, false, &err);
	if (lock_fd < 0)
		goto fail;
	struct qrunner *r = xcalloc(1, sizeof(*r));
	r->cfg = cfg;
	r->lock_fd = lock_fd;
	r->retry = (struct queue_retry){ cfg->queue_retry_min, cfg->queue_retry_max,
	                                 cfg->queue_lifetime };
	if (cfg->relay_user[0] != '\0') {
		r->relay_password = read_password(cfg->relay_password_file);
		if (r->relay_password == NULL)
			log_write(LOGL_ERROR, "queue", "relay_password_file '%s' unreadable: AUTH at "
			          "the relay will fail", cfg->relay_password_file);
	}
	r->loop = ev_loop_new();
	r->timer.cb = timer_fired;
	r->timer.data = r;
	r->resched.cb = run_due;
	r->resched.data = r;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (qctl_open(r) < 0)
		log_write(LOGL_WARN, "queue", "no control socket: `mailkeep queue flush|delete` "
		          "will not reach this server");
	queue_R = r;
	if (qw_start_threads(r, cfg->queue_workers) < 0 ||
	    pthread_create(&r->thread, NULL, runner_main, r) != 0) {
		err = xstrdup("cannot start the queue threads");
		goto fail;
	}
	pthread_mutex_lock(&notify_lock);
	accepting = true;
	pthread_mutex_unlock(&notify_lock);
	log_write(LOGL_INFO, "queue", "runner started workers=%u relay=%s routes=%zu",
	          cfg->queue_workers, cfg->relay_host[0] ? cfg->relay_host : "-",
	          cfg->queue_route.n);
	return 0;
fail:
	log_write(LOGL_ERROR, "queue", "outbound queue not running: %s",
	          err != NULL ? err : "unknown error");
	free(err);
	return -1;
}

static void stop_check(struct ev_loop *loop, struct ev_timer *t)
{
	struct qrunner *r = t->data;
	if ((r->inflight == NULL && r->locals_inflight == 0) || ev_clock_ms() >= r->stop_deadline)
		ev_loop_stop(loop);
	else
		ev_timer_start(loop, t, 20);
}

static void stop_on_loop(void *arg)
{
	struct qrunner *r = arg;
	r->stopping = true;
	qctl_close(r);
	for (struct qgroup *g = r->inflight; g != NULL; g = g->inflight_next)
		qc_abort(&g->att.conn);
	r->timer.cb = stop_check;
	ev_timer_stop(r->loop, &r->timer);
	ev_timer_start(r->loop, &r->timer, 0);
}

void queue_runner_stop(void)
{
	struct qrunner *r = queue_R;
	if (r == NULL)
		return;
	pthread_mutex_lock(&notify_lock);
	accepting = false;
	pthread_mutex_unlock(&notify_lock);
	r->stop_deadline = ev_clock_ms() + 5000;
	ev_post(r->loop, stop_on_loop, r);
	pthread_join(r->thread, NULL);
	qw_stop_threads(r, r->stop_deadline + 1000);
	if (r->inflight != NULL || r->locals_inflight > 0) {
		/* Something did not come back in time: leave it all to the
		 * process exit rather than free what a thread may still use. */
		log_write(LOGL_WARN, "queue", "stopped with deliveries still in flight");
		return;
	}
	while (r->msgs != NULL)
		unlink_msg(r, r->msgs);
	while (r->dests != NULL) {
		struct qdest *d = r->dests;
		r->dests = d->next;
		free(d);
	}
	queue_R = NULL;
	ev_loop_free(&r->loop);
	close(r->lock_fd);
	if (r->relay_password != NULL) {
		explicit_bzero(r->relay_password, strlen(r->relay_password));
		free(r->relay_password);
	}
	free(r->threads);
	free(r);
	log_write(LOGL_INFO, "queue", "runner stopped");
}
