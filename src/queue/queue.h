/*
 * queue: the outbound queue (issue 6 point 5). Mail for remote recipients
 * is written to a durable spool (queue_spool.h) and delivered by the
 * queue runner, retried with back-off (queue_sched.h) and bounced to the
 * sender (queue_dsn.h) when it fails for good.
 *
 * Handing a message to the queue (submission, for its remote recipients):
 *
 *   queue_enqueue()  synchronous, any thread: writes the message file and
 *                    the envelope (fsync, rename, directory fsync) and
 *                    returns 0 only once both are durable, so the caller
 *                    may then answer 250. It fsyncs: on an event loop
 *                    prefer queue_submit().
 *   queue_submit()   the same on the job pool (jobs.h); done() runs on the
 *                    caller's loop. The message is copied (the body fd is
 *                    dup()ed), so the caller may free its own copy at once.
 *
 * The message bytes are prefix + body (the SMTP session's Received: line
 * and any added headers, then the spooled DATA), CRLF line ends, not
 * dot-stuffed. The sender's local account id (the authenticated user on
 * submission) says where a bounce goes: into that account's INBOX through
 * the store, on the account's own worker (DESIGN.md principle 4). With no
 * local account the bounce is queued like any message, from <>; for the
 * null sender there is never a bounce.
 *
 * Delivery status notifications (RFC 3461/3464) follow what the sender
 * asked: the message's RET and ENVID and each recipient's NOTIFY and ORCPT
 * are kept in the envelope and passed on to a next hop that offers DSN.
 * The queue sends the sender a DSN (queue_bounce.c, composed by
 * queue_dsn.h) when a recipient fails for good (unless its NOTIFY excludes
 * FAILURE), once when a message has waited queue_delay_notice (for
 * recipients whose NOTIFY allows DELAY), and "relayed" when NOTIFY=SUCCESS
 * was asked but the next hop does not offer DSN (with DSN the next hop
 * reports success itself). Every DSN is itself a queued message from <>:
 * to a local sender it is delivered into the account's INBOX by the queue
 * (queue_local.c: the store on the account's worker, within its quota, so
 * a full mailbox means "retry later"); to a remote sender, by SMTP.
 *
 * The runner (queue_runner_start, in `mailkeep serve`) is one scheduler
 * thread with its own event loop (timers, control socket) and
 * queue_workers delivery threads that run the blocking SMTP client
 * (queue_client.h), so no delivery ever blocks a worker's event loop. The
 * scheduler alone writes envelopes after the start; it holds queue/lock.
 *
 * Control socket <data_dir>/queue/control (unix stream, in the 0700 queue
 * directory): one line in, one line out.
 *   flush        every message is due now           -> "ok N"
 *   delete ID    remove a message (also mid-flight)  -> "ok" / "error ..."
 *   load ID      pick up a message another process queued -> "ok"
 * queue_control() is the client (the CLI's `mailkeep queue flush|delete`).
 * When no server runs, the CLI changes the spool itself under the lock.
 */
#ifndef MK_QUEUE_H
#define MK_QUEUE_H

#include "lib/config.h"
#include "lib/ev.h"
#include "queue/queue_env.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue_msg {
	const char *sender;            /* "" = the null sender <> */
	int64_t sender_user;           /* the sender's local account id, 0 = none */
	const char *const *rcpts;      /* n_rcpts addresses "local@domain" */
	size_t n_rcpts;
	bool smtputf8;                 /* MAIL FROM had SMTPUTF8 (also set when an
	                                  address is not ASCII) */
	const char *prefix;            /* header lines before the body; may be NULL */
	size_t prefix_len;
	int body_fd;                   /* read with pread() from offset 0; -1 if no body */
	uint64_t body_size;
	/* DSN requests (RFC 3461), all optional */
	enum queue_ret ret;            /* MAIL RET */
	const char *envid;             /* MAIL ENVID as xtext; NULL or "" = none */
	const unsigned *notify;        /* per recipient (enum queue_notify); NULL = none */
	const char *const *orcpt;      /* per recipient "type;xtext"; NULL, or NULL/"" each */
	/* Deliver into this local account's INBOX (by the queue, see above)
	 * instead of by SMTP: a DSN for a local sender. 0 = by SMTP. */
	int64_t local_user;
};

/* Queue m durably. 0 and the new id in id_r, or -1 with *error_r (heap,
 * caller frees). Tells the runner of this process, if any, at once. */
int queue_enqueue(const char *data_dir, const struct queue_msg *m, char id_r[QUEUE_ID_LEN + 1],
                  char **error_r);

/* rc 0 and the id, or -1 and a one-line error (both valid during the call). */
typedef void queue_submit_done_fn(int rc, const char *id, const char *error, void *arg);
/* Queue m on the job pool; done(arg) runs on `home` (done may be NULL:
 * fire and forget). Uses runtime_config's data_dir. 0, or -1 if the job
 * pool is full (answer 451 and let the client retry); done is then never
 * called. */
int queue_submit(struct ev_loop *home, const struct queue_msg *m, queue_submit_done_fn *done,
                 void *arg);

/* Start the runner for cfg (the server's runtime_config, which must stay
 * valid until queue_runner_stop). Logs and returns -1 if it cannot run (the
 * spool is unusable, or another process holds the queue lock). */
int queue_runner_start(const struct config *cfg);
/* Stop: cut deliveries in flight (they are retried at the next start) and
 * join the threads, waiting at most a few seconds. No-op if not started. */
void queue_runner_stop(void);

/* Send one control line to the running server; the reply line (without
 * newline) goes to reply. 0, or -1 with errno ECONNREFUSED/ENOENT when no
 * server runs (reply says why). */
int queue_control(const char *data_dir, const char *line, char *reply, size_t replyn);

#endif
