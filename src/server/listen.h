/*
 * listen: the listening sockets of every service in the config, and
 * accepting on them from every worker.
 *
 * listeners_open() binds everything (as root, before privileges are
 * dropped). listeners_attach() runs in each worker thread: every worker
 * watches every listening socket (EPOLLEXCLUSIVE wakes one of them) and owns
 * the connections it accepts until login moves them. Connections over
 * max_connections or max_connections_per_ip are refused at once with the
 * protocol's busy reply.
 */
#ifndef MK_SERVER_LISTEN_H
#define MK_SERVER_LISTEN_H

#include "lib/config.h"
#include "lib/conn.h"
#include "lib/runtime.h"

struct listen_service {
	const char *key;             /* config key, e.g. "imaps_listen" */
	const struct proto *proto;
	bool implicit_tls;
};

int listeners_open(const struct config *cfg, const struct listen_service *services,
                   size_t nservices, char **error_r);
void listeners_attach(struct worker *w);
void listeners_detach(struct worker *w);
void listeners_close(void);
/* "imap 127.0.0.1:10143, imaps 127.0.0.1:10993, ..." for the start-up log. */
const char *listeners_describe(void);

#endif
