/* DATA and BDAT: the message into the spool, then local delivery. */
#include "smtp/smtp_internal.h"
#include "smtp/smtp_trace.h"
#include "lib/date.h"
#include "lib/runtime.h"
#include "queue/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define FEED_CHUNK (64 * 1024)
static _Thread_local char feed_out[FEED_CHUNK + 1];

static bool begin_message(struct smtp_session *s, enum smtp_data_mode mode)
{
	if (smtp_spool_open(&s->spool, runtime_config->data_dir) < 0) {
		conn_log(s->c, LOGL_ERROR, "cannot create a spool file in %s/spool: %s",
		         runtime_config->data_dir, strerror(errno));
		return false;
	}
	smtp_data_init(&s->data, mode, runtime_config->max_message_size);
	buf_reset(&s->hdr, 0);
	s->hdr_done = false;
	return true;
}

void smtp_cmd_data(struct smtp_session *s, const char *arg, size_t len)
{
	if (!s->have_mail) {
		smtp_reply(s, "503 5.5.1 Need MAIL command");
	} else if (s->in_bdat) {
		smtp_reply(s, "503 5.5.1 DATA after BDAT is not allowed");
	} else if (s->n_rcpts == 0) {
		smtp_reply(s, "554 5.5.1 No valid recipients");
	} else if (len != 0) {
		smtp_reply(s, "501 5.5.4 Syntax: DATA");
	} else if (!begin_message(s, SMTP_DATA_DOT)) {
		smtp_reply(s, "451 4.3.0 Local error, try again later");
	} else {
		smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
		s->phase = SMTP_PH_DATA;
	}
}

void smtp_cmd_bdat(struct smtp_session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;
	const char *reply;
	if (smtp_bdat_parse(arg, len, &size, &last, &reply) < 0) {
		/* Without a size the chunk cannot be skipped: its bytes will be
		 * read as commands and refused one by one. */
		s->bad++;
		smtp_reply(s, reply);
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_reply = NULL;
	s->phase = SMTP_PH_BDAT;
	/* Check; a refused chunk is still read, and dropped. */
	if (!s->greeted)
		s->bdat_reply = "503 5.5.1 Send EHLO first";
	else if (!s->esmtp)
		s->bdat_reply = "503 5.5.1 BDAT needs EHLO";
	else if (!s->have_mail)
		s->bdat_reply = "503 5.5.1 Need MAIL command";
	else if (s->n_rcpts == 0)
		s->bdat_reply = "554 5.5.1 No valid recipients";
	else if (!s->in_bdat && !begin_message(s, SMTP_DATA_CHUNK))
		s->bdat_reply = "451 4.3.0 Local error, try again later";
	else
		s->in_bdat = true;
}

/* Keep the header section (for the submission checks). */
static void collect_header(struct smtp_session *s, const char *p, size_t n)
{
	if (s->hdr_done || n == 0)
		return;
	size_t before = buf_len(&s->hdr);
	size_t take = n < buf_room(&s->hdr) ? n : buf_room(&s->hdr);
	buf_append(&s->hdr, p, take);
	const char *h = buf_ptr(&s->hdr);
	size_t len = buf_len(&s->hdr);
	if (len >= 2 && h[0] == '\r' && h[1] == '\n') {
		buf_reset(&s->hdr, 0);  /* no header at all */
		s->hdr_done = true;
		return;
	}
	size_t from = before > 3 ? before - 3 : 0;
	const char *end = len > from ? memmem(h + from, len - from, "\r\n\r\n", 4) : NULL;
	if (end != NULL) {
		s->hdr.len = (size_t)(end - h) + 2;  /* keep the last field's CRLF */
		s->hdr_done = true;
	} else if (buf_room(&s->hdr) == 0) {
		s->hdr_done = true;
	}
}

static void feed(struct smtp_session *s, const char *in, size_t n, size_t *used)
{
	size_t out_n;
	*used = smtp_data_feed(&s->data, in, n, feed_out, &out_n);
	if (out_n > 0) {
		collect_header(s, feed_out, out_n);
		smtp_spool_write(&s->spool, feed_out, out_n);
	}
}

static void finish_message(struct smtp_session *s);

/* One whole refusal for the transaction: LMTP answers once per recipient. */
static void reply_all(struct smtp_session *s, const char *reply)
{
	size_t n = s->mode == SMTP_MODE_LMTP && s->n_rcpts > 0 ? s->n_rcpts : 1;
	for (size_t i = 0; i < n; i++)
		smtp_reply(s, reply);
}

bool smtp_body_input(struct smtp_session *s)
{
	struct conn *c = s->c;
	size_t avail = buf_len(&c->in);
	if (avail == 0 && (s->phase == SMTP_PH_DATA || s->bdat_left > 0))
		return false;
	if (s->phase == SMTP_PH_DATA) {
		size_t n = avail < FEED_CHUNK ? avail : FEED_CHUNK, used;
		feed(s, buf_ptr(&c->in), n, &used);
		buf_consume(&c->in, used);
		if (s->data.done)
			finish_message(s);
		return true;
	}
	/* BDAT: the chunk's bytes, as they are. */
	size_t n = avail < FEED_CHUNK ? avail : FEED_CHUNK;
	if (n > s->bdat_left)
		n = (size_t)s->bdat_left;
	if (s->bdat_reply == NULL && n > 0) {
		size_t used;
		feed(s, buf_ptr(&c->in), n, &used);
	}
	buf_consume(&c->in, n);
	s->bdat_left -= n;
	if (s->bdat_left > 0)
		return true;
	/* The chunk is complete. */
	s->phase = SMTP_PH_CMD;
	if (s->bdat_reply != NULL) {
		s->bad++;
		reply_all(s, s->bdat_reply);
		if (s->in_bdat)
			smtp_txn_reset(s);
		return true;
	}
	if (s->bdat_last) {
		smtp_data_finish_chunks(&s->data);
		finish_message(s);
	} else if (s->data.err != SMTP_DATA_OK) {
		/* RFC 3030 2: a failed chunk fails the transaction. */
		reply_all(s, smtp_data_err_reply(s->data.err));
		smtp_txn_reset(s);
	} else {
		smtp_replyf(s, "250 2.0.0 %llu octets received",
		            (unsigned long long)s->data.size);
	}
	return true;
}

/* Submission: every From:/Sender: mailbox must be the user's. */
static const char *check_submission(struct smtp_session *s)
{
	const char *h = buf_ptr(&s->hdr);
	size_t len = buf_len(&s->hdr);
	const char *from[16];
	int n = smtp_header_mailboxes(s->arena, h, len, "From", from, 16);
	if (n == 0)
		return "550 5.6.0 Message has no From: address";
	if (n < 0)
		return "550 5.6.0 Bad From: address";
	const char *sender[4];
	int ns = smtp_header_mailboxes(s->arena, h, len, "Sender", sender, 4);
	if (ns < 0)
		return "550 5.6.0 Bad Sender: address";
	for (int i = 0; i < n; i++)
		if (!smtp_owns_address(s, from[i]))
			return "553 5.7.1 From: address is not yours";
	for (int i = 0; i < ns; i++)
		if (!smtp_owns_address(s, sender[i]))
			return "553 5.7.1 Sender: address is not yours";
	return NULL;
}

static void build_prefix(struct smtp_session *s, struct smtp_job *job, const char *id)
{
	struct buf b;
	buf_init(&b, 4096 + 2 * SMTP_PATH_MAX);
	bool tls = conn_secure(s->c);
	struct smtp_received r = {
		.helo = s->helo,
		.ip = s->c->ip,
		.by = runtime_config->hostname,
		.with = smtp_with_name(s->mode == SMTP_MODE_LMTP, s->esmtp, tls, s->authed,
		                       s->mail.smtputf8),
		.id = id,
		.for_addr = s->n_rcpts == 1 ? s->rcpts[0].addr : NULL,
		.now = time(NULL),
		.tz_minutes = 0,
	};
	smtp_received_write(&b, &r);
	if (s->mode == SMTP_MODE_SUBMISSION) {
		const char *h = buf_ptr(&s->hdr);
		size_t len = buf_len(&s->hdr);
		if (!smtp_header_has(h, len, "Date")) {
			char date[DATE_RFC5322_SIZE];
			date_format_rfc5322(r.now, 0, date);
			buf_printf(&b, "Date: %s\r\n", date);
		}
		if (!smtp_header_has(h, len, "Message-ID")) {
			unsigned long long rnd[2] = { 0, 0 };
			if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
				rnd[0] = (unsigned long long)ev_clock_ms(), rnd[1] = s->c->id;
			smtp_message_id_write(&b, runtime_config->hostname, rnd[0], rnd[1]);
		}
	}
	job->prefix_len = buf_len(&b);
	job->prefix = xmalloc(job->prefix_len + 1);
	memcpy(job->prefix, buf_ptr(&b), job->prefix_len);
	buf_deinit(&b);
}

static void delivered(struct smtp_job *job, void *arg);

/* The outbound queue has the message for the remote recipients (or not):
 * go on with the local ones, whose delivery gives the reply. */
static void queued(int rc, const char *qid, const char *error, void *arg)
{
	struct smtp_job *job = arg;
	if (job->cancelled) {  /* the session went away meanwhile */
		smtp_job_free(job);
		return;
	}
	struct smtp_session *s = job->arg;
	if (rc < 0) {
		conn_log(s->c, LOGL_ERROR, "cannot queue for remote recipients: %s", error);
		s->job = NULL;
		smtp_job_free(job);
		smtp_reply(s, "451 4.3.0 Local error, try again later");
		smtp_txn_reset(s);
		smtp_resume(s);
		return;
	}
	conn_log(s->c, LOGL_INFO, "queued id=%s for remote recipients", qid);
	smtp_job_start(job, s->c->loop, delivered, s);
}

/* Hand the message to the outbound queue for the remote recipients.
 * 0 when queued() will run, -1 when there are none. A full job pool is
 * answered 451 here (and 0 returned: the transaction is over). */
static int queue_remote(struct smtp_session *s, struct smtp_job *job)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_rcpts; i++)
		n += s->rcpts[i].remote;
	if (n == 0)
		return -1;
	const char **rcpts = xcalloc(n, sizeof(*rcpts));
	n = 0;
	for (size_t i = 0; i < s->n_rcpts; i++)
		if (s->rcpts[i].remote)
			rcpts[n++] = s->rcpts[i].addr;
	struct queue_msg m = {
		.sender = s->mail.path.is_null ? "" : s->mail.path.addr,
		.sender_user = s->user_id,
		.rcpts = rcpts,
		.n_rcpts = n,
		.smtputf8 = s->mail.smtputf8,
		.prefix = job->prefix,
		.prefix_len = job->prefix_len,
		.body_fd = smtp_spool_fd(&job->spool),  /* -1: queue_submit fails */
		.body_size = job->spool.size,
	};
	job->arg = s;
	smtp_dsn_queue_params(s, &m);
	int rc = queue_submit(s->c->loop, &m, queued, job);
	free(rcpts);
	if (rc < 0) {
		conn_log(s->c, LOGL_WARN, "cannot queue for remote recipients: job pool full");
		s->job = NULL;
		smtp_job_free(job);
		smtp_reply(s, "451 4.3.0 Too busy, try again later");
		smtp_txn_reset(s);
		smtp_resume(s);
	}
	return 0;
}

static void finish_message(struct smtp_session *s)
{
	struct smtp_data *d = &s->data;
	s->phase = SMTP_PH_CMD;
	const char *refuse = smtp_data_err_reply(d->err);
	if (refuse == NULL && s->spool.err != 0) {
		conn_log(s->c, LOGL_ERROR, "spool write failed: %s", strerror(s->spool.err));
		refuse = "451 4.3.0 Local error, try again later";
	}
	if (refuse == NULL && s->mode == SMTP_MODE_SUBMISSION)
		refuse = check_submission(s);
	if (refuse != NULL) {
		conn_log(s->c, LOGL_INFO, "message refused size=%llu reply=\"%.40s\"",
		         (unsigned long long)d->size, refuse);
		reply_all(s, refuse);
		bool close = d->must_close;
		smtp_txn_reset(s);
		if (close) {
			smtp_reply(s, "421 4.5.0 Cannot tell where the message ended; closing");
			conn_close(s->c);
		}
		return;
	}
	s->msg_count++;
	char id[48];
	snprintf(id, sizeof(id), "%llx.%llx", (unsigned long long)s->c->id,
	         (unsigned long long)s->msg_count);
	bool save_sent = s->mode == SMTP_MODE_SUBMISSION && runtime_config->submission_save_sent;
	struct smtp_job *job = smtp_job_new(SMTP_JOB_DELIVER, s->n_targets + (save_sent ? 1 : 0));
	memcpy(job->targets, s->targets, s->n_targets * sizeof(*s->targets));
	if (save_sent) {
		struct smtp_target *t = &job->targets[s->n_targets];
		t->user_id = s->user_id;
		t->mailbox = "Sent";
		t->flags = STORE_SEEN;
	}
	build_prefix(s, job, id);
	job->spool = s->spool;  /* the job owns the spool now */
	smtp_spool_forget(&s->spool);
	conn_log(s->c, LOGL_INFO, "message id=%s size=%llu rcpts=%zu", id,
	         (unsigned long long)d->size, s->n_rcpts);
	s->job = job;
	s->phase = SMTP_PH_WAIT;
	conn_pause_input(s->c);
	if (queue_remote(s, job) == 0)
		return;  /* queued() goes on with the local part */
	smtp_job_start(job, s->c->loop, delivered, s);
}

static void delivered(struct smtp_job *job, void *arg)
{
	struct smtp_session *s = arg;
	s->job = NULL;
	size_t n = s->n_targets;  /* the Sent copy, if any, comes after */
	for (size_t i = n; i < job->n_targets; i++)
		if (job->targets[i].status != STORE_OK)
			conn_log(s->c, LOGL_WARN, "copy to Sent failed: %s", job->targets[i].error);
	for (size_t i = 0; i < n; i++) {
		struct smtp_target *t = &job->targets[i];
		conn_log(s->c, t->status == STORE_OK ? LOGL_INFO : LOGL_WARN,
		         "delivery user=%lld status=%s uid=%u%s%s", (long long)t->user_id,
		         store_err_name(t->status), t->uid, t->error[0] ? " error=" : "", t->error);
	}
	smtp_dsn_local_results(s, job);
	if (s->mode == SMTP_MODE_LMTP) {
		for (size_t i = 0; i < s->n_rcpts; i++) {
			int st = job->targets[s->rcpts[i].target].status;
			if (st == STORE_OK)
				smtp_replyf(s, "250 2.0.0 <%s> Ok: delivered", s->rcpts[i].addr);
			else
				smtp_reply(s, smtp_store_reply(st));
		}
	} else {
		/* One reply for all. If some recipients failed, their failure is
		 * the answer: the sender retries, and those already delivered
		 * may get a second copy (duplicates rather than loss, RFC 5321
		 * 6.1). RCPT-time quota checks make this rare. */
		int fail = STORE_OK;
		size_t ok = 0;
		for (size_t i = 0; i < n; i++) {
			if (job->targets[i].status == STORE_OK)
				ok++;
			else if (fail == STORE_OK)
				fail = job->targets[i].status;
		}
		if (fail == STORE_OK) {
			smtp_replyf(s, "250 2.0.0 Ok: delivered as %llx.%llx",
			            (unsigned long long)s->c->id, (unsigned long long)s->msg_count);
		} else {
			if (ok > 0)
				conn_log(s->c, LOGL_WARN, "partial delivery: %zu of %zu; a retry "
				         "will duplicate", ok, n);
			smtp_reply(s, smtp_store_reply(fail));
		}
	}
	smtp_job_free(job);
	smtp_txn_reset(s);
	smtp_resume(s);
}
