/* Shared by the smtp_*.c session files; not for other layers. */
#ifndef MK_SMTP_INTERNAL_H
#define MK_SMTP_INTERNAL_H

#include "auth/auth_login.h"
#include "auth/sasl.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/conn.h"
#include "smtp/smtp_cmd.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_deliver.h"

#include <stdbool.h>
#include <stdint.h>

#define SMTP_MAX_RCPTS 1000        /* per transaction (RFC 5321 4.5.3.1.8: >= 100) */
#define SMTP_MAX_BAD 20            /* bad commands before 421 and close */
#define SMTP_HEADER_MAX (64 * 1024) /* header bytes kept for the From: check */

struct accounts;
struct queue_msg;

enum smtp_mode { SMTP_MODE_SUBMISSION, SMTP_MODE_INBOUND, SMTP_MODE_LMTP };

enum smtp_phase {
	SMTP_PH_CMD,     /* reading command lines */
	SMTP_PH_DATA,    /* reading DATA bytes up to CRLF.CRLF */
	SMTP_PH_BDAT,    /* reading bdat_left bytes of a chunk */
	SMTP_PH_WAIT,    /* login, RCPT check or delivery in flight: input paused */
};

struct smtp_rcpt {
	char addr[SMTP_PATH_MAX + 1];
	size_t target;   /* index into targets (one per distinct user) */
	bool remote;     /* submission to another domain: goes to the queue */
	unsigned notify; /* DSN NOTIFY (enum smtp_notify bits), 0 = not given */
	char *orcpt;     /* DSN ORCPT "type;xtext" (heap, owned), NULL = not given */
};

struct smtp_session {
	struct conn *c;
	enum smtp_mode mode;
	enum smtp_phase phase;
	bool greeted, esmtp;
	char helo[256];
	unsigned bad;
	bool skip_line;          /* discarding the rest of an overlong line */
	bool shutdown_pending;   /* server stopping: say 421 when idle */
	uint64_t msg_count;
	struct arena *arena;     /* reset per command */

	/* AUTH (submission) */
	bool authed;
	int64_t user_id;
	char user[256];
	struct auth_login_req *login;
	struct sasl sasl;
	bool sasl_active;

	/* the transaction */
	bool have_mail;
	struct smtp_mail_args mail;
	struct smtp_rcpt *rcpts;
	size_t n_rcpts, cap_rcpts;
	struct smtp_target *targets;
	size_t n_targets, cap_targets;
	struct smtp_rcpt pending_rcpt;   /* waiting for its quota check */
	struct smtp_target pending_target;

	/* the message */
	struct smtp_data data;
	struct smtp_spool spool;
	bool in_bdat;            /* a BDAT sequence has started */
	uint64_t bdat_left;
	bool bdat_last;
	const char *bdat_reply;  /* the chunk is being discarded: answer this */
	struct buf hdr;          /* the header section, up to SMTP_HEADER_MAX */
	bool hdr_done;

	struct smtp_job *job;    /* in flight (RCPT check or delivery) */
};

/* smtp_session.c */
void smtp_reply(struct smtp_session *s, const char *line);
void smtp_replyf(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Back to reading commands after an asynchronous step. */
void smtp_resume(struct smtp_session *s);
/* Extensions offered now (enum smtp_ext). */
unsigned smtp_extensions(const struct smtp_session *s);

/* smtp_auth.c */
void smtp_cmd_auth(struct smtp_session *s, const char *arg, size_t len);
void smtp_sasl_line(struct smtp_session *s, const char *line, size_t len);

/* smtp_envelope.c */
struct accounts *smtp_accounts(void);
void smtp_cmd_mail(struct smtp_session *s, const char *arg, size_t len);
void smtp_cmd_rcpt(struct smtp_session *s, const char *arg, size_t len);
/* Forget MAIL, RCPTs and any message in progress. */
void smtp_txn_reset(struct smtp_session *s);
/* Does the address belong to the authenticated user? */
bool smtp_owns_address(struct smtp_session *s, const char *addr);
/* Is the domain one of ours (config `domains` or the accounts database)? */
bool smtp_domain_is_local(const char *domain);

/* smtp_dsn.c: the DSN extension (RFC 3461) on the session's side. */
/* Fill m's DSN requests (RET, ENVID, and NOTIFY/ORCPT of each remote
 * recipient, in the order of s->rcpts) for queue_submit(); the arrays are
 * in s->arena, valid until the next command. */
void smtp_dsn_queue_params(struct smtp_session *s, struct queue_msg *m);
/* The local deliveries of the transaction are done (job's results, before
 * the reply): queue a "delivered" DSN to the sender for each recipient
 * delivered with NOTIFY=SUCCESS. Never for the null sender. */
void smtp_dsn_local_results(struct smtp_session *s, const struct smtp_job *job);

/* smtp_body.c */
void smtp_cmd_data(struct smtp_session *s, const char *arg, size_t len);
void smtp_cmd_bdat(struct smtp_session *s, const char *arg, size_t len);
/* Consume message bytes from c->in; returns false when nothing more can
 * be done until more input arrives. */
bool smtp_body_input(struct smtp_session *s);

#endif
