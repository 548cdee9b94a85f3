/*
 * queue_deliver: one delivery attempt, run on a delivery thread: the
 * recipients of one message that share a destination, over one
 * connection.
 *
 * The destination is one of:
 *   - a route (config queue_route "domain=host:port"): that host only;
 *   - the relay (relay_host "host[:port]"): that host, with AUTH PLAIN or
 *     LOGIN if relay_user is set (only over TLS: STARTTLS, or implicit TLS
 *     when the port is 465);
 *   - the domain's MX hosts in preference order (queue_mx.h), or its own
 *     A/AAAA records when it has no MX, port 25.
 * Each host's addresses are tried in turn until one completes a
 * transaction; a connection that fails before MAIL FROM (refused, timeout,
 * bad greeting, TLS failure) moves on to the next address.
 *
 * The dialogue: greeting, EHLO (HELO if EHLO is refused), STARTTLS when
 * offered (then EHLO again), AUTH for the relay, MAIL FROM with SIZE=,
 * BODY=8BITMIME and SMTPUTF8 when the server offers them and the message
 * needs them, one RCPT per recipient, DATA (dot-stuffed), QUIT. When the
 * server offers DSN, the sender's DSN requests go along (RFC 3461 5.2.1):
 * RET and ENVID on MAIL, NOTIFY and ORCPT on each RCPT; whether it offered
 * DSN is reported back (peer_dsn), since without it a NOTIFY=SUCCESS asks
 * us for a "relayed" DSN (RFC 3461 5.2.2). A message
 * bigger than the server's SIZE, or one needing SMTPUTF8 from a server
 * without it, fails permanently without being sent.
 *
 * The outcome of each recipient: delivered, temporary failure or permanent
 * failure, with the reply that decided it.
 */
#ifndef MK_QUEUE_DELIVER_H
#define MK_QUEUE_DELIVER_H

#include "queue/queue_client.h"
#include "queue/queue_env.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum qd_kind { QD_MX, QD_ROUTE, QD_RELAY };
enum qd_outcome { QD_OK, QD_TEMP, QD_PERM };

struct qd_rcpt {
	const char *addr;
	unsigned notify;              /* enum queue_notify bits, 0 = not given */
	const char *orcpt;            /* "type;xtext", "" = not given */
	enum qd_outcome outcome;
	char status[16];              /* enhanced status code */
	char reply[QC_TEXT_MAX];      /* reply or reason */
};

struct qd_attempt {
	/* in */
	enum qd_kind kind;
	char host[256];               /* route/relay host; MX: the domain */
	uint16_t port;
	bool implicit_tls;            /* relay on port 465 */
	const char *auth_user;        /* relay only; NULL = no AUTH */
	const char *auth_pass;
	const char *helo;             /* our hostname */
	const char *msg_path;         /* the message file */
	const char *sender;           /* "" = null sender */
	uint64_t size;
	bool smtputf8, body8bit;
	enum queue_ret ret;           /* RET, QUEUE_RET_NONE = not given */
	const char *envid;            /* ENVID xtext, "" = not given */
	unsigned timeout_ms;
	struct qd_rcpt *rcpts;
	size_t n_rcpts;
	/* out */
	char remote[320];             /* the host that answered last */
	bool tls;                     /* the transaction ran over TLS */
	bool peer_dsn;                /* the server that answered offered DSN */
	/* Shared with the runner for qc_abort() at shutdown. */
	struct qc conn;
};

/* Run the attempt; fills every rcpt's outcome. */
void qd_run(struct qd_attempt *a);

/* "host:port" / "[v6]:port" / "host" into host and port (default_port
 * when none). 0, or -1 if malformed. */
int qd_parse_hostport(const char *s, char *host, size_t hostn, uint16_t *port,
                      uint16_t default_port);

/* queue_dialog.c, for queue_deliver.c: the SMTP dialogue on a connected
 * a->conn. Returns 1 when the recipients' outcomes are decided, 0 when
 * this server could not be used (the next one should be tried; err says
 * why). */
int qd_dialog(struct qd_attempt *a, const char *host, char *err, size_t errn);

#endif
