/*
 * smtp_cmd: parsing SMTP/LMTP command lines (RFC 5321 section 4.1) and the
 * parameters of MAIL and RCPT: SIZE (RFC 1870), BODY (RFC 6152, 3030),
 * SMTPUTF8 (RFC 6531), DSN's RET/ENVID/NOTIFY/ORCPT (RFC 3461) and AUTH=
 * (RFC 4954), and the BDAT arguments (RFC 3030).
 *
 * Pure functions over a line without its CRLF: no I/O, no allocation.
 * Errors come back as a complete reply line (static text, code and
 * enhanced code included, no CRLF) that the session sends as is.
 */
#ifndef MK_SMTP_CMD_H
#define MK_SMTP_CMD_H

#include "smtp/smtp_addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_CMD_UNKNOWN,
	SMTP_CMD_HELO, SMTP_CMD_EHLO, SMTP_CMD_LHLO,
	SMTP_CMD_MAIL, SMTP_CMD_RCPT, SMTP_CMD_DATA, SMTP_CMD_BDAT,
	SMTP_CMD_RSET, SMTP_CMD_NOOP, SMTP_CMD_QUIT, SMTP_CMD_HELP,
	SMTP_CMD_VRFY, SMTP_CMD_EXPN, SMTP_CMD_STARTTLS, SMTP_CMD_AUTH,
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;   /* after the verb and one or more spaces; "" if none */
	size_t arg_len;    /* trailing spaces removed */
};

/* Split a line into verb and argument. A line with a NUL byte, an empty
 * line or an unknown verb gives SMTP_CMD_UNKNOWN. Never fails otherwise. */
void smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out);

/* "HELO" ... the verb's name, for logs. */
const char *smtp_verb_name(enum smtp_verb v);

enum smtp_body { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };
enum smtp_notify {
	SMTP_NOTIFY_NEVER = 1 << 0,
	SMTP_NOTIFY_SUCCESS = 1 << 1,
	SMTP_NOTIFY_FAILURE = 1 << 2,
	SMTP_NOTIFY_DELAY = 1 << 3,
};

#define SMTP_XTEXT_MAX 100  /* ENVID (RFC 3461 4.4) */
#define SMTP_ORCPT_MAX 500  /* addr-type ";" xtext, bounded */

struct smtp_mail_args {
	struct smtp_path path;
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	enum smtp_ret ret;
	char envid[SMTP_XTEXT_MAX + 1];    /* xtext as sent, "" if none (checked:
	                                      lib/xtext.h xtext_envid_valid) */
};

struct smtp_rcpt_args {
	struct smtp_path path;
	unsigned notify;                   /* enum smtp_notify bits, 0 = not given */
	char orcpt[SMTP_ORCPT_MAX + 1];    /* "type;xtext" as sent, "" if none
	                                      (checked: xtext_orcpt_valid) */
};

/* What the session offers; parameters of extensions not offered are
 * refused with 555. */
enum smtp_ext {
	SMTP_EXT_SIZE = 1 << 0,
	SMTP_EXT_8BITMIME = 1 << 1,
	SMTP_EXT_SMTPUTF8 = 1 << 2,
	SMTP_EXT_DSN = 1 << 3,
	SMTP_EXT_AUTH = 1 << 4,
	SMTP_EXT_CHUNKING = 1 << 5,
};

/* The argument of MAIL ("FROM:<path> params"). 0, or -1 with *reply_r. */
int smtp_mail_parse(const char *arg, size_t len, unsigned ext, struct smtp_mail_args *out,
                    const char **reply_r);
/* The argument of RCPT ("TO:<path> params"); utf8 = the transaction
 * declared SMTPUTF8. 0, or -1 with *reply_r. */
int smtp_rcpt_parse(const char *arg, size_t len, unsigned ext, bool utf8,
                    struct smtp_rcpt_args *out, const char **reply_r);
/* "size [LAST]". 0, or -1 with *reply_r. */
int smtp_bdat_parse(const char *arg, size_t len, uint64_t *size_r, bool *last_r,
                    const char **reply_r);

#endif
