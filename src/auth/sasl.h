/*
 * sasl: server side of the SASL mechanisms PLAIN (RFC 4616) and LOGIN (the
 * de-facto "Username:"/"Password:" exchange), as pure state machines: no
 * I/O, no logging, no allocation.
 *
 * The protocol layer (IMAP AUTHENTICATE, POP3 AUTH, SMTP AUTH) does the
 * framing and calls:
 *
 *   struct sasl s;
 *   st = sasl_start(&s, "PLAIN", initial_or_NULL, &text);
 *   while (st == SASL_CONTINUE) {
 *       send the challenge `text` (base64, possibly "") as "+ text" / "334 text";
 *       read one client line (without CRLF);
 *       st = sasl_step(&s, line, len, &text);
 *   }
 *   SASL_DONE:   verify s.username / s.password with auth_verify();
 *   SASL_CANCEL: the client sent "*"; answer with the protocol's "cancelled";
 *   SASL_FAIL:   `text` says why (static, for the log; no client bytes).
 *   sasl_reset(&s) afterwards wipes the password from memory.
 *
 * initial: the initial response as received (RFC 4959 / 5034 / 4954):
 * NULL when the client sent none, "=" for an empty one, otherwise base64.
 * Client lines are strict base64 (empty line = empty response) or "*".
 *
 * PLAIN: message = [authzid] NUL authcid NUL passwd. Missing separators,
 * extra NULs, an empty authcid or password, or an authzid other than empty
 * or equal to the authcid (no proxy authorization yet) fail.
 * LOGIN: an initial response, if any, is the username.
 *
 * A struct sasl is plain memory owned by the caller, one per exchange.
 */
#ifndef MK_SASL_H
#define MK_SASL_H

#include <stddef.h>

/* Longest username and password accepted (bytes, decoded). */
#define SASL_USERNAME_MAX 255
#define SASL_PASSWORD_MAX 1024
/* Longest client line (base64) accepted; anything longer fails before
 * decoding. Protocols may use it to size their line limit for AUTH. */
#define SASL_LINE_MAX (((SASL_USERNAME_MAX * 2 + SASL_PASSWORD_MAX + 2) + 2) / 3 * 4)

enum sasl_mech { SASL_MECH_NONE, SASL_MECH_PLAIN, SASL_MECH_LOGIN };

enum sasl_status {
	SASL_CONTINUE,  /* send the challenge, feed the next line */
	SASL_DONE,      /* username and password are set */
	SASL_CANCEL,    /* the client sent "*" */
	SASL_FAIL,      /* malformed exchange; text says why */
};

struct sasl {
	enum sasl_mech mech;
	int step;
	char username[SASL_USERNAME_MAX + 1];
	char password[SASL_PASSWORD_MAX + 1];
	size_t password_len;
	char challenge[16];
};

/* The mechanism for a name as clients send it (case-insensitive), or
 * SASL_MECH_NONE. */
enum sasl_mech sasl_mech_by_name(const char *name);

/* Begin an exchange. Unknown mechanism: SASL_FAIL. *text_r: the challenge
 * (CONTINUE) or the reason (FAIL); points into s or static storage. */
enum sasl_status sasl_start(struct sasl *s, const char *mech, const char *initial,
                            const char **text_r);
/* Feed one client line line[0..len) (no CRLF). */
enum sasl_status sasl_step(struct sasl *s, const char *line, size_t len, const char **text_r);

/* Wipe the credentials; s can be reused with sasl_start(). */
void sasl_reset(struct sasl *s);

#endif
