/* queue_env: the envelope's text form (see queue_env.h). */
#include "queue/queue_env.h"
#include "lib/arena.h"
#include "lib/strutil.h"
#include "lib/xtext.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_STATES 5
static const char *const state_names[N_STATES] = { "pending", "delivered", "failed", "bounced",
                                                   "relayed" };

const char *queue_rcpt_state_name(enum queue_rcpt_state st)
{
	return (unsigned)st < N_STATES ? state_names[st] : "?";
}

bool queue_notify_wants(unsigned notify, unsigned kind)
{
	if (notify == 0)
		return kind == QUEUE_NOTIFY_FAILURE || kind == QUEUE_NOTIFY_DELAY;
	return (notify & kind) != 0 && !(notify & QUEUE_NOTIFY_NEVER);
}

/* NOTIFY in the text form: "-", "never" or "success,failure,delay". */
static const struct {
	unsigned bit;
	const char *name;
} notify_names[] = {
	{ QUEUE_NOTIFY_NEVER, "never" },
	{ QUEUE_NOTIFY_SUCCESS, "success" },
	{ QUEUE_NOTIFY_FAILURE, "failure" },
	{ QUEUE_NOTIFY_DELAY, "delay" },
};
#define N_NOTIFY (sizeof(notify_names) / sizeof(notify_names[0]))

static void notify_format(unsigned notify, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_NOTIFY; i++)
		if (notify & notify_names[i].bit)
			o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "", notify_names[i].name);
	if (o == 0)
		snprintf(out, n, "-");
}

static int notify_parse(const char *s, size_t n, unsigned *out)
{
	*out = 0;
	if (n == 1 && s[0] == '-')
		return 0;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		size_t k = 0;
		while (k < N_NOTIFY && !str_ieq_n(s + i, j - i, notify_names[k].name))
			k++;
		if (k == N_NOTIFY)
			return -1;
		*out |= notify_names[k].bit;
		i = j + 1;
	}
	if ((*out & QUEUE_NOTIFY_NEVER) && *out != QUEUE_NOTIFY_NEVER)
		return -1;
	return *out != 0 ? 0 : -1;
}

void queue_text_copy(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	if (n == 0)
		return;
	for (; src != NULL && src[i] != '\0' && i + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 32 || c == 127) ? ' ' : (char)c;
	}
	dst[i] = '\0';
}

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 32 || s[i] == 127)
			return true;
	return false;
}

int queue_env_add_rcpt(struct queue_env *env, const char *addr)
{
	size_t len = strlen(addr);
	if (env->n_rcpts >= QUEUE_MAX_RCPTS || len == 0 || len >= QUEUE_ADDR_MAX ||
	    has_ctl(addr, len))
		return -1;
	env->rcpts = xrealloc(env->rcpts, (env->n_rcpts + 1) * sizeof(*env->rcpts));
	struct queue_rcpt *r = &env->rcpts[env->n_rcpts++];
	memset(r, 0, sizeof(*r));
	memcpy(r->addr, addr, len + 1);
	r->state = QUEUE_RCPT_PENDING;
	return 0;
}

void queue_env_clear(struct queue_env *env)
{
	free(env->rcpts);
	env->rcpts = NULL;
	env->n_rcpts = 0;
}

size_t queue_env_count(const struct queue_env *env, enum queue_rcpt_state st)
{
	size_t n = 0;
	for (size_t i = 0; i < env->n_rcpts; i++)
		n += env->rcpts[i].state == st;
	return n;
}

int queue_env_format(const struct queue_env *env, struct buf *out)
{
	char text[QUEUE_TEXT_MAX];
	int rc = 0;
	rc |= buf_printf(out, "mailkeep-queue 2\nid %s\nsender %s\nsender-user %" PRId64 "\n",
	                 env->id, env->sender[0] ? env->sender : "<>", env->sender_user);
	if (env->local_user != 0)
		rc |= buf_printf(out, "local-user %" PRId64 "\n", env->local_user);
	rc |= buf_printf(out, "flags%s%s%s\n", env->smtputf8 ? " smtputf8" : "",
	                 env->body8bit ? " 8bit" : "", env->delay_notified ? " delay-notified" : "");
	if (env->ret != QUEUE_RET_NONE)
		rc |= buf_printf(out, "ret %s\n", env->ret == QUEUE_RET_FULL ? "full" : "hdrs");
	if (env->envid[0] != '\0')
		rc |= buf_printf(out, "envid %s\n", env->envid);
	rc |= buf_printf(out, "size %" PRIu64 "\ncreated %" PRId64 "\n", env->size, env->created);
	rc |= buf_printf(out, "attempts %u\nnext %" PRId64 "\nlast %" PRId64 "\n", env->attempts,
	                 env->next_attempt, env->last_attempt);
	queue_text_copy(text, sizeof(text), env->last_error);
	rc |= buf_printf(out, "error %s\n", text);
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];
		char remote[sizeof(r->remote)], status[sizeof(r->status)], notify[40];
		queue_text_copy(text, sizeof(text), r->diag);
		queue_text_copy(remote, sizeof(remote), r->remote);
		queue_text_copy(status, sizeof(status), r->status);
		notify_format(r->notify, notify, sizeof(notify));
		rc |= buf_printf(out, "rcpt\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		                 queue_rcpt_state_name(r->state), r->addr, notify,
		                 r->orcpt[0] ? r->orcpt : "-", status[0] ? status : "-",
		                 remote[0] ? remote : "-", text);
	}
	return rc < 0 ? -1 : 0;
}

/* Copy field [s, s+n) into dst (size cap); "-" means empty. */
static int field(char *dst, size_t cap, const char *s, size_t n, bool dash_empty)
{
	if (n >= cap || has_ctl(s, n))
		return -1;
	if (dash_empty && n == 1 && s[0] == '-')
		n = 0;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int parse_i64(const char *s, size_t n, int64_t *out)
{
	uint64_t v;
	if (str_parse_u64n(s, n, &v) < 0 || v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* A rcpt line (after "rcpt\t"): version 1 has STATE ADDR STATUS REMOTE
 * DIAG, version 2 STATE ADDR NOTIFY ORCPT STATUS REMOTE DIAG. The last
 * field takes the rest of the line (it holds no tabs). */
static int parse_rcpt(struct queue_env *env, const char *s, size_t n, unsigned version)
{
	enum { MAXF = 7 };
	const size_t nf = version >= 2 ? 7 : 5;
	const char *f[MAXF];
	size_t fl[MAXF], k = 0;
	const char *p = s, *end = s + n;
	while (k < nf) {
		const char *tab = k + 1 < nf ? memchr(p, '\t', (size_t)(end - p)) : NULL;
		const char *stop = tab != NULL ? tab : end;
		f[k] = p;
		fl[k] = (size_t)(stop - p);
		k++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	if (k != nf)
		return -1;
	char addr[QUEUE_ADDR_MAX];
	if (field(addr, sizeof(addr), f[1], fl[1], false) < 0 || queue_env_add_rcpt(env, addr) < 0)
		return -1;
	struct queue_rcpt *r = &env->rcpts[env->n_rcpts - 1];
	int st = -1;
	for (int i = 0; i < N_STATES; i++)
		if (str_ieq_n(f[0], fl[0], state_names[i]))
			st = i;
	size_t d = 0;  /* where STATUS is */
	if (version >= 2) {
		if (notify_parse(f[2], fl[2], &r->notify) < 0 ||
		    field(r->orcpt, sizeof(r->orcpt), f[3], fl[3], true) < 0 ||
		    (r->orcpt[0] != '\0' && !xtext_orcpt_valid(r->orcpt, fl[3], QUEUE_ORCPT_MAX)))
			return -1;
		d = 2;
	}
	if (st < 0 || field(r->status, sizeof(r->status), f[2 + d], fl[2 + d], true) < 0 ||
	    field(r->remote, sizeof(r->remote), f[3 + d], fl[3 + d], true) < 0 ||
	    field(r->diag, sizeof(r->diag), f[4 + d], fl[4 + d], false) < 0)
		return -1;
	r->state = (enum queue_rcpt_state)st;
	return 0;
}

static bool key_is(const char *line, size_t n, const char *key, const char **val, size_t *vn)
{
	size_t kl = strlen(key);
	if (n < kl || memcmp(line, key, kl) != 0 || (n > kl && line[kl] != ' '))
		return false;
	*val = n > kl ? line + kl + 1 : line + n;
	*vn = n > kl ? n - kl - 1 : 0;
	return true;
}

/* Does the space-separated list v[0..vn) hold the word w? */
static bool has_word(const char *v, size_t vn, const char *w)
{
	size_t wl = strlen(w), i = 0;
	while (i < vn) {
		size_t j = i;
		while (j < vn && v[j] != ' ')
			j++;
		if (j - i == wl && memcmp(v + i, w, wl) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

static int parse_line(struct queue_env *env, const char *l, size_t n, unsigned *seen,
                      unsigned version)
{
	const char *v;
	size_t vn;
	uint64_t u;
	if (n > 5 && memcmp(l, "rcpt\t", 5) == 0)
		return parse_rcpt(env, l + 5, n - 5, version);
	if (key_is(l, n, "id", &v, &vn)) {
		*seen |= 1;
		return vn == QUEUE_ID_LEN ? field(env->id, sizeof(env->id), v, vn, false) : -1;
	}
	if (key_is(l, n, "sender-user", &v, &vn))
		return parse_i64(v, vn, &env->sender_user);
	if (key_is(l, n, "local-user", &v, &vn))
		return parse_i64(v, vn, &env->local_user);
	if (key_is(l, n, "ret", &v, &vn)) {
		env->ret = str_ieq_n(v, vn, "full") ? QUEUE_RET_FULL
		           : str_ieq_n(v, vn, "hdrs") ? QUEUE_RET_HDRS : QUEUE_RET_NONE;
		return env->ret != QUEUE_RET_NONE ? 0 : -1;
	}
	if (key_is(l, n, "envid", &v, &vn)) {
		if (!xtext_envid_valid(v, vn, QUEUE_ENVID_MAX))
			return -1;
		return field(env->envid, sizeof(env->envid), v, vn, false);
	}
	if (key_is(l, n, "sender", &v, &vn)) {
		*seen |= 2;
		if (vn == 2 && memcmp(v, "<>", 2) == 0)
			vn = 0;
		return field(env->sender, sizeof(env->sender), v, vn, false);
	}
	if (key_is(l, n, "flags", &v, &vn)) {
		env->smtputf8 = has_word(v, vn, "smtputf8");
		env->body8bit = has_word(v, vn, "8bit");
		env->delay_notified = has_word(v, vn, "delay-notified");
		return 0;
	}
	if (key_is(l, n, "size", &v, &vn))
		return str_parse_u64n(v, vn, &env->size);
	if (key_is(l, n, "created", &v, &vn)) {
		*seen |= 4;
		return parse_i64(v, vn, &env->created);
	}
	if (key_is(l, n, "attempts", &v, &vn)) {
		if (str_parse_u64n(v, vn, &u) < 0 || u > 1000000)
			return -1;
		env->attempts = (unsigned)u;
		return 0;
	}
	if (key_is(l, n, "next", &v, &vn))
		return parse_i64(v, vn, &env->next_attempt);
	if (key_is(l, n, "last", &v, &vn))
		return parse_i64(v, vn, &env->last_attempt);
	if (key_is(l, n, "error", &v, &vn))
		return field(env->last_error, sizeof(env->last_error), v,
		             vn < sizeof(env->last_error) ? vn : sizeof(env->last_error) - 1, false);
	return -1;
}

int queue_env_parse(const char *text, size_t len, struct queue_env *env, const char **error_r)
{
	static const char magic[] = "mailkeep-queue ";
	const size_t ml = sizeof(magic) - 1;
	memset(env, 0, sizeof(*env));
	if (len < ml + 2 || memcmp(text, magic, ml) != 0 || (text[ml] != '1' && text[ml] != '2') ||
	    text[ml + 1] != '\n') {
		*error_r = "not a queue envelope (version line)";
		return -1;
	}
	unsigned version = (unsigned)(text[ml] - '0');
	unsigned seen = 0;
	size_t pos = ml + 2;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		if (nl == NULL) {
			*error_r = "truncated (no final newline)";
			goto fail;
		}
		size_t n = (size_t)(nl - (text + pos));
		if (parse_line(env, text + pos, n, &seen, version) < 0) {
			*error_r = "bad line";
			goto fail;
		}
		pos += n + 1;
	}
	if (seen != 7 || env->n_rcpts == 0) {
		*error_r = "missing id, sender, created or recipients";
		goto fail;
	}
	return 0;
fail:
	queue_env_clear(env);
	return -1;
}
