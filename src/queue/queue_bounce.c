/* queue_bounce: telling the sender about failed recipients (queue.h). */
#include "queue/queue.h"
#include "queue/queue_dsn.h"
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/runtime.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define DSN_HEADERS_MAX (64 * 1024)

struct local_bounce {
	struct qrunner *r;
	char id[QUEUE_ID_LEN + 1];
	int64_t user;
	char *data;
	size_t len;
	int status;
	char error[200];
};

static void mark_reported(struct queue_env *e)
{
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (e->rcpts[i].state == QUEUE_RCPT_FAILED)
			e->rcpts[i].state = QUEUE_RCPT_BOUNCED;
}

static void retry_later(struct qrunner *r, struct qmsg *m)
{
	m->env.next_attempt = (int64_t)time(NULL) + (int64_t)r->retry.min;
}

static void qb_local_done(void *arg);

/* On the sender's worker: the bounce into the INBOX, durably. */
static void local_deliver(void *arg)
{
	struct local_bounce *b = arg;
	char uid[32];
	const char *err = NULL;
	struct store_user *u = NULL;
	struct store_append *ap;
	snprintf(uid, sizeof(uid), "%" PRId64, b->user);
	int rc = store_user_open(b->r->cfg->data_dir, uid, NULL, &u, &err);
	if (rc < 0) {
		snprintf(b->error, sizeof(b->error), "opening the store: %s", err ? err : "?");
	} else {
		rc = store_deliver_begin(u, 0, &ap);
		if (rc == STORE_OK && (rc = store_append_write(ap, b->data, b->len)) < 0)
			store_append_abort(ap);
		else if (rc == STORE_OK)
			rc = store_append_commit(ap, &(struct store_append_opts){ 0 }, NULL, NULL);
		if (rc < 0)
			snprintf(b->error, sizeof(b->error), "%s", store_error(u));
		store_user_close(&u);
	}
	b->status = rc;
	ev_post(b->r->loop, qb_local_done, b);
}

static void qb_local_done(void *arg)
{
	struct local_bounce *b = arg;
	struct qrunner *r = b->r;
	struct qmsg *m = qr_find(r, b->id);
	r->bounces_inflight--;
	if (m != NULL) {
		m->bouncing = false;
		if (b->status == STORE_OK) {
			log_write(LOGL_INFO, "queue", "id=%s bounce delivered to local user=%" PRId64
			          " sender=<%s>", b->id, b->user, m->env.sender);
			mark_reported(&m->env);
		} else {
			log_write(LOGL_ERROR, "queue", "id=%s bounce to local user=%" PRId64 " failed: "
			          "%s; will retry", b->id, b->user, b->error);
			retry_later(r, m);
		}
		if (!r->stopping)
			qr_settle(r, m);
		qr_reschedule(r);
	}
	free(b->data);
	free(b);
}

/* The DSN for m's failed recipients into out. 0 or -1. */
static int compose(struct qrunner *r, struct qmsg *m, struct buf *out)
{
	struct buf hdr;
	char *err = NULL;
	buf_init(&hdr, DSN_HEADERS_MAX + 16);
	if (queue_spool_read_headers(r->cfg->data_dir, m->env.id, &hdr, DSN_HEADERS_MAX, &err) < 0) {
		log_write(LOGL_WARN, "queue", "id=%s bounce without the original headers: %s",
		          m->env.id, err);
		free(err);
	}
	uint64_t rnd[2] = { 0, 0 };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = ev_clock_ms();
	char boundary[80];
	snprintf(boundary, sizeof(boundary), "=_mk_%016" PRIx64 "%016" PRIx64, rnd[0], rnd[1]);
	struct queue_dsn d = {
		.hostname = r->cfg->hostname,
		.env = &m->env,
		.now = (int64_t)time(NULL),
		.boundary = boundary,
		.message_id = "",
		.expired = m->round_expired,
		.orig_headers = buf_ptr(&hdr),
		.orig_headers_len = buf_len(&hdr),
	};
	int rc = queue_dsn_compose(&d, out);
	buf_deinit(&hdr);
	return rc;
}

void qb_bounce(struct qrunner *r, struct qmsg *m)
{
	struct queue_env *e = &m->env;
	if (queue_env_count(e, QUEUE_RCPT_FAILED) == 0 || m->bouncing)
		return;
	if (e->sender[0] == '\0') {
		log_write(LOGL_INFO, "queue", "id=%s failed recipients=%zu: no bounce for the null "
		          "sender", e->id, queue_env_count(e, QUEUE_RCPT_FAILED));
		mark_reported(e);
		return;
	}
	struct buf out;
	buf_init(&out, DSN_HEADERS_MAX + QUEUE_ENV_MAX + 64 * 1024);
	if (compose(r, m, &out) < 0) {
		log_write(LOGL_ERROR, "queue", "id=%s bounce too large to compose", e->id);
		mark_reported(e);
		buf_deinit(&out);
		return;
	}
	if (e->sender_user > 0 && runtime_worker_count() > 0) {
		struct local_bounce *b = xcalloc(1, sizeof(*b));
		b->r = r;
		memcpy(b->id, e->id, sizeof(b->id));
		b->user = e->sender_user;
		b->len = buf_len(&out);
		b->data = xmalloc(b->len + 1);
		memcpy(b->data, buf_ptr(&out), b->len);
		buf_deinit(&out);
		m->bouncing = true;
		r->bounces_inflight++;
		ev_post(runtime_worker_for_user((uint64_t)e->sender_user)->loop, local_deliver, b);
		return;
	}
	/* A remote sender: the bounce is queued like any mail, from <>. */
	char id[QUEUE_ID_LEN + 1], *err = NULL;
	const char *rcpt = e->sender;
	struct queue_msg qm = {
		.sender = "", .rcpts = &rcpt, .n_rcpts = 1, .smtputf8 = e->smtputf8,
		.prefix = buf_ptr(&out), .prefix_len = buf_len(&out), .body_fd = -1,
	};
	if (queue_enqueue(r->cfg->data_dir, &qm, id, &err) < 0) {
		log_write(LOGL_ERROR, "queue", "id=%s cannot queue the bounce: %s", e->id, err);
		free(err);
		retry_later(r, m);
	} else {
		log_write(LOGL_INFO, "queue", "id=%s bounce queued as id=%s to=<%s>", e->id, id,
		          e->sender);
		mark_reported(e);
	}
	buf_deinit(&out);
}
