/*
 * server: `mailkeep serve`. Start-up order: log, data dir, TLS context
 * (self-signed on first start when no certificate is configured), worker
 * loops, listening sockets, privilege drop, job pool, worker threads. Then
 * the main thread waits for signals:
 *
 *   SIGTERM, SIGINT  stop accepting, ask every session to finish (IMAP BYE,
 *                    POP3/SMTP close), give in-flight work shutdown_timeout
 *                    seconds, close what is left, return 0.
 *   SIGHUP           reload the TLS certificate and reopen the log file.
 *
 * Returns the process exit status.
 */
#ifndef MK_SERVER_H
#define MK_SERVER_H

#include "lib/config.h"

int server_run(struct config *cfg);

#endif
