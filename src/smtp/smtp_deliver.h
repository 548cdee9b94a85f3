/*
 * smtp_deliver: local delivery for the SMTP/LMTP sessions, across worker
 * threads (DESIGN.md principle 4).
 *
 * A session lives on the worker that accepted it, but a user's store may
 * only be used on runtime_worker_for_user(id)'s thread. So:
 *
 *   1. the session streams the message (already unstuffed, CRLF-checked and
 *      size-limited) into a spool (smtp_spool_*): memory while it is at
 *      most SMTP_SPOOL_MEM_MAX bytes, else a file <data_dir>/spool/smtp-XXXXXX,
 *      unlinked when the job ends. Nothing is acknowledged from the spool
 *      (the store makes the message durable), so it need not survive a
 *      crash, and most messages never cost a file;
 *   2. smtp_job_start() posts one task per target to the owner worker's
 *      loop; there the user's store is opened, the message appended
 *      (prefix + spool bytes, durable on STORE_OK) and the store closed,
 *      and the result is posted back to the session's loop;
 *   3. when every task is back, done() runs on the session's loop; the
 *      session replies 250 (LMTP: one reply per recipient) from the
 *      per-target results.
 *
 * The same job with SMTP_JOB_CHECK asks each target's store whether a
 * message of check_size bytes fits its quota (RCPT time), writing nothing.
 *
 * Deliveries that reach the owner worker in one turn of its loop are
 * committed per user in one store transaction (group commit: one round of
 * fsyncs makes them all durable; nobody is answered before). Each worker
 * keeps the stores it delivered to open for a while (at most 16 users,
 * 30 s idle), so a delivery does not pay for opening one.
 *
 * A job belongs to the session until done() runs; if the session closes
 * first it calls smtp_job_cancel() and the job frees itself (and its spool
 * file) when its tasks are back. Everything here but the tasks runs on
 * the session's thread.
 */
#ifndef MK_SMTP_DELIVER_H
#define MK_SMTP_DELIVER_H

#include "lib/ev.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- spool -------------------------------------------------------------- */

/* Messages up to this size are spooled in memory (a session holds at most
 * this much per message in flight). */
#define SMTP_SPOOL_MEM_MAX (64 * 1024)

struct smtp_spool {
	int fd;              /* the file (or memfd), -1 if none */
	char path[512];      /* the file's path, "" for none or a memfd */
	uint64_t size;
	int err;             /* errno of the first failed write, 0 if none */
	char *mem;           /* the bytes while in memory (fd < 0) */
	size_t mem_cap;
	const char *data_dir;
};

/* A new, empty spool (in memory; nothing can fail yet). Returns 0. */
int smtp_spool_open(struct smtp_spool *sp, const char *data_dir);
/* Append; beyond SMTP_SPOOL_MEM_MAX the bytes move to a file in
 * <data_dir>/spool/ (created 0700 if needed). A failure is remembered in
 * sp->err (checked once at the end). */
void smtp_spool_write(struct smtp_spool *sp, const void *p, size_t n);
/* The whole message in memory, or NULL if it is in a file. */
const char *smtp_spool_mem(const struct smtp_spool *sp);
/* A descriptor to pread() the message from (the outbound queue wants
 * one): the file, or for a message in memory a memfd made now and kept.
 * -1 with errno on failure. */
int smtp_spool_fd(struct smtp_spool *sp);
/* Free the memory, close and unlink the file (no-op when empty). */
void smtp_spool_discard(struct smtp_spool *sp);
/* The spool was handed over (struct copy): forget it without freeing. */
void smtp_spool_forget(struct smtp_spool *sp);

/* ---- jobs --------------------------------------------------------------- */

enum smtp_job_op { SMTP_JOB_CHECK, SMTP_JOB_DELIVER };

struct smtp_target {
	int64_t user_id;
	struct store_quota quota;
	const char *mailbox;     /* "INBOX"; "Sent" for the sender's copy (static) */
	uint32_t flags;          /* enum store_flag for the new message (\Seen in Sent) */
	int status;              /* result: STORE_OK or an enum store_err */
	uint32_t uid;            /* the new message's UID on success */
	char error[160];         /* store_error() text on failure, for the log */
};

struct smtp_job;
typedef void smtp_job_done_fn(struct smtp_job *job, void *arg);

struct smtp_job {
	enum smtp_job_op op;
	struct smtp_target *targets;   /* owned by the job */
	size_t n_targets;
	uint64_t check_size;           /* CHECK: bytes the message will take */
	struct smtp_spool spool;       /* DELIVER: owned by the job once started */
	char *prefix;                  /* DELIVER: header lines put before the
	                                  spooled bytes (heap, owned), may be NULL */
	size_t prefix_len;

	/* private */
	struct ev_loop *home;
	smtp_job_done_fn *done;
	void *arg;
	size_t pending;
	bool cancelled;
	struct smtp_task *tasks;
};

struct smtp_job *smtp_job_new(enum smtp_job_op op, size_t n_targets);
/* Post the tasks; done(job, arg) runs on `home` when all are back. */
void smtp_job_start(struct smtp_job *job, struct ev_loop *home, smtp_job_done_fn *done,
                    void *arg);
/* The session is going away: done() will not be called. */
void smtp_job_cancel(struct smtp_job *job);
/* Free a finished (or never started) job, its spool file and prefix. */
void smtp_job_free(struct smtp_job *job);

/* The one mapping of store errors to SMTP replies (complete line, no
 * CRLF): over quota is temporary (452 4.2.2) so the sender retries. */
const char *smtp_store_reply(int store_err);

#endif
