#include "smtp/smtp_cmd.h"
#include "lib/strutil.h"
#include "lib/xtext.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{ "HELO", SMTP_CMD_HELO }, { "EHLO", SMTP_CMD_EHLO }, { "LHLO", SMTP_CMD_LHLO },
	{ "MAIL", SMTP_CMD_MAIL }, { "RCPT", SMTP_CMD_RCPT }, { "DATA", SMTP_CMD_DATA },
	{ "BDAT", SMTP_CMD_BDAT }, { "RSET", SMTP_CMD_RSET }, { "NOOP", SMTP_CMD_NOOP },
	{ "QUIT", SMTP_CMD_QUIT }, { "HELP", SMTP_CMD_HELP }, { "VRFY", SMTP_CMD_VRFY },
	{ "EXPN", SMTP_CMD_EXPN }, { "STARTTLS", SMTP_CMD_STARTTLS }, { "AUTH", SMTP_CMD_AUTH },
};

void smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out)
{
	out->verb = SMTP_CMD_UNKNOWN;
	out->arg = "";
	out->arg_len = 0;
	if (len == 0 || memchr(line, '\0', len) != NULL)
		return;
	size_t v = 0;
	while (v < len && line[v] != ' ')
		v++;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (str_ieq_n(line, v, verbs[i].name)) {
			out->verb = verbs[i].verb;
			break;
		}
	}
	size_t a = v;
	while (a < len && line[a] == ' ')
		a++;
	size_t e = len;
	while (e > a && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	out->arg = line + a;
	out->arg_len = e - a;
}

const char *smtp_verb_name(enum smtp_verb v)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "UNKNOWN";
}

struct param {
	const char *key, *val;  /* val NULL when there is no "=" */
	size_t key_len, val_len;
};

/* Next " key[=value]" at s[*i..n); 1, 0 at the end, -1 on bad syntax. */
static int next_param(const char *s, size_t n, size_t *i, struct param *p)
{
	size_t k = *i;
	if (k >= n)
		return 0;
	if (s[k] != ' ')
		return -1;
	while (k < n && s[k] == ' ')
		k++;
	if (k >= n)
		return 0;
	p->key = s + k;
	while (k < n && s[k] != ' ' && s[k] != '=') {
		char c = s[k];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && k > (size_t)(p->key - s))))
			return -1;
		k++;
	}
	p->key_len = (size_t)(s + k - p->key);
	p->val = NULL;
	p->val_len = 0;
	if (k < n && s[k] == '=') {
		k++;
		p->val = s + k;
		while (k < n && s[k] != ' ') {
			unsigned char c = (unsigned char)s[k];
			if (c < 33 || c == '=' || c == 127)
				return -1;
			k++;
		}
		p->val_len = (size_t)(s + k - p->val);
		if (p->val_len == 0)
			return -1;
	}
	if (p->key_len == 0)
		return -1;
	*i = k;
	return 1;
}

static bool key_is(const struct param *p, const char *name)
{
	return str_ieq_n(p->key, p->key_len, name);
}

static bool val_is(const struct param *p, const char *word)
{
	return p->val != NULL && str_ieq_n(p->val, p->val_len, word);
}

/* "FROM:" / "TO:" then optional spaces (a common client habit), then the
 * path. Returns the offset after the path, or 0 with *reply_r. */
static size_t take_path(const char *arg, size_t len, const char *prefix, unsigned flags,
                        struct smtp_path *path, const char *syntax_reply,
                        const char *bad_reply, const char **reply_r)
{
	size_t pl = strlen(prefix);
	if (len < pl || strncasecmp(arg, prefix, pl) != 0) {
		*reply_r = syntax_reply;
		return 0;
	}
	size_t i = pl;
	while (i < len && arg[i] == ' ')
		i++;
	size_t used;
	const char *why;
	if (smtp_path_parse(arg + i, len - i, flags | SMTP_PATH_UTF8, path, &used, &why) < 0) {
		*reply_r = i < len && arg[i] == '<' ? bad_reply : syntax_reply;
		return 0;
	}
	return i + used;
}

int smtp_mail_parse(const char *arg, size_t len, unsigned ext, struct smtp_mail_args *out,
                    const char **reply_r)
{
	memset(out, 0, sizeof(*out));
	size_t i = take_path(arg, len, "FROM:", SMTP_PATH_ALLOW_NULL, &out->path,
	                     "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]",
	                     "501 5.1.7 Bad sender address syntax", reply_r);
	if (i == 0)
		return -1;
	bool seen_body = false;
	struct param p;
	int r;
	while ((r = next_param(arg, len, &i, &p)) > 0) {
		if (key_is(&p, "SIZE") && (ext & SMTP_EXT_SIZE)) {
			if (out->has_size || p.val == NULL || str_parse_u64n(p.val, p.val_len, &out->size) < 0) {
				*reply_r = "501 5.5.4 Bad SIZE parameter";
				return -1;
			}
			out->has_size = true;
		} else if (key_is(&p, "BODY") && (ext & SMTP_EXT_8BITMIME)) {
			if (seen_body) {
				*reply_r = "501 5.5.4 Duplicate BODY parameter";
				return -1;
			}
			seen_body = true;
			if (val_is(&p, "7BIT")) {
				out->body = SMTP_BODY_7BIT;
			} else if (val_is(&p, "8BITMIME")) {
				out->body = SMTP_BODY_8BITMIME;
			} else if (val_is(&p, "BINARYMIME")) {
				*reply_r = "555 5.5.4 BODY=BINARYMIME is not supported";
				return -1;
			} else {
				*reply_r = "501 5.5.4 Bad BODY parameter";
				return -1;
			}
		} else if (key_is(&p, "SMTPUTF8") && (ext & SMTP_EXT_SMTPUTF8)) {
			if (p.val != NULL || out->smtputf8) {
				*reply_r = "501 5.5.4 Bad SMTPUTF8 parameter";
				return -1;
			}
			out->smtputf8 = true;
		} else if (key_is(&p, "RET") && (ext & SMTP_EXT_DSN)) {
			if (out->ret != SMTP_RET_NONE || !(val_is(&p, "FULL") || val_is(&p, "HDRS"))) {
				*reply_r = "501 5.5.4 Bad RET parameter";
				return -1;
			}
			out->ret = val_is(&p, "FULL") ? SMTP_RET_FULL : SMTP_RET_HDRS;
		} else if (key_is(&p, "ENVID") && (ext & SMTP_EXT_DSN)) {
			if (out->envid[0] != '\0' || p.val == NULL || p.val_len > SMTP_XTEXT_MAX ||
			    !xtext_envid_valid(p.val, p.val_len, SMTP_XTEXT_MAX)) {
				*reply_r = "501 5.5.4 Bad ENVID parameter";
				return -1;
			}
			memcpy(out->envid, p.val, p.val_len);
			out->envid[p.val_len] = '\0';
		} else if (key_is(&p, "AUTH") && (ext & SMTP_EXT_AUTH)) {
			/* RFC 4954 5: accepted and not passed on (no relaying). */
			if (p.val == NULL || !(val_is(&p, "<>") || xtext_valid(p.val, p.val_len))) {
				*reply_r = "501 5.5.4 Bad AUTH parameter";
				return -1;
			}
		} else {
			*reply_r = "555 5.5.4 Unsupported MAIL parameter";
			return -1;
		}
	}
	if (r < 0) {
		*reply_r = "501 5.5.4 Bad MAIL parameter syntax";
		return -1;
	}
	if (out->path.has_utf8 && !out->smtputf8) {
		*reply_r = "553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter";
		return -1;
	}
	return 0;
}

static int parse_notify(const struct param *p, unsigned *out)
{
	if (p->val == NULL)
		return -1;
	unsigned bits = 0;
	size_t i = 0;
	while (i < p->val_len) {
		size_t j = i;
		while (j < p->val_len && p->val[j] != ',')
			j++;
		unsigned b;
		if (str_ieq_n(p->val + i, j - i, "NEVER"))
			b = SMTP_NOTIFY_NEVER;
		else if (str_ieq_n(p->val + i, j - i, "SUCCESS"))
			b = SMTP_NOTIFY_SUCCESS;
		else if (str_ieq_n(p->val + i, j - i, "FAILURE"))
			b = SMTP_NOTIFY_FAILURE;
		else if (str_ieq_n(p->val + i, j - i, "DELAY"))
			b = SMTP_NOTIFY_DELAY;
		else
			return -1;
		if (bits & b)
			return -1;
		bits |= b;
		i = j + 1;
		if (j < p->val_len && i == p->val_len)
			return -1;  /* trailing comma */
	}
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return -1;
	*out = bits;
	return 0;
}

int smtp_rcpt_parse(const char *arg, size_t len, unsigned ext, bool utf8,
                    struct smtp_rcpt_args *out, const char **reply_r)
{
	memset(out, 0, sizeof(*out));
	size_t i = take_path(arg, len, "TO:", SMTP_PATH_ALLOW_POSTMASTER, &out->path,
	                     "501 5.5.4 Syntax: RCPT TO:<address> [parameters]",
	                     "501 5.1.3 Bad recipient address syntax", reply_r);
	if (i == 0)
		return -1;
	struct param p;
	int r;
	while ((r = next_param(arg, len, &i, &p)) > 0) {
		if (key_is(&p, "NOTIFY") && (ext & SMTP_EXT_DSN)) {
			if (out->notify != 0 || parse_notify(&p, &out->notify) < 0) {
				*reply_r = "501 5.5.4 Bad NOTIFY parameter";
				return -1;
			}
		} else if (key_is(&p, "ORCPT") && (ext & SMTP_EXT_DSN)) {
			if (out->orcpt[0] != '\0' || p.val == NULL ||
			    !xtext_orcpt_valid(p.val, p.val_len, SMTP_ORCPT_MAX)) {
				*reply_r = "501 5.5.4 Bad ORCPT parameter";
				return -1;
			}
			memcpy(out->orcpt, p.val, p.val_len);
			out->orcpt[p.val_len] = '\0';
		} else {
			*reply_r = "555 5.5.4 Unsupported RCPT parameter";
			return -1;
		}
	}
	if (r < 0) {
		*reply_r = "501 5.5.4 Bad RCPT parameter syntax";
		return -1;
	}
	if (out->path.has_utf8 && !utf8) {
		*reply_r = "553 5.6.7 Non-ASCII address requires SMTPUTF8 in MAIL FROM";
		return -1;
	}
	return 0;
}

int smtp_bdat_parse(const char *arg, size_t len, uint64_t *size_r, bool *last_r,
                    const char **reply_r)
{
	size_t i = 0;
	while (i < len && arg[i] >= '0' && arg[i] <= '9')
		i++;
	uint64_t size;
	if (i == 0 || i > 19 || str_parse_u64n(arg, i, &size) < 0) {
		*reply_r = "501 5.5.4 Syntax: BDAT size [LAST]";
		return -1;
	}
	bool last = false;
	if (i < len) {
		size_t j = i;
		while (j < len && arg[j] == ' ')
			j++;
		if (j == i || !str_ieq_n(arg + j, len - j, "LAST")) {
			*reply_r = "501 5.5.4 Syntax: BDAT size [LAST]";
			return -1;
		}
		last = true;
	}
	*size_r = size;
	*last_r = last;
	return 0;
}
