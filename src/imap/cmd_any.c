/* Commands valid in every state: CAPABILITY, NOOP, LOGOUT, ID (RFC 2971). */
#include "imap/imap_internal.h"
#include "lib/log.h"
#include "lib/runtime.h"

#include <stdio.h>
#include <string.h>

/* Capabilities of FETCH and SEARCH (imap_fetch*.c, cmd_search.c): their
 * owner lists here what works, e.g. "ESEARCH SEARCHRES BINARY". */
#define IMAP_CAPS_FETCH_SEARCH "ESEARCH SEARCHRES BINARY PREVIEW"

const char *imap_capabilities(struct imap_session *s)
{
	static _Thread_local char caps[1024];
	const struct conn *c = s->c;
	size_t n = (size_t)snprintf(caps, sizeof(caps), "IMAP4rev1 IMAP4rev2 SASL-IR ID ENABLE LITERAL+");
	if (s->state == IMAP_STATE_NOT_AUTH) {
		if (c->tls == CONN_TLS_NONE)
			n += (size_t)snprintf(caps + n, sizeof(caps) - n, " STARTTLS");
		if (runtime_plaintext_auth_ok(c))
			snprintf(caps + n, sizeof(caps) - n, " AUTH=PLAIN AUTH=LOGIN");
		else
			snprintf(caps + n, sizeof(caps) - n, " LOGINDISABLED");
		return caps;
	}
	n += (size_t)snprintf(caps + n, sizeof(caps) - n,
	                      " IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN LIST-EXTENDED"
	                      " LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE QRESYNC"
	                      " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE MULTIAPPEND"
	                      " APPENDLIMIT=%llu UTF8=ACCEPT STATUS=SIZE",
	                      (unsigned long long)runtime_config->max_message_size);
	if (IMAP_CAPS_FETCH_SEARCH[0] != '\0' && n < sizeof(caps))
		n += (size_t)snprintf(caps + n, sizeof(caps) - n, " %s", IMAP_CAPS_FETCH_SEARCH);
	/* RFC 9208: SETQUOTA works for administrators only (cmd_quota.c). */
	if (n < sizeof(caps) && imap_session_admin(s))
		snprintf(caps + n, sizeof(caps) - n, " QUOTASET");
	return caps;
}

enum imap_cmd_result imap_cmd_capability(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "CAPABILITY takes no arguments");
		return IMAP_CMD_DONE;
	}
	conn_printf(s->c, "* CAPABILITY %s\r\n", imap_capabilities(s));
	imap_tagged(s, cmd->tag, "OK", NULL, "CAPABILITY completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_noop(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "NOOP takes no arguments");
		return IMAP_CMD_DONE;
	}
	/* Picks up other processes' changes; the reply flushes updates. */
	if (s->store != NULL)
		store_user_poll(s->store);
	if (s->sel != NULL)
		return imap_sel_reply(s, cmd->tag, NULL, "NOOP completed");
	imap_tagged(s, cmd->tag, "OK", NULL, "NOOP completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_logout(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "LOGOUT takes no arguments");
		return IMAP_CMD_DONE;
	}
	/* Nothing between BYE and the tagged OK (RFC 9051 6.1.3): pending
	 * updates of the selected mailbox are of no use any more. */
	imap_sel_close(s);
	imap_untagged(s, "BYE Logging out");
	imap_tagged(s, cmd->tag, "OK", NULL, "LOGOUT completed");
	s->state = IMAP_STATE_LOGOUT;
	conn_log(s->c, LOGL_INFO, "disconnected reason=logout");
	conn_close(s->c);
	return IMAP_CMD_DONE;
}

/* ID ( "key" "value" ... ) | ID NIL: log what the client says it is (a
 * field that helps operators), answer with our name and version. */
enum imap_cmd_result imap_cmd_id(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_arg *list;
	size_t n;
	if (cmd->nargs != 1 ||
	    (cmd->args[0].type != IMAP_ARG_NIL && !imap_arg_get_list(&cmd->args[0], &list, &n))) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: ID (\"name\" \"value\" ...) or ID NIL");
		return IMAP_CMD_DONE;
	}
	if (cmd->args[0].type == IMAP_ARG_LIST) {
		if (n % 2 != 0 || n > 60) {
			imap_tagged(s, cmd->tag, "BAD", NULL, "ID takes up to 30 field-value pairs");
			return IMAP_CMD_DONE;
		}
		char logline[512] = "", esc[128];
		size_t off = 0;
		for (size_t i = 0; i + 1 < n; i += 2) {
			const char *k, *v;
			size_t kl, vl;
			if (!imap_arg_get_string(&list[i], &k, &kl)) {
				imap_tagged(s, cmd->tag, "BAD", NULL, "ID field names are strings");
				return IMAP_CMD_DONE;
			}
			if (!imap_arg_get_nstring(&list[i + 1], &v, &vl))
				v = "NIL", vl = 3;
			if (off < sizeof(logline) - 1) {
				log_escape(esc, sizeof(esc), k, kl);
				off += (size_t)snprintf(logline + off, sizeof(logline) - off, " %s=", esc);
			}
			if (off < sizeof(logline) - 1) {
				log_escape(esc, sizeof(esc), v != NULL ? v : "NIL", v != NULL ? vl : 3);
				off += (size_t)snprintf(logline + off, sizeof(logline) - off, "\"%s\"", esc);
			}
		}
		conn_log(s->c, LOGL_INFO, "client id%s", logline);
	}
	imap_untagged(s, "ID (\"name\" \"mailkeep\" \"vendor\" \"mailkeep\" \"version\" \"0.1.0\")");
	imap_tagged(s, cmd->tag, "OK", NULL, "ID completed");
	return IMAP_CMD_DONE;
}
