/*
 * queue_env: the envelope of one queued message, and its text form.
 *
 * The envelope is what the queue knows about a message besides its bytes:
 * the sender, each recipient with its own delivery state, how many attempts
 * were made, when the next one is due and what went wrong last. It is kept
 * in <data_dir>/queue/env/<id> (queue_spool.h) as a small text file, one
 * item per line, rewritten whole (temp file, fsync, rename) on each change:
 *
 *   mailkeep-queue 1
 *   id 65f1a2b300c0ffee
 *   sender alice@example.com          ("<>" for the null sender)
 *   sender-user 12                    (local account id, 0 = not local)
 *   flags smtputf8 8bit               (any of them, or none)
 *   size 1234
 *   created 1732222222                (unix seconds)
 *   attempts 2
 *   next 1732222300
 *   last 1732222200                   (0 = never tried)
 *   error connect 127.0.0.1:2525: Connection refused
 *   rcpt<TAB>STATE<TAB>ADDR<TAB>STATUS<TAB>REMOTE<TAB>DIAG
 *
 * STATE is pending, delivered, failed (permanent failure, bounce not yet
 * sent) or bounced (the failure was reported to the sender). STATUS is an
 * enhanced status code ("5.1.1") or "-"; REMOTE the host that answered or
 * "-"; DIAG the last reply text (may be empty). Free text is stored with
 * control characters (tabs, line breaks) replaced by spaces.
 *
 * Pure functions here: no files (queue_spool.c reads and writes them).
 */
#ifndef MK_QUEUE_ENV_H
#define MK_QUEUE_ENV_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_ID_LEN 16          /* hex digits */
#define QUEUE_ADDR_MAX 320       /* an SMTP path is at most 256 octets */
#define QUEUE_TEXT_MAX 400       /* diagnostic and error texts */
#define QUEUE_MAX_RCPTS 1000
#define QUEUE_ENV_MAX (QUEUE_MAX_RCPTS * 1400 + 4096)  /* text form ceiling */

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,
	QUEUE_RCPT_DELIVERED,
	QUEUE_RCPT_FAILED,     /* permanent failure, not yet reported */
	QUEUE_RCPT_BOUNCED,    /* failure reported to the sender (or no one to tell) */
};

struct queue_rcpt {
	enum queue_rcpt_state state;
	char addr[QUEUE_ADDR_MAX];
	char status[16];              /* "5.1.1", "" if unknown */
	char remote[256];             /* host that answered, "" if none */
	char diag[QUEUE_TEXT_MAX];    /* its reply, or why it failed */
};

struct queue_env {
	char id[QUEUE_ID_LEN + 1];
	char sender[QUEUE_ADDR_MAX];  /* "" = null sender <> */
	int64_t sender_user;          /* local account id of the sender, 0 = none */
	bool smtputf8;                /* needs SMTPUTF8 from the receiver */
	bool body8bit;                /* the message has 8-bit bytes */
	uint64_t size;                /* message bytes */
	int64_t created;              /* unix seconds */
	int64_t next_attempt;
	int64_t last_attempt;         /* 0 = never */
	unsigned attempts;
	char last_error[QUEUE_TEXT_MAX];
	struct queue_rcpt *rcpts;     /* heap, n_rcpts entries */
	size_t n_rcpts;
};

/* "pending", "delivered", ... */
const char *queue_rcpt_state_name(enum queue_rcpt_state st);

/* Add a recipient (state pending); -1 past QUEUE_MAX_RCPTS or an address
 * that does not fit or has control characters. */
int queue_env_add_rcpt(struct queue_env *env, const char *addr);
/* Free the recipients; the struct may be reused after memset. */
void queue_env_clear(struct queue_env *env);

/* Copy src into dst (size n) with control characters as spaces. */
void queue_text_copy(char *dst, size_t n, const char *src);

/* The text form into out. 0, or -1 if out's ceiling was hit. */
int queue_env_format(const struct queue_env *env, struct buf *out);
/* Parse the text form. 0, or -1 with *error_r (static) naming the problem;
 * on failure env holds nothing to free. env must be zeroed or cleared. */
int queue_env_parse(const char *text, size_t len, struct queue_env *env, const char **error_r);

/* Counts of recipients in each state. */
size_t queue_env_count(const struct queue_env *env, enum queue_rcpt_state st);

#endif
