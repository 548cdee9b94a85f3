#include "imap/imap_internal.h"

#include <string.h>

#define ANY (IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define NOT_AUTH IMAP_STATE_NOT_AUTH
#define AUTHED (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define SELECTED IMAP_STATE_SELECTED

/* Every command the server knows, and the states it is valid in (RFC 9051
 * section 6). A command missing here is answered "BAD Unknown command". */
static const struct imap_command_def commands[] = {
	{ "AUTHENTICATE", NOT_AUTH, false, imap_cmd_authenticate },
	{ "CAPABILITY", ANY, false, imap_cmd_capability },
	{ "CLOSE", SELECTED, false, imap_cmd_close },
	{ "ENABLE", AUTHED, false, imap_cmd_enable },
	{ "EXAMINE", AUTHED, false, imap_cmd_examine },
	{ "ID", ANY, false, imap_cmd_id },
	{ "IDLE", AUTHED, false, imap_cmd_idle },
	{ "LOGIN", NOT_AUTH, false, imap_cmd_login },
	{ "LOGOUT", ANY, false, imap_cmd_logout },
	{ "NOOP", ANY, false, imap_cmd_noop },
	{ "SELECT", AUTHED, false, imap_cmd_select },
	{ "STARTTLS", NOT_AUTH, false, imap_cmd_starttls },
	{ "UNSELECT", SELECTED, false, imap_cmd_unselect },
	{ "CHECK", SELECTED, false, imap_cmd_check },
	{ "CREATE", AUTHED, false, imap_cmd_create },
	{ "DELETE", AUTHED, false, imap_cmd_delete },
	{ "NAMESPACE", AUTHED, false, imap_cmd_namespace },
	{ "RENAME", AUTHED, false, imap_cmd_rename },
	{ "STATUS", AUTHED, false, imap_cmd_status },
	{ "SUBSCRIBE", AUTHED, false, imap_cmd_subscribe },
	{ "UNSUBSCRIBE", AUTHED, false, imap_cmd_unsubscribe },
	{ "FETCH", SELECTED, true, imap_cmd_fetch },
	{ "SEARCH", SELECTED, true, imap_cmd_search },
	{ "LIST", AUTHED, false, imap_cmd_list },
	{ "LSUB", AUTHED, false, imap_cmd_lsub },
	{ "COPY", SELECTED, true, imap_cmd_copy },
	{ "MOVE", SELECTED, true, imap_cmd_move },
	{ "EXPUNGE", SELECTED, true, imap_cmd_expunge },
	{ "STORE", SELECTED, true, imap_cmd_store },
	{ "APPEND", AUTHED, false, imap_cmd_append },
	{ "GETQUOTA", AUTHED, false, imap_cmd_getquota },
	{ "GETQUOTAROOT", AUTHED, false, imap_cmd_getquotaroot },
	{ "SETQUOTA", AUTHED, false, imap_cmd_setquota },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}
