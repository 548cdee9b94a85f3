/*
 * The maildrop's state, shared by pop3_maildrop.c (login, listings, marks,
 * QUIT) and pop3_retr.c (RETR and TOP); not for other files.
 */
#ifndef MK_POP3_MAILDROP_H
#define MK_POP3_MAILDROP_H

#include "lib/ev.h"
#include "pop3/pop3_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pop3_msg {
	uint32_t uid;
	uint64_t size;
	bool deleted;
	bool seen;        /* \Seen at login, or marked since */
	bool mark_seen;   /* retrieved: \Seen still to be set in the store */
};

struct pop3_maildrop {
	int64_t user_id;
	struct store_user *store;
	struct store_mailbox *inbox;
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	size_t n;
	struct pop3_stream *stream;   /* RETR/TOP in progress */
	/* Messages are read from a store snapshot held from the first RETR
	 * until this timer ends it (store_snapshot_hold). */
	struct ev_timer snapshot_timer;
	struct ev_loop *loop;
	/* The answer to the next RETR, made while the client reads this one:
	 * download clients fetch in order, so the store's work is off the
	 * round trip. Read from the held snapshot, dropped with it. */
	struct {
		size_t num;        /* message number it answers; 0 = none */
		char *buf;
		size_t len, cap;
		struct ev_defer defer;
	} ahead;
};

/* Message "n" of the argument, if it exists and is not marked deleted;
 * else replies -ERR and returns NULL. *num_r: n. */
struct pop3_msg *pop3_msg_arg(struct pop3_session *s, const char *arg, size_t *num_r);

/* RETR n (top false) and TOP n lines (top true). */
void pop3_cmd_retr(struct pop3_session *s, char *args, bool top);
/* Ends what RETR holds: the stream, the snapshot, the answer made ahead. */
void pop3_retr_close(struct pop3_session *s);

#endif
