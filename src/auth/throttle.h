/*
 * throttle: failed logins slow down, per IP address and per account.
 *
 * Three records count recent failures: the (IP, account) pair, the IP as a
 * whole and the account as a whole. The pair's record delays from its
 * first failure; the IP's and the account's only after `shared_free`
 * failures, so one forgetful user behind an office NAT does not slow down
 * the whole office, while an address trying many accounts (spraying) or
 * many addresses trying one account (a botnet) still are. With n counted
 * failures a record asks for base_ms * 2^(n-1), capped at max_ms; the
 * delay is the largest any of the three asks. One failure is forgiven for
 * every decay_ms without a failure on that record.
 *
 * A success clears the pair's record; the IP's and the account's records
 * keep their counts and decay with time (a success from one address must
 * not wipe out what another address did).
 *
 * How protocols use it: before answering a login attempt, look up
 * throttle_delay_ms() and hold the answer that long (on a timer, not by
 * sleeping); then verify and record the outcome. auth_verify() does the
 * recording when given a throttle.
 *
 * Memory is fixed at creation: a table of max_entries records keyed by a
 * keyed hash (SipHash with a random key, so clients cannot aim their
 * entries at one slot). A new record takes a free or decayed slot near its
 * hash, else evicts the least recently failed of those slots; an attacker
 * rotating addresses only pushes out old records, never grows memory.
 *
 * Time is passed in (milliseconds on any monotonic clock). All functions
 * are thread-safe (one mutex).
 */
#ifndef MK_THROTTLE_H
#define MK_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct throttle;

struct throttle_params {
	uint32_t base_ms;      /* delay after the first counted failure */
	uint32_t max_ms;       /* cap (config auth_fail_delay_max) */
	uint32_t decay_ms;     /* quiet time that forgives one failure */
	uint32_t shared_free;  /* failures an IP or account has before its own record delays */
	size_t max_entries;    /* table size (rounded up to a power of two) */
};

/* Defaults: 250 ms doubling, cap max_delay_s seconds, one failure forgiven
 * per minute, 3 free shared failures, 16384 records (~400 KiB). */
void throttle_params_default(struct throttle_params *p, uint32_t max_delay_s);

struct throttle *throttle_new(const struct throttle_params *p);
void throttle_free(struct throttle **t);

/* ip: the client's address as text; account: the user name as given
 * (compared ASCII case-insensitively); either may be NULL or "" when
 * unknown. */
uint32_t throttle_delay_ms(struct throttle *t, const char *ip, const char *account,
                           uint64_t now_ms);
void throttle_failure(struct throttle *t, const char *ip, const char *account, uint64_t now_ms);
void throttle_success(struct throttle *t, const char *ip, const char *account, uint64_t now_ms);

/* Records in use, and the fixed capacity (for tests and stats). */
size_t throttle_entries(struct throttle *t);
size_t throttle_capacity(const struct throttle *t);

#endif
