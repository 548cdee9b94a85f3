/*
 * log: one line per event, to stderr or a file, safe from any thread.
 *
 *   2026-11-21T21:30:00.123Z info imap c=12 ip=127.0.0.1 user=alice login ok
 *
 * `ctx` is the event's context (protocol, connection id, address, user), as
 * built by the caller (conn_log() does it for connections); NULL for none.
 * Client-supplied bytes must go through log_escape() first. Never log
 * passwords or tokens.
 *
 * Library code below the protocol layer returns errors to its caller instead
 * of logging them.
 */
#ifndef MK_LOG_H
#define MK_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

/* path NULL or "" or "stderr": standard error. 0 or -1 with *error_r. */
int log_open(const char *path, const char **error_r);
/* Reopen the same file (after rotation, on SIGHUP). */
void log_reopen(void);
void log_set_level(enum log_level min);
/* "debug" | "info" | "warn" | "error"; -1 if unknown. */
int log_level_parse(const char *s);

void log_write(enum log_level lvl, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level lvl, const char *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define log_debug(...) log_write(LOGL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOGL_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOGL_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOGL_ERROR, NULL, __VA_ARGS__)

/* Copy at most srclen bytes of client data into dst (size dstlen, always
 * NUL-terminated), escaping control and 8-bit bytes as \xNN, and marking a
 * cut with "...". Returns dst. */
char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
