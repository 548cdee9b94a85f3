/* Shared by the IMAP session and its cmd_*.c files; not for other layers. */
#ifndef MK_IMAP_INTERNAL_H
#define MK_IMAP_INTERNAL_H

#include "auth/auth_login.h"
#include "auth/sasl.h"
#include "imap/imap_parser.h"
#include "lib/arena.h"
#include "lib/conn.h"

#include <stdbool.h>
#include <stdint.h>

enum imap_state {
	IMAP_STATE_NOT_AUTH = 1,
	IMAP_STATE_AUTH = 2,
	IMAP_STATE_SELECTED = 4,
	IMAP_STATE_LOGOUT = 8,
};

/* Extensions the client turned on with ENABLE. */
enum imap_enabled {
	IMAP_ENABLED_REV2 = 1,
	IMAP_ENABLED_UTF8 = 2,
	IMAP_ENABLED_CONDSTORE = 4,
	IMAP_ENABLED_QRESYNC = 8,
};

struct imap_session {
	struct conn *c;
	enum imap_state state;
	unsigned enabled;
	struct imap_parser *parser;
	struct arena *cmd_arena;     /* the running command's memory */
	bool running;                /* a command is suspended (async) */
	const char *tag;             /* of the running command (cmd_arena) */
	unsigned bad_count;
	bool skipping;               /* the parser discards a bad command's rest */
	uint64_t skipped;            /* bytes discarded so far for it */

	/* AUTHENTICATE in progress */
	bool sasl_active;
	struct sasl sasl;
	struct auth_login_req *login;

	int64_t user_id;
	char user[256];
};

enum imap_cmd_result {
	IMAP_CMD_DONE,   /* replied; parse the next command */
	IMAP_CMD_ASYNC,  /* will call imap_command_finish() later */
};

typedef enum imap_cmd_result imap_cmd_fn(struct imap_session *s, const struct imap_command *cmd);

struct imap_command_def {
	const char *name;
	unsigned states;        /* enum imap_state bits where it is allowed */
	bool uid_form;          /* "UID <name>" exists */
	imap_cmd_fn *run;
};

const struct imap_command_def *imap_command_find(const char *name);

/* Replies. `code` is a response code without brackets, or NULL. */
void imap_tagged(struct imap_session *s, const char *tag, const char *status,
                 const char *code, const char *text);
void imap_untagged(struct imap_session *s, const char *line);
/* The running async command is over (it has replied). */
void imap_command_finish(struct imap_session *s);

/* The CAPABILITY list for the session's current state (no "* CAPABILITY"). */
const char *imap_capabilities(struct imap_session *s);

/* Commands. */
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_id;
imap_cmd_fn imap_cmd_starttls, imap_cmd_login, imap_cmd_authenticate, imap_cmd_enable;

/* AUTHENTICATE continuation line (cmd_login.c). */
void imap_auth_line(struct imap_session *s, const char *line, size_t len, bool cancel);

#endif
