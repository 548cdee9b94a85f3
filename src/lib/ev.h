/*
 * ev: one epoll event loop per thread, with timers, deferred callbacks and a
 * thread-safe post queue.
 *
 * - An ev_io watches one fd (level-triggered). Its memory must stay valid
 *   until the end of the loop iteration in which it is stopped, since events
 *   for it may still be pending in that iteration; stopped watchers are not
 *   called (free objects that embed a watcher with ev_defer, not directly).
 * - Timers are one-shot, ms resolution, on the monotonic clock; ev_now() is
 *   the time at the start of the iteration.
 * - ev_defer() runs a callback once, after the current batch of events (used
 *   to flush output once per iteration and to free connections safely).
 * - ev_post() may be called from any thread: the callback runs on the loop's
 *   thread. It is how a connection moves to another worker and how other
 *   threads (the job pool) hand results back.
 * Everything else is for the loop's own thread only.
 */
#ifndef MK_EV_H
#define MK_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

/* EV_EXCLUSIVE (with EV_READ, at first registration only): wake one of the
 * loops watching a shared listening socket, not all (EPOLLEXCLUSIVE). */
enum { EV_READ = 1u, EV_WRITE = 2u, EV_EXCLUSIVE = 4u };

struct ev_io {
	int fd;
	unsigned events;     /* registered interest, 0 when stopped */
	void (*cb)(struct ev_loop *loop, struct ev_io *io, unsigned revents);
	void *data;
};

struct ev_timer {
	uint64_t at;         /* absolute ev_now() time it fires */
	size_t heap_idx;     /* 0 = not active; else 1-based position */
	void (*cb)(struct ev_loop *loop, struct ev_timer *t);
	void *data;
};

struct ev_defer {
	struct ev_defer *next;
	bool queued;
	void (*cb)(struct ev_loop *loop, struct ev_defer *d);
	void *data;
};

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop **loop);
/* Runs until ev_loop_stop(); returns 0. */
int ev_loop_run(struct ev_loop *loop);
/* Loop thread only; from elsewhere, ev_post a callback that calls it. */
void ev_loop_stop(struct ev_loop *loop);

uint64_t ev_now(const struct ev_loop *loop);
/* Monotonic milliseconds, not cached. */
uint64_t ev_clock_ms(void);

/* Register or change the interest set (EV_READ|EV_WRITE; 0 = stop).
 * Returns 0 or -1 (errno set). */
int ev_io_set(struct ev_loop *loop, struct ev_io *io, unsigned events);
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);

void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
static inline bool ev_timer_active(const struct ev_timer *t) { return t->heap_idx != 0; }

/* Queue d to run after the current batch (no-op if already queued). */
void ev_defer(struct ev_loop *loop, struct ev_defer *d);
void ev_defer_cancel(struct ev_loop *loop, struct ev_defer *d);

/* Any thread. The callback runs on the loop's thread, in posting order. */
void ev_post(struct ev_loop *loop, void (*fn)(void *arg), void *arg);

/* Number of active io watchers (for tests and shutdown). */
size_t ev_loop_io_count(const struct ev_loop *loop);

#endif
