/*
 * queue_spool: the queue's files under <data_dir>/queue/.
 *
 *   queue/msg/<id>      the message bytes as they will be sent (CRLF lines,
 *                       not dot-stuffed), immutable once renamed in
 *   queue/env/<id>      the envelope (queue_env.h); its presence is what
 *                       makes a message queued
 *   queue/tmp/          files being written
 *   queue/lock          flock()ed (exclusive) by the running server's queue
 *                       runner; tools that change the spool directly take
 *                       it too, so they never race with the runner
 *   queue/control       the runner's control socket (queue.h)
 *
 * Every write is: temp file in tmp/, fsync, rename into place, fsync of the
 * target directory. A message is queued in two steps, message first, then
 * envelope, so a crash leaves at worst a message file without envelope
 * (never acknowledged; collected by queue_spool_collect()).
 *
 * Ids are 16 hex digits: 8 of the creation time (so they sort by age) and
 * 8 random. Functions here are thread-safe (no shared state) and return
 * 0 or -1 with *error_r (heap string, caller frees).
 */
#ifndef MK_QUEUE_SPOOL_H
#define MK_QUEUE_SPOOL_H

#include "queue/queue_env.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Create queue/, msg/, env/ and tmp/ (0700) if missing. */
int queue_spool_init(const char *data_dir, char **error_r);

/* A new id (time + getrandom) into out. */
void queue_id_new(char out[QUEUE_ID_LEN + 1]);
/* Exactly QUEUE_ID_LEN lowercase hex digits (so never a path trick). */
bool queue_id_valid(const char *s);

/* "<data_dir>/queue/<sub>/<id>" or with id NULL "<data_dir>/queue/<sub>".
 * -1 if it does not fit. */
int queue_spool_path(char *out, size_t n, const char *data_dir, const char *sub,
                     const char *id);

/* Write the message file for env->id: prefix, then body_size bytes of
 * body_fd read with pread() from offset 0 (body_fd may be -1 when
 * body_size is 0). Sets env->size and env->body8bit. Durable on return. */
int queue_spool_write_msg(const char *data_dir, struct queue_env *env, const char *prefix,
                          size_t prefix_len, int body_fd, uint64_t body_size, char **error_r);
/* Write (replace) the envelope file, durably. */
int queue_spool_save_env(const char *data_dir, const struct queue_env *env, char **error_r);
/* Read env/<id>. env is filled (free with queue_env_clear). */
int queue_spool_load_env(const char *data_dir, const char *id, struct queue_env *env,
                         char **error_r);
/* Remove env/<id> then msg/<id>, durably. 0, or -1 (ENOENT: *error_r
 * says "no such message"). */
int queue_spool_remove(const char *data_dir, const char *id, char **error_r);

/* The ids of every envelope, sorted (oldest first); *ids_r is one heap
 * block (free() it) of n entries. */
int queue_spool_list(const char *data_dir, char (**ids_r)[QUEUE_ID_LEN + 1], size_t *n_r,
                     char **error_r);

/* Remove message files without envelope and temp files older than
 * min_age seconds (left by a crash before the envelope was written). */
void queue_spool_collect(const char *data_dir, int64_t min_age);

/* Take queue/lock: returns the fd (keep it open while holding), or -1
 * with errno EWOULDBLOCK when the runner (another process) holds it. */
int queue_spool_lock(const char *data_dir, bool wait, char **error_r);

/* Read up to max bytes of the message's header section (up to and
 * including the empty line, or all of the first max bytes) into out. */
int queue_spool_read_headers(const char *data_dir, const char *id, struct buf *out,
                             size_t max, char **error_r);

/* Read the whole message file into out, if it has at most max bytes
 * (else -1 with EFBIG in errno and *error_r). */
int queue_spool_read_msg(const char *data_dir, const char *id, struct buf *out, size_t max,
                         char **error_r);

#endif
