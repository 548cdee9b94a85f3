/* Shared by the IMAP session and its cmd_*.c files; not for other layers. */
#ifndef MK_IMAP_INTERNAL_H
#define MK_IMAP_INTERNAL_H

#include "auth/auth_login.h"
#include "auth/sasl.h"
#include "imap/imap_parser.h"
#include "lib/arena.h"
#include "lib/conn.h"
#include "store/store.h"

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
	char *idle_tag;              /* IDLE's own copy: its arena is released */
	unsigned bad_count;
	bool skipping;               /* the parser discards a bad command's rest */
	uint64_t skipped;            /* bytes discarded so far for it */

	/* AUTHENTICATE in progress */
	bool sasl_active;
	struct sasl *sasl;           /* during AUTHENTICATE only */
	struct auth_login_req *login;

	int64_t user_id;
	char user[256];
	struct store_user *store;    /* opened on first use: imap_store() */
	struct imap_append *append;  /* APPEND streaming in (cmd_append.c) */
	struct imap_quota_req *quota_req; /* GETQUOTA/SETQUOTA crossing
	                             * threads, in flight (imap_quota_req.c) */

	/* The selected mailbox (imap_mailbox.c), NULL when not selected. */
	struct imap_selected *sel;
	bool in_command;             /* a command runs: tagged replies flush */
	bool expunge_ok;             /* ...and it may send EXPUNGE (7.5.1) */
	bool cmd_uid;                /* the running command is a UID command */
	bool idling;                 /* in IDLE: updates go out at once */
	struct ev_defer notify_defer;/* flush for IDLE, after the store call */
	struct ev_timer poll_timer;  /* store_user_poll while idling */
	/* A suspended command waiting for its output to drain (FETCH): the
	 * conn's drained callback calls on_drained(s). cmd_ctx is its state. */
	void (*on_drained)(struct imap_session *s);
	void *cmd_ctx;
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

/*
 * ---- The selected mailbox (imap_mailbox.c) ----------------------------
 *
 * s->sel is NULL unless a mailbox is selected (state SELECTED). It holds
 * the store handle and the session's own message sequence number map:
 * what THIS client has been told, which lags the store until updates are
 * flushed. Sequence number i+1 is uids[i]. Never index the store's
 * message array by sequence number; always go through the map:
 *
 *   uint32_t uid = imap_sel_uid(s, seq);     0 if seq is out of range
 *   uint32_t seq = imap_sel_seq(s, uid);     0 if the client does not know
 *                                            uid (new, or already expunged)
 *   imap_sel_resolve_set(s, "1:*", uid_mode, s->cmd_arena, &set, &err)
 *       a sequence set (uid_mode false) or UID set (true) as the client
 *       wrote it, "$" included, into a store_uidset in UID terms, ready
 *       for store_fetch_begin/store_flags/store_copy/store_search. -1 with
 *       err (static text) for BAD: syntax, or a sequence number above the
 *       message count. UID sets are clipped to UIDs the client knows.
 *       imap_sel_resolve_search_set(): the same, for SEARCH, where
 *       numbers above the count just match nothing.
 *   imap_sel_write_flags(s, buf, msg)
 *       "(\Seen \Flagged $Label1 \Recent)": system flags, keywords by
 *       name, \Recent (IMAP4rev1 sessions only).
 *   imap_sel_save_result(s, uids, n)   SEARCH RETURN (SAVE): what "$" is.
 *
 * Messages expunged by others stay in the map (ghosts: the store no
 * longer has them, so store_mailbox_find() returns NULL and store calls
 * skip them) until an EXPUNGE/VANISHED can be sent. New messages enter
 * the map when "* n EXISTS" is sent.
 *
 * Untagged updates (EXISTS, RECENT, EXPUNGE/VANISHED, FETCH FLAGS, FLAGS)
 * are recorded by a store watcher and written by imap_sel_flush_updates().
 * imap_tagged() calls it by itself before the tagged reply of a running
 * command, with EXPUNGE allowed unless the command is FETCH, STORE, SEARCH
 * or COPY by sequence number (s->expunge_ok). So a command handler just
 * replies with imap_tagged(); it does nothing special for updates. Flag
 * changes made through this session's own handle are NOT reported by the
 * flush: the command that made them (STORE, FETCH setting \Seen) writes
 * its own FETCH response.
 *
 * Output is bounded: a flush stops when the connection's buffer is full
 * (sel->flush_incomplete) and leaves the rest pending; IDLE goes on from
 * the drained hook, commands whose point is the updates (EXPUNGE, MOVE,
 * NOOP, CHECK) use imap_sel_reply() to wait for the rest before their
 * tagged OK, others send the rest with a later reply.
 */
struct imap_selected {
	struct store_mailbox *mb;
	char *name;                  /* UTF-8, canonical (heap) */
	bool readonly;               /* EXAMINE */
	bool condstore;              /* CONDSTORE in effect (send MODSEQ) */
	uint32_t uidvalidity;
	uint32_t *uids;              /* seq i+1 -> uids[i], ascending */
	size_t n, cap;
	/* Pending updates, recorded by the watcher. */
	uint32_t *pend_exp;          /* expunged UIDs not yet told */
	size_t n_pend_exp, cap_pend_exp;
	uint32_t *pend_flags;        /* UIDs whose flags others changed */
	size_t n_pend_flags, cap_pend_flags;
	bool pend_new;               /* messages were added */
	bool pend_keywords;          /* new keyword names: FLAGS again */
	bool gone;                   /* the mailbox was deleted */
	bool flush_incomplete;       /* the last flush stopped on a full buffer */
	/* SEARCHRES "$" (RFC 5182), UIDs ascending (heap). */
	uint32_t *saved;
	size_t n_saved;
};

/* The user's store, opened (with the account's quota) on first use. NULL
 * if it cannot be opened (logged): reply NO [UNAVAILABLE]. */
struct store_user *imap_store(struct imap_session *s);

/* Select `name` (UTF-8, canonical) read-write or read-only; replaces any
 * selection (sending "* OK [CLOSED]" first when one existed). Returns 0 or
 * a store_err; on error nothing is selected. Fills *st with the status. */
int imap_sel_open(struct imap_session *s, const char *name, bool readonly,
                  struct store_status *st);
/* Deselect (no output). Safe when nothing is selected. */
void imap_sel_close(struct imap_session *s);
/* The connection closed: deselect, stop IDLE's timers, close the store. */
void imap_session_cleanup(struct imap_session *s);

uint32_t imap_sel_uid(const struct imap_session *s, uint32_t seq);
uint32_t imap_sel_seq(const struct imap_session *s, uint32_t uid);
/* Index in the sequence map of the first UID >= uid (sel->n if none). */
size_t imap_sel_lower(const struct imap_selected *sel, uint32_t uid);
int imap_sel_resolve_set(struct imap_session *s, const char *set_atom, bool uid_mode,
                         struct arena *a, struct store_uidset *out, const char **err);
/* The same for a SEARCH criterion: a sequence number above the message
 * count matches nothing instead of being an error (the BAD of RFC 9051's
 * seq-number note is for COPY, FETCH and STORE; a search key only
 * selects, and Dovecot answers it the same way). */
int imap_sel_resolve_search_set(struct imap_session *s, const char *set_atom, bool uid_mode,
                                struct arena *a, struct store_uidset *out, const char **err);
/* A CONDSTORE enabling command (RFC 7162 3.1): the first one while a
 * mailbox is selected also sends "* OK [HIGHESTMODSEQ n]" before its
 * answer, so the client has a starting point for the MODSEQs it sees. */
void imap_sel_enable_condstore(struct imap_session *s);
struct buf;
int imap_sel_write_flags(struct imap_session *s, struct buf *b, const struct store_msg *m);
void imap_sel_save_result(struct imap_session *s, const uint32_t *uids, size_t n);
/* Write the pending untagged updates. allow_expunge: EXPUNGE/VANISHED may
 * be sent now (never during FETCH/STORE/SEARCH by sequence number). */
void imap_sel_flush_updates(struct imap_session *s, bool allow_expunge);
struct imap_fmt_kw;
/* "* seq FETCH ([UID u] [FLAGS (...)] [MODSEQ (m)])", formatted in place
 * (STORE's answers and flag changes announced to other sessions). false:
 * no room in the output buffer (nothing written). */
bool imap_untagged_fetch(struct imap_session *s, const struct imap_fmt_kw *kw, uint32_t seq,
                         const struct store_msg *m, bool uid, bool flags, bool modseq);
/* For commands whose point is the updates (EXPUNGE, MOVE, NOOP, CHECK):
 * flush, and if the output buffer filled up before everything was sent,
 * suspend the command and go on as the client reads; the tagged reply
 * comes last. Return this from the command. */
enum imap_cmd_result imap_sel_reply(struct imap_session *s, const char *tag, const char *code,
                                    const char *text);
/* "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" for the selection. */
void imap_sel_send_flags(struct imap_session *s);
/* Sends FLAGS if another session created a keyword since the client was
 * last told: before any FETCH response that could show it. */
void imap_sel_announce_keywords(struct imap_session *s);

/* Replies. `code` is a response code without brackets, or NULL. */
void imap_tagged(struct imap_session *s, const char *tag, const char *status,
                 const char *code, const char *text);
void imap_untagged(struct imap_session *s, const char *line);
/* The running async command is over (it has replied). */
void imap_command_finish(struct imap_session *s);
/* "* BYE [code] text" and close. */
void imap_bye(struct imap_session *s, const char *code, const char *text, const char *reason);
/* Restart the autologout timer. */
void imap_idle_timer(struct imap_session *s);

/* The CAPABILITY list for the session's current state (no "* CAPABILITY"). */
const char *imap_capabilities(struct imap_session *s);

/*
 * ---- Mailbox names and store errors (imap_mbname.c) -------------------
 * Names travel in modified UTF-7 (IMAP4rev1) or UTF-8 (after ENABLE
 * IMAP4rev2 / UTF8=ACCEPT); the store wants UTF-8.
 */
struct buf;
bool imap_utf8_names(const struct imap_session *s);
/* Wire bytes to UTF-8 (cmd_arena); normalize: also canonical store form
 * (INBOX in caps, trailing '/' dropped). NULL + *err (text for NO). */
const char *imap_mbox_decode(struct imap_session *s, const char *wire, size_t len, bool normalize,
                             const char **err);
/* An astring argument as a canonical UTF-8 name. NULL + *err. */
const char *imap_mbox_arg(struct imap_session *s, const struct imap_arg *arg, const char **err);
/* A UTF-8 name as the client's encoding, always quoted or a literal. */
int imap_mbox_write(struct imap_session *s, struct buf *b, const char *name);
/* The one mapping of a store error to a tagged "NO [CODE] text"; an
 * internal error is logged with an id and answered NO [SERVERBUG]. */
void imap_store_fail(struct imap_session *s, const char *tag, int err, const char *what);

/* STATUS items (cmd_status.c), shared with LIST RETURN (STATUS ...). */
enum imap_status_item {
	IMAP_STATUS_MESSAGES = 1, IMAP_STATUS_UIDNEXT = 2, IMAP_STATUS_UIDVALIDITY = 4,
	IMAP_STATUS_UNSEEN = 8, IMAP_STATUS_RECENT = 16, IMAP_STATUS_DELETED = 32,
	IMAP_STATUS_SIZE = 64, IMAP_STATUS_HIGHESTMODSEQ = 128, IMAP_STATUS_APPENDLIMIT = 256,
};
/* "(MESSAGES UNSEEN ...)" into a mask; -1 on an unknown item. */
int imap_status_parse(struct imap_session *s, const struct imap_arg *list, unsigned *mask);
/* "* STATUS name (...)"; 0 or a store_err (nothing written). */
int imap_status_send(struct imap_session *s, const char *name, unsigned mask);
/* "\\Sent" for STORE_MB_SENT... or NULL (cmd_mailbox.c). */
const char *imap_special_use_name(unsigned bit);

/* A flag list (STORE, APPEND): system flags as bits, keywords by name
 * (cmd_arena); \\Recent is accepted and ignored. -1 + *err for BAD. */
int imap_parse_flags(struct imap_session *s, const struct imap_arg *args, size_t n,
                     uint32_t *flags_r, const char *const **kw_r, size_t *nkw_r, const char **err);

/* Commands. */
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_id;
imap_cmd_fn imap_cmd_starttls, imap_cmd_login, imap_cmd_authenticate, imap_cmd_enable;
imap_cmd_fn imap_cmd_idle, imap_cmd_check;
imap_cmd_fn imap_cmd_select, imap_cmd_examine, imap_cmd_close, imap_cmd_unselect;
imap_cmd_fn imap_cmd_list, imap_cmd_lsub, imap_cmd_namespace, imap_cmd_status;
imap_cmd_fn imap_cmd_create, imap_cmd_delete, imap_cmd_rename;
imap_cmd_fn imap_cmd_subscribe, imap_cmd_unsubscribe;
imap_cmd_fn imap_cmd_store, imap_cmd_copy, imap_cmd_move, imap_cmd_expunge, imap_cmd_append;
imap_cmd_fn imap_cmd_getquota, imap_cmd_getquotaroot, imap_cmd_setquota;
imap_cmd_fn imap_cmd_fetch, imap_cmd_search;   /* cmd_fetch.c, cmd_search.c */

/* QUOTA (cmd_quota.c, imap_quota_req.c). imap_quota_refresh: the
 * session's store takes the account's limits from accounts.db again
 * (before an APPEND commits). imap_quota_cancel: the session ends; a
 * request in flight is detached and frees itself. imap_session_admin: the
 * account may SETQUOTA (QUOTASET). */
void imap_quota_refresh(struct imap_session *s);
void imap_quota_cancel(struct imap_session *s);
bool imap_session_admin(struct imap_session *s);
/* "* QUOTA root (STORAGE used limit MESSAGE used limit)", limited
 * resources only. */
void imap_quota_write(struct imap_session *s, const char *root, uint64_t bytes, uint64_t msgs,
                      const struct store_quota *q);
/* GETQUOTA of another account's root (limits NULL), or SETQUOTA of any
 * root: checks, then crosses threads (imap_quota_req.c). */
enum imap_cmd_result imap_quota_other(struct imap_session *s, const char *root, size_t len,
                                      const struct store_quota *limits);

/* APPEND's literals (cmd_append.c). imap_append_literal: true if the
 * announced literal belongs to an APPEND and was streamed or refused (the
 * caller then does nothing more); _data: a chunk of it; _abort: the
 * command ended otherwise (BAD, connection closed). */
bool imap_append_literal(struct imap_session *s, const struct imap_parse_result *res);
void imap_append_data(struct imap_session *s, const struct imap_parse_result *res);
void imap_append_abort(struct imap_session *s);

/* The line ending IDLE arrived: DONE (ok) or something else (cmd_idle.c). */
void imap_idle_line(struct imap_session *s, bool ok);

/* AUTHENTICATE continuation line (cmd_login.c). */
void imap_auth_line(struct imap_session *s, const char *line, size_t len, bool cancel);
/* Ends an AUTHENTICATE exchange: credentials wiped, its memory freed. */
void imap_auth_end(struct imap_session *s);

#endif
