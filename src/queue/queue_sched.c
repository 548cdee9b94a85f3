/* queue_sched: the retry schedule (see queue_sched.h). */
#include "queue/queue_sched.h"

uint64_t queue_retry_delay(const struct queue_retry *r, unsigned attempts)
{
	uint64_t min = r->min ? r->min : 1, max = r->max < min ? min : r->max;
	uint64_t d = min;
	for (unsigned i = 1; i < attempts && d < max; i++)
		d *= 2;
	return d > max ? max : d;
}

int64_t queue_retry_next(const struct queue_retry *r, int64_t created, int64_t now,
                         unsigned attempts)
{
	int64_t next = now + (int64_t)queue_retry_delay(r, attempts);
	int64_t expiry = created + (int64_t)r->lifetime;
	if (next > expiry)
		next = expiry > now ? expiry : now;
	return next;
}

bool queue_retry_expired(const struct queue_retry *r, int64_t created, int64_t now)
{
	return now >= created + (int64_t)r->lifetime;
}
