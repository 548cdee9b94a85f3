/*
 * queue_int.h: shared by the runner's files (queue_runner.c, queue_work.c,
 * queue_bounce.c, queue_local.c, queue_ctl.c, queue_api.c). Not for other
 * layers.
 *
 * Everything in struct qrunner and the messages is owned by the scheduler
 * thread, except the work queue (lock/cond) that delivery threads take
 * groups from.
 */
#ifndef MK_QUEUE_INT_H
#define MK_QUEUE_INT_H

#include "lib/config.h"
#include "lib/ev.h"
#include "queue/queue_deliver.h"
#include "queue/queue_env.h"
#include "queue/queue_sched.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct qmsg {
	struct qmsg *next;
	struct queue_env env;
	size_t groups_left;        /* delivery groups (or the local delivery) of
	                              this round in flight */
	bool deleted;              /* deleted while busy: drop when idle */
	bool round_expired;        /* the last round gave up (for the DSN text) */
	bool skipped;              /* this round left some for a busy destination */
};

struct qdest {
	struct qdest *next;
	char key[300];
	unsigned active;
};

struct qgroup {
	struct qgroup *next;       /* in the work queue */
	struct qmsg *m;
	struct qdest *dest;
	size_t *idx;               /* env rcpt index of each att.rcpts[i] */
	char msg_path[4096];
	struct qd_attempt att;
	struct qgroup *inflight_next, *inflight_prev;
};

struct qrunner {
	const struct config *cfg;
	struct ev_loop *loop;
	pthread_t thread;
	struct queue_retry retry;
	char *relay_password;
	int lock_fd;
	bool stopping;
	uint64_t stop_deadline;

	struct qmsg *msgs;
	struct qdest *dests;
	struct qgroup *inflight;   /* posted to delivery threads, not back yet */
	size_t locals_inflight;    /* local deliveries posted to workers */
	struct ev_timer timer;
	struct ev_defer resched;

	/* control socket */
	struct ev_io ctl_io;
	char ctl_path[108];

	/* delivery threads */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct qgroup *work_head, *work_tail;
	bool work_stop;
	pthread_t *threads;
	unsigned nthreads;
};

/* queue_runner.c */
extern struct qrunner *queue_R;
void qr_reschedule(struct qrunner *r);
struct qmsg *qr_find(struct qrunner *r, const char *id);
/* Add a message loaded from (or just written to) the spool. */
void qr_add(struct qrunner *r, struct queue_env *env);
/* Save the envelope or, when nothing is left to do, remove the message. */
void qr_settle(struct qrunner *r, struct qmsg *m);
/* Notify the runner of this process (any thread) that id was queued. */
void qr_notify(const char *id);

/* queue_work.c: delivery groups and threads */
int qw_start_threads(struct qrunner *r, unsigned n);
void qw_stop_threads(struct qrunner *r, uint64_t deadline_ms);
/* Start a round for m: group its pending recipients by destination. */
void qw_round(struct qrunner *r, struct qmsg *m);
/* Cut every delivery in flight (shutdown, delete). */
void qw_abort_msg(struct qrunner *r, struct qmsg *m);
/* The round of m is over (its recipients' states are set): count the
 * attempt, expire or reschedule, send the DSNs due, save or remove. */
void qw_finish_round(struct qrunner *r, struct qmsg *m);

/* queue_local.c: a round for a message to a local account (env.local_user). */
void ql_round(struct qrunner *r, struct qmsg *m);

/* queue_bounce.c: DSNs to the sender of m. */
/* Report failed recipients (NOTIFY permitting) and owed "relayed" notices;
 * without a sender they are settled silently. */
void qb_report(struct qrunner *r, struct qmsg *m);
/* The one "delayed" DSN, when m has waited queue_delay_notice. */
void qb_delay_notice(struct qrunner *r, struct qmsg *m);

/* queue_ctl.c: the control socket */
int qctl_open(struct qrunner *r);
void qctl_close(struct qrunner *r);

#endif
