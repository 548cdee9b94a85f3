/*
 * server: `mailkeep serve`. Start-up order: log, data dir, TLS context
 * (self-signed on first start when no certificate is configured), worker
 * loops, listening sockets, privilege drop, job pool, worker threads. Then
 * the main thread waits for signals:
 *
 *   SIGTERM, SIGINT  stop accepting, ask every session to finish (IMAP BYE,
 *                    POP3/SMTP close), give in-flight work shutdown_timeout
 *                    seconds, close what is left, return 0.
 *   SIGHUP           reload the TLS certificate, reopen the log file, and
 *                    re-read the config file (when there is one) for what is
 *                    safe to change while running: log_level. Workers read
 *                    the config without locks, so other keys take effect at
 *                    the next start (the log says so).
 *
 * Returns the process exit status.
 */
#ifndef MK_SERVER_H
#define MK_SERVER_H

#include "lib/config.h"

/* config_path: the file cfg came from, or NULL (development defaults). */
int server_run(struct config *cfg, const char *config_path);

#endif
