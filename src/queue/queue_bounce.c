/* queue_bounce: the DSNs the queue sends to a message's sender (queue.h):
 * failures, "relayed" successes and the one "delayed" notice. Each DSN is
 * queued as a message of its own from <>, durably, before the recipients
 * it reports are marked as reported. */
#include "queue/queue.h"
#include "queue/queue_dsn.h"
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "lib/arena.h"
#include "lib/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define DSN_HEADERS_MAX (64 * 1024)
/* A failure DSN returns the whole message (RET=FULL, or no RET) when it is
 * at most this big, else only its header section: a bounce must not cost
 * the sender's mailbox as much as what they sent. */
#define DSN_FULL_MAX (256 * 1024)

static void retry_later(struct qrunner *r, struct qmsg *m)
{
	m->env.next_attempt = (int64_t)time(NULL) + (int64_t)r->retry.min;
}

/* The original message (want_full and small enough) or its header section
 * into orig; *full_r says which. */
static void read_original(struct qrunner *r, const struct queue_env *e, bool want_full,
                          struct buf *orig, bool *full_r)
{
	char *err = NULL;
	*full_r = false;
	if (want_full && e->size <= DSN_FULL_MAX) {
		if (queue_spool_read_msg(r->cfg->data_dir, e->id, orig, DSN_FULL_MAX, &err) == 0) {
			*full_r = true;
			return;
		}
		log_write(LOGL_WARN, "queue", "id=%s DSN with headers only: %s", e->id, err);
		free(err);
		err = NULL;
		buf_reset(orig, 0);
	}
	if (queue_spool_read_headers(r->cfg->data_dir, e->id, orig, DSN_HEADERS_MAX, &err) < 0) {
		log_write(LOGL_WARN, "queue", "id=%s DSN without the original headers: %s", e->id,
		          err);
		free(err);
	}
}

/* Compose a DSN reporting rcpts[0..n) of m and queue it to the sender. 0
 * when it is durably queued, -1 if not (logged). */
static int send_dsn(struct qrunner *r, struct qmsg *m, const struct queue_dsn_rcpt *rcpts,
                    size_t n, bool want_full)
{
	const struct queue_env *e = &m->env;
	struct buf orig, out;
	bool full;
	buf_init(&orig, DSN_FULL_MAX + 65536);  /* room for read_file's 8 KiB steps */
	read_original(r, e, want_full, &orig, &full);
	uint64_t rnd[2] = { 0, 0 };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = ev_clock_ms();
	char boundary[80];
	snprintf(boundary, sizeof(boundary), "=_mk_%016" PRIx64 "%016" PRIx64, rnd[0], rnd[1]);
	int64_t now = (int64_t)time(NULL);
	struct queue_dsn d = {
		.hostname = r->cfg->hostname,
		.sender = e->sender,
		.queue_id = e->id,
		.envid = e->envid,
		.utf8 = e->smtputf8,
		.arrival = e->created,
		.now = now,
		.retry_until = e->created + (int64_t)r->retry.lifetime,
		.boundary = boundary,
		.message_id = "",
		.expired = m->round_expired,
		.rcpts = rcpts,
		.n_rcpts = n,
		.orig = buf_ptr(&orig),
		.orig_len = buf_len(&orig),
		.orig_full = full,
	};
	buf_init(&out, DSN_FULL_MAX + DSN_HEADERS_MAX + QUEUE_ENV_MAX + 64 * 1024);
	int rc = queue_dsn_compose(&d, &out);
	buf_deinit(&orig);
	if (rc < 0) {
		log_write(LOGL_ERROR, "queue", "id=%s DSN too large to compose", e->id);
		buf_deinit(&out);
		return -1;
	}
	char id[QUEUE_ID_LEN + 1], *err = NULL;
	const char *to = e->sender;
	struct queue_msg qm = {
		.sender = "", .rcpts = &to, .n_rcpts = 1, .smtputf8 = e->smtputf8,
		.prefix = buf_ptr(&out), .prefix_len = buf_len(&out), .body_fd = -1,
		.local_user = e->sender_user,
	};
	rc = queue_enqueue(r->cfg->data_dir, &qm, id, &err);
	buf_deinit(&out);
	if (rc < 0) {
		log_write(LOGL_ERROR, "queue", "id=%s cannot queue the DSN: %s", e->id, err);
		free(err);
		return -1;
	}
	log_write(LOGL_INFO, "queue", "id=%s DSN (%s) queued as id=%s to=<%s>%s", e->id,
	          rcpts[0].action == QUEUE_DSN_DELAYED ? "delayed"
	          : rcpts[0].action == QUEUE_DSN_FAILED ? "failed" : "relayed",
	          id, e->sender, e->sender_user > 0 ? " local" : "");
	return 0;
}

void qb_report(struct qrunner *r, struct qmsg *m)
{
	struct queue_env *e = &m->env;
	size_t failed = queue_env_count(e, QUEUE_RCPT_FAILED);
	size_t relayed = queue_env_count(e, QUEUE_RCPT_RELAYED);
	if (failed + relayed == 0)
		return;
	if (e->sender[0] == '\0') {
		if (failed > 0)
			log_write(LOGL_INFO, "queue", "id=%s failed recipients=%zu: no bounce for the "
			          "null sender", e->id, failed);
		for (size_t i = 0; i < e->n_rcpts; i++) {
			struct queue_rcpt *q = &e->rcpts[i];
			q->state = q->state == QUEUE_RCPT_FAILED ? QUEUE_RCPT_BOUNCED
			           : q->state == QUEUE_RCPT_RELAYED ? QUEUE_RCPT_DELIVERED : q->state;
		}
		return;
	}
	/* Failures whose NOTIFY excludes FAILURE are settled without a word;
	 * the rest, and the owed "relayed" notices, go into one DSN. */
	struct queue_dsn_rcpt *list = xcalloc(e->n_rcpts, sizeof(*list));
	size_t n = 0;
	bool any_failed = false;
	for (size_t i = 0; i < e->n_rcpts; i++) {
		struct queue_rcpt *q = &e->rcpts[i];
		if (q->state == QUEUE_RCPT_FAILED && !queue_notify_wants(q->notify, QUEUE_NOTIFY_FAILURE)) {
			log_write(LOGL_INFO, "queue", "id=%s to=<%s> failed: no DSN (NOTIFY)", e->id,
			          q->addr);
			q->state = QUEUE_RCPT_BOUNCED;
			continue;
		}
		if (q->state != QUEUE_RCPT_FAILED && q->state != QUEUE_RCPT_RELAYED)
			continue;
		any_failed |= q->state == QUEUE_RCPT_FAILED;
		list[n++] = (struct queue_dsn_rcpt){
			.action = q->state == QUEUE_RCPT_FAILED ? QUEUE_DSN_FAILED : QUEUE_DSN_RELAYED,
			.addr = q->addr, .orcpt = q->orcpt, .status = q->status, .remote = q->remote,
			.diag = q->diag,
		};
	}
	if (n > 0 && send_dsn(r, m, list, n, any_failed && e->ret != QUEUE_RET_HDRS) < 0) {
		retry_later(r, m);  /* run_due reports again when it is due */
	} else {
		for (size_t i = 0; i < e->n_rcpts; i++) {
			struct queue_rcpt *q = &e->rcpts[i];
			q->state = q->state == QUEUE_RCPT_FAILED ? QUEUE_RCPT_BOUNCED
			           : q->state == QUEUE_RCPT_RELAYED ? QUEUE_RCPT_DELIVERED : q->state;
		}
	}
	free(list);
}

void qb_delay_notice(struct qrunner *r, struct qmsg *m)
{
	struct queue_env *e = &m->env;
	int64_t now = (int64_t)time(NULL);
	uint64_t after = r->cfg->queue_delay_notice;
	if (e->delay_notified || after == 0 || now - e->created < (int64_t)after ||
	    queue_env_count(e, QUEUE_RCPT_PENDING) == 0)
		return;
	struct queue_dsn_rcpt *list = xcalloc(e->n_rcpts, sizeof(*list));
	size_t n = 0;
	for (size_t i = 0; i < e->n_rcpts && e->sender[0] != '\0'; i++) {
		struct queue_rcpt *q = &e->rcpts[i];
		if (q->state != QUEUE_RCPT_PENDING || !queue_notify_wants(q->notify, QUEUE_NOTIFY_DELAY))
			continue;
		list[n++] = (struct queue_dsn_rcpt){
			.action = QUEUE_DSN_DELAYED, .addr = q->addr, .orcpt = q->orcpt,
			.status = q->status, .remote = q->remote, .diag = q->diag,
		};
	}
	/* Nobody to tell (null sender, NOTIFY without DELAY) counts as told:
	 * the notice is at most one per message either way. */
	if (n == 0 || send_dsn(r, m, list, n, false) == 0)
		e->delay_notified = true;
	free(list);
}
