/*
 * store_internal.h: what the files of the embedded store share. Not for
 * use outside src/store.
 */
#ifndef MK_STORE_INTERNAL_H
#define MK_STORE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>
#include <stdarg.h>

/* One open database per user per thread, shared by its handles. */
struct store_account;

/* In-memory view of one mailbox: the current messages and counters. */
struct view {
	struct view *next;
	struct store_account *acct;
	int64_t id;                 /* mailbox row id */
	char *name;
	uint32_t uidvalidity, uidnext, recent_uid;
	uint32_t recent_saved;      /* recent_uid as store.db has it (claims
	                               are written with the next change) */
	uint64_t highestmodseq;
	unsigned special_use;
	struct store_msg *msgs;
	uint32_t *uids;             /* msgs[i].uid, packed (a session's map
	                               is a memcpy of it) */
	size_t n, cap;
	/* SELECT/STATUS counts, kept until the next change to msgs. */
	bool counts_ok;
	uint32_t unseen, first_unseen;
	uint64_t size;
	char *kw[STORE_KEYWORDS_MAX];
	unsigned handles;           /* open store_mailbox handles */
	/* Changes since the last notification (after commit). */
	struct store_msg *added, *changed;
	size_t n_added, cap_added, n_changed, cap_changed;
	uint32_t *expunged;
	size_t n_expunged, cap_expunged;
	bool kw_changed, gone, dirty;
	struct store_user *origin;  /* who made the pending changes */
};

struct store_mailbox {
	struct store_mailbox *next;
	struct store_user *user;
	struct view *v;
	unsigned flags;
	struct store_range *recent;  /* claimed \Recent ranges */
	size_t n_recent;
	store_watch_fn *watch;
	void *watch_ctx;
	struct snapshot *snap;       /* store_snapshot.c, NULL until a hold */
	bool snap_held;              /* message bytes are read through snap */
};

struct store_user {
	/* The account's handles: a client in IDLE holds one, so thousands
	 * per account; doubly linked, as one leaves in O(1). */
	struct store_user *next, *prev;
	struct store_account *acct;
	struct store_mailbox *boxes;
	char err[256];
};

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_MB_BY_NAME, ST_MB_BY_ID, ST_MB_BUMP, ST_MB_UIDNEXT,
	ST_MSG_INSERT, ST_MSG_FLAGS, ST_MSG_GET, ST_MSG_DELETE,
	ST_TOMB_INSERT,
	ST_BLOB_BY_HASH, ST_BLOB_INSERT, ST_BLOB_REF, ST_BLOB_GET_REFS, ST_BLOB_DELETE, ST_BLOB_FLOOR,
	ST_BLOB_FILE_BY_HASH, ST_BLOB_UNUSED, ST_DATA_INSERT, ST_MSG_BODY, ST_MSG_BLOB_RUN,
	ST_GC_INSERT, ST_GC_DELETE, ST_INDEX_LAG,
	ST_QUOTA_GET, ST_QUOTA_ADD,
	ST_KW_INSERT, ST_KW_LIST, ST_DATA_VERSION,
	/* Slots of stmt_cached() (store_stmt_cache.c): no fixed SQL. */
	ST_CACHE_FIRST, ST_CACHE_LAST = ST_CACHE_FIRST + 15,
	ST__COUNT
};

struct store_account {
	struct store_account *hnext;   /* store_account_table.c's chain */
	uint64_t hash;
	char *data_dir, *user_id;
	char *dir;                  /* <data_dir>/users/<id> */
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	unsigned refs;
	/* With no handle left (refs 0) but kept open by store_keep_idle:
	 * since when (ev_clock_ms), on the thread's list of idle accounts,
	 * oldest first (the first is closed first when too many are kept). */
	bool idle;
	uint64_t idle_since_ms;
	struct store_account *idle_prev, *idle_next;
	struct store_user *users;
	struct view *views;
	struct store_quota quota;
	int txn_depth;
	/* The handle whose transaction is open. Another handle's change must
	 * never be nested into it: it would be acknowledged to that session
	 * while not yet durable (and undone by this one's rollback). */
	struct store_user *txn_owner;
	bool txn_failed;
	bool notifying;             /* views_notify running: no view eviction */
	int64_t data_version;
	/* blob files created in the open transaction, unlinked on rollback */
	char **new_blobs;
	size_t n_new_blobs, cap_new_blobs;
	bool sync_blobs_dir;        /* a blobs/ab directory was created */
	/* blob files to unlink after commit */
	char **dead_blobs;
	size_t n_dead_blobs, cap_dead_blobs;
	/* blob_gc rows whose files are gone, deleted in the next transaction */
	char **done_gc;
	size_t n_done_gc, cap_done_gc;
	/* The search index (store_index.c): index.db is attached read-only
	 * to db as "ix"; ixw writes it when this thread must catch up. */
	struct index_writer *ixw;
	struct search_tail *tail;
	bool new_blobs_committed;   /* the open transaction added blobs */
	/* ids of blobs deleted in the open transaction: their index rows go
	 * after the commit */
	int64_t *gone;
	size_t n_gone, cap_gone;
};

/* store_user.c */
int store_fail(struct store_user *u, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int store_dbfail(struct store_user *u, const char *what);
/* Write transactions; the outermost commit notifies watchers. */
int txn_begin(struct store_user *u);
int txn_commit(struct store_user *u);
void txn_rollback(struct store_user *u);
/* Ends a transaction in which nothing was changed yet (a refused
 * precondition): an enclosing transaction goes on unharmed. */
void txn_abort_clean(struct store_user *u);
/* Picks up other connections' commits into the loaded views. */
int account_sync(struct store_user *u);

/* store_account_table.c: the accounts open on this thread by (data_dir,
 * user_id), and the idle ones (refs 0, kept) oldest first. */
struct store_account *account_table_find(const char *data_dir, const char *user_id);
void account_table_add(struct store_account *a);
void account_table_remove(struct store_account *a);
void account_idle_push(struct store_account *a);
void account_idle_remove(struct store_account *a);   /* no-op if not idle */
struct store_account *account_idle_oldest(void);
size_t account_idle_count(void);

/* store_stmt_cache.c: a statement whose SQL is built at run time (a
 * FETCH's columns, a SEARCH's criteria), prepared once per connection and
 * kept in the ST_CACHE_* slots, reset and unbound. Give it back with
 * stmt_release(s, *owned_r) (*owned_r: the kept one was busy, this is a
 * private copy). */
sqlite3_stmt *stmt_cached(struct store_account *acct, const char *sql, bool *owned_r);
void stmt_release(sqlite3_stmt *s, bool owned);   /* reset, or finalize if owned */
/* The same cache for a statement used across calls (a FETCH stepped
 * message by message while other sessions of the thread run): taken out
 * of the cache, so nobody else binds or evicts it, and given back after. */
sqlite3_stmt *stmt_take(struct store_account *acct, const char *sql);
void stmt_give(struct store_account *acct, sqlite3_stmt *s);

/* store_schema.c */
int schema_open(struct store_account *acct, const char **error_r);
void schema_close(struct store_account *acct);
sqlite3_stmt *stmt(struct store_account *acct, enum stmt_id id);
const char *stmt_sql_of(enum stmt_id id);
/* Every connection to store.db maps it (PRAGMA mmap_size): pages are read
 * from the mapping, not copied in by a pread each. */
#define STORE_MMAP_SIZE "268435456"
uint32_t schema_next_uidvalidity(struct store_account *acct);
int schema_create_defaults(struct store_account *acct);

/* store_snapshot.c: the connection behind store_snapshot_hold. */
/* ST_MSG_BODY on the snapshot connection, its read transaction begun;
 * NULL (error set) on failure. */
sqlite3_stmt *snapshot_body_stmt(struct store_mailbox *mb);
struct body;
/* An inline message's bytes by its blob id (found in a run of message
 * rows read by one range query, then a blob_data row; not ST_MSG_BODY's
 * three-table join per message), read into dest (room bytes; larger is
 * STORE_E_NOTFOUND) or, dest NULL, the snapshot's buffer: valid until the
 * next snapshot call. Anything else (a message in a file, gone,
 * or damaged) returns STORE_E_NOTFOUND: the general path then reads it,
 * or says why not. */
int snapshot_inline_body(struct store_mailbox *mb, uint32_t uid, char *dest, size_t room,
                         struct body *b);
bool snapshot_in_txn(const struct store_mailbox *mb);
void snapshot_end(struct store_mailbox *mb);      /* ends the transaction */
void snapshot_close(struct store_mailbox *mb);

/* store_mailbox.c */
int mailbox_lookup(struct store_user *u, const char *name, int64_t *id_r, bool *noselect_r);
int mailbox_insert(struct store_user *u, const char *name, unsigned special_use, int64_t *id_r);

/* store_view.c */
struct view *view_get(struct store_user *u, int64_t id);
void view_release(struct view *v);
/* Writes \Recent claims made in memory to store.db in a transaction of
 * their own, for the last handle on v before it goes: a view freed with
 * them unsaved would give the same messages as \Recent to the next
 * session. Best effort: nothing while another handle's transaction is
 * open or watchers are being called. */
int view_save_recent(struct store_user *u, struct view *v);
void view_free(struct view *v);
size_t view_index(const struct view *v, uint32_t uid);   /* first >= uid */
void view_note_added(struct view *v, struct store_user *origin, const struct store_msg *m);
void view_note_changed(struct view *v, struct store_user *origin, size_t idx);
void view_note_expunged(struct view *v, struct store_user *origin, size_t idx);
/* Removes the given UIDs (ascending) in one pass. */
void view_expunge_sorted(struct view *v, struct store_user *origin, const uint32_t *uids,
                         size_t n);
/* Reloads a dirty view; false if the mailbox no longer exists. */
bool view_usable(struct store_user *u, struct view *v);
void view_note_gone(struct view *v, struct store_user *origin);
void view_note_keyword(struct view *v, struct store_user *origin);
/* After the outermost commit: call the watchers, clear the pending lists. */
void views_notify(struct store_account *acct);
/* After a rollback: reload every view from the database. */
void views_invalidate(struct store_account *acct);
int view_reload(struct store_user *u, struct view *v);
int view_refresh(struct store_user *u, struct view *v, struct store_user *origin);
struct view *view_find_loaded(struct store_account *acct, int64_t id);
/* Bumps the mailbox's modseq inside the open transaction; returns it. */
int mailbox_bump_modseq(struct store_user *u, struct view *v, uint64_t *modseq_r);

/* store_dest.c: the target of an append or copy. */
struct dest {
	int64_t id;
	uint32_t uidvalidity;
	struct view *v;       /* the loaded view, or a detached one (keywords) */
	bool loaded;
};
int dest_open(struct store_user *u, const char *name, struct dest *d);
void dest_close(struct dest *d);
/* Takes `count` UIDs and one new modseq for the mailbox. */
int dest_reserve(struct store_user *u, struct dest *d, uint32_t count, uint32_t *first_uid_r,
                 uint64_t *modseq_r);

/* store_append.c */
int quota_check(struct store_user *u, uint64_t bytes, uint64_t n);
int quota_add(struct store_user *u, int64_t bytes, int64_t n);
int msg_insert(struct store_user *u, int64_t mailbox_id, struct store_msg *m,
               int64_t blob_id, int64_t date, int tz);

/* store_flags.c: removes message rows (tombstones at modseq, blob refs,
 * quota unless a move). */
int msgs_remove(struct store_user *u, struct view *v, const uint32_t *uids, size_t n,
                uint64_t modseq, bool count_quota);

/* store_keywords.c */
/* Maps names to a mask, adding new names to the mailbox when `create`. */
int keywords_mask(struct store_user *u, struct view *v, const char *const *names, size_t n,
                  bool create, uint64_t *mask_r);
int keywords_load(struct store_user *u, struct view *v);

struct store_summary;

/* Messages of at most this many bytes keep their bytes inside store.db
 * (table blob_data, written in the transaction that references them), so
 * a group of deliveries costs one WAL fsync and no file, inode or
 * directory operation. Larger ones are immutable blob files. The rule
 * depends on the size only: a message is inline iff size <= this. */
#define STORE_INLINE_MAX (64 * 1024)

/* store_blob.c */
int blob_tmp_open(struct store_user *u, int *fd_r, char **path_r);
int blob_dir_fsync(const char *dir);
int blob_path(struct store_account *acct, const char *hash, char *out, size_t outlen);
int blob_lookup(struct store_user *u, const char *hash, int64_t *id_r);
int blob_ref(struct store_user *u, int64_t id, int delta);
/* Inside a write transaction: references the blob `hash` if it exists.
 * Otherwise inserts the blob row with its cached summary and queues it
 * for the search index; its bytes are `data` (inline, size at most
 * STORE_INLINE_MAX) or, when data is NULL, the complete temp file
 * tmp_path, renamed to its address and made durable before COMMIT. The
 * temp file, if any, is consumed either way. */
int blob_install(struct store_user *u, const char *tmp_path, const char *data,
                 const char *hash, uint64_t size, const struct store_summary *sum,
                 int64_t *id_r);
/* Deletes the rows of blobs with no reference left (their inline bytes
 * and index rows with them); their files go after the commit. */
int blob_collect_unused(struct store_user *u);
/* Before COMMIT: fsync the files created in the transaction and their
 * directories (or syncfs for many). -1 on failure. */
int blobs_sync(struct store_account *acct);
void blobs_after_commit(struct store_account *acct);
void blobs_after_rollback(struct store_account *acct);
void blobs_gc_pending(struct store_account *acct);
void blobs_clean_tmp(struct store_account *acct);

/* store_body.c: a message's bytes, inline or in its blob file. The
 * statement behind ST_MSG_BODY gives, from column `col`:
 * id, hash, size, inline, data. */
struct body {
	const char *data;       /* valid until body_release */
	size_t len;
	bool mapped;            /* a file mapping (else the statement's column) */
};
/* Reads the row at column col of the stepped statement s. */
int body_from_row(struct store_user *u, sqlite3_stmt *s, int col, struct body *b);
void body_release(struct body *b);

/* store_blob.c: the file of a blob, mapped (body_release unmaps it).
 * 0 or -errno. */
int blob_map_file(const char *user_dir, const char *hash, uint64_t size, struct body *b);

/* store_index_writer.c: writes a user's search index, index.db: a
 * trigram FTS5 table keyed by blob id, and "upto": every blob whose id is
 * at most upto is indexed (or gone). Blob ids only grow (store_blob.c), so
 * the blobs still to index are exactly those above upto. index.db is
 * derived data: committed without fsync, rebuilt when it belongs to
 * another store.db (store_id) or cannot be read. One writer per thread
 * that indexes; several writers of one user take turns on the database
 * lock, and each indexes only what is above upto when its transaction
 * starts, so none repeats another's work. */
struct index_writer;
/* Opens (creating it if needed) user_dir/index.db, store.db attached
 * read-only. A writer that `yields` (the background indexer's) ends its
 * transaction early while index_urgent > 0: a thread that must catch up
 * for a search is waiting for the lock. */
int index_writer_open(const char *user_dir, bool yields, struct index_writer **w_r,
                      const char **error_r);
extern _Atomic int index_urgent;
void index_writer_close(struct index_writer **w);
/* Gives back the page cache of an open writer (it stays open). */
void index_writer_release_memory(struct index_writer *w);
/* Indexes at most max blobs above upto in one transaction; *more_r: some
 * are left. */
int index_writer_run(struct index_writer *w, unsigned max, bool *more_r);
/* Deleted blobs (ids never come back): their rows are only listed here,
 * in table dead, and removed by index_writer_purge later, when the server
 * is quiet: an FTS5 delete costs as much as the insert (the row's text is
 * tokenized again), and the stale rows cannot match, as a search keeps
 * only index rows whose blob has a message. */
int index_writer_forget(struct index_writer *w, const int64_t *ids, size_t n);
/* Rows listed dead and not yet purged (as this writer counted them). */
int64_t index_writer_dead(const struct index_writer *w);
/* Removes at most max of them in one transaction (fewer, for a writer
 * that yields, while index_urgent > 0); *more_r: some are left. */
int index_writer_purge(struct index_writer *w, unsigned max, bool *more_r);
/* For the consistency check: rows without a blob removed, and upto moved
 * below any blob missing from the index. *stale_r, *missing_r: counts. */
int index_writer_repair(struct index_writer *w, int64_t *stale_r, int64_t *missing_r);
const char *index_writer_error(const struct index_writer *w);
/* "file:user_dir/file?mode=ro", escaped for SQLite; -1 if too long. */
int index_uri_ro(char *out, size_t outlen, const char *user_dir, const char *file);

/* store_indexer.c: the background indexer, a thread of its own, so a
 * server thread storing messages never pays for indexing them. Tells it
 * that the user's store has new blobs (added) and/or deleted ones. */
void indexer_post(const char *user_dir, bool added, const int64_t *gone, size_t n_gone);

/* store_index.c: the owner thread's side. */
/* At account open: attaches index.db as "ix" (creating it for a new
 * store). */
int index_attach(struct store_account *acct, const char **error_r);
/* Opens acct->ixw, this thread's writer, if not yet open. */
int index_writer_of(struct store_user *u);
/* Indexes every blob not yet indexed (before a search or fetch that
 * reads the index). Does nothing inside a transaction or a watcher
 * callback. */
int index_catch_up(struct store_user *u);
/* Before a search reads the index: checks it is this store's (else it
 * is rebuilt). The messages it lacks are matched by the search itself
 * (store_search_tail.c) unless more than SEARCH_TAIL_MAX of them wait:
 * those are indexed first. Small: each search parses its whole tail
 * again, and under load the lowest-priority indexer falls behind (with
 * 500, 50 clients after 10 ran at 3,600 commands/s instead of 6,800). */
#define SEARCH_TAIL_MAX 64
int index_ready_for_search(struct store_user *u);
/* After an outermost commit: new blobs and deleted ones go to the
 * background indexer on a server thread, else are handled here (a tool
 * keeps at most STORE_INDEX_BACKLOG waiting). */
void index_after_commit(struct store_user *u);

/* store_search.c: SQL functions the search uses, per connection. */
int search_register(sqlite3 *db);
/* Text matching as the index's rows are matched. */
bool search_needs_trigrams(const char *needle);   /* else ASCII icontains */
bool search_icontains(const char *hay, const char *needle);
bool search_header_has(const char *headers, size_t len, const char *field, const char *needle);

/* store_search_tail.c: mk_tail_text and mk_tail_header, for the
 * messages not yet in the index; per connection, freed with it. */
struct search_tail;
int search_tail_register(struct store_account *acct);
void search_tail_free(struct store_account *acct);

/* store_summary.c: the MIME module's view of a message, cached at append. */
struct store_summary {
	uint64_t header_size;
	const char *envelope, *bodystructure, *body;
	const char *from, *to, *cc, *bcc, *subject, *message_id;
	const char *headers;        /* "Name: decoded value\n" lines */
	const char *text;           /* decoded body text for BODY search */
	const char *preview;
	bool has_date;
	int64_t sent_date;
	int sent_tz;
};
void store_summarize(const char *data, size_t len, struct arena *a, struct store_summary *s);


#define STORE_TEXT_MAX (1u << 20)   /* decoded text indexed per message */

#endif
