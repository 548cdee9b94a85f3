/*
 * jobs: a small pool of threads for work that must not block an event loop
 * (argon2 password verification takes tens of milliseconds of CPU).
 *
 * jobs_submit() queues work(arg) to run on a pool thread; when it returns,
 * done(arg) runs on `reply` (an event loop) through ev_post(). The caller
 * keeps arg alive until done() runs. The queue is bounded: jobs_submit()
 * returns -1 when it is full, and the caller answers "try again later".
 */
#ifndef MK_JOBS_H
#define MK_JOBS_H

#include "lib/ev.h"

#include <stddef.h>

int jobs_start(unsigned threads, size_t max_queued);
/* Finish queued work, then join the threads. */
void jobs_stop(void);
int jobs_submit(struct ev_loop *reply, void (*work)(void *arg),
                void (*done)(void *arg), void *arg);

/* Hook run once in each pool thread when it exits (to close per-thread
 * handles such as an accounts database). */
void jobs_set_thread_exit(void (*fn)(void));

#endif
