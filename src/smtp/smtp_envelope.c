/* MAIL and RCPT: who the message is from and for (check, then proceed). */
#include "smtp/smtp_internal.h"
#include "auth/accounts.h"
#include "auth/auth_thread.h"
#include "lib/runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The worker thread's own accounts handle (auth_thread.h). */
struct accounts *smtp_accounts(void)
{
	const char *err = NULL;
	struct accounts *acc = auth_thread_accounts(&err);
	if (acc == NULL)
		log_error("smtp: accounts database: %s", err ? err : "?");
	return acc;
}

static void rcpt_forget(struct smtp_rcpt *r)
{
	free(r->orcpt);
	r->orcpt = NULL;
}

void smtp_txn_reset(struct smtp_session *s)
{
	s->have_mail = false;
	memset(&s->mail, 0, sizeof(s->mail));
	for (size_t i = 0; i < s->n_rcpts; i++)
		rcpt_forget(&s->rcpts[i]);
	rcpt_forget(&s->pending_rcpt);
	s->n_rcpts = 0;
	s->n_targets = 0;
	s->in_bdat = false;
	s->bdat_reply = NULL;
	smtp_spool_discard(&s->spool);
	buf_reset(&s->hdr, 0);
	s->hdr_done = false;
}

/* 1 owned by the user, 0 not, -1 the accounts database failed. */
static int owner_check(struct smtp_session *s, const char *addr)
{
	struct accounts *acc = smtp_accounts();
	if (acc == NULL)
		return -1;
	int64_t id;
	const char *err;
	int rc = accounts_resolve_recipient(acc, addr, &id, &err);
	if (rc == ACCOUNTS_ERR_INTERNAL)
		return -1;
	return rc == ACCOUNTS_OK && id == s->user_id;
}

bool smtp_owns_address(struct smtp_session *s, const char *addr)
{
	return owner_check(s, addr) == 1;
}

void smtp_cmd_mail(struct smtp_session *s, const char *arg, size_t len)
{
	if (s->mode == SMTP_MODE_SUBMISSION && !s->authed) {
		smtp_reply(s, "530 5.7.0 Authentication required");
		return;
	}
	if (s->have_mail) {
		smtp_reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	const char *reply;
	if (smtp_mail_parse(arg, len, smtp_extensions(s), &s->mail, &reply) < 0) {
		s->bad++;
		smtp_reply(s, reply);
		return;
	}
	if (s->mail.has_size && s->mail.size > runtime_config->max_message_size) {
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	if (s->mode == SMTP_MODE_SUBMISSION && !s->mail.path.is_null) {
		int own = owner_check(s, s->mail.path.addr);
		if (own < 0) {
			smtp_reply(s, "451 4.3.0 Temporary lookup failure, try again later");
			return;
		}
		if (own == 0) {
			conn_log(s->c, LOGL_INFO, "sender refused: not the user's address");
			smtp_reply(s, "553 5.7.1 Sender address is not yours");
			return;
		}
	}
	s->have_mail = true;
	smtp_reply(s, "250 2.1.0 Ok");
}

bool smtp_domain_is_local(const char *domain)
{
	const struct str_list *l = &runtime_config->domains;
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], domain) == 0)
			return true;
	struct accounts *acc = smtp_accounts();
	const char *err;
	return acc != NULL && accounts_domain_exists(acc, domain, &err) == ACCOUNTS_OK;
}

/* RFC 5321 4.5.1: "<Postmaster>" without a domain is the postmaster of
 * this host's mail domain: the host name if it is local, else the first
 * configured domain. */
static void postmaster_address(char *out, size_t outlen)
{
	const char *dom = runtime_config->hostname;
	if (!smtp_domain_is_local(dom) && runtime_config->domains.n > 0)
		dom = runtime_config->domains.v[0];
	snprintf(out, outlen, "postmaster@%s", dom);
}

static void add_rcpt(struct smtp_session *s, const struct smtp_rcpt *r,
                     const struct smtp_target *t)
{
	size_t ti;
	for (ti = 0; ti < s->n_targets; ti++)
		if (s->targets[ti].user_id == t->user_id)
			break;
	if (ti == s->n_targets) {
		if (s->n_targets == s->cap_targets) {
			s->cap_targets = s->cap_targets ? s->cap_targets * 2 : 4;
			s->targets = xrealloc(s->targets, s->cap_targets * sizeof(*s->targets));
		}
		s->targets[s->n_targets++] = *t;
	}
	if (s->n_rcpts == s->cap_rcpts) {
		s->cap_rcpts = s->cap_rcpts ? s->cap_rcpts * 2 : 4;
		s->rcpts = xrealloc(s->rcpts, s->cap_rcpts * sizeof(*s->rcpts));
	}
	s->rcpts[s->n_rcpts] = *r;  /* takes over r->orcpt */
	s->rcpts[s->n_rcpts].target = ti;
	s->n_rcpts++;
}

static void check_done(struct smtp_job *job, void *arg)
{
	struct smtp_session *s = arg;
	int st = job->targets[0].status;
	s->job = NULL;
	if (st == STORE_OK) {
		add_rcpt(s, &s->pending_rcpt, &s->pending_target);
		s->pending_rcpt.orcpt = NULL;
		smtp_reply(s, "250 2.1.5 Ok");
	} else {
		rcpt_forget(&s->pending_rcpt);
		conn_log(s->c, LOGL_INFO, "rcpt refused to=%s reason=\"%s\"", s->pending_rcpt.addr,
		         job->targets[0].error);
		smtp_reply(s, smtp_store_reply(st));
	}
	smtp_job_free(job);
	smtp_resume(s);
}

void smtp_cmd_rcpt(struct smtp_session *s, const char *arg, size_t len)
{
	if (!s->have_mail) {
		smtp_reply(s, "503 5.5.1 Need MAIL command");
		return;
	}
	if (s->n_rcpts >= SMTP_MAX_RCPTS) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	struct smtp_rcpt_args ra;
	const char *reply;
	if (smtp_rcpt_parse(arg, len, smtp_extensions(s), s->mail.smtputf8, &ra, &reply) < 0) {
		s->bad++;
		smtp_reply(s, reply);
		return;
	}
	char addr[SMTP_PATH_MAX + 64];
	if (ra.path.is_postmaster)
		postmaster_address(addr, sizeof(addr));
	else
		snprintf(addr, sizeof(addr), "%s", ra.path.addr);
	const char *domain = strrchr(addr, '@') + 1;
	if (ra.path.domain_literal || !smtp_domain_is_local(domain)) {
		if (s->mode != SMTP_MODE_SUBMISSION) {
			smtp_reply(s, "554 5.7.1 Relay access denied");
			return;
		}
		/* Another domain: the outbound queue takes it after DATA. */
		struct smtp_rcpt r;
		memset(&r, 0, sizeof(r));
		snprintf(r.addr, sizeof(r.addr), "%s", ra.path.addr);
		r.remote = true;
		r.notify = ra.notify;
		r.orcpt = ra.orcpt[0] != '\0' ? xstrdup(ra.orcpt) : NULL;
		if (s->n_rcpts == s->cap_rcpts) {
			s->cap_rcpts = s->cap_rcpts ? s->cap_rcpts * 2 : 4;
			s->rcpts = xrealloc(s->rcpts, s->cap_rcpts * sizeof(*s->rcpts));
		}
		r.target = SIZE_MAX;
		s->rcpts[s->n_rcpts++] = r;
		smtp_reply(s, "250 2.1.5 Ok");
		return;
	}
	struct accounts *acc = smtp_accounts();
	int64_t id;
	const char *err;
	int rc = acc ? accounts_resolve_recipient(acc, addr, &id, &err) : ACCOUNTS_ERR_INTERNAL;
	struct account a;
	if (rc == ACCOUNTS_OK)
		rc = accounts_user_get_by_id(acc, s->arena, id, &a, &err);
	if (rc == ACCOUNTS_ERR_NOT_FOUND || rc == ACCOUNTS_ERR_INVALID) {
		smtp_reply(s, "550 5.1.1 User unknown");
		return;
	}
	if (rc != ACCOUNTS_OK) {
		smtp_reply(s, "451 4.3.0 Temporary lookup failure, try again later");
		return;
	}
	rcpt_forget(&s->pending_rcpt);
	memset(&s->pending_rcpt, 0, sizeof(s->pending_rcpt));
	snprintf(s->pending_rcpt.addr, sizeof(s->pending_rcpt.addr), "%s", ra.path.addr);
	s->pending_rcpt.notify = ra.notify;
	s->pending_rcpt.orcpt = ra.orcpt[0] != '\0' ? xstrdup(ra.orcpt) : NULL;
	memset(&s->pending_target, 0, sizeof(s->pending_target));
	s->pending_target.user_id = id;
	s->pending_target.quota.max_bytes = a.quota_bytes;
	s->pending_target.quota.max_messages = a.quota_messages;
	s->pending_target.mailbox = "INBOX";
	bool known = false;
	for (size_t i = 0; i < s->n_targets; i++)
		known |= s->targets[i].user_id == id;
	if (known || (a.quota_bytes == 0 && a.quota_messages == 0)) {
		add_rcpt(s, &s->pending_rcpt, &s->pending_target);
		s->pending_rcpt.orcpt = NULL;
		smtp_reply(s, "250 2.1.5 Ok");
		return;
	}
	/* A quota: ask the user's store (on its worker) whether the message
	 * fits, so a full mailbox is refused here for this recipient only. */
	struct smtp_job *job = smtp_job_new(SMTP_JOB_CHECK, 1);
	job->targets[0] = s->pending_target;
	job->check_size = s->mail.has_size && s->mail.size > 0 ? s->mail.size : 1;
	s->job = job;
	s->phase = SMTP_PH_WAIT;
	conn_pause_input(s->c);
	smtp_job_start(job, s->c->loop, check_done, s);
}
