#include "imap/imap_internal.h"

#include <string.h>

#define ANY (IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define NOT_AUTH IMAP_STATE_NOT_AUTH
#define AUTHED (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)

/* Every command the server knows, and the states it is valid in (RFC 9051
 * section 6). A command missing here is answered "BAD Unknown command". */
static const struct imap_command_def commands[] = {
	{ "AUTHENTICATE", NOT_AUTH, false, imap_cmd_authenticate },
	{ "CAPABILITY", ANY, false, imap_cmd_capability },
	{ "ENABLE", AUTHED, false, imap_cmd_enable },
	{ "ID", ANY, false, imap_cmd_id },
	{ "LOGIN", NOT_AUTH, false, imap_cmd_login },
	{ "LOGOUT", ANY, false, imap_cmd_logout },
	{ "NOOP", ANY, false, imap_cmd_noop },
	{ "STARTTLS", NOT_AUTH, false, imap_cmd_starttls },
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}
