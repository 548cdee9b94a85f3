/*
 * siphash: SipHash-2-4 (Aumasson & Bernstein, 2012), a keyed 64-bit hash.
 * Used where an attacker chooses the keys of a hash table (the login
 * throttle): with a secret random key they cannot aim entries at one
 * bucket. Pure, thread-safe.
 */
#ifndef MK_SIPHASH_H
#define MK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
