/* Shared by the pop3_*.c files; not for other layers. */
#ifndef MK_POP3_INTERNAL_H
#define MK_POP3_INTERNAL_H

#include "auth/auth_login.h"
#include "auth/sasl.h"
#include "lib/arena.h"
#include "lib/conn.h"

#include <stdbool.h>
#include <stdint.h>

enum pop3_state { POP3_AUTHORIZATION, POP3_TRANSACTION };

struct pop3_maildrop;

struct pop3_session {
	struct conn *c;
	enum pop3_state state;
	struct arena *cmd_arena;
	unsigned bad;
	bool have_user;
	char user[256];
	struct auth_login_req *login;
	struct sasl sasl;
	bool sasl_active;
	bool busy;              /* a long reply (RETR) is being streamed */
	struct pop3_maildrop *drop;
};

void pop3_reply(struct pop3_session *s, const char *line);
void pop3_send_capa(struct pop3_session *s);

/* SASL exchange of AUTH (pop3_sasl.c). */
void pop3_sasl_begin(struct pop3_session *s, const char *mech, const char *initial);
void pop3_sasl_line(struct pop3_session *s, const char *line);
/* Verify credentials; the reply comes from pop3_login_done. */
void pop3_login_begin(struct pop3_session *s, const char *user, const char *pass, size_t plen);

/* The maildrop: INBOX as it was at login (pop3_maildrop.c). open replies
 * "+OK" itself, or an error and closes (-1). */
int pop3_maildrop_open(struct pop3_session *s, int64_t user_id, const char *address);
void pop3_maildrop_close(struct pop3_session *s);
void pop3_transaction_command(struct pop3_session *s, const char *cmd, char *args);
void pop3_transaction_resume(struct pop3_session *s);

struct store_user;
/* The name of the user's \Trash mailbox ("Trash" if none is marked). */
const char *pop3_trash_name(struct store_user *user, struct arena *a);

#endif
