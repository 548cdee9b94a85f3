#include "smtp/smtp_deliver.h"
#include "smtp/smtp.h"
#include "auth/auth_thread.h"
#include "lib/arena.h"
#include "lib/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- spool -------------------------------------------------------------- */

int smtp_spool_open(struct smtp_spool *sp, const char *data_dir)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	sp->data_dir = data_dir;
	return 0;
}

static void spool_write_fd(struct smtp_spool *sp, const char *s, size_t n)
{
	while (n > 0 && sp->err == 0) {
		ssize_t w = write(sp->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			sp->err = w < 0 ? errno : EIO;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* The message outgrew memory: on to a file, with what was in memory. */
static int spool_to_file(struct smtp_spool *sp)
{
	int n = snprintf(sp->path, sizeof(sp->path), "%s/spool", sp->data_dir);
	if (n < 0 || (size_t)n >= sizeof(sp->path) - 16) {
		sp->path[0] = '\0';
		return ENAMETOOLONG;
	}
	if (mkdir(sp->path, 0700) < 0 && errno != EEXIST) {
		sp->path[0] = '\0';
		return errno;
	}
	memcpy(sp->path + n, "/smtp-XXXXXX", 13);
	sp->fd = mkostemp(sp->path, O_CLOEXEC);
	if (sp->fd < 0) {
		sp->path[0] = '\0';
		return errno;
	}
	spool_write_fd(sp, sp->mem, (size_t)sp->size);
	free(sp->mem);
	sp->mem = NULL;
	sp->mem_cap = 0;
	return sp->err;
}

void smtp_spool_write(struct smtp_spool *sp, const void *p, size_t n)
{
	if (sp->err != 0 || n == 0)
		return;
	if (sp->fd < 0 && sp->size + n > SMTP_SPOOL_MEM_MAX)
		sp->err = spool_to_file(sp);
	if (sp->err != 0)
		return;
	if (sp->fd >= 0) {
		spool_write_fd(sp, p, n);
	} else {
		if (sp->size + n > sp->mem_cap) {
			size_t cap = sp->mem_cap ? sp->mem_cap : 8192;
			while (cap < sp->size + n)
				cap *= 2;
			if (cap > SMTP_SPOOL_MEM_MAX)
				cap = SMTP_SPOOL_MEM_MAX;
			sp->mem = xrealloc(sp->mem, cap);
			sp->mem_cap = cap;
		}
		memcpy(sp->mem + sp->size, p, n);
	}
	if (sp->err == 0)
		sp->size += n;
}

const char *smtp_spool_mem(const struct smtp_spool *sp)
{
	return sp->fd < 0 ? (sp->mem != NULL ? sp->mem : "") : NULL;
}

int smtp_spool_fd(struct smtp_spool *sp)
{
	if (sp->fd >= 0)
		return sp->fd;
	int fd = memfd_create("mailkeep-spool", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	sp->fd = fd;   /* path stays "": nothing to unlink */
	spool_write_fd(sp, sp->mem, (size_t)sp->size);
	if (sp->err != 0) {
		errno = sp->err;
		return -1;
	}
	free(sp->mem);
	sp->mem = NULL;
	sp->mem_cap = 0;
	return fd;
}

void smtp_spool_discard(struct smtp_spool *sp)
{
	free(sp->mem);
	sp->mem = NULL;
	sp->mem_cap = 0;
	if (sp->fd >= 0) {
		close(sp->fd);
		if (sp->path[0] != '\0')
			unlink(sp->path);
	}
	sp->fd = -1;
	sp->path[0] = '\0';
	sp->size = 0;
}

void smtp_spool_forget(struct smtp_spool *sp)
{
	sp->fd = -1;
	sp->mem = NULL;
	sp->mem_cap = 0;
	sp->path[0] = '\0';
	sp->size = 0;
}

/* ---- store errors -------------------------------------------------------- */

const char *smtp_store_reply(int err)
{
	switch (err) {
	case STORE_OK:
		return "250 2.0.0 Ok: delivered";
	case STORE_E_OVERQUOTA:
		return "452 4.2.2 Mailbox full, try again later";
	case STORE_E_LIMIT:
		return "552 5.3.4 Message too big for system";
	case STORE_E_NOTFOUND:
	case STORE_E_NOSELECT:
		return "450 4.2.0 Mailbox unavailable, try again later";
	default:
		return "451 4.3.0 Local delivery failed, try again later";
	}
}

/* ---- tasks, run on the owner worker's thread ------------------------------ */

struct smtp_task {
	struct smtp_job *job;
	size_t idx;
};

static _Thread_local char copy_buf[64 * 1024];

static int deliver_one(struct smtp_job *job, struct smtp_target *t, struct store_user *u)
{
	struct store_append *ap;
	int rc = store_append_begin(u, t->mailbox, 0, &ap);
	if (rc < 0)
		return rc;
	if (job->prefix_len > 0 && (rc = store_append_write(ap, job->prefix, job->prefix_len)) < 0) {
		store_append_abort(ap);
		return rc;
	}
	/* Small: straight from memory (the usual case); else from the file. */
	const char *mem = smtp_spool_mem(&job->spool);
	if (mem != NULL && (rc = store_append_write(ap, mem, (size_t)job->spool.size)) < 0) {
		store_append_abort(ap);
		return rc;
	}
	uint64_t off = 0;
	while (mem == NULL && off < job->spool.size) {
		size_t want = sizeof(copy_buf);
		if (job->spool.size - off < want)
			want = (size_t)(job->spool.size - off);
		ssize_t n = pread(job->spool.fd, copy_buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(t->error, sizeof(t->error), "reading the spool file: %s",
			         n < 0 ? strerror(errno) : "short file");
			store_append_abort(ap);
			return STORE_E_INTERNAL;
		}
		if ((rc = store_append_write(ap, copy_buf, (size_t)n)) < 0) {
			store_append_abort(ap);
			return rc;
		}
		off += (uint64_t)n;
	}
	struct store_append_opts opts = { .flags = t->flags };
	return store_append_commit(ap, &opts, NULL, &t->uid);
}

static int check_one(struct smtp_job *job, struct smtp_target *t, struct store_user *u)
{
	uint64_t bytes, msgs;
	int rc = store_user_quota(u, &bytes, &msgs, NULL);
	if (rc < 0)
		return rc;
	if ((t->quota.max_bytes != 0 && bytes + job->check_size > t->quota.max_bytes) ||
	    (t->quota.max_messages != 0 && msgs + 1 > t->quota.max_messages)) {
		snprintf(t->error, sizeof(t->error), "quota exceeded");
		return STORE_E_OVERQUOTA;
	}
	return STORE_OK;
}

static void task_back(void *arg);

/*
 * Open stores, kept per worker thread: opening one prepares its SQL
 * statements and checks its directories, which cost more than a small
 * delivery. A handle sees other threads' and processes' changes (the store
 * syncs at every transaction), so keeping it open is safe. At most
 * STORE_CACHE users per thread; one idle for STORE_IDLE_MS is closed at the
 * next lookup, the least recently used when the cache is full.
 */
#define STORE_CACHE 16
#define STORE_IDLE_MS 30000

struct cached_store {
	int64_t user_id;
	struct store_user *u;
	uint64_t used_ms;
};
static _Thread_local struct cached_store store_cache[STORE_CACHE];

static struct store_user *store_get(int64_t user_id, const struct store_quota *rcpt_q,
                                    const char **err_r)
{
	uint64_t now = ev_clock_ms();
	/* The limits as they are now, not as RCPT saw them: an administrator's
	 * SETQUOTA in between must not be undone by this delivery. */
	struct store_quota fresh;
	const struct store_quota *q = rcpt_q;
	const char *qerr;
	if (auth_account_quota(user_id, &fresh.max_bytes, &fresh.max_messages, &qerr) == 0)
		q = &fresh;
	struct cached_store *slot = NULL, *lru = &store_cache[0];
	for (size_t i = 0; i < STORE_CACHE; i++) {
		struct cached_store *c = &store_cache[i];
		if (c->u != NULL && c->user_id != user_id && now - c->used_ms > STORE_IDLE_MS)
			store_user_close(&c->u);
		if (c->u != NULL && c->user_id == user_id) {
			c->used_ms = now;
			store_user_set_quota(c->u, q);
			return c->u;
		}
		if (c->u == NULL && slot == NULL)
			slot = c;
		if (c->u != NULL && c->used_ms < lru->used_ms)
			lru = c;
	}
	if (slot == NULL) {
		store_user_close(&lru->u);
		slot = lru;
	}
	char id[32];
	snprintf(id, sizeof(id), "%" PRId64, user_id);
	if (store_user_open(runtime_config->data_dir, id, q, &slot->u, err_r) < 0) {
		slot->u = NULL;
		return NULL;
	}
	slot->user_id = user_id;
	slot->used_ms = now;
	return slot->u;
}

void smtp_deliver_thread_exit(void)
{
	for (size_t i = 0; i < STORE_CACHE; i++)
		store_user_close(&store_cache[i].u);
}

/* Run one task alone on the target's store (CHECK, or a lone DELIVER). */
static void task_run_now(struct smtp_task *task)
{
	struct smtp_job *job = task->job;
	struct smtp_target *t = &job->targets[task->idx];
	const char *err = NULL;
	struct store_user *u = store_get(t->user_id, &t->quota, &err);
	int rc;
	if (u == NULL) {
		rc = STORE_E_INTERNAL;
		snprintf(t->error, sizeof(t->error), "opening the store: %s", err ? err : "?");
	} else {
		rc = job->op == SMTP_JOB_CHECK ? check_one(job, t, u) : deliver_one(job, t, u);
		if (rc < 0 && t->error[0] == '\0')
			snprintf(t->error, sizeof(t->error), "%s", store_error(u));
	}
	t->status = rc;
	ev_post(job->home, task_back, task);
}

/*
 * Group commit. Deliveries reach the owner worker through its post queue;
 * those that arrive in one turn of its loop (more of them the busier it
 * is: they pile up while it waits for the disk) are delivered per user in
 * one store transaction, so one round of fsyncs makes them all durable.
 * No task is answered before that commit. A refused message (over quota)
 * does not spoil the others: the store refuses it without aborting the
 * transaction.
 */
static _Thread_local struct smtp_task **batch;
static _Thread_local size_t batch_n, batch_cap;
static _Thread_local struct ev_defer batch_flush;

static void flush_user(struct smtp_task **tasks, size_t n)
{
	struct smtp_target *first = &tasks[0]->job->targets[tasks[0]->idx];
	if (n == 1) {
		task_run_now(tasks[0]);
		return;
	}
	const char *err = NULL;
	struct store_user *u = store_get(first->user_id, &first->quota, &err);
	int rc = u == NULL ? STORE_E_INTERNAL : store_txn_begin(u);
	for (size_t i = 0; i < n; i++) {
		struct smtp_target *t = &tasks[i]->job->targets[tasks[i]->idx];
		if (rc == STORE_OK) {
			t->status = deliver_one(tasks[i]->job, t, u);
			if (t->status < 0 && t->error[0] == '\0')
				snprintf(t->error, sizeof(t->error), "%s", store_error(u));
		} else {
			t->status = rc;
			snprintf(t->error, sizeof(t->error), "opening the store: %s",
			         err != NULL ? err : u != NULL ? store_error(u) : "?");
		}
	}
	if (u != NULL && rc == STORE_OK && (rc = store_txn_commit(u)) != STORE_OK) {
		/* Nothing of the batch is durable: every message fails. */
		for (size_t i = 0; i < n; i++) {
			struct smtp_target *t = &tasks[i]->job->targets[tasks[i]->idx];
			t->status = rc;
			snprintf(t->error, sizeof(t->error), "%s", store_error(u));
		}
	}
	for (size_t i = 0; i < n; i++)
		ev_post(tasks[i]->job->home, task_back, tasks[i]);
}

static void batch_run(struct ev_loop *loop, struct ev_defer *d)
{
	struct smtp_task **tasks = batch;
	size_t n = batch_n;
	batch = NULL;
	batch_n = batch_cap = 0;
	/* Per user, in arrival order; a user with more than 256 waiting gets
	 * more groups (the rest are picked up further on). */
	for (size_t i = 0; i < n; i++) {
		if (tasks[i] == NULL)
			continue;
		int64_t user = tasks[i]->job->targets[tasks[i]->idx].user_id;
		struct smtp_task *group[256] = { NULL };
		size_t g = 0;
		for (size_t k = i; k < n && g < 256; k++) {
			if (tasks[k] != NULL && tasks[k]->job->targets[tasks[k]->idx].user_id == user) {
				group[g++] = tasks[k];
				tasks[k] = NULL;
			}
		}
		flush_user(group, g);
	}
	free(tasks);
}

static void task_run(void *arg)
{
	struct smtp_task *task = arg;
	struct worker *w = runtime_worker_self();
	if (task->job->op == SMTP_JOB_CHECK || w == NULL) {
		task_run_now(task);
		return;
	}
	if (batch_n == batch_cap) {
		batch_cap = batch_cap ? batch_cap * 2 : 16;
		batch = xrealloc(batch, batch_cap * sizeof(*batch));
	}
	batch[batch_n++] = task;
	batch_flush.cb = batch_run;
	ev_defer(w->loop, &batch_flush);
}

/* ---- jobs, on the session's thread ---------------------------------------- */

static void task_back(void *arg)
{
	struct smtp_task *task = arg;
	struct smtp_job *job = task->job;
	if (--job->pending > 0)
		return;
	if (job->cancelled)
		smtp_job_free(job);
	else
		job->done(job, job->arg);
}

struct smtp_job *smtp_job_new(enum smtp_job_op op, size_t n_targets)
{
	struct smtp_job *job = xcalloc(1, sizeof(*job));
	job->op = op;
	job->n_targets = n_targets;
	job->targets = xcalloc(n_targets ? n_targets : 1, sizeof(*job->targets));
	job->spool.fd = -1;
	for (size_t i = 0; i < n_targets; i++)
		job->targets[i].mailbox = "INBOX";
	return job;
}

void smtp_job_start(struct smtp_job *job, struct ev_loop *home, smtp_job_done_fn *done,
                    void *arg)
{
	job->home = home;
	job->done = done;
	job->arg = arg;
	job->pending = job->n_targets;
	job->tasks = xcalloc(job->n_targets ? job->n_targets : 1, sizeof(*job->tasks));
	if (job->n_targets == 0) {
		/* Nothing to do: still answer from the loop, never re-entrantly. */
		job->pending = 1;
		job->tasks[0].job = job;
		ev_post(home, task_back, &job->tasks[0]);
		return;
	}
	for (size_t i = 0; i < job->n_targets; i++) {
		job->tasks[i].job = job;
		job->tasks[i].idx = i;
		job->targets[i].status = STORE_E_INTERNAL;
		struct worker *w = runtime_worker_for_user((uint64_t)job->targets[i].user_id);
		ev_post(w != NULL ? w->loop : home, task_run, &job->tasks[i]);
	}
}

void smtp_job_cancel(struct smtp_job *job)
{
	job->cancelled = true;
}

void smtp_job_free(struct smtp_job *job)
{
	if (job == NULL)
		return;
	smtp_spool_discard(&job->spool);
	free(job->prefix);
	free(job->targets);
	free(job->tasks);
	free(job);
}
