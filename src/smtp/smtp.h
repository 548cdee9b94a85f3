/*
 * smtp: the SMTP and LMTP server sessions (issue 6).
 *
 *   smtp_submission_proto  RFC 6409 / 8314 submission (587 with STARTTLS,
 *                          465 implicit TLS): AUTH PLAIN/LOGIN required
 *                          before MAIL (offered only over TLS unless the
 *                          client is in plaintext_auth_networks); the
 *                          envelope sender and every From:/Sender: address
 *                          must be the account's own (or one of its
 *                          aliases), else 553 5.7.1: an address is the
 *                          account's when accounts_resolve_recipient()
 *                          gives its id, so the owner of a domain's
 *                          catch-all may send as any address of it. The
 *                          null sender <> is allowed (MDNs). Adds Received
 *                          and, if missing, Date and Message-ID.
 *   smtp_inbound_proto     port 25: mail for the local domains only, no
 *                          AUTH; a remote recipient is 554 5.7.1 (never an
 *                          open relay).
 *   smtp_lmtp_proto        RFC 2033: LHLO, and one reply per recipient
 *                          after the message.
 *
 * All three: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES,
 * DSN (RFC 3461, smtp_dsn.c), CHUNKING (BDAT), STARTTLS (not LMTP); VRFY
 * and EXPN off. DSN: RET/ENVID/NOTIFY/ORCPT of remote recipients go into
 * the outbound queue's envelope (which reports failures, delays and
 * "relayed" itself); a local recipient with NOTIFY=SUCCESS gets the
 * sender a "delivered" DSN once the store has the message.
 * Local delivery goes into the recipient's INBOX through store.h on the
 * recipient's worker (smtp_deliver.h); 250 only once it is durable. A
 * recipient with a quota is checked at RCPT (452 4.2.2 if the declared
 * SIZE, or one more message, would not fit). Bare CR/LF in the message is
 * refused (554 5.6.0); an LF-only end of data closes the session.
 * Remote recipients on submission are accepted at RCPT and handed to the
 * outbound queue (queue.h, queue_submit) after DATA, before the local
 * deliveries; 250 only once both are durable.
 */
#ifndef MK_SMTP_H
#define MK_SMTP_H

#include "lib/conn.h"

extern const struct proto smtp_submission_proto;
extern const struct proto smtp_inbound_proto;
extern const struct proto smtp_lmtp_proto;

/* Close the calling worker's cached delivery stores (worker exit). */
void smtp_deliver_thread_exit(void);

#endif
