/*
 * APPEND (RFC 9051 6.3.12), MULTIAPPEND (RFC 3502), APPENDUID (UIDPLUS,
 * RFC 4315), APPENDLIMIT (RFC 7889), [OVERQUOTA] (RFC 9208).
 *
 *   APPEND mailbox [(flags)] [date-time] literal  [(flags)] [date] literal ...
 *   (a literal may also be "UTF8 (~{n}...)", RFC 6855, after UTF8=ACCEPT)
 *
 * Message literals are never held in memory: the session hands each
 * announced literal of an APPEND to imap_append_literal() before any byte
 * of it arrives, and its bytes to imap_append_data() as they come; they
 * go straight into a store_append (a temp file) each. Nothing is committed
 * while literals stream in: when the whole command has been parsed,
 * imap_cmd_append() commits every message in one store transaction, in one
 * go on this thread, and answers OK [APPENDUID ...] (MULTIAPPEND is atomic).
 * A transaction must never stay open across event-loop turns: the sessions
 * of one user share the store's connection on this thread, and another
 * session's change would be nested into it, acknowledged but not durable.
 *
 * A failure before a literal's bytes (bad mailbox, flags, date, size over
 * APPENDLIMIT) answers NO at once and refuses the literal, so a client
 * using synchronizing literals sends nothing more; a failure while bytes
 * stream (the size limit) is answered when the command ends.
 *
 * Binary literals (~{n}, RFC 3516). The store keeps CRLF text, so a part
 * with NUL, bare CR/LF or CTE binary would come back changed. Such a
 * literal streams into a raw store_spool instead; when it is complete the
 * spool is mapped and mime_reencode (src/mime/reencode.h) writes it into
 * the store_append with those parts re-encoded as base64 (RFC 3516 4.4
 * allows changing the CTE if nothing is lost), everything else byte-exact:
 * a ~{n} message that is already CRLF text is stored unchanged. FETCH
 * BINARY[n] gives the original bytes back. A NUL no re-encoding can keep
 * (in a header, a preamble, an already encoded part) is answered with
 * NO [UNKNOWN-CTE] and nothing is stored. The spool costs a second write
 * of the message to disk, never memory: the re-encoder reads the mapping
 * and writes through the store's 64 KiB buffer.
 */
#include "imap/imap_internal.h"
#include "imap/imap_seqset.h"
#include "lib/date.h"
#include "lib/runtime.h"
#include "mime/reencode.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Waiting messages are finished temp files (no descriptor, no buffer). */
#define APPEND_MAX_MESSAGES 1000

struct imap_append {
	const char *mailbox;          /* canonical UTF-8 (cmd_arena) */
	struct store_append *ap;      /* the message streaming in */
	struct store_spool *spool;    /* ...or, for a ~{n} literal, its raw bytes */
	struct store_append_opts opts;
	size_t next_arg;              /* first top-level arg after the last literal */
	size_t pending_next;          /* next_arg once the current literal ends */
	int failed;                   /* a store error, answered at the end */
	const char *binary_refused;   /* a ~{n} message held a NUL that cannot be
	                               * kept: the NO [UNKNOWN-CTE] text */
	/* Complete messages waiting for the commit, with their options
	 * (keywords live in the command arena until the command ends). */
	struct store_append *done[APPEND_MAX_MESSAGES];
	struct store_append_opts done_opts[APPEND_MAX_MESSAGES];
	uint32_t uidvalidity;
	uint32_t uids[APPEND_MAX_MESSAGES];
	size_t n;
};

void imap_append_abort(struct imap_session *s)
{
	struct imap_append *a = s->append;
	if (a == NULL)
		return;
	s->append = NULL;
	if (a->ap != NULL)
		store_append_abort(a->ap);
	store_spool_free(&a->spool);
	for (size_t i = 0; i < a->n; i++)
		if (a->done[i] != NULL)
			store_append_abort(a->done[i]);
	free(a);
}

/* Reply NO now, forget the command's appends, refuse the literal. */
static void refuse(struct imap_session *s, const char *tag, int err, const char *code, const char *text)
{
	imap_append_abort(s);
	if (err == STORE_E_NOTFOUND)
		imap_tagged(s, tag, "NO", "TRYCREATE", "Mailbox does not exist");
	else if (err == STORE_E_LIMIT)
		imap_tagged(s, tag, "NO", "TOOBIG", "Message larger than APPENDLIMIT");
	else if (err != STORE_OK)
		imap_store_fail(s, tag, err, "append");
	else
		imap_tagged(s, tag, code ? "NO" : "BAD", code, text);
	if (imap_parser_literal_refuse(s->parser) < 0)
		imap_bye(s, "TOOBIG", "Literal refused", "append-refused");
}

/* The optional "(flags)" and "date-time" before this literal. */
static int message_opts(struct imap_session *s, const struct imap_command *cmd, size_t from,
                        size_t end, struct store_append_opts *o, const char **err)
{
	const struct imap_arg *a = cmd->args;
	size_t i = from;
	memset(o, 0, sizeof(*o));
	*err = "Usage: APPEND mailbox [(flags)] [date-time] literal";
	if (i < end && a[i].type == IMAP_ARG_LIST) {
		const struct imap_arg *l;
		size_t n;
		imap_arg_get_list(&a[i], &l, &n);
		if (imap_parse_flags(s, l, n, &o->flags, &o->keywords, &o->n_keywords, err) < 0)
			return -1;
		i++;
	}
	const char *d;
	size_t dl;
	if (i < end && imap_arg_get_string(&a[i], &d, &dl)) {
		time_t t;
		int tz;
		if (date_parse_imap_datetime(d, dl, &t, &tz) < 0) {
			*err = "Invalid date-time (\"21-Nov-2026 10:00:00 +0000\")";
			return -1;
		}
		o->internal_date = (int64_t)t;
		o->internal_tz = tz;
		i++;
	}
	return i == end ? 0 : -1;
}

bool imap_append_literal(struct imap_session *s, const struct imap_parse_result *res)
{
	const struct imap_command *cmd = res->cmd;
	const char *err;
	if (cmd == NULL || cmd->name == NULL || strcmp(cmd->name, "APPEND") != 0 || cmd->uid ||
	    !(s->state & (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)) || cmd->nargs < 1)
		return false;
	struct imap_append *a = s->append;
	if (a == NULL) {
		const char *name = imap_mbox_arg(s, &cmd->args[0], &err);
		if (name == NULL) {
			refuse(s, cmd->tag, STORE_OK, "CANNOT", err);
			return true;
		}
		struct store_user *u = imap_store(s);
		if (u == NULL) {
			refuse(s, cmd->tag, STORE_OK, "UNAVAILABLE", "Mail store unavailable, try again later");
			return true;
		}
		/* A missing mailbox is refused before any byte is sent. */
		int src = store_mailbox_check(u, name);
		if (src != STORE_OK) {
			refuse(s, cmd->tag, src, NULL, NULL);
			return true;
		}
		a = s->append = xcalloc(1, sizeof(*a));
		a->mailbox = name;
		a->next_arg = 1;
	}
	if (a->failed != STORE_OK) {
		refuse(s, cmd->tag, a->failed, NULL, NULL);
		return true;
	}
	if (a->binary_refused != NULL) {
		refuse(s, cmd->tag, STORE_OK, "UNKNOWN-CTE", a->binary_refused);
		return true;
	}
	/* RFC 6855: "UTF8 (~{n}...)" carries a message with UTF-8 headers.
	 * The list being parsed is already the last top-level argument. */
	size_t end = cmd->nargs, after = cmd->nargs + 1;
	if (end >= a->next_arg + 2 && cmd->args[end - 1].type == IMAP_ARG_LIST &&
	    imap_arg_atom_equals(&cmd->args[end - 2], "UTF8")) {
		if (!(s->enabled & IMAP_ENABLED_UTF8) || !res->literal_binary) {
			refuse(s, cmd->tag, STORE_OK, NULL, "APPEND UTF8 needs ENABLE UTF8=ACCEPT and a ~{n} literal");
			return true;
		}
		end -= 2;
		after = cmd->nargs;
	}
	if (message_opts(s, cmd, a->next_arg, end, &a->opts, &err) < 0) {
		refuse(s, cmd->tag, STORE_OK, NULL, err);
		return true;
	}
	uint64_t max = runtime_config->max_message_size;
	if (max > 0 && res->literal_size > max) {
		refuse(s, cmd->tag, STORE_OK, "TOOBIG", "Message larger than APPENDLIMIT");
		return true;
	}
	if (res->literal_size == 0) {
		refuse(s, cmd->tag, STORE_OK, "CANNOT", "Empty message");
		return true;
	}
	if (a->n == APPEND_MAX_MESSAGES) {
		refuse(s, cmd->tag, STORE_OK, "LIMIT", "Too many messages in one APPEND");
		return true;
	}
	int rc = res->literal_binary ? store_spool_begin(s->store, &a->spool)
	                             : store_append_begin(s->store, a->mailbox, max, &a->ap);
	if (rc != STORE_OK) {
		a->ap = NULL;
		a->spool = NULL;
		refuse(s, cmd->tag, rc, NULL, NULL);
		return true;
	}
	a->pending_next = after;
	imap_parser_literal_stream(s->parser);
	if (res->literal_sync)
		conn_puts(s->c, "+ Ready for literal data\r\n");
	return true;
}

static int write_to_append(void *ctx, const char *data, size_t len)
{
	return store_append_write(ctx, data, len);
}

/* The ~{n} literal is complete in the spool: into a->ap, re-encoded where
 * the store could not keep it as it is; or a->binary_refused. */
static int binary_to_append(struct imap_session *s, struct imap_append *a)
{
	const char *data;
	size_t len;
	int rc = store_spool_map(a->spool, &data, &len);
	if (rc != STORE_OK)
		return rc;
	struct arena *ar = arena_new(64 * 1024);
	const struct mime_message *m = mime_parse(ar, data, len);
	struct mime_reencode_plan plan;
	if (mime_reencode_check(m, &plan) == MIME_REENCODE_REFUSED) {
		a->binary_refused = plan.nul_in_header
			? "NUL in a header section cannot be stored: no transfer encoding applies to headers"
			: "NUL outside a body part that can be re-encoded (a preamble, an epilogue or an "
			  "already encoded part) cannot be stored";
		arena_free(&ar);
		return STORE_OK;
	}
	/* The literal was checked against APPENDLIMIT; base64 makes the stored
	 * form at most about 37% larger, which the limit does not count. */
	rc = store_append_begin(s->store, a->mailbox, 0, &a->ap);
	if (rc == STORE_OK && plan.status == MIME_REENCODE_UNCHANGED)
		rc = store_append_write(a->ap, data, len);
	else if (rc == STORE_OK)
		rc = mime_reencode_write(m, write_to_append, a->ap);
	if (rc == STORE_OK && plan.parts > 0)
		conn_log(s->c, LOGL_DEBUG, "append: binary literal, %u part(s) stored as base64",
		         plan.parts);
	if (rc != STORE_OK && a->ap != NULL) {
		store_append_abort(a->ap);
		a->ap = NULL;
	}
	arena_free(&ar);
	return rc;
}

void imap_append_data(struct imap_session *s, const struct imap_parse_result *res)
{
	struct imap_append *a = s->append;
	if (a == NULL)
		return;
	if (a->failed == STORE_OK && res->len > 0 && (a->ap != NULL || a->spool != NULL)) {
		int rc = a->spool != NULL ? store_spool_write(a->spool, res->data, res->len)
		                          : store_append_write(a->ap, res->data, res->len);
		if (rc != STORE_OK) {
			a->failed = rc;
			store_append_abort(a->ap);
			a->ap = NULL;
			store_spool_free(&a->spool);
		}
	}
	if (res->literal_left > 0)
		return;
	if (a->spool != NULL) {
		int rc = binary_to_append(s, a);
		store_spool_free(&a->spool);
		if (rc != STORE_OK)
			a->failed = rc;
	}
	if (a->ap != NULL && store_append_finish(a->ap) != STORE_OK) {
		if (a->failed == STORE_OK)
			a->failed = STORE_E_INTERNAL;
		store_append_abort(a->ap);
		a->ap = NULL;
	}
	if (a->ap != NULL) {
		/* Complete: committed with the others when the command ends. */
		a->done[a->n] = a->ap;
		a->done_opts[a->n] = a->opts;
		a->n++;
		a->ap = NULL;
	}
	/* The next message's options start after this literal's argument. */
	a->next_arg = a->pending_next;
}

/* Every message of the command in one transaction, now, on this thread. */
static int commit_all(struct imap_session *s, struct imap_append *a)
{
	/* Limits as accounts.db has them now: an administrator's SETQUOTA or
	 * `mailkeep quota set` counts from this APPEND on. */
	imap_quota_refresh(s);
	int rc = store_txn_begin(s->store);
	for (size_t i = 0; i < a->n; i++) {
		struct store_append *ap = a->done[i];
		a->done[i] = NULL;
		if (rc == STORE_OK)
			rc = store_append_commit(ap, &a->done_opts[i], &a->uidvalidity, &a->uids[i]);
		else
			store_append_abort(ap);
	}
	if (rc == STORE_OK)
		return store_txn_commit(s->store);
	store_txn_rollback(s->store);
	return rc;
}

enum imap_cmd_result imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_append *a = s->append;
	if (a != NULL && a->binary_refused != NULL) {
		const char *text = a->binary_refused;
		imap_append_abort(s);
		imap_tagged(s, cmd->tag, "NO", "UNKNOWN-CTE", text);
		return IMAP_CMD_DONE;
	}
	if (a == NULL || (a->n == 0 && a->failed == STORE_OK)) {
		/* No literal was streamed: the arguments were wrong. */
		imap_append_abort(s);
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: APPEND mailbox [(flags)] [date-time] literal");
		return IMAP_CMD_DONE;
	}
	if (a->next_arg != cmd->nargs) {
		imap_append_abort(s);
		imap_tagged(s, cmd->tag, "BAD", NULL, "Unexpected arguments after the message");
		return IMAP_CMD_DONE;
	}
	int rc = a->failed;
	if (rc == STORE_OK)
		rc = commit_all(s, a);
	if (rc != STORE_OK) {
		imap_append_abort(s);
		if (rc == STORE_E_LIMIT)
			imap_tagged(s, cmd->tag, "NO", "TOOBIG", "Message larger than APPENDLIMIT");
		else if (rc == STORE_E_NOTFOUND)
			imap_tagged(s, cmd->tag, "NO", "TRYCREATE", "Mailbox does not exist");
		else
			imap_store_fail(s, cmd->tag, rc, "append");
		return IMAP_CMD_DONE;
	}
	struct buf b;
	buf_init(&b, 16 * APPEND_MAX_MESSAGES + 64);
	buf_printf(&b, "APPENDUID %" PRIu32 " ", a->uidvalidity);
	imap_seqset_write_list(&b, a->uids, a->n);
	imap_append_abort(s);
	imap_tagged(s, cmd->tag, "OK", buf_ptr(&b), "APPEND completed");
	buf_deinit(&b);
	return IMAP_CMD_DONE;
}
