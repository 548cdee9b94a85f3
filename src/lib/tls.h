/*
 * tls: the server's OpenSSL context (TLS 1.2 minimum), shared by all
 * listeners and threads, replaced atomically on reload.
 *
 * tls_ctx_acquire() returns the current context with a reference the caller
 * drops with SSL_CTX_free(); connections keep the context they started with,
 * so a reload (SIGHUP) affects only new handshakes.
 *
 * tls_selfsigned_ensure() creates <dir>/cert.pem and <dir>/key.pem (P-256,
 * 10 years, CN and SAN = hostname, localhost, 127.0.0.1, ::1) if they do not
 * exist yet: the development and first-start certificate.
 */
#ifndef MK_TLS_H
#define MK_TLS_H

#include <openssl/ssl.h>

/* Load cert chain + key and make it the current context.
 * 0, or -1 with *error_r (heap string, caller frees). */
int tls_load(const char *cert_path, const char *key_path, char **error_r);
SSL_CTX *tls_ctx_acquire(void);
void tls_shutdown(void);

int tls_selfsigned_ensure(const char *dir, const char *hostname, char **error_r);

#endif
