/*
 * fuzz_smtp_cmd: arbitrary bytes as one command line: split into verb and
 * argument, then the argument through the MAIL, RCPT and BDAT parsers with
 * every extension on (or off, by the first byte). Errors must come with a
 * reply line "ddd d.d.d text"; results must be within their limits, and
 * an accepted ENVID/ORCPT must pass the xtext checks (lib/xtext.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xtext.h"
#include "smtp/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const char *r)
{
	if (r == NULL || strlen(r) < 10 || r[3] != ' ' || (r[0] != '4' && r[0] != '5') ||
	    r[4] != r[0] || r[5] != '.')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	unsigned ext = data[0] & 1 ? 0x3f : 0;
	const char *line = (const char *)data + 1;
	size_t n = size - 1;
	struct smtp_cmd c;
	smtp_cmd_parse(line, n, &c);
	if (c.arg_len > n || (c.arg_len > 0 && (c.arg < line || c.arg + c.arg_len > line + n)))
		abort();
	const char *reply = NULL;
	struct smtp_mail_args m;
	if (smtp_mail_parse(c.arg, c.arg_len, ext, &m, &reply) < 0) {
		check_reply(reply);
	} else {
		if (strlen(m.envid) > SMTP_XTEXT_MAX || strlen(m.path.addr) > SMTP_PATH_MAX)
			abort();
		if (m.path.has_utf8 && !m.smtputf8)
			abort();
		if (ext == 0 && (m.has_size || m.smtputf8 || m.envid[0] || m.ret))
			abort();
		if (m.envid[0] && !xtext_envid_valid(m.envid, strlen(m.envid), SMTP_XTEXT_MAX))
			abort();
	}
	struct smtp_rcpt_args r;
	reply = NULL;
	if (smtp_rcpt_parse(c.arg, c.arg_len, ext, data[0] & 2, &r, &reply) < 0) {
		check_reply(reply);
	} else if (strlen(r.orcpt) > SMTP_ORCPT_MAX || (r.path.is_null)) {
		abort();
	} else if (r.orcpt[0] && !xtext_orcpt_valid(r.orcpt, strlen(r.orcpt), SMTP_ORCPT_MAX)) {
		abort();
	} else if ((r.notify & SMTP_NOTIFY_NEVER) && r.notify != SMTP_NOTIFY_NEVER) {
		abort();
	}
	uint64_t bsize;
	bool last;
	reply = NULL;
	if (smtp_bdat_parse(c.arg, c.arg_len, &bsize, &last, &reply) < 0)
		check_reply(reply);
	return 0;
}
