#include "unit.h"
#include "auth/siphash.h"
#include "auth/throttle.h"

#include <pthread.h>
#include <stdio.h>

static struct throttle *make(uint32_t max_s, size_t entries)
{
	struct throttle_params p;
	throttle_params_default(&p, max_s);
	if (entries != 0)
		p.max_entries = entries;
	return throttle_new(&p);
}

static void siphash_reference_vector(void **state)
{
	/* From the SipHash paper, appendix A: key 00..0f, message 00..0e. */
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	assert_true(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
}

static void clean_record_has_no_delay(void **state)
{
	struct throttle *t = make(15, 0);
	assert_int_equal(throttle_delay_ms(t, "192.0.2.1", "alice@example.com", 1000), 0);
	assert_int_equal(throttle_delay_ms(t, NULL, NULL, 1000), 0);
	throttle_free(&t);
	assert_null(t);
}

static void pair_delay_doubles_up_to_the_cap(void **state)
{
	struct throttle *t = make(15, 0);
	const char *ip = "192.0.2.1", *who = "alice@example.com";
	uint64_t now = 1000000;
	uint32_t want[] = { 250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		throttle_failure(t, ip, who, now);
		assert_int_equal(throttle_delay_ms(t, ip, who, now), want[i]);
		now += 10;
	}
	/* Another address is not slowed by alice's record at this IP... */
	assert_int_equal(throttle_delay_ms(t, "198.51.100.7", "bob@example.com", now), 0);
	/* ...but alice's account is, from anywhere, after the free failures. */
	assert_true(throttle_delay_ms(t, "198.51.100.7", "ALICE@example.com", now) > 0);
	throttle_free(&t);
}

static void failures_decay_with_quiet_time(void **state)
{
	struct throttle *t = make(15, 0);
	const char *ip = "2001:db8::1", *who = "bob@example.com";
	uint64_t now = 5000000;
	for (int i = 0; i < 4; i++)
		throttle_failure(t, ip, who, now);
	assert_int_equal(throttle_delay_ms(t, ip, who, now), 2000);
	/* One failure forgiven per minute of quiet. */
	assert_int_equal(throttle_delay_ms(t, ip, who, now + 59999), 2000);
	assert_int_equal(throttle_delay_ms(t, ip, who, now + 60000), 1000);
	assert_int_equal(throttle_delay_ms(t, ip, who, now + 120000), 500);
	assert_int_equal(throttle_delay_ms(t, ip, who, now + 180000), 250);
	assert_int_equal(throttle_delay_ms(t, ip, who, now + 240000), 0);
	/* A failure after partial decay counts from what is left. */
	throttle_failure(t, ip, who, now + 120000);
	assert_int_equal(throttle_delay_ms(t, ip, who, now + 120000), 1000);
	/* A clock that goes backwards forgives nothing and breaks nothing. */
	assert_int_equal(throttle_delay_ms(t, ip, who, now), 1000);
	throttle_free(&t);
}

static void success_clears_pair_not_ip(void **state)
{
	struct throttle *t = make(30, 0);
	const char *ip = "203.0.113.9";
	uint64_t now = 1;
	/* Spraying: one failure each on many accounts from one address. */
	for (int i = 0; i < 6; i++) {
		char who[32];
		snprintf(who, sizeof(who), "user%d@example.com", i);
		throttle_failure(t, ip, who, now);
	}
	/* The IP has 6 failures, 3 free: 3 counted -> 1000 ms for anyone there. */
	assert_int_equal(throttle_delay_ms(t, ip, "new@example.com", now), 1000);
	throttle_failure(t, ip, "carol@example.com", now);
	assert_int_equal(throttle_delay_ms(t, ip, "carol@example.com", now), 2000);
	throttle_success(t, ip, "carol@example.com", now);
	/* Carol's own record is gone; the IP's count stays. */
	assert_int_equal(throttle_delay_ms(t, ip, "carol@example.com", now), 2000);
	assert_int_equal(throttle_delay_ms(t, "203.0.113.10", "carol@example.com", now), 0);
	throttle_free(&t);
}

static void success_resets_pair_delay(void **state)
{
	struct throttle *t = make(30, 0);
	throttle_failure(t, "192.0.2.5", "dave@example.com", 10);
	throttle_failure(t, "192.0.2.5", "dave@example.com", 10);
	assert_int_equal(throttle_delay_ms(t, "192.0.2.5", "dave@example.com", 10), 500);
	throttle_success(t, "192.0.2.5", "Dave@Example.com", 10);
	assert_int_equal(throttle_delay_ms(t, "192.0.2.5", "dave@example.com", 10), 0);
	throttle_free(&t);
}

static void many_addresses_slow_one_account(void **state)
{
	struct throttle *t = make(60, 0);
	char ip[32];
	for (int i = 0; i < 10; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		throttle_failure(t, ip, "target@example.com", 100);
	}
	/* 10 failures, 3 free: 7 counted -> 250 * 2^6. */
	assert_int_equal(throttle_delay_ms(t, "10.9.9.9", "target@example.com", 100), 16000);
	throttle_free(&t);
}

static void memory_is_bounded_under_rotation(void **state)
{
	struct throttle *t = make(15, 1024);
	size_t cap = throttle_capacity(t);
	assert_int_equal(cap, 1024);
	char ip[48], who[48];
	uint64_t now = 1;
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8::%x:%x", i >> 16, i & 0xffff);
		snprintf(who, sizeof(who), "u%d@example.com", i);
		throttle_failure(t, ip, who, now++);
	}
	assert_true(throttle_entries(t) <= cap);
	/* The newest records survived eviction of the oldest. */
	assert_int_equal(throttle_delay_ms(t, ip, who, now), 250);
	throttle_free(&t);
}

struct hammer_arg { struct throttle *t; int id; };

static void *hammer(void *p)
{
	struct hammer_arg *a = p;
	char ip[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", a->id, (i >> 8) & 255, i & 255);
		throttle_failure(a->t, ip, "x@example.com", (uint64_t)i);
		(void)throttle_delay_ms(a->t, ip, "x@example.com", (uint64_t)i);
		if (i % 7 == 0)
			throttle_success(a->t, ip, "x@example.com", (uint64_t)i);
	}
	return NULL;
}

static void concurrent_use_is_safe(void **state)
{
	struct throttle *t = make(15, 4096);
	pthread_t th[4];
	struct hammer_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct hammer_arg){ t, i };
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_true(throttle_entries(t) <= throttle_capacity(t));
	assert_int_equal(throttle_delay_ms(t, "10.0.0.1", "x@example.com", 20000),
	                 15000);  /* the account took 80000 failures */
	throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(siphash_reference_vector),
		cmocka_unit_test(clean_record_has_no_delay),
		cmocka_unit_test(pair_delay_doubles_up_to_the_cap),
		cmocka_unit_test(failures_decay_with_quiet_time),
		cmocka_unit_test(success_clears_pair_not_ip),
		cmocka_unit_test(success_resets_pair_delay),
		cmocka_unit_test(many_addresses_slow_one_account),
		cmocka_unit_test(memory_is_bounded_under_rotation),
		cmocka_unit_test(concurrent_use_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
