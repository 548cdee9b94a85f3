/*
 * smtp_dsn: the DSN extension (RFC 3461) on the session's side.
 *
 * The parameters are parsed by smtp_cmd.c and kept with the transaction
 * (s->mail.ret/envid, each smtp_rcpt's notify/orcpt). From here they go
 * two ways:
 *
 *   - remote recipients (submission): into the outbound queue's envelope
 *     with the message (smtp_dsn_queue_params), where the queue passes
 *     them on or reports on them (queue.h);
 *   - local recipients: this server makes the final delivery, so a
 *     NOTIFY=SUCCESS is answered here with a "delivered" DSN once the
 *     store has the message (smtp_dsn_local_results, RFC 3461 5.2.3).
 *     Failures of local delivery are not reported by DSN: the client is
 *     told at once (4xx/5xx, LMTP per recipient) and owns the message.
 *
 * A DSN is a message from <> queued like any other: to a local sender it
 * goes into the sender's INBOX through the queue's local delivery (quota
 * respected, retried when full), to a remote one by SMTP. It carries the
 * original header section, not the body (RET applies to failures).
 */
#include "smtp/smtp_internal.h"
#include "auth/accounts.h"
#include "lib/log.h"
#include "lib/runtime.h"
#include "queue/queue.h"
#include "queue/queue_dsn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static unsigned queue_notify_of(unsigned smtp_notify)
{
	unsigned q = 0;
	q |= smtp_notify & SMTP_NOTIFY_NEVER ? QUEUE_NOTIFY_NEVER : 0;
	q |= smtp_notify & SMTP_NOTIFY_SUCCESS ? QUEUE_NOTIFY_SUCCESS : 0;
	q |= smtp_notify & SMTP_NOTIFY_FAILURE ? QUEUE_NOTIFY_FAILURE : 0;
	q |= smtp_notify & SMTP_NOTIFY_DELAY ? QUEUE_NOTIFY_DELAY : 0;
	return q;
}

void smtp_dsn_queue_params(struct smtp_session *s, struct queue_msg *m)
{
	m->ret = s->mail.ret == SMTP_RET_FULL   ? QUEUE_RET_FULL
	         : s->mail.ret == SMTP_RET_HDRS ? QUEUE_RET_HDRS : QUEUE_RET_NONE;
	m->envid = s->mail.envid;
	size_t n = 0;
	for (size_t i = 0; i < s->n_rcpts; i++)
		n += s->rcpts[i].remote;
	if (n == 0 || n != m->n_rcpts)
		return;  /* not the list queue_remote built: send no per-recipient items */
	unsigned *notify = arena_alloc(s->arena, n * sizeof(*notify));
	const char **orcpt = arena_alloc(s->arena, n * sizeof(*orcpt));
	n = 0;
	for (size_t i = 0; i < s->n_rcpts; i++) {
		if (!s->rcpts[i].remote)
			continue;
		notify[n] = queue_notify_of(s->rcpts[i].notify);
		orcpt[n] = s->rcpts[i].orcpt;
		n++;
	}
	m->notify = notify;
	m->orcpt = orcpt;
}

/* Where a DSN to the sender goes: the local account id, 0 for SMTP, or -1
 * when the sender claims one of our domains but no account has it (there
 * is no one to tell). */
static int64_t sender_account(struct smtp_session *s)
{
	if (s->mode == SMTP_MODE_SUBMISSION)
		return s->user_id;  /* MAIL FROM was checked to be the user's */
	const char *addr = s->mail.path.addr;
	const char *at = strrchr(addr, '@');
	if (at == NULL || s->mail.path.domain_literal || !smtp_domain_is_local(at + 1))
		return 0;
	struct accounts *acc = smtp_accounts();
	int64_t id;
	const char *err;
	if (acc != NULL && accounts_resolve_recipient(acc, addr, &id, &err) == ACCOUNTS_OK)
		return id;
	return -1;
}

static void dsn_queued(int rc, const char *id, const char *error, void *arg)
{
	if (rc == 0)
		log_write(LOGL_INFO, "smtp", "DSN (delivered) queued as id=%s", id);
	else
		log_write(LOGL_ERROR, "smtp", "cannot queue a DSN (delivered): %s", error);
}

void smtp_dsn_local_results(struct smtp_session *s, const struct smtp_job *job)
{
	if (!s->have_mail || s->mail.path.is_null)
		return;  /* a DSN never answers the null sender */
	/* SMTP answers the transaction as a whole: when a local delivery
	 * failed the client is told to retry, and the recipients delivered
	 * now get the message again then; their DSN waits for that. LMTP
	 * answers each recipient, so each delivered one is reported. */
	for (size_t i = 0; i < s->n_targets && i < job->n_targets; i++)
		if (s->mode != SMTP_MODE_LMTP && job->targets[i].status != STORE_OK)
			return;
	struct queue_dsn_rcpt *list = arena_alloc(s->arena, (s->n_rcpts + 1) * sizeof(*list));
	size_t n = 0;
	for (size_t i = 0; i < s->n_rcpts; i++) {
		const struct smtp_rcpt *r = &s->rcpts[i];
		if (r->remote || r->target >= job->n_targets ||
		    job->targets[r->target].status != STORE_OK ||
		    !queue_notify_wants(queue_notify_of(r->notify), QUEUE_NOTIFY_SUCCESS))
			continue;
		list[n++] = (struct queue_dsn_rcpt){
			.action = QUEUE_DSN_DELIVERED, .addr = r->addr, .orcpt = r->orcpt,
			.status = "2.0.0", .remote = "", .diag = "",
		};
	}
	if (n == 0)
		return;
	int64_t account = sender_account(s);
	if (account < 0) {
		conn_log(s->c, LOGL_INFO, "no DSN (delivered): sender <%s> has no account",
		         s->mail.path.addr);
		return;
	}
	/* The original header section: our trace lines, then the client's. */
	struct buf orig, out;
	buf_init(&orig, job->prefix_len + buf_len(&s->hdr) + 16);
	buf_append(&orig, job->prefix, job->prefix_len);
	buf_append(&orig, buf_ptr(&s->hdr), buf_len(&s->hdr));
	uint64_t rnd[2] = { 0, 0 };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = ev_clock_ms(), rnd[1] = s->c->id;
	char boundary[80];
	snprintf(boundary, sizeof(boundary), "=_mk_%016" PRIx64 "%016" PRIx64, rnd[0], rnd[1]);
	int64_t now = (int64_t)time(NULL);
	struct queue_dsn d = {
		.hostname = runtime_config->hostname,
		.sender = s->mail.path.addr,
		.queue_id = "",
		.envid = s->mail.envid,
		.utf8 = s->mail.smtputf8,
		.arrival = now,
		.now = now,
		.boundary = boundary,
		.message_id = "",
		.rcpts = list,
		.n_rcpts = n,
		.orig = buf_ptr(&orig),
		.orig_len = buf_len(&orig),
	};
	buf_init(&out, buf_len(&orig) + 8192 + n * 1500);
	if (queue_dsn_compose(&d, &out) < 0) {
		conn_log(s->c, LOGL_ERROR, "DSN (delivered) too large to compose");
	} else {
		const char *to = s->mail.path.addr;
		struct queue_msg m = {
			.sender = "", .rcpts = &to, .n_rcpts = 1, .smtputf8 = s->mail.smtputf8,
			.prefix = buf_ptr(&out), .prefix_len = buf_len(&out), .body_fd = -1,
			.local_user = account,
		};
		if (queue_submit(s->c->loop, &m, dsn_queued, NULL) < 0)
			conn_log(s->c, LOGL_WARN, "no DSN (delivered) for <%s>: job pool full",
			         s->mail.path.addr);
	}
	buf_deinit(&orig);
	buf_deinit(&out);
}
