/*
 * fdpark: hold the sockets of quiet connections outside the process's
 * file descriptor table, so one process keeps more connections open than
 * its open-files limit (RLIMIT_NOFILE) allows.
 *
 * Why: one thread per core serves every connection, so the limit on
 * descriptors is a limit on clients, and where it cannot be raised (a
 * container without CAP_SYS_RESOURCE, whose hard limit is what it is)
 * the server would stop accepting long before memory runs short. Most of
 * those clients sit in IDLE and need their socket only when something
 * happens.
 *
 * How: a parked socket sits in a slot of an io_uring fixed-file table
 * (each table as large as the limit, one more ring whenever the tables
 * are full) with a one-shot poll armed on it, and its descriptor is
 * closed. When the peer sends something or hangs up, the loop calls the
 * owner's wake function; the owner, or anything that has to write to the
 * socket, unparks it: IORING_OP_FIXED_FD_INSTALL (Linux 6.8) gives it a
 * descriptor again and the slot is freed.
 *
 * One fdpark per event loop, for that loop's thread only.
 */
#ifndef MK_FDPARK_H
#define MK_FDPARK_H

#include "lib/ev.h"

#include <stddef.h>
#include <stdint.h>

struct fdpark;

typedef void fdpark_wake_fn(void *arg);

/* NULL (errno set) where the kernel offers no way: io_uring missing or
 * disabled, or older than Linux 6.8. The caller then holds what the limit
 * allows, as without it. */
struct fdpark *fdpark_new(struct ev_loop *loop);
/* Closes every socket still parked; no wake function is called. */
void fdpark_free(struct fdpark **p);

/* Take the socket fd into a slot, close fd, and call wake(arg) on the loop
 * when it becomes readable or the peer hangs up. 0 and the slot in
 * *slot_r, or -1 (errno; fd untouched and still open). */
int fdpark_park(struct fdpark *p, int fd, fdpark_wake_fn *wake, void *arg, uint32_t *slot_r);

/* Give the parked socket a descriptor again (close-on-exec) and free its
 * slot: the new fd, or -1 with errno EMFILE when no descriptor is free
 * yet: it stays parked. A wake whose owner could not unpark is called
 * again a little later, until it does. */
int fdpark_unpark(struct fdpark *p, uint32_t slot);

/* Call the slot's wake function a little later even if nothing arrives:
 * for an owner that has output for a parked socket and found no
 * descriptor free. */
void fdpark_kick(struct fdpark *p, uint32_t slot);

/* Close the parked socket and free its slot. */
void fdpark_drop(struct fdpark *p, uint32_t slot);

/* Sockets parked now. */
size_t fdpark_count(const struct fdpark *p);

#endif
