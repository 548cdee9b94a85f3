/* queue_work: delivery rounds, per-destination limits and the delivery
 * threads (see queue_int.h). */
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "lib/arena.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- destinations ---------------------------------------------------------- */

/* Where mail for `domain` goes: fills the attempt's kind/host/port and the
 * destination key. */
static void route_for(struct qrunner *r, const char *domain, struct qd_attempt *a, char *key,
                      size_t keyn)
{
	const struct config *cfg = r->cfg;
	size_t dl = strlen(domain);
	for (size_t i = 0; i < cfg->queue_route.n; i++) {
		const char *item = cfg->queue_route.v[i], *eq = strchr(item, '=');
		if (eq != NULL && (size_t)(eq - item) == dl && strncasecmp(item, domain, dl) == 0 &&
		    qd_parse_hostport(eq + 1, a->host, sizeof(a->host), &a->port, 25) == 0) {
			a->kind = QD_ROUTE;
			snprintf(key, keyn, "route:%s", eq + 1);
			return;
		}
	}
	if (domain[0] == '[') {  /* address literal: user@[192.0.2.1] */
		const char *s = domain + 1;
		if (strncasecmp(s, "IPv6:", 5) == 0)
			s += 5;
		snprintf(a->host, sizeof(a->host), "%.*s", (int)strcspn(s, "]"), s);
		a->kind = QD_ROUTE;
		a->port = 25;
		snprintf(key, keyn, "literal:%s", a->host);
		return;
	}
	if (cfg->relay_host[0] != '\0' &&
	    qd_parse_hostport(cfg->relay_host, a->host, sizeof(a->host), &a->port, 25) == 0) {
		a->kind = QD_RELAY;
		a->implicit_tls = a->port == 465;
		if (cfg->relay_user[0] != '\0') {
			a->auth_user = cfg->relay_user;
			a->auth_pass = r->relay_password != NULL ? r->relay_password : "";
		}
		snprintf(key, keyn, "relay");
		return;
	}
	a->kind = QD_MX;
	snprintf(a->host, sizeof(a->host), "%s", domain);
	a->port = 25;
	snprintf(key, keyn, "mx:%s", domain);
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

static struct qdest *dest_get(struct qrunner *r, const char *key)
{
	for (struct qdest *d = r->dests; d != NULL; d = d->next)
		if (strcmp(d->key, key) == 0)
			return d;
	struct qdest *d = xcalloc(1, sizeof(*d));
	snprintf(d->key, sizeof(d->key), "%s", key);
	d->next = r->dests;
	r->dests = d;
	return d;
}

/* ---- threads ---------------------------------------------------------------- */

static void group_done(void *arg);

static void *delivery_thread(void *arg)
{
	struct qrunner *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->work_head == NULL && !r->work_stop)
			pthread_cond_wait(&r->cond, &r->lock);
		struct qgroup *g = r->work_head;
		if (g == NULL) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		r->work_head = g->next;
		if (r->work_head == NULL)
			r->work_tail = NULL;
		pthread_mutex_unlock(&r->lock);
		qd_run(&g->att);
		ev_post(r->loop, group_done, g);
	}
}

int qw_start_threads(struct qrunner *r, unsigned n)
{
	r->threads = xcalloc(n ? n : 1, sizeof(*r->threads));
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&r->threads[i], NULL, delivery_thread, r) != 0)
			return -1;
		r->nthreads++;
	}
	return 0;
}

void qw_stop_threads(struct qrunner *r, uint64_t deadline_ms)
{
	pthread_mutex_lock(&r->lock);
	r->work_stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t left = deadline_ms > ev_clock_ms() ? deadline_ms - ev_clock_ms() : 0;
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	for (unsigned i = 0; i < r->nthreads; i++)
		if (pthread_timedjoin_np(r->threads[i], NULL, &ts) != 0)
			pthread_detach(r->threads[i]);  /* stuck in DNS: the exit ends it */
}

/* ---- rounds ---------------------------------------------------------------- */

static void dispatch(struct qrunner *r, struct qgroup *g)
{
	g->dest->active++;
	g->inflight_next = r->inflight;
	g->inflight_prev = NULL;
	if (r->inflight != NULL)
		r->inflight->inflight_prev = g;
	r->inflight = g;
	pthread_mutex_lock(&r->lock);
	g->next = NULL;
	if (r->work_tail != NULL)
		r->work_tail->next = g;
	else
		r->work_head = g;
	r->work_tail = g;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void qw_round(struct qrunner *r, struct qmsg *m)
{
	struct queue_env *e = &m->env;
	bool *taken = xcalloc(e->n_rcpts, sizeof(bool));
	for (size_t i = 0; i < e->n_rcpts; i++) {
		if (taken[i] || e->rcpts[i].state != QUEUE_RCPT_PENDING)
			continue;
		struct qgroup *g = xcalloc(1, sizeof(*g));
		char key[300], key2[300];
		const char *at = strrchr(e->rcpts[i].addr, '@');
		route_for(r, at != NULL ? at + 1 : "", &g->att, key, sizeof(key));
		g->m = m;
		g->dest = dest_get(r, key);
		g->idx = xcalloc(e->n_rcpts, sizeof(size_t));
		g->att.rcpts = xcalloc(e->n_rcpts, sizeof(*g->att.rcpts));
		for (size_t j = i; j < e->n_rcpts; j++) {
			if (taken[j] || e->rcpts[j].state != QUEUE_RCPT_PENDING)
				continue;
			struct qd_attempt tmp = { 0 };
			const char *at2 = strrchr(e->rcpts[j].addr, '@');
			route_for(r, at2 != NULL ? at2 + 1 : "", &tmp, key2, sizeof(key2));
			if (strcmp(key, key2) != 0 || strcmp(tmp.host, g->att.host) != 0)
				continue;
			taken[j] = true;
			g->idx[g->att.n_rcpts] = j;
			struct qd_rcpt *qr = &g->att.rcpts[g->att.n_rcpts++];
			qr->addr = e->rcpts[j].addr;
			qr->notify = e->rcpts[j].notify;
			qr->orcpt = e->rcpts[j].orcpt;
		}
		queue_spool_path(g->msg_path, sizeof(g->msg_path), r->cfg->data_dir, "msg", e->id);
		g->att.helo = r->cfg->hostname;
		g->att.msg_path = g->msg_path;
		g->att.sender = e->sender;
		g->att.size = e->size;
		g->att.smtputf8 = e->smtputf8;
		g->att.body8bit = e->body8bit;
		g->att.ret = e->ret;
		g->att.envid = e->envid;
		g->att.timeout_ms = (unsigned)(r->cfg->smtp_timeout * 1000);
		qc_init(&g->att.conn, g->att.timeout_ms);
		m->groups_left++;
		if (g->dest->active < r->cfg->queue_domain_concurrency) {
			dispatch(r, g);
		} else {
			/* The destination is busy: try again shortly. */
			m->groups_left--;
			free(g->idx);
			free(g->att.rcpts);
			free(g);
			m->skipped = true;
		}
	}
	free(taken);
	if (m->skipped && m->groups_left == 0) {
		m->skipped = false;
		e->next_attempt = (int64_t)time(NULL) + 1;
		qr_reschedule(r);
	}
}

void qw_abort_msg(struct qrunner *r, struct qmsg *m)
{
	for (struct qgroup *g = r->inflight; g != NULL; g = g->inflight_next)
		if (g->m == m)
			qc_abort(&g->att.conn);
}

static const char *outcome_name(enum qd_outcome o)
{
	return o == QD_OK ? "sent" : o == QD_PERM ? "failed" : "deferred";
}

void qw_finish_round(struct qrunner *r, struct qmsg *m)
{
	struct queue_env *e = &m->env;
	int64_t now = (int64_t)time(NULL);
	e->attempts++;
	e->last_attempt = now;
	m->round_expired = false;
	if (queue_env_count(e, QUEUE_RCPT_PENDING) > 0) {
		if (queue_retry_expired(&r->retry, e->created, now)) {
			m->round_expired = true;
			for (size_t i = 0; i < e->n_rcpts; i++) {
				struct queue_rcpt *q = &e->rcpts[i];
				if (q->state != QUEUE_RCPT_PENDING)
					continue;
				q->state = QUEUE_RCPT_FAILED;
				snprintf(q->status, sizeof(q->status), "4.4.7");
				log_write(LOGL_INFO, "queue", "id=%s to=<%s> result=expired after=%llds "
				          "attempts=%u", e->id, q->addr, (long long)(now - e->created),
				          e->attempts);
			}
		} else {
			e->next_attempt = queue_retry_next(&r->retry, e->created, now, e->attempts);
			/* Try once more when the delay notice is due, so that it is
			 * not late by most of a retry interval. */
			int64_t notice = e->created + (int64_t)r->cfg->queue_delay_notice;
			if (r->cfg->queue_delay_notice > 0 && !e->delay_notified && e->sender[0] &&
			    notice > now && notice < e->next_attempt)
				e->next_attempt = notice;
		}
		if (m->skipped && !m->round_expired)
			e->next_attempt = now + 1;  /* some waited for a busy destination */
	}
	m->skipped = false;
	if (queue_env_count(e, QUEUE_RCPT_PENDING) > 0)
		qb_delay_notice(r, m);
	qb_report(r, m);
	qr_settle(r, m);
	qr_reschedule(r);
}

static void group_done(void *arg)
{
	struct qgroup *g = arg;
	struct qrunner *r = queue_R;
	struct qmsg *m = g->m;
	struct queue_env *e = &m->env;
	g->dest->active--;
	if (g->inflight_prev != NULL)
		g->inflight_prev->inflight_next = g->inflight_next;
	else
		r->inflight = g->inflight_next;
	if (g->inflight_next != NULL)
		g->inflight_next->inflight_prev = g->inflight_prev;
	bool aborted = r->stopping || m->deleted;
	for (size_t i = 0; i < g->att.n_rcpts && !aborted; i++) {
		struct qd_rcpt *d = &g->att.rcpts[i];
		struct queue_rcpt *q = &e->rcpts[g->idx[i]];
		char esc[QC_TEXT_MAX + 64];
		log_escape(esc, sizeof(esc), d->reply, strlen(d->reply));
		log_write(d->outcome == QD_OK ? LOGL_INFO : LOGL_WARN, "queue",
		          "id=%s to=<%s> relay=%s tls=%s result=%s status=%s reply=\"%s\"", e->id,
		          q->addr, g->att.remote[0] ? g->att.remote : g->att.host,
		          g->att.tls ? "yes" : "no", outcome_name(d->outcome),
		          d->status[0] ? d->status : "-", esc);
		q->state = d->outcome == QD_OK ? QUEUE_RCPT_DELIVERED
		           : d->outcome == QD_PERM ? QUEUE_RCPT_FAILED : QUEUE_RCPT_PENDING;
		/* Delivered to a next hop without DSN: the NOTIFY=SUCCESS the
		 * sender asked for could not go along, so we owe the "relayed"
		 * DSN (RFC 3461 5.2.2); with DSN the next hop reports. */
		if (d->outcome == QD_OK && !g->att.peer_dsn &&
		    queue_notify_wants(q->notify, QUEUE_NOTIFY_SUCCESS))
			q->state = QUEUE_RCPT_RELAYED;
		queue_text_copy(q->status, sizeof(q->status), d->status);
		queue_text_copy(q->remote, sizeof(q->remote), g->att.remote);
		queue_text_copy(q->diag, sizeof(q->diag), d->reply);
		if (d->outcome != QD_OK)
			queue_text_copy(e->last_error, sizeof(e->last_error), d->reply);
	}
	pthread_mutex_destroy(&g->att.conn.lock);
	free(g->idx);
	free(g->att.rcpts);
	free(g);
	m->groups_left--;
	if (aborted) {
		qr_settle(r, m);  /* deleted: drop; stopping: keep the last saved state */
		return;
	}
	if (m->groups_left > 0) {
		/* Record what this group achieved now, so a crash before the
		 * round ends does not send it again. */
		char *err = NULL;
		if (queue_spool_save_env(r->cfg->data_dir, e, &err) < 0) {
			log_write(LOGL_ERROR, "queue", "id=%s cannot save the envelope: %s", e->id, err);
			free(err);
		}
		return;
	}
	qw_finish_round(r, m);
}
