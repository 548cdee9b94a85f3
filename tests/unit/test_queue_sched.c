/* The retry schedule: doubling from retry_min, capped at retry_max, the
 * last attempt at the expiry and never after it. */
#include "unit.h"
#include "queue/queue_sched.h"

static void doubling_and_cap(void **state)
{
	struct queue_retry r = { .min = 300, .max = 4 * 3600, .lifetime = 5 * 86400 };
	static const uint64_t want[] = { 300, 600, 1200, 2400, 4800, 9600, 14400, 14400 };
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(queue_retry_delay(&r, i + 1), want[i]);
	assert_int_equal(queue_retry_delay(&r, 0), 300);
	/* huge attempt counts do not overflow */
	assert_int_equal(queue_retry_delay(&r, 1000000), 14400);
	/* max below min: min wins; min 0 is taken as 1 */
	struct queue_retry odd = { .min = 10, .max = 5, .lifetime = 100 };
	assert_int_equal(queue_retry_delay(&odd, 3), 10);
	struct queue_retry zero = { .min = 0, .max = 8, .lifetime = 100 };
	assert_int_equal(queue_retry_delay(&zero, 1), 1);
	assert_int_equal(queue_retry_delay(&zero, 5), 8);
}

static void last_try_at_expiry(void **state)
{
	struct queue_retry r = { .min = 1, .max = 1, .lifetime = 5 };
	int64_t created = 1000;
	assert_int_equal(queue_retry_next(&r, created, 1000, 1), 1001);
	assert_int_equal(queue_retry_next(&r, created, 1004, 5), 1005);
	assert_false(queue_retry_expired(&r, created, 1004));
	assert_true(queue_retry_expired(&r, created, 1005));
	assert_true(queue_retry_expired(&r, created, 9999));

	struct queue_retry d = { .min = 300, .max = 14400, .lifetime = 5 * 86400 };
	int64_t t = 0, now = 0;
	unsigned attempts = 0;
	/* walk the whole schedule: strictly increasing, ends at the expiry */
	for (;;) {
		attempts++;
		if (queue_retry_expired(&d, 0, now))
			break;
		t = queue_retry_next(&d, 0, now, attempts);
		assert_true(t > now);
		assert_true(t <= 5 * 86400);
		now = t;
	}
	assert_int_equal(now, 5 * 86400);
	/* 5m..160m is 6 attempts, then 4h steps: about 35 in 5 days */
	assert_in_range(attempts, 30, 40);
	/* already past the expiry (e.g. after downtime): try now, once */
	assert_int_equal(queue_retry_next(&d, 0, 6 * 86400, 3), 6 * 86400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doubling_and_cap),
		cmocka_unit_test(last_try_at_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
