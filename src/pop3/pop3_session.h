/*
 * pop3_session: a POP3 connection (RFC 1939, CAPA RFC 2449, STLS RFC 2595,
 * AUTH RFC 5034) from greeting to QUIT.
 *
 * States: AUTHORIZATION (CAPA, STLS, USER/PASS, AUTH, QUIT) and, after a
 * login, TRANSACTION over the user's INBOX. Passwords are refused before TLS
 * unless the client is in plaintext_auth_networks ("-ERR [AUTH] ...").
 */
#ifndef MK_POP3_SESSION_H
#define MK_POP3_SESSION_H

#include "lib/conn.h"

extern const struct proto pop3_proto;

/* Frees the calling worker thread's maildrop lock table (worker exit). */
void pop3_thread_exit(void);

#endif
