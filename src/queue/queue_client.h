/*
 * queue_client: the transport of the outbound SMTP client. A blocking
 * connection (TCP, then optionally TLS) with a timeout on every read and
 * write, used only on the queue's own delivery threads, never on a
 * worker's event loop (queue.h explains the threads).
 *
 * Why blocking: one delivery is a short, strictly sequential dialogue
 * (greeting, EHLO, STARTTLS, MAIL, RCPT..., DATA); on a dedicated thread
 * it reads as the protocol does, and the few delivery threads (config
 * queue_workers) bound how many run at once. Timeouts bound every step
 * (smtp_timeout per command, RFC 5321 4.5.3.2 asks for minutes), and the
 * runner can cut a connection short at shutdown with qc_abort().
 *
 * TLS is opportunistic and unauthenticated (RFC 7435): the certificate is
 * not verified, so it protects against passive listening only; the log
 * line of each attempt says tls=yes/no.
 */
#ifndef MK_QUEUE_CLIENT_H
#define MK_QUEUE_CLIENT_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define QC_TEXT_MAX 400

struct qc {
	int fd;
	SSL *ssl;
	unsigned timeout_ms;
	char rbuf[4096];
	size_t rpos, rlen;
	char peer[320];             /* "host[addr]:port" for logs and DSNs */
	/* Set by another thread (qc_abort) to cut the connection. */
	pthread_mutex_t lock;
	bool aborted;
};

/* The shared client TLS context (no verification); NULL if OpenSSL
 * failed. Created on first use, thread-safe. */
SSL_CTX *qc_tls_ctx(void);

void qc_init(struct qc *c, unsigned timeout_ms);
/* Connect to one address within timeout. 0, or -1 with err filled. */
int qc_connect(struct qc *c, const struct sockaddr *sa, socklen_t salen, const char *host,
               char *err, size_t errn);
/* Start TLS on the connection (after STARTTLS's 220, or at once for
 * implicit TLS). 0 or -1 with err. */
int qc_starttls(struct qc *c, const char *sni, char *err, size_t errn);
void qc_close(struct qc *c);
/* From any thread: shut the socket down so a blocked read/write returns. */
void qc_abort(struct qc *c);

/* Write all bytes. 0 or -1. */
int qc_write(struct qc *c, const void *p, size_t n);
/* printf a command and CRLF. */
int qc_cmdf(struct qc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read one reply (all its lines). Returns the code (200..599), or -1 on a
 * network error, timeout or malformed reply. text gets the reply, lines
 * joined by spaces ("250 2.1.0 Ok"), cut to textn. If ext is not NULL, the
 * lines after the first (EHLO keywords) are put there, one per line,
 * uppercased keyword first ("SIZE 1000\nSTARTTLS\n"). */
int qc_reply(struct qc *c, char *text, size_t textn, char *ext, size_t extn);

/* The enhanced status code at the start of a reply's text ("550 5.1.1
 * No such user" -> "5.1.1"), or "" if none. */
void qc_enhanced(const char *reply, char out[16]);

#endif
