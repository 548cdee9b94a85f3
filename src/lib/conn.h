/*
 * conn: one client connection on an event loop: plain TCP, implicit TLS or a
 * STARTTLS upgrade; bounded input; output with back-pressure.
 *
 * Life cycle. The listener creates the conn (conn_new). When it is ready
 * (at once for plain, after the handshake for implicit TLS) the protocol's
 * proto->start() is called; it creates the session, sets c->ops and
 * c->session, and writes the greeting. From then on the conn calls c->ops:
 *
 *   input     bytes are waiting in c->in. The session consumes what it can
 *             (buf_consume) and leaves the rest; it is called again when
 *             more arrives or after conn_resume_input().
 *   drained   output fell back under the limit after conn_output_full() was
 *             true: a session that stopped producing (a long FETCH) goes on.
 *   timeout   the timer set by conn_set_timeout() expired.
 *   tls_done  a STARTTLS handshake finished; the session resets its state.
 *   shutdown  the server is stopping: say goodbye and conn_close().
 *   closed    last call, on the loop thread: free the session.
 *
 * Input: at most in_max bytes are buffered; when the buffer is full and the
 * session consumes nothing, no more is read (the session decides: a line
 * longer than its limit is an error). c->in_eof is set when the peer closed
 * its side; the session still sees what came before it.
 *
 * Output: conn_write() appends to c->out and the conn flushes it after the
 * current batch of events. Above out_limit bytes, conn_output_full() is true
 * and the conn stops reading input, so a client that pipelines commands but
 * never reads cannot make the server buffer more than about out_limit plus
 * one response. A write past the hard ceiling (4 x out_limit) is a bug in
 * the session: the connection is dropped and logged.
 *
 * STARTTLS: the session writes its OK, then calls conn_starttls(): any
 * plaintext the client pipelined after the command is discarded (the STARTTLS
 * injection attack) and the handshake starts once the OK is flushed.
 *
 * All functions are for the thread of c->loop only.
 */
#ifndef MK_CONN_H
#define MK_CONN_H

#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/log.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct conn;

struct proto {
	const char *name;                 /* "imap", "pop3", "smtp", ... */
	void (*start)(struct conn *c);
	const char *busy_reply;           /* sent on plain ports when refusing a
	                                     connection over the limits */
};

struct conn_ops {
	void (*input)(struct conn *c);
	void (*drained)(struct conn *c);
	void (*timeout)(struct conn *c);
	void (*tls_done)(struct conn *c);
	void (*shutdown)(struct conn *c);
	void (*closed)(struct conn *c);
};

struct fdpark;

/* Connections of one loop, for shutdown and counting. */
struct conn_list {
	struct conn *head;
	size_t n;
	/* private to conn.c: where quiet connections are parked */
	struct fdpark *park;
	struct ev_timer park_timer;
	bool park_unavailable;
	uint64_t last_sweep, last_said;
};

struct conn_settings {
	size_t in_max;      /* input buffer ceiling (>= the protocol's max line) */
	size_t out_limit;   /* back-pressure threshold */
};

enum conn_tls { CONN_TLS_NONE, CONN_TLS_HANDSHAKE, CONN_TLS_ON };

struct conn {
	uint64_t id;
	const struct proto *proto;
	const struct conn_ops *ops;
	void *session;
	struct ev_loop *loop;
	struct conn_list *list;
	struct buf in, out;
	bool in_eof;
	enum conn_tls tls;
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint16_t local_port;
	char logctx[192];

	/* private to conn.c */
	int fd;
	SSL *ssl;
	struct ev_io io;
	struct ev_timer timer;
	struct ev_defer flush_defer, input_defer, free_defer;
	struct conn *prev, *next;
	size_t out_limit;
	bool implicit_tls, paused, out_full, closing, closed, starttls_pending;
	bool ssl_read_wants_write, ssl_write_wants_read;
	bool parked;                 /* fd is -1: the socket is in list->park */
	uint32_t park_slot;
	uint64_t last_io;            /* ev_now() when bytes last moved */
	void (*on_release)(struct conn *c);  /* listener bookkeeping */
	void *release_arg;
};

/* Take ownership of an accepted, non-blocking fd. */
struct conn *conn_new(struct ev_loop *loop, struct conn_list *list, int fd,
                      const struct sockaddr_storage *peer, socklen_t peer_len,
                      const struct proto *proto, bool implicit_tls,
                      const struct conn_settings *settings);

/* Start it: the TLS handshake (implicit TLS, bounded by the timeout) or at
 * once proto->start(). Called by the listener after its bookkeeping. */
void conn_begin(struct conn *c, uint64_t handshake_timeout_ms);

int conn_write(struct conn *c, const void *p, size_t n);
/* Format output in place: conn_reserve() gives room for n bytes at the end
 * of the output (NULL if the connection is closed, or aborted because n
 * would pass the hard ceiling), conn_commit() then adds the k <= n bytes
 * written there. Nothing else may write to c in between. */
char *conn_reserve(struct conn *c, size_t n);
void conn_commit(struct conn *c, size_t k);
int conn_puts(struct conn *c, const char *s);
int conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool conn_output_full(const struct conn *c);
size_t conn_output_pending(const struct conn *c);

/* Stop / restart delivering input to the session (e.g. while a password is
 * verified off the loop). Resuming re-delivers bytes already buffered. */
void conn_pause_input(struct conn *c);
void conn_resume_input(struct conn *c);

/* 0, or -1 if TLS is not configured or already on. */
int conn_starttls(struct conn *c);

/* Flush what is queued, then close. */
void conn_close(struct conn *c);
/* Close now, dropping queued output. */
void conn_abort(struct conn *c);

/* 0 = no timer. Restarting replaces the previous one. */
void conn_set_timeout(struct conn *c, uint64_t ms);

/* Add "user=..." to the log context once authenticated. */
void conn_set_user(struct conn *c, const char *user);
void conn_log(struct conn *c, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Move the connection to another loop (another worker thread). The conn is
 * detached here, then `then(c, arg)` runs on the target loop's thread with
 * c->loop and c->list updated (it may close c, or move it on again).
 * Nothing may touch c on this thread after. */
void conn_move(struct conn *c, struct ev_loop *to, struct conn_list *to_list,
               void (*then)(struct conn *c, void *arg), void *arg);

/* Parking. Near the open-files limit, connections quiet for a while
 * (waiting for the client, nothing to send: a mail client in IDLE) give
 * their descriptor back and their socket waits in the loop's fdpark
 * (lib/fdpark.h) until the client sends something or the session has
 * output for it; none of this shows to the session. conn_new parks when
 * the process is near the limit; the listener calls conn_list_park_quiet
 * when accept() finds no descriptor free. conn_list_park_free, when the
 * loop is done, closes what is still parked
 * (before the loop is freed). */
void conn_list_park_quiet(struct conn_list *l, struct ev_loop *loop);
void conn_list_park_free(struct conn_list *l, struct ev_loop *loop);

static inline bool conn_secure(const struct conn *c) { return c->tls == CONN_TLS_ON; }

/* Line framing over c->in: 1 and the line's length without CRLF/LF in
 * *len, and with it in *total; 0 if no complete line yet; -1 if no line end
 * within max bytes (too long). A lone LF ends a line too. */
int conn_line(const struct conn *c, size_t max, size_t *len, size_t *total);

#endif
