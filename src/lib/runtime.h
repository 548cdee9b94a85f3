/*
 * runtime: the worker threads and process-wide settings the protocol
 * sessions use (DESIGN.md principle 4).
 *
 * N workers, each an event loop on its own thread. Before login a
 * connection lives on the worker that accepted it; after login it moves
 * (conn_move) to runtime_worker_for_user(id), so all sessions of one user
 * run on one thread and the user's store needs no locks.
 *
 * runtime_config is the active configuration: immutable while workers run
 * (a reload builds a new one and swaps it in between events; see server.c).
 */
#ifndef MK_RUNTIME_H
#define MK_RUNTIME_H

#include "lib/config.h"
#include "lib/conn.h"
#include "lib/ev.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define RUNTIME_SLOTS 8

struct worker {
	unsigned idx;
	struct ev_loop *loop;
	struct conn_list conns;
	pthread_t thread;
	bool stopping;
	/* Per-thread state owned by higher layers (open stores, db handles),
	 * indexed by enum runtime_slot. */
	void *slot[RUNTIME_SLOTS];
};

enum runtime_slot { RUNTIME_SLOT_STORE, RUNTIME_SLOT_ACCOUNTS, RUNTIME_SLOT_SERVER };

extern const struct config *runtime_config;

/* Create n loops (n >= 1); 0 or -1. */
int runtime_workers_init(unsigned n);
/* Start a thread per worker running its loop; `init` runs first in each,
 * `fini` (may be NULL) last, after the loop stopped, to close per-thread
 * handles. */
int runtime_workers_start(void (*init)(struct worker *w), void (*fini)(struct worker *w));
void runtime_workers_join(void);
void runtime_workers_free(void);

unsigned runtime_worker_count(void);
struct worker *runtime_worker(unsigned idx);
/* The worker whose thread is calling, or NULL for other threads. */
struct worker *runtime_worker_self(void);
struct worker *runtime_worker_for_user(uint64_t user_id);

/* May the client of c send a password now: TLS is on, or its address is in
 * plaintext_auth_networks. */
bool runtime_plaintext_auth_ok(const struct conn *c);

#endif
