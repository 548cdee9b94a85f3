/*
 * login_cache: remembers recent successful password checks, so that a
 * client that reconnects (phones poll, desktop clients open several
 * connections at once) does not pay one argon2id verification (tens of ms
 * of CPU and 19 MiB) per connection.
 *
 * What is kept per account is not the password but
 *   HMAC-SHA256(process key, stored hash string || 0 || password)
 * and an expiry time. The process key is random, made at creation and
 * never leaves memory. Because the stored hash string is part of the MAC,
 * a password change (a new hash, new salt) makes every entry of that
 * account miss without any invalidation message; a deleted or disabled
 * account is still looked up in the database on every login.
 *
 * Only successes are stored: a wrong password always costs a full
 * verification (and the throttle's delay), so the cache does not speed up
 * guessing. The trade-off, documented with `auth_cache_ttl`: someone who
 * can read the server's memory could test guesses for a cached account at
 * HMAC speed instead of argon2id speed, for as long as the entry lives.
 *
 * Fixed size, direct-mapped by account id (a colliding account evicts the
 * older entry); thread-safe (one mutex, held for a few hundred ns).
 */
#ifndef MK_AUTH_LOGIN_CACHE_H
#define MK_AUTH_LOGIN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct login_cache;

/* ttl_ms: how long a success is remembered; slots: how many accounts
 * (rounded up to a power of two). NULL if no randomness is available. */
struct login_cache *login_cache_new(uint64_t ttl_ms, size_t slots);
void login_cache_free(struct login_cache **lc);

/* True if this account's password was verified against this stored hash
 * within the TTL, with this exact password. */
bool login_cache_check(struct login_cache *lc, int64_t account_id, const char *stored_hash,
                       const char *password, size_t password_len, uint64_t now_ms);

/* Record a successful verification. */
void login_cache_store(struct login_cache *lc, int64_t account_id, const char *stored_hash,
                       const char *password, size_t password_len, uint64_t now_ms);

#endif
