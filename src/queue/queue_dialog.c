/* queue_dialog: the client side of one SMTP transaction (see queue_deliver.h). */
#include "queue/queue_deliver.h"
#include "lib/base64.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXT_MAX 2048

/* The EHLO keyword line for kw ("SIZE", "STARTTLS"), or NULL. */
static const char *ext_find(const char *ext, const char *kw)
{
	size_t kl = strlen(kw);
	for (const char *p = ext; p != NULL && *p != '\0';) {
		if (strncmp(p, kw, kl) == 0 && (p[kl] == ' ' || p[kl] == '\n' || p[kl] == '='))
			return p;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

static void set_all(struct qd_attempt *a, enum qd_outcome o, const char *status,
                    const char *reply, bool only_pending_ok)
{
	for (size_t i = 0; i < a->n_rcpts; i++) {
		struct qd_rcpt *r = &a->rcpts[i];
		if (only_pending_ok && r->outcome != QD_OK)
			continue;
		r->outcome = o;
		snprintf(r->reply, sizeof(r->reply), "%s", reply);
		qc_enhanced(reply, r->status);
		if (r->status[0] == '\0' && status != NULL)
			snprintf(r->status, sizeof(r->status), "%s", status);
	}
}

static enum qd_outcome outcome_of(int code)
{
	return code >= 200 && code < 300 ? QD_OK : code >= 500 ? QD_PERM : QD_TEMP;
}

static int ehlo(struct qd_attempt *a, char *ext, char *text, size_t textn)
{
	if (qc_cmdf(&a->conn, "EHLO %s", a->helo) < 0)
		return -1;
	int code = qc_reply(&a->conn, text, textn, ext, EXT_MAX);
	if (code >= 500 && code < 600) {
		ext[0] = '\0';
		if (qc_cmdf(&a->conn, "HELO %s", a->helo) < 0)
			return -1;
		code = qc_reply(&a->conn, text, textn, NULL, 0);
	}
	return code;
}

static int auth(struct qd_attempt *a, const char *ext, char *text, size_t textn)
{
	const char *mechs = ext_find(ext, "AUTH");
	char plain[1024], b64[1500];
	size_t ul = strlen(a->auth_user), pl = strlen(a->auth_pass);
	if (mechs == NULL || ul + pl + 2 > sizeof(plain))
		return -1;
	const char *eol = strchr(mechs, '\n');
	size_t ml = eol ? (size_t)(eol - mechs) : strlen(mechs);
	bool has_plain = memmem(mechs, ml, " PLAIN", 6) != NULL;
	int code;
	if (has_plain) {
		plain[0] = '\0';
		memcpy(plain + 1, a->auth_user, ul);
		plain[1 + ul] = '\0';
		memcpy(plain + 2 + ul, a->auth_pass, pl);
		base64_encode(plain, 2 + ul + pl, b64, sizeof(b64));
		code = qc_cmdf(&a->conn, "AUTH PLAIN %s", b64) < 0 ? -1
		       : qc_reply(&a->conn, text, textn, NULL, 0);
	} else if (memmem(mechs, ml, " LOGIN", 6) != NULL) {
		code = qc_cmdf(&a->conn, "AUTH LOGIN") < 0 ? -1 : qc_reply(&a->conn, text, textn, NULL, 0);
		if (code == 334) {
			base64_encode(a->auth_user, ul, b64, sizeof(b64));
			code = qc_cmdf(&a->conn, "%s", b64) < 0 ? -1
			       : qc_reply(&a->conn, text, textn, NULL, 0);
		}
		if (code == 334) {
			base64_encode(a->auth_pass, pl, b64, sizeof(b64));
			code = qc_cmdf(&a->conn, "%s", b64) < 0 ? -1
			       : qc_reply(&a->conn, text, textn, NULL, 0);
		}
	} else {
		code = -1;
	}
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(b64, sizeof(b64));
	return code;
}

/* " NOTIFY=... ORCPT=..." for r when the server offers DSN, else "". */
static void rcpt_params(const struct qd_attempt *a, const struct qd_rcpt *r, char *out,
                        size_t n)
{
	static const struct {
		unsigned bit;
		const char *name;
	} words[] = {
		{ QUEUE_NOTIFY_NEVER, "NEVER" }, { QUEUE_NOTIFY_SUCCESS, "SUCCESS" },
		{ QUEUE_NOTIFY_FAILURE, "FAILURE" }, { QUEUE_NOTIFY_DELAY, "DELAY" },
	};
	size_t o = 0;
	out[0] = '\0';
	if (!a->peer_dsn)
		return;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (r->notify & words[i].bit)
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : " NOTIFY=", words[i].name);
	if (r->orcpt != NULL && r->orcpt[0] != '\0')
		snprintf(out + o, n - o, " ORCPT=%s", r->orcpt);
}

/* Send the message file dot-stuffed, then ".". 0 or -1. */
static int send_body(struct qd_attempt *a)
{
	int fd = open(a->msg_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char in[32768], out[2 * 32768 + 8];
	bool bol = true;  /* at the beginning of a line */
	char last = '\n';
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		size_t o = 0;
		for (ssize_t i = 0; i < n; i++) {
			char ch = in[i];
			if (bol && ch == '.')
				out[o++] = '.';
			if (ch == '\n' && last != '\r')
				out[o++] = '\r';  /* a bare LF becomes CRLF */
			out[o++] = ch;
			bol = ch == '\n';
			last = ch;
		}
		if (qc_write(&a->conn, out, o) < 0) {
			rc = -1;
			break;
		}
	}
	close(fd);
	if (rc == 0)
		rc = qc_write(&a->conn, bol ? ".\r\n" : "\r\n.\r\n", bol ? 3 : 5);
	return rc;
}

int qd_dialog(struct qd_attempt *a, const char *host, char *err, size_t errn)
{
	char text[QC_TEXT_MAX], ext[EXT_MAX];
	struct qc *c = &a->conn;
	int code;
	a->tls = false;
	a->peer_dsn = false;
	if (a->implicit_tls && qc_starttls(c, host, err, errn) < 0)
		return 0;
	a->tls = a->implicit_tls;
	code = qc_reply(c, text, sizeof(text), NULL, 0);
	if (code != 220) {
		snprintf(err, errn, "%s greeting: %s", a->remote, code < 0 ? "no valid reply" : text);
		return 0;
	}
	code = ehlo(a, ext, text, sizeof(text));
	if (code != 250) {
		snprintf(err, errn, "%s EHLO: %s", a->remote, code < 0 ? "no valid reply" : text);
		return 0;
	}
	if (!a->tls && ext_find(ext, "STARTTLS") != NULL) {
		if (qc_cmdf(c, "STARTTLS") < 0 || (code = qc_reply(c, text, sizeof(text), NULL, 0)) != 220) {
			snprintf(err, errn, "%s STARTTLS: %s", a->remote, code < 0 ? "no reply" : text);
			return 0;
		}
		if (qc_starttls(c, host, err, errn) < 0)
			return 0;
		a->tls = true;
		if ((code = ehlo(a, ext, text, sizeof(text))) != 250) {
			snprintf(err, errn, "%s EHLO after STARTTLS: %s", a->remote,
			         code < 0 ? "no valid reply" : text);
			return 0;
		}
	}
	if (a->auth_user != NULL) {
		if (!a->tls) {
			snprintf(err, errn, "%s offers no TLS: not sending the relay password", a->remote);
			return 0;
		}
		if ((code = auth(a, ext, text, sizeof(text))) != 235) {
			snprintf(err, errn, "%s AUTH: %s", a->remote,
			         code < 0 ? "no usable mechanism or no reply" : text);
			return 0;
		}
	}
	const char *size_ext = ext_find(ext, "SIZE");
	uint64_t limit = size_ext != NULL ? strtoull(size_ext + 4, NULL, 10) : 0;
	if (limit > 0 && a->size > limit) {
		snprintf(text, sizeof(text), "552 5.3.4 message of %" PRIu64 " bytes exceeds the "
		         "limit of %" PRIu64 " announced by %.200s", a->size, limit, a->remote);
		set_all(a, QD_PERM, "5.3.4", text, false);
		qc_cmdf(c, "QUIT");
		return 1;
	}
	bool utf8 = ext_find(ext, "SMTPUTF8") != NULL;
	if (a->smtputf8 && !utf8) {
		snprintf(text, sizeof(text), "553 5.6.7 %.200s does not support SMTPUTF8, which the "
		         "addresses need", a->remote);
		set_all(a, QD_PERM, "5.6.7", text, false);
		qc_cmdf(c, "QUIT");
		return 1;
	}
	a->peer_dsn = ext_find(ext, "DSN") != NULL;
	char params[256] = "";
	size_t pl = 0;
	if (size_ext != NULL)
		pl += (size_t)snprintf(params + pl, sizeof(params) - pl, " SIZE=%" PRIu64, a->size);
	if (a->body8bit && ext_find(ext, "8BITMIME") != NULL)
		pl += (size_t)snprintf(params + pl, sizeof(params) - pl, " BODY=8BITMIME");
	if (a->smtputf8)
		pl += (size_t)snprintf(params + pl, sizeof(params) - pl, " SMTPUTF8");
	if (a->peer_dsn && a->ret != QUEUE_RET_NONE)
		pl += (size_t)snprintf(params + pl, sizeof(params) - pl, " RET=%s",
		                       a->ret == QUEUE_RET_FULL ? "FULL" : "HDRS");
	if (a->peer_dsn && a->envid != NULL && a->envid[0] != '\0')
		snprintf(params + pl, sizeof(params) - pl, " ENVID=%s", a->envid);
	if (qc_cmdf(c, "MAIL FROM:<%s>%s", a->sender, params) < 0 ||
	    (code = qc_reply(c, text, sizeof(text), NULL, 0)) < 0) {
		snprintf(err, errn, "%s: connection lost at MAIL FROM", a->remote);
		return 0;
	}
	if (code != 250) {
		set_all(a, outcome_of(code), code >= 500 ? "5.0.0" : "4.0.0", text, false);
		qc_cmdf(c, "QUIT");
		return 1;
	}
	size_t accepted = 0;
	for (size_t i = 0; i < a->n_rcpts; i++) {
		struct qd_rcpt *r = &a->rcpts[i];
		char rparams[QUEUE_ORCPT_MAX + 64];
		rcpt_params(a, r, rparams, sizeof(rparams));
		if (qc_cmdf(c, "RCPT TO:<%s>%s", r->addr, rparams) < 0 ||
		    (code = qc_reply(c, text, sizeof(text), NULL, 0)) < 0) {
			snprintf(text, sizeof(text), "%s: connection lost at RCPT TO", a->remote);
			set_all(a, QD_TEMP, "4.4.2", text, false);
			return 1;
		}
		r->outcome = outcome_of(code);
		snprintf(r->reply, sizeof(r->reply), "%s", text);
		qc_enhanced(text, r->status);
		accepted += r->outcome == QD_OK;
	}
	if (accepted == 0) {
		qc_cmdf(c, "QUIT");
		return 1;
	}
	if (qc_cmdf(c, "DATA") < 0 || (code = qc_reply(c, text, sizeof(text), NULL, 0)) < 0) {
		snprintf(text, sizeof(text), "%s: connection lost at DATA", a->remote);
		set_all(a, QD_TEMP, "4.4.2", text, true);
		return 1;
	}
	if (code != 354) {
		set_all(a, outcome_of(code) == QD_OK ? QD_TEMP : outcome_of(code), "4.0.0", text, true);
		qc_cmdf(c, "QUIT");
		return 1;
	}
	if (send_body(a) < 0 || (code = qc_reply(c, text, sizeof(text), NULL, 0)) < 0) {
		/* The server may have the message or not: retrying risks a
		 * duplicate, which RFC 5321 6.1 prefers to a loss. */
		snprintf(text, sizeof(text), "%s: connection lost while sending the message", a->remote);
		set_all(a, QD_TEMP, "4.4.2", text, true);
		return 1;
	}
	set_all(a, outcome_of(code), code >= 500 ? "5.0.0" : code >= 400 ? "4.0.0" : "2.0.0", text,
	        true);
	qc_cmdf(c, "QUIT");
	qc_reply(c, text, sizeof(text), NULL, 0);
	return 1;
}
