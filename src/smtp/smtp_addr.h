/*
 * smtp_addr: the RFC 5321 path of MAIL FROM / RCPT TO (section 4.1.2), with
 * the SMTPUTF8 extension (RFC 6531).
 *
 *   Path      = "<" [ A-d-l ":" ] Mailbox ">"     (the source route is
 *                                                  parsed and ignored)
 *   Mailbox   = Local-part "@" ( Domain / address-literal )
 *   Local-part= Dot-string / Quoted-string
 *
 * Also "<>" (the null reverse-path) and "<Postmaster>" (RCPT only), when
 * the flags allow them. Limits (RFC 5321 4.5.3.1): local part 64 octets,
 * domain 255, whole path 256.
 *
 * The result is the mailbox in a normal form: a quoted local part whose
 * content is a valid dot-string loses its quotes ("john"@x is john@x), the
 * domain is lower-cased (ASCII letters only; address literals are kept as
 * written). UTF-8 (non-ASCII) is accepted only with SMTP_PATH_UTF8 and must
 * be well-formed.
 *
 * Pure functions, no allocation; thread-safe.
 */
#ifndef MK_SMTP_ADDR_H
#define MK_SMTP_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_LOCAL_MAX 64
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX 256

enum smtp_path_flags {
	SMTP_PATH_ALLOW_NULL = 1 << 0,       /* "<>" (MAIL FROM) */
	SMTP_PATH_ALLOW_POSTMASTER = 1 << 1, /* "<Postmaster>" (RCPT TO) */
	SMTP_PATH_UTF8 = 1 << 2,             /* SMTPUTF8 given: UTF-8 allowed */
};

struct smtp_path {
	char addr[SMTP_PATH_MAX + 1]; /* "local@domain", "" for the null path,
	                                 "Postmaster" for the bare postmaster */
	bool is_null;
	bool is_postmaster;           /* "<Postmaster>" without a domain */
	bool has_utf8;                /* non-ASCII bytes in addr */
	bool domain_literal;          /* domain is "[...]" */
	size_t local_len;             /* addr[0..local_len) is the local part */
};

/* Parse a path at s[0..n). On success returns 0, fills *out and sets
 * *used_r to the bytes taken (up to and including '>'). On error returns
 * -1 and *error_r is a static text fit for a reply ("Bad address syntax"). */
int smtp_path_parse(const char *s, size_t n, unsigned flags, struct smtp_path *out,
                    size_t *used_r, const char **error_r);

/* The domain of a parsed non-null, non-postmaster path. */
const char *smtp_path_domain(const struct smtp_path *p);

#endif
