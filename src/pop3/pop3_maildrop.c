#include "pop3/pop3_internal.h"

/* The maildrop over the store comes with issue 5; until the store is wired
 * in, a login succeeds but the maildrop cannot be opened, and the client is
 * told so plainly. */

int pop3_maildrop_open(struct pop3_session *s, int64_t user_id, const char *address)
{
	pop3_reply(s, "-ERR [SYS/TEMP] Logged in, but the mail store is not available in this build");
	conn_close(s->c);
	return -1;
}

void pop3_maildrop_close(struct pop3_session *s)
{
}

void pop3_transaction_command(struct pop3_session *s, const char *cmd, char *args)
{
	pop3_reply(s, "-ERR Not available");
}

void pop3_transaction_resume(struct pop3_session *s)
{
}
