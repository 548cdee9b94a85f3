/*
 * imap_quota_req: GETQUOTA of another account's root and every SETQUOTA,
 * which cross threads: steps 1-4 of cmd_quota.c's header comment (the
 * caller's loop -> job pool -> the target user's worker -> the caller's
 * loop). The command is suspended (IMAP_CMD_ASYNC, input paused) until
 * the answer is written.
 */
#include "imap/imap_internal.h"
#include "imap/imap_resp.h"
#include "auth/accounts.h"
#include "auth/address.h"
#include "auth/auth_thread.h"
#include "lib/jobs.h"
#include "lib/runtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct imap_quota_req {
	struct imap_session *s;        /* NULL once the session has gone */
	struct ev_loop *home;          /* the session's loop */
	bool set;                      /* SETQUOTA, else GETQUOTA */
	char root[ADDRESS_MAX + 1];    /* as the client named it */
	char address[ADDRESS_MAX + 1]; /* the target account */
	int64_t target_id;
	struct store_quota limits;     /* SETQUOTA: the new ones; else the account's */
	int status;                    /* accounts_status (step 2), then store_err */
	uint64_t bytes, messages;      /* usage */
	char error[256];               /* for the log */
};

void imap_quota_cancel(struct imap_session *s)
{
	if (s->quota_req != NULL) {
		s->quota_req->s = NULL;
		s->quota_req = NULL;
	}
}

/* "* QUOTA root (STORAGE used limit MESSAGE used limit)": only resources
 * that have a limit are listed. */
void imap_quota_write(struct imap_session *s, const char *root, uint64_t bytes, uint64_t msgs,
                      const struct store_quota *q)
{
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, "* QUOTA ");
	imap_resp_write_astring(&b, root, strlen(root), imap_utf8_names(s) ? IMAP_RESP_UTF8 : 0);
	buf_append_str(&b, " (");
	const char *sep = "";
	if (q->max_bytes > 0) {
		buf_printf(&b, "STORAGE %" PRIu64 " %" PRIu64, (bytes + 1023) / 1024, q->max_bytes / 1024);
		sep = " ";
	}
	if (q->max_messages > 0)
		buf_printf(&b, "%sMESSAGE %" PRIu64 " %" PRIu64, sep, msgs, q->max_messages);
	buf_append_str(&b, ")\r\n");
	conn_write(s->c, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
}

static void req_back(void *arg);

/* Step 3, on the target user's worker. */
static void req_on_owner(void *arg)
{
	struct imap_quota_req *r = arg;
	char id[32];
	snprintf(id, sizeof(id), "%" PRId64, r->target_id);
	struct store_user *u;
	const char *err = "?";
	r->status = store_user_open(runtime_config->data_dir, id, &r->limits, &u, &err);
	if (r->status == STORE_OK) {
		r->status = store_user_quota(u, &r->bytes, &r->messages, NULL);
		if (r->status != STORE_OK)
			snprintf(r->error, sizeof(r->error), "usage: %s", store_error(u));
		store_user_close(&u);
	} else {
		snprintf(r->error, sizeof(r->error), "store open: %s", err);
	}
	ev_post(r->home, req_back, r);
}

static void internal_error(struct imap_session *s, const char *what, const char *detail)
{
	conn_log(s->c, LOGL_ERROR, "%s failed: %s", what, detail);
	imap_tagged(s, s->tag, "NO", "SERVERBUG", "Internal error; the server log has the details");
}

/* Step 4, on the session's loop. */
static void req_back(void *arg)
{
	struct imap_quota_req *r = arg;
	struct imap_session *s = r->s;
	if (s == NULL) {
		free(r);
		return;
	}
	s->quota_req = NULL;
	if (r->status != STORE_OK) {
		internal_error(s, r->set ? "setquota" : "getquota", r->error);
	} else {
		imap_quota_write(s, r->root, r->bytes, r->messages, &r->limits);
		imap_tagged(s, s->tag, "OK", NULL, r->set ? "SETQUOTA completed" : "GETQUOTA completed");
	}
	free(r);
	imap_command_finish(s);
}

static void req_to_owner(struct imap_quota_req *r)
{
	ev_post(runtime_worker_for_user((uint64_t)r->target_id)->loop, req_on_owner, r);
}

/* Step 2, on a job pool thread: its own short-lived accounts handle (the
 * pool's threads have no per-thread one to close). */
static void req_write(void *arg)
{
	struct imap_quota_req *r = arg;
	struct accounts *acc;
	const char *err = "?";
	r->status = accounts_open(runtime_config->data_dir, &acc, &err);
	if (r->status == ACCOUNTS_OK) {
		r->status = accounts_quota_set(acc, r->address, r->limits.max_bytes,
		                               r->limits.max_messages, &err);
		accounts_close(&acc);
	}
	if (r->status != ACCOUNTS_OK)
		snprintf(r->error, sizeof(r->error), "%s", err);
}

static void req_written(void *arg)
{
	struct imap_quota_req *r = arg;
	struct imap_session *s = r->s;
	if (s == NULL) {
		free(r);
		return;
	}
	if (r->status == ACCOUNTS_OK) {
		req_to_owner(r);
		return;
	}
	s->quota_req = NULL;
	if (r->status == ACCOUNTS_ERR_NOT_FOUND)
		imap_tagged(s, s->tag, "NO", "NONEXISTENT", "No such quota root");
	else
		internal_error(s, "setquota", r->error);
	free(r);
	imap_command_finish(s);
}

/* Step 1: may this session use `root` (len bytes), and whose is it? 0 and
 * the account in *acct (a), or -1 after answering NO. */
static int resolve_root(struct imap_session *s, bool set, const char *root, size_t len,
                        struct arena *a, struct account *acct)
{
	const char *err = "?";
	struct accounts *acc = auth_thread_accounts(&err);
	int rc = acc != NULL ? accounts_user_get_by_id(acc, a, s->user_id, acct, &err)
	                     : ACCOUNTS_ERR_INTERNAL;
	if (rc != ACCOUNTS_OK) {
		internal_error(s, "quota: account lookup", err);
		return -1;
	}
	if (!acct->admin) {
		if (set)
			imap_tagged(s, s->tag, "NO", "NOPERM", "Only an administrator may change quotas");
		else
			imap_tagged(s, s->tag, "NO", "NONEXISTENT", "No such quota root; yours is \"\"");
		return -1;
	}
	if (len == 0)
		return 0;
	rc = len <= ADDRESS_MAX && memchr(root, '\0', len) == NULL
	         ? accounts_user_get(acc, a, root, acct, &err) : ACCOUNTS_ERR_NOT_FOUND;
	if (rc == ACCOUNTS_ERR_NOT_FOUND || rc == ACCOUNTS_ERR_INVALID) {
		imap_tagged(s, s->tag, "NO", "NONEXISTENT",
		            "No such quota root: \"\" or an account's address");
		return -1;
	}
	if (rc != ACCOUNTS_OK) {
		internal_error(s, "quota: root lookup", err);
		return -1;
	}
	return 0;
}

enum imap_cmd_result imap_quota_other(struct imap_session *s, const char *root, size_t len,
                                      const struct store_quota *limits)
{
	struct arena *a = arena_new(1024);
	struct account acct;
	if (resolve_root(s, limits != NULL, root, len, a, &acct) < 0) {
		arena_free(&a);
		return IMAP_CMD_DONE;
	}
	struct imap_quota_req *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->home = s->c->loop;
	r->set = limits != NULL;
	memcpy(r->root, root, len);
	snprintf(r->address, sizeof(r->address), "%s", acct.address);
	r->target_id = acct.id;
	if (limits != NULL)
		r->limits = *limits;
	else
		r->limits = (struct store_quota){ acct.quota_bytes, acct.quota_messages };
	arena_free(&a);
	if (r->set && jobs_submit(r->home, req_write, req_written, r) < 0) {
		free(r);
		imap_tagged(s, s->tag, "NO", "UNAVAILABLE", "Server busy, try again later");
		return IMAP_CMD_DONE;
	}
	if (!r->set)
		req_to_owner(r);
	s->quota_req = r;
	conn_pause_input(s->c);
	return IMAP_CMD_ASYNC;
}

