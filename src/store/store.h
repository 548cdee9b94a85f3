/*
 * store: the one API through which IMAP, POP3, SMTP/LMTP delivery and the
 * tools read and change a user's mail. Protocol code never touches SQL or
 * files; the store never formats protocol text (it only caches the MIME
 * module's ENVELOPE/BODYSTRUCTURE strings verbatim).
 *
 * Embedded backend layout (never derived from mailbox names):
 *   <data_dir>/users/<id>/store.db            SQLite, WAL, synchronous=FULL;
 *                                             also the bytes of messages of
 *                                             at most 64 KiB (table blob_data)
 *   <data_dir>/users/<id>/blobs/ab/<sha256>   bytes of larger messages,
 *                                             immutable
 *   <data_dir>/users/<id>/tmp/                large appends in progress
 *
 * Threads. A user's store is used by one thread at a time (DESIGN.md
 * principle 4). Handles opened on one thread stay on it. Every session
 * opens its own `struct store_user`; handles of the same user on the same
 * thread share one database connection and one in-memory view per mailbox
 * (uid/flags/modseq arrays kept current by the store's own changes), so a
 * second SELECT of a big mailbox costs nothing. Changes made by another
 * thread or process (a CLI tool) are picked up by store_user_poll() and at
 * the start of every call that reads a view.
 *
 * Errors. Functions returning int return STORE_OK (0) or a negative
 * enum store_err; store_error(user) then gives a one-line description
 * (valid until the next call on that handle). Nothing is ever half-done:
 * a failed call leaves the store as it was.
 *
 * Memory. Results are allocated in the caller's arena. Pointers into a
 * view (store_mailbox_msgs) stay valid until the next store call on any
 * handle of that user.
 *
 * Durability. When a call that changes messages returns STORE_OK the
 * change is durable: a large message's blob file written, fsync'd,
 * renamed and its directory fsync'd, then the transaction (holding small
 * messages' bytes) committed with synchronous=FULL.
 *
 * Search index. New messages are added to the trigram index (a database
 * of its own, index.db) after the transaction that stored them, not
 * inside it (store_index.c): on a server thread by the background indexer
 * thread, at the latest before a search that reads the index, and
 * elsewhere (tools) by a writer whose commit leaves more than
 * STORE_INDEX_BACKLOG messages waiting. Searches always see every message.
 *
 * Quota. Bytes and message count per account, summed over message rows:
 * a copied message counts again (that is what the user sees), although
 * its bytes are stored once. Checked inside the transaction of the
 * append/copy/delivery that would exceed it.
 */
#ifndef MK_STORE_H
#define MK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct store_user;
struct store_mailbox;

enum store_err {
	STORE_OK = 0,
	STORE_E_INTERNAL = -1,   /* I/O or database error (details in store_error) */
	STORE_E_NOTFOUND = -2,   /* no such mailbox / message */
	STORE_E_EXISTS = -3,     /* mailbox name already exists */
	STORE_E_BADNAME = -4,    /* invalid mailbox name or keyword */
	STORE_E_NOTALLOWED = -5, /* e.g. delete INBOX, rename onto a child */
	STORE_E_HASCHILDREN = -6,/* delete of a \Noselect mailbox with children */
	STORE_E_OVERQUOTA = -7,  /* bytes or messages limit */
	STORE_E_LIMIT = -8,      /* too many keywords in a mailbox, too big */
	STORE_E_NOSELECT = -9,   /* mailbox exists but is \Noselect */
	STORE_E_EXPUNGED = -10,  /* message was expunged meanwhile */
};

/* "OVERQUOTA", "NONEXISTENT"... a short stable name for logs and tests. */
const char *store_err_name(int err);

/* ---- user -------------------------------------------------------------- */

struct store_quota {
	uint64_t max_bytes;      /* 0 = unlimited */
	uint64_t max_messages;   /* 0 = unlimited */
};

/* Opens (creating on first use: directories, schema, and the mailboxes
 * INBOX, Sent, Drafts, Trash, Junk, Archive with their special-use
 * attributes) the store of `user_id` under data_dir. user_id is a path
 * component: 1-128 chars of [A-Za-z0-9._@+-], not starting with '.'.
 * `quota` may be NULL (unlimited). Returns 0 and *user_r, or an error
 * with a message in *error_r (static or thread-local storage). */
int store_user_open(const char *data_dir, const char *user_id,
                    const struct store_quota *quota,
                    struct store_user **user_r, const char **error_r);
/* Closes the handle and its mailbox handles; the shared connection closes
 * with the last handle (or is kept, see store_keep_idle). *user becomes
 * NULL. */
void store_user_close(struct store_user **user);

/* Per thread, off by default: keep up to `max` stores whose last handle
 * closed open for `ttl_ms` more, so a client that reconnects (a phone
 * waking up, a mail program opening its second connection) does not pay
 * for opening the database, its index and their caches again. A kept
 * store sees other processes' changes like any open one. store_idle_sweep
 * closes those idle for ttl_ms by `now_ms` (ev_clock_ms; opening and
 * closing stores sweep too); store_idle_close_all closes every kept one
 * and turns keeping off (at thread end). */
void store_keep_idle(size_t max, uint64_t ttl_ms);
void store_idle_sweep(uint64_t now_ms);
void store_idle_close_all(void);

const char *store_error(const struct store_user *user);

/* Limits apply to every handle of this user on this thread. */
void store_user_set_quota(struct store_user *user, const struct store_quota *q);
/* Current usage (messages and bytes, copies counted) and limits. */
int store_user_quota(struct store_user *user, uint64_t *bytes_r,
                     uint64_t *messages_r, struct store_quota *limits_r);

/* Picks up changes committed by other threads/processes and calls the
 * watchers (see store_watch). Cheap when nothing changed. */
int store_user_poll(struct store_user *user);

/* Adds at most `max` waiting messages to the search index, in one
 * transaction of its own (no fsync: the index is derived, and a crash only
 * leaves those messages waiting again). *more_r (may be NULL): messages
 * are still waiting. Refused inside a transaction. On server threads the
 * indexer thread does this; tests and tools may call it. */
#define STORE_INDEX_BACKLOG 2000
int store_index_pending(struct store_user *user, unsigned max, bool *more_r);
/* Once at process start, before any SQLite use: turns off SQLite's
 * memory statistics, a process-wide mutex taken on every allocation that
 * the server threads and the indexer contended for. */
void store_process_init(void);
/* Stops the background indexer thread (at server shutdown, after the
 * threads that store messages have stopped). What it had not indexed yet
 * is indexed by the next search. */
void store_indexer_stop(void);

/* Groups several changes into one transaction (MULTIAPPEND, a batch of
 * deliveries: one fsync). Nests; only the outermost commit writes, and
 * watchers are called after it. Rollback undoes every change since begin
 * (blobs written meanwhile are collected). */
int store_txn_begin(struct store_user *user);
int store_txn_commit(struct store_user *user);
void store_txn_rollback(struct store_user *user);

/* ---- mailboxes --------------------------------------------------------- */

#define STORE_DELIM '/'
#define STORE_NAME_MAX 512     /* bytes of UTF-8 */
#define STORE_NAME_DEPTH 32    /* levels */

enum store_mbox_attr {
	STORE_MB_NOSELECT = 1 << 0,
	STORE_MB_HASCHILDREN = 1 << 1,
	STORE_MB_HASNOCHILDREN = 1 << 2,
	STORE_MB_SUBSCRIBED = 1 << 3,
	STORE_MB_NONEXISTENT = 1 << 4, /* subscribed name with no mailbox */
	STORE_MB_SENT = 1 << 8,        /* special-use (RFC 6154) */
	STORE_MB_DRAFTS = 1 << 9,
	STORE_MB_TRASH = 1 << 10,
	STORE_MB_JUNK = 1 << 11,
	STORE_MB_ARCHIVE = 1 << 12,
	STORE_MB_ALL = 1 << 13,
	STORE_MB_FLAGGED = 1 << 14,
	STORE_MB_SPECIAL_USE = 0x7f00,
};

struct store_mbox_entry {
	const char *name;   /* UTF-8, '/'-separated; "INBOX" always in caps */
	unsigned attrs;     /* enum store_mbox_attr */
};

/* Every mailbox, plus subscribed names that do not exist (NONEXISTENT),
 * sorted by name (INBOX first). The protocol does pattern matching. */
int store_mailbox_list(struct store_user *user, struct arena *a,
                       struct store_mbox_entry **list_r, size_t *n_r);

/* Checks a name: valid UTF-8, no control characters, no empty level, no
 * '*' or '%', at most STORE_NAME_MAX bytes and STORE_NAME_DEPTH levels.
 * Writes the canonical form (INBOX in caps, a trailing '/' dropped) into
 * out (size >= STORE_NAME_MAX + 1). 0 or STORE_E_BADNAME. */
int store_name_normalize(const char *name, char *out);

/* Creates the mailbox and any missing superiors (RFC 9051 6.3.4), each
 * with a new UIDVALIDITY. Creating over a \Noselect name makes it
 * selectable. special_use: 0 or one STORE_MB_* special-use bit. */
int store_mailbox_create(struct store_user *user, const char *name, unsigned special_use);
/* RFC 9051 6.3.5: INBOX cannot be deleted; a mailbox with children loses
 * its messages and becomes \Noselect; a \Noselect one with children is an
 * error (STORE_E_HASCHILDREN). Watchers of it get mailbox_gone. */
int store_mailbox_delete(struct store_user *user, const char *name);
/* Renames the mailbox and its children, creating superiors of the new
 * name; UIDVALIDITY is kept. Renaming INBOX creates `to`, moves every
 * INBOX message there and leaves INBOX empty (INBOX watchers see the
 * expunges). Subscriptions follow. */
int store_mailbox_rename(struct store_user *user, const char *from, const char *to);
/* Subscriptions are names: a subscribed name may not exist. */
int store_mailbox_subscribe(struct store_user *user, const char *name, bool on);

struct store_status {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;
	uint32_t unseen;
	uint32_t first_unseen;   /* sequence number, 0 if none */
	uint32_t recent;         /* not yet claimed by any session */
	uint64_t size;           /* sum of message sizes */
	unsigned attrs;          /* special-use etc. */
};

/* Does the mailbox exist and can it hold messages: STORE_OK, or
 * STORE_E_NOTFOUND / STORE_E_NOSELECT / STORE_E_BADNAME. One indexed
 * lookup (APPEND checks this before taking the literal). */
int store_mailbox_check(struct store_user *user, const char *name);

/* STATUS without selecting (counts the mailbox). */
int store_mailbox_status(struct store_user *user, const char *name, struct store_status *st);

/* ---- a selected mailbox ------------------------------------------------ */

/* System flags, stored as bits. \Recent is per session (store_msg_recent). */
enum store_flag {
	STORE_SEEN = 1 << 0,
	STORE_ANSWERED = 1 << 1,
	STORE_FLAGGED = 1 << 2,
	STORE_DELETED = 1 << 3,
	STORE_DRAFT = 1 << 4,
	STORE_FLAGS_ALL = 0x1f,
};

/* Keywords are a per-mailbox table of at most 64 names; a message holds a
 * 64-bit mask of them. Names compare case-insensitively. */
#define STORE_KEYWORDS_MAX 64
#define STORE_KEYWORD_LEN 100

struct store_msg {
	uint32_t uid;
	uint32_t flags;       /* enum store_flag */
	uint64_t keywords;    /* bit i = keyword i of the mailbox */
	uint64_t modseq;
	uint64_t size;
	int64_t day;          /* start of the internal date's day in its zone
	                         (date_day_start): SINCE, BEFORE, ON */
};

enum store_open_flags {
	STORE_OPEN_READONLY = 1 << 0,   /* EXAMINE: changes refused */
	STORE_OPEN_RECENT = 1 << 1,     /* claim \Recent (IMAP4rev1 SELECT) */
};

/* SELECT/EXAMINE. The handle belongs to `user` and is closed with it. */
int store_mailbox_open(struct store_user *user, const char *name, unsigned flags,
                       struct store_mailbox **mb_r);
void store_mailbox_close(struct store_mailbox **mb);

/* The current messages, ascending by UID. Valid until the next store call.
 * FETCH 1:* (FLAGS) is a walk of this array. */
const struct store_msg *store_mailbox_msgs(struct store_mailbox *mb, size_t *n_r);
/* The same without first looking for other connections' commits (one
 * SQL statement saved): for a caller whose command has just made a store
 * call, such as the untagged updates written before a tagged reply. */
const struct store_msg *store_mailbox_msgs_nopoll(struct store_mailbox *mb, size_t *n_r);
/* Their UIDs alone, packed (a session's sequence map is a copy). NULL
 * when n is 0. Valid as store_mailbox_msgs. */
const uint32_t *store_mailbox_uids(struct store_mailbox *mb, size_t *n_r);
/* The entry for uid, or NULL if there is none. O(log n). */
const struct store_msg *store_mailbox_find(struct store_mailbox *mb, uint32_t uid);
/* Fresh counts for the selected mailbox (as store_mailbox_status). */
void store_mailbox_get_status(struct store_mailbox *mb, struct store_status *st);
const char *store_mailbox_name(const struct store_mailbox *mb);
/* Keyword names, index = bit. NULL entries are unused bits. */
const char *const *store_mailbox_keywords(struct store_mailbox *mb, size_t *n_r);

/* \Recent for this session: the UIDs it claimed at open (STORE_OPEN_RECENT)
 * or with store_mailbox_claim_recent(). */
bool store_msg_recent(const struct store_mailbox *mb, uint32_t uid);
/* Claims messages that arrived since and are unclaimed; returns how many
 * this session now holds as recent in total. */
uint32_t store_mailbox_claim_recent(struct store_mailbox *mb);

/* UID sets: ascending, non-overlapping ranges (the caller resolves '*'
 * and maps sequence numbers to UIDs). */
struct store_range { uint32_t lo, hi; };
struct store_uidset { size_t n; const struct store_range *r; };
bool store_uidset_has(const struct store_uidset *set, uint32_t uid);

/* ---- messages ---------------------------------------------------------- */

struct store_append;

struct store_append_opts {
	uint32_t flags;               /* enum store_flag */
	const char *const *keywords;  /* n_keywords names */
	size_t n_keywords;
	int64_t internal_date;        /* unix seconds; 0 = now */
	int internal_tz;              /* minutes east of UTC */
};

/* Streams one message in: begin, write chunks, commit (or abort). The
 * first STORE_INLINE_MAX (64 KiB) bytes stay in memory; a larger message
 * goes on to a temp file, never all in memory. max_size 0 = no limit;
 * beyond it store_append_write fails with STORE_E_LIMIT. */
int store_append_begin(struct store_user *user, const char *mailbox, uint64_t max_size,
                       struct store_append **ap_r);
int store_append_write(struct store_append *ap, const void *data, size_t len);
/* Durable on return. *uid_r / *uidvalidity_r for APPENDUID (either may be
 * NULL). Frees ap whatever the result. */
int store_append_commit(struct store_append *ap, const struct store_append_opts *opts,
                        uint32_t *uidvalidity_r, uint32_t *uid_r);
void store_append_abort(struct store_append *ap);
/* The message is complete but will be committed later (MULTIAPPEND waits
 * for its last literal): closes the temp file and frees the write buffer,
 * so a waiting message costs a few hundred bytes and no descriptor; a
 * small one keeps just its bytes in memory while the waiting messages of
 * the thread hold at most 4 MiB, else it goes to a temp file too.
 * store_append_write is refused afterwards. */
int store_append_finish(struct store_append *ap);

/* A raw spool (store_spool.c): bytes kept exactly as given, with no line
 * end conversion, for a message that needs a second look before it becomes
 * a store_append (APPEND of a binary literal, RFC 3516: the mime layer
 * re-encodes it from the mapped spool). A nameless temp file in the user's
 * tmp/ directory; never in memory. The handle `user` must outlive it. */
struct store_spool;
int store_spool_begin(struct store_user *user, struct store_spool **sp_r);
int store_spool_write(struct store_spool *sp, const void *data, size_t len);
/* Everything written, mapped read-only until store_spool_free; no more
 * writes after. */
int store_spool_map(struct store_spool *sp, const char **data_r, size_t *len_r);
/* Unmaps, closes; *sp becomes NULL. NULL is fine. */
void store_spool_free(struct store_spool **sp);

/* Delivery (SMTP/LMTP): an append into INBOX. Concurrent deliveries share
 * one transaction and one fsync when the caller puts store_txn_begin and
 * store_txn_commit around the batch. */
int store_deliver_begin(struct store_user *user, uint64_t max_size,
                        struct store_append **ap_r);

/* COPY/MOVE of the UIDs of `set` present in mb into `dest`, in UID order.
 * Blobs are shared, not copied. Quota counts the copies. Results for
 * COPYUID: n pairs src_uids[i] -> dst_uids[i] (arena), and dest's
 * UIDVALIDITY. MOVE expunges the sources in the same transaction. */
struct store_copy_result {
	uint32_t uidvalidity;
	size_t n;
	uint32_t *src_uids, *dst_uids;
};
int store_copy(struct store_mailbox *mb, const struct store_uidset *set, const char *dest,
               bool move, struct arena *a, struct store_copy_result *res);

enum store_flag_op { STORE_FLAGS_ADD, STORE_FLAGS_REMOVE, STORE_FLAGS_REPLACE };

struct store_flags_req {
	enum store_flag_op op;
	uint32_t flags;
	const char *const *keywords;
	size_t n_keywords;
	uint64_t unchangedsince;      /* 0 = no condition (CONDSTORE) */
};
struct store_flags_result {
	uint64_t modseq;              /* of the changed messages; 0 if none */
	uint32_t *changed;            /* UIDs whose flags changed (arena) */
	size_t n_changed;
	uint32_t *modified;           /* UIDs failing UNCHANGEDSINCE: [MODIFIED] */
	size_t n_modified;
};
/* STORE. Messages whose flags would not change keep their modseq. */
int store_flags(struct store_mailbox *mb, const struct store_uidset *set,
                const struct store_flags_req *req, struct arena *a,
                struct store_flags_result *res);

enum store_expunge_mode {
	STORE_EXPUNGE_DELETED,        /* EXPUNGE/CLOSE: \Deleted ones */
	STORE_EXPUNGE_DELETED_IN_SET, /* UID EXPUNGE set */
	STORE_EXPUNGE_SET,            /* POP3 QUIT: every message of the set */
};
/* Expunged UIDs (ascending, arena) in *uids_r. */
int store_expunge(struct store_mailbox *mb, enum store_expunge_mode mode,
                  const struct store_uidset *set, struct arena *a,
                  uint32_t **uids_r, size_t *n_r);

/* ---- changes and notifications ---------------------------------------- */

struct store_changes {
	uint64_t highestmodseq;
	const struct store_msg *changed; /* modseq > since, incl. new ones */
	size_t n_changed;
	uint32_t *vanished;              /* expunged with modseq > since */
	size_t n_vanished;
};
/* CONDSTORE CHANGEDSINCE / QRESYNC: what changed after `since`. */
int store_changes_since(struct store_mailbox *mb, uint64_t since, struct arena *a,
                        struct store_changes *ch);

struct store_event {
	struct store_mailbox *mb;        /* the watching handle */
	bool own;                        /* made through the watcher's store_user */
	bool mailbox_gone;               /* deleted: deselect */
	bool keywords_changed;           /* new keyword names (FLAGS response) */
	uint64_t highestmodseq;
	const struct store_msg *added;   /* new messages, ascending */
	size_t n_added;
	const struct store_msg *changed; /* flag/keyword changes (new state) */
	size_t n_changed;
	const uint32_t *expunged;        /* ascending */
	size_t n_expunged;
};
typedef void store_watch_fn(const struct store_event *ev, void *ctx);
/* Calls fn on this thread after each committed change to mb's mailbox,
 * whoever made it (ev->own tells; a batch mixing this handle's changes
 * with others' is reported as not own, so expunges of unknown UIDs must
 * be ignored). fn runs inside whichever store call committed or polled:
 * it should record what it needs and return. It may read the store and
 * close mailbox handles, but must not change the store. fn NULL stops
 * watching. ev and its arrays are valid during the call only. */
void store_watch(struct store_mailbox *mb, store_watch_fn *fn, void *ctx);

/* ---- fetch -------------------------------------------------------------- */

enum store_fetch_want {
	STORE_WANT_ENVELOPE = 1 << 0,
	STORE_WANT_BODYSTRUCTURE = 1 << 1,  /* also BODY (non-extensible) */
	STORE_WANT_HEADERS = 1 << 2,        /* decoded common headers */
	STORE_WANT_PREVIEW = 1 << 3,
};

struct store_msg_info {
	uint32_t uid, flags;
	uint64_t keywords, modseq;
	int64_t internal_date;      /* unix seconds */
	int internal_tz;            /* minutes east of UTC */
	uint64_t size, header_size;
	char hash[65];              /* content id (sha256 hex of the bytes) */
	/* Cached strings (arena, "" when not wanted or not available). */
	const char *envelope, *bodystructure, *body;
	const char *from, *to, *cc, *subject, *message_id;
	const char *preview;
};

struct store_fetch;
/* Iterates the messages of set in UID order (expunged ones skipped). */
int store_fetch_begin(struct store_mailbox *mb, const struct store_uidset *set,
                      unsigned want, struct store_fetch **f_r);
/* 1 and *info (strings in a), 0 at the end, <0 on error. */
int store_fetch_next(struct store_fetch *f, struct arena *a, struct store_msg_info *info);
void store_fetch_end(struct store_fetch **f);

/* The message bytes: a read-only fd (caller closes) positioned at 0 (the
 * blob file, or a sealed memfd holding an inline message's bytes). */
int store_message_open(struct store_mailbox *mb, uint32_t uid, int *fd_r, uint64_t *size_r);
/* The whole message, read-only, valid across later store calls until
 * store_unmap: a heap copy for a message of at most 64 KiB (most mail:
 * cheaper than a fresh mapping), else a mapping of its blob file. */
int store_message_map(struct store_mailbox *mb, uint32_t uid, const char **data_r,
                      size_t *len_r);
void store_unmap(const char *data, size_t len);
/* Copies the whole message into out (room bytes): STORE_OK and its
 * length in *len_r, or STORE_E_LIMIT if it is larger than room (nothing
 * copied). Under a snapshot hold an inline message is read straight into
 * out, with no copy in between: for a reader that builds its answer in
 * place (POP3 RETR). */
int store_message_read(struct store_mailbox *mb, uint32_t uid, char *out, size_t room,
                       size_t *len_r);

/* Snapshot reads, for reading many messages of one mailbox in a row
 * (POP3: RETR after RETR). While held, store_message_read and
 * store_message_map on mb read through a database connection of the
 * handle's own, in one read transaction kept from the first read to the
 * release (beginning and ending one per message cost a fifth of a RETR):
 * they see the messages as they were at the first read, one expunged
 * since included. A held snapshot keeps the WAL from being restarted, so
 * the caller releases it soon (POP3: within a fraction of a second). The
 * connection is kept for the next hold until store_mailbox_close. */
int store_snapshot_hold(struct store_mailbox *mb);
void store_snapshot_release(struct store_mailbox *mb);
/* ---- search ------------------------------------------------------------- */

enum store_sk {
	STORE_SK_ALL,
	STORE_SK_AND,        /* kids: every child */
	STORE_SK_OR,         /* kids: any child */
	STORE_SK_NOT,        /* kids: one child */
	STORE_SK_FLAGS_SET,  /* every bit of u.flags set (ANSWERED, SEEN...) */
	STORE_SK_FLAGS_UNSET,/* every bit of u.flags clear (UNANSWERED...) */
	STORE_SK_KEYWORD, STORE_SK_UNKEYWORD,   /* u.str */
	STORE_SK_RECENT, STORE_SK_NEW, STORE_SK_OLD,
	STORE_SK_LARGER, STORE_SK_SMALLER,      /* u.num bytes */
	STORE_SK_BEFORE, STORE_SK_ON, STORE_SK_SINCE,          /* u.num: day */
	STORE_SK_SENTBEFORE, STORE_SK_SENTON, STORE_SK_SENTSINCE,
	STORE_SK_HEADER,     /* u.hdr.field, u.hdr.value ("" = has the field) */
	STORE_SK_FROM, STORE_SK_TO, STORE_SK_CC, STORE_SK_BCC, STORE_SK_SUBJECT,
	STORE_SK_BODY, STORE_SK_TEXT,           /* u.str: substring */
	STORE_SK_UID,        /* u.set */
	STORE_SK_MODSEQ,     /* u.num: modseq >= num */
};

/* Date keys: u.num is the day as date_parse_imap_date() gives it (time_t
 * of 00:00 UTC). A message's day is that of its date in its own zone,
 * "disregarding time and timezone" (date_day_start). */

struct store_search {
	enum store_sk key;
	struct store_search *kids;   /* AND/OR/NOT children, linked by next */
	struct store_search *next;
	union {
		uint32_t flags;
		uint64_t num;
		const char *str;
		struct { const char *field, *value; } hdr;
		struct store_uidset set;
	} u;
};

/* Matching UIDs, ascending (arena). String keys are case-insensitive
 * substrings; BODY/TEXT use the trigram index (no message is read). */
int store_search(struct store_mailbox *mb, const struct store_search *q, struct arena *a,
                 uint32_t **uids_r, size_t *n_r);

/* ---- consistency -------------------------------------------------------- */

enum store_finding_kind {
	STORE_FINDING_ERROR,   /* a real inconsistency */
	STORE_FINDING_FIXED,   /* found and repaired (e.g. orphan blob collected) */
};
struct store_finding {
	enum store_finding_kind kind;
	const char *text;
};
/* `mailkeep check USER`: database integrity, counts, blobs vs rows (a
 * missing blob file or inline body, or one whose size or hash is wrong, is
 * an error; an unreferenced file is collected), blob refcounts, UID/modseq
 * invariants, quota totals, messages missing from the search index (queued
 * again). */
int store_check(struct store_user *user, struct arena *a, struct store_finding **f_r,
                size_t *n_r);

#endif
