/*
 * QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA. Resources STORAGE
 * (KiB; copies counted) and MESSAGE.
 *
 * Quota roots. Each account has one root holding all its mailboxes; a
 * session names its own "" (GETQUOTAROOT answers ""). An administrator
 * (`mailkeep user admin ADDRESS on`) may also name another account's root
 * by that account's address, e.g. GETQUOTA "bob@example.com". The address,
 * not the numeric id: it is what an administrator knows and what
 * `mailkeep quota` takes, and it cannot be mistaken for a mailbox. For
 * anyone else such a root does not exist (NO [NONEXISTENT]), so guessing
 * does not reveal which accounts exist; SETQUOTA by a non-administrator is
 * NO [NOPERM] whatever the root. QUOTASET is advertised to administrators
 * only, since only they can use it.
 *
 * SETQUOTA root (STORAGE n MESSAGE m) replaces every limit of the root
 * (RFC 9208 4.1.3: previous limits are discarded), so "()" removes them and
 * a resource left out becomes unlimited. A resource other than STORAGE and
 * MESSAGE is refused with NO [CANNOT] and nothing changes (an unsupported
 * resource cannot be set; changing only the others would not be what the
 * client asked for). accounts.db uses 0 for "no limit", so a limit of 0 is
 * refused the same way rather than silently meaning unlimited.
 *
 * Where limits live and how a change takes effect at once. The limits are
 * in accounts.db. A user's store takes them when a handle is opened (IMAP
 * session, SMTP delivery; they also pass them with each delivery) and keeps
 * them per worker thread, shared by every handle of that user there
 * (store_user_set_quota). The store of a user is only used on that user's
 * worker (DESIGN.md principle 4). So SETQUOTA (imap_quota_req.c):
 *
 *   1. on the session's loop: checks the caller is an administrator and
 *      resolves the root (quick reads, as imap_store() does);
 *   2. on the job pool: writes the limits to accounts.db (a write waits for
 *      fsync and maybe for another process's lock: never on a loop);
 *   3. on the target user's worker (ev_post): opens a handle of the user's
 *      store with the new limits, which sets them for every open session of
 *      that user there, reads the usage, closes the handle;
 *   4. back on the session's loop: "* QUOTA root (...)" and OK.
 *
 * When OK arrives the user's next APPEND, COPY or delivery is checked
 * against the new limits. GETQUOTA of another root takes steps 1, 3, 4.
 * APPEND also re-reads the limits before committing (imap_quota_refresh),
 * so a change made with the CLI counts too. A session that closes while a
 * request is in flight detaches it (imap_quota_cancel); the request frees
 * itself when it comes back.
 */
#include "imap/imap_internal.h"
#include "auth/accounts.h"
#include "auth/auth_thread.h"

#include <inttypes.h>
#include <string.h>

void imap_quota_refresh(struct imap_session *s)
{
	if (s->store == NULL)
		return;  /* imap_store() reads them when it opens the store */
	struct store_quota q;
	const char *err = "?";
	if (auth_account_quota(s->user_id, &q.max_bytes, &q.max_messages, &err) < 0) {
		conn_log(s->c, LOGL_WARN, "quota lookup failed, keeping the known limits: %s", err);
		return;
	}
	store_user_set_quota(s->store, &q);
}

bool imap_session_admin(struct imap_session *s)
{
	const char *err;
	struct accounts *acc = auth_thread_accounts(&err);
	if (acc == NULL)
		return false;
	struct arena *a = arena_new(1024);
	struct account acct;
	bool admin = accounts_user_get_by_id(acc, a, s->user_id, &acct, &err) == ACCOUNTS_OK &&
	             acct.admin;
	arena_free(&a);
	return admin;
}

/* The session's own root "", from its own store. */
static int send_own_quota(struct imap_session *s, const char *root)
{
	struct store_user *u = imap_store(s);
	if (u == NULL)
		return STORE_E_INTERNAL;
	imap_quota_refresh(s);
	uint64_t bytes, msgs;
	struct store_quota q;
	int rc = store_user_quota(u, &bytes, &msgs, &q);
	if (rc == STORE_OK)
		imap_quota_write(s, root, bytes, msgs, &q);
	return rc;
}

/* ---- commands ----------------------------------------------------------- */

enum imap_cmd_result imap_cmd_getquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root;
	size_t len;
	if (cmd->nargs != 1 || !imap_arg_get_astring(&cmd->args[0], &root, &len)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: GETQUOTA root");
		return IMAP_CMD_DONE;
	}
	if (len != 0)
		return imap_quota_other(s, root, len, NULL);
	int rc = send_own_quota(s, "");
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "getquota");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "GETQUOTA completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd)
{
	const char *err;
	if (cmd->nargs != 1) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: GETQUOTAROOT mailbox");
		return IMAP_CMD_DONE;
	}
	const char *name = imap_mbox_arg(s, &cmd->args[0], &err);
	if (name == NULL) {
		imap_tagged(s, cmd->tag, "NO", "CANNOT", err);
		return IMAP_CMD_DONE;
	}
	struct store_user *u = imap_store(s);
	struct store_status st;
	int rc = u == NULL ? STORE_E_INTERNAL : store_mailbox_status(u, name, &st);
	if (rc == STORE_OK) {
		struct buf b;
		buf_init(&b, 8192);
		buf_append_str(&b, "* QUOTAROOT ");
		imap_mbox_write(s, &b, name);
		buf_append_str(&b, " \"\"\r\n");
		conn_write(s->c, buf_ptr(&b), buf_len(&b));
		buf_deinit(&b);
		rc = send_own_quota(s, "");
	}
	if (rc != STORE_OK)
		imap_store_fail(s, cmd->tag, rc, "getquotaroot");
	else
		imap_tagged(s, cmd->tag, "OK", NULL, "GETQUOTAROOT completed");
	return IMAP_CMD_DONE;
}

/* "(STORAGE n MESSAGE m)" into limits. 0, or -1 with *code (NULL = BAD)
 * and *err. */
static int parse_limits(const struct imap_arg *list, size_t n, struct store_quota *q,
                        const char **code, const char **err)
{
	bool have_storage = false, have_message = false;
	memset(q, 0, sizeof(*q));
	*code = NULL;
	*err = "Usage: SETQUOTA root (resource limit ...)";
	if (n % 2 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		const char *name;
		uint64_t limit;
		if (!imap_arg_get_atom(&list[i], &name) || !imap_arg_get_number(&list[i + 1], &limit))
			return -1;
		bool storage = imap_arg_atom_equals(&list[i], "STORAGE");
		if (!storage && !imap_arg_atom_equals(&list[i], "MESSAGE")) {
			*code = "CANNOT";
			*err = "Unsupported resource: only STORAGE and MESSAGE can be limited";
			return -1;
		}
		if (storage ? have_storage : have_message) {
			*err = "A resource is listed twice";
			return -1;
		}
		if (limit == 0 || (storage && limit > INT64_MAX / 1024)) {
			*code = "CANNOT";
			*err = limit == 0 ? "A limit of 0 is not supported; () removes all limits"
			                  : "STORAGE limit too large";
			return -1;
		}
		if (storage) {
			have_storage = true;
			q->max_bytes = limit * 1024;
		} else {
			have_message = true;
			q->max_messages = limit;
		}
	}
	return 0;
}

enum imap_cmd_result imap_cmd_setquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root, *code, *err;
	size_t len, n;
	const struct imap_arg *list;
	struct store_quota q;
	if (cmd->nargs != 2 || !imap_arg_get_astring(&cmd->args[0], &root, &len) ||
	    !imap_arg_get_list(&cmd->args[1], &list, &n)) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: SETQUOTA root (resource limit ...)");
		return IMAP_CMD_DONE;
	}
	if (parse_limits(list, n, &q, &code, &err) < 0) {
		/* Not an administrator: that is the answer, whatever was asked. */
		if (code != NULL && !imap_session_admin(s))
			imap_tagged(s, cmd->tag, "NO", "NOPERM", "Only an administrator may change quotas");
		else
			imap_tagged(s, cmd->tag, code != NULL ? "NO" : "BAD", code, err);
		return IMAP_CMD_DONE;
	}
	return imap_quota_other(s, root, len, &q);
}
