/*
 * queue_env: the envelope of one queued message, and its text form.
 *
 * The envelope is what the queue knows about a message besides its bytes:
 * the sender, each recipient with its own delivery state, how many attempts
 * were made, when the next one is due and what went wrong last, and the
 * DSN requests (RFC 3461) that came with it. It is kept in
 * <data_dir>/queue/env/<id> (queue_spool.h) as a small text file, one item
 * per line, rewritten whole (temp file, fsync, rename) on each change:
 *
 *   mailkeep-queue 2
 *   id 65f1a2b300c0ffee
 *   sender alice@example.com          ("<>" for the null sender)
 *   sender-user 12                    (local account id, 0 = not local)
 *   local-user 0                      (deliver into this local account's
 *                                      INBOX instead of by SMTP, 0 = no)
 *   flags smtputf8 8bit delay-notified  (any of them, or none)
 *   ret hdrs                          (RET: full or hdrs; no line = not given)
 *   envid QQ+2B123                    (ENVID as xtext; no line = not given)
 *   size 1234
 *   created 1732222222                (unix seconds)
 *   attempts 2
 *   next 1732222300
 *   last 1732222200                   (0 = never tried)
 *   error connect 127.0.0.1:2525: Connection refused
 *   rcpt<TAB>STATE<TAB>ADDR<TAB>NOTIFY<TAB>ORCPT<TAB>STATUS<TAB>REMOTE<TAB>DIAG
 *
 * STATE is pending, delivered, failed (permanent failure, bounce not yet
 * sent), bounced (the failure was reported to the sender, or there was no
 * one to tell) or relayed (delivered to a next hop that does not offer
 * DSN while the sender asked for NOTIFY=SUCCESS: the "relayed" DSN is
 * still owed; once sent the state is delivered). NOTIFY is "-" (not given),
 * "never" or a comma list of success, failure, delay; ORCPT is
 * "type;xtext" as the client sent it, or "-". STATUS is an enhanced status
 * code ("5.1.1") or "-"; REMOTE the host that answered or "-"; DIAG the
 * last reply text (may be empty). Free text is stored with control
 * characters (tabs, line breaks) replaced by spaces.
 *
 * Version 1 files (written before DSN support) are read too: their rcpt
 * lines lack NOTIFY and ORCPT, and they have no local-user, ret or envid
 * lines; each missing item means "not given".
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
#define QUEUE_ENVID_MAX 100       /* ENVID xtext (RFC 3461 4.4) */
#define QUEUE_ORCPT_MAX 500       /* ORCPT "type;xtext", bounded */
#define QUEUE_ENV_MAX (QUEUE_MAX_RCPTS * 2000 + 4096)  /* text form ceiling */

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,
	QUEUE_RCPT_DELIVERED,
	QUEUE_RCPT_FAILED,     /* permanent failure, not yet reported */
	QUEUE_RCPT_BOUNCED,    /* failure reported to the sender (or no one to tell) */
	QUEUE_RCPT_RELAYED,    /* delivered to a non-DSN next hop; "relayed" DSN owed */
};

/* RCPT NOTIFY (RFC 3461 4.1); 0 = not given. The values are SMTP's. */
enum queue_notify {
	QUEUE_NOTIFY_NEVER = 1 << 0,
	QUEUE_NOTIFY_SUCCESS = 1 << 1,
	QUEUE_NOTIFY_FAILURE = 1 << 2,
	QUEUE_NOTIFY_DELAY = 1 << 3,
};

/* MAIL RET (RFC 3461 4.3). */
enum queue_ret { QUEUE_RET_NONE, QUEUE_RET_FULL, QUEUE_RET_HDRS };

struct queue_rcpt {
	enum queue_rcpt_state state;
	char addr[QUEUE_ADDR_MAX];
	char status[16];              /* "5.1.1", "" if unknown */
	char remote[256];             /* host that answered, "" if none */
	char diag[QUEUE_TEXT_MAX];    /* its reply, or why it failed */
	unsigned notify;              /* enum queue_notify bits, 0 = not given */
	char orcpt[QUEUE_ORCPT_MAX + 1];  /* "type;xtext" as sent, "" = not given */
};

struct queue_env {
	char id[QUEUE_ID_LEN + 1];
	char sender[QUEUE_ADDR_MAX];  /* "" = null sender <> */
	int64_t sender_user;          /* local account id of the sender, 0 = none */
	int64_t local_user;           /* deliver into this account, not by SMTP; 0 = no */
	bool smtputf8;                /* needs SMTPUTF8 from the receiver */
	bool body8bit;                /* the message has 8-bit bytes */
	bool delay_notified;          /* the "delayed" DSN was sent (at most one) */
	enum queue_ret ret;           /* RET, QUEUE_RET_NONE = not given */
	char envid[QUEUE_ENVID_MAX + 1];  /* ENVID as xtext, "" = not given */
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

/* Should a DSN of this kind (QUEUE_NOTIFY_FAILURE, _DELAY or _SUCCESS) be
 * sent for a recipient with these NOTIFY bits? Not given means FAILURE and
 * DELAY (RFC 3461 4.1 leaves the choice to the MTA; see docs/CONFIG.md,
 * queue_delay_notice). */
bool queue_notify_wants(unsigned notify, unsigned kind);

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
