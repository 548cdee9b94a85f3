/*
 * queue_sched: when to try a message again (pure functions).
 *
 * After the n-th failed attempt (n >= 1) the next one waits
 * retry_min * 2^(n-1), capped at retry_max: with the defaults (5m, 4h)
 * 5m, 10m, 20m, 40m, 80m, 160m, then every 4h. The last attempt is made at
 * the message's expiry (created + lifetime) and never later; a temporary
 * failure at or after expiry is final (the message bounces).
 */
#ifndef MK_QUEUE_SCHED_H
#define MK_QUEUE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct queue_retry {
	uint64_t min, max;       /* seconds; min >= 1, max >= min */
	uint64_t lifetime;       /* seconds */
};

/* Delay in seconds before the attempt after `attempts` failed ones. */
uint64_t queue_retry_delay(const struct queue_retry *r, unsigned attempts);

/* Time of the next attempt after a temporary failure at `now`, the message
 * created at `created` and `attempts` attempts made (this one counted). */
int64_t queue_retry_next(const struct queue_retry *r, int64_t created, int64_t now,
                         unsigned attempts);

/* Has the message outlived the lifetime at `now`? */
bool queue_retry_expired(const struct queue_retry *r, int64_t created, int64_t now);

#endif
