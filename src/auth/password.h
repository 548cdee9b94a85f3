/*
 * password: argon2id password hashes (libargon2), stored as the standard
 * encoded string "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>".
 *
 * Parameters follow the OWASP recommendation for a login server (19 MiB,
 * 2 passes, 1 lane): one verification takes tens of milliseconds and 19 MiB
 * of memory, so callers on an event loop must run it in a worker thread.
 * Every function is thread-safe (no shared mutable state besides a dummy
 * hash built once under pthread_once).
 */
#ifndef MK_PASSWORD_H
#define MK_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Room for an encoded hash with the current parameters (NUL included). */
#define PASSWORD_HASH_MAX 128
/* Longest password accepted; longer ones are refused when set and never
 * match when verified (no legitimate client sends more). */
#define PASSWORD_MAX_LEN 4096

/* Hash password[0..len) with a fresh random 16-byte salt into out
 * (PASSWORD_HASH_MAX bytes), NUL-terminated. 0, or -1 with *error_r (static
 * text): empty or too long password, no randomness, argon2 failure. */
int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX],
                  const char **error_r);

/* password_verify() results: 0 on a match, negative otherwise. */
#define PASSWORD_OK 0
#define PASSWORD_MISMATCH (-1)
#define PASSWORD_BAD_HASH (-2)  /* stored hash malformed: tell the operator */

/* Constant-time check of password[0..len) against an encoded hash (any
 * argon2 variant libargon2 knows). PASSWORD_OK only on a match. */
int password_verify(const char *encoded, const char *password, size_t len);

/* Spend the same time as password_verify() against a hash with the current
 * parameters, and return nothing: used when the account does not exist, so
 * the response time does not tell which accounts exist. */
void password_verify_dummy(const char *password, size_t len);

/* True when an encoded hash is not argon2id with the current parameters
 * and should be replaced by a fresh password_hash() after a successful
 * login. */
bool password_needs_rehash(const char *encoded);

#endif
