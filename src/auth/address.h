/*
 * address: validation and normal form of the addresses accounts.db stores.
 *
 * A plausible address is local@domain with
 *   - local part: 1..64 bytes of RFC 5322 dot-atom text (letters, digits,
 *     !#$%&'*+-=?^_`{|}~ and dots, no leading, trailing or doubled dot);
 *     no quoted local parts, no spaces, no control or 8-bit bytes, no '/';
 *   - domain: 1..253 bytes of dot-separated labels of 1..63 letters, digits
 *     and hyphens, no label starting or ending with a hyphen, at least two
 *     labels; internationalized domains in their A-label (xn--) form;
 *   - at most 254 bytes in all (RFC 5321 path limit minus the brackets).
 * The normal form keeps the local part as given and lower-cases the domain;
 * comparisons elsewhere are ASCII case-insensitive on the whole address.
 *
 * Pure functions, thread-safe. Error texts are static strings.
 */
#ifndef MK_ADDRESS_H
#define MK_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define ADDRESS_MAX 254
#define ADDRESS_LOCAL_MAX 64
#define ADDRESS_DOMAIN_MAX 253

/* Validate a domain name; 0 and writes the lower-cased form into out
 * (ADDRESS_DOMAIN_MAX + 1 bytes), or -1 with *error_r. */
int address_domain_normalize(const char *domain, char out[ADDRESS_DOMAIN_MAX + 1],
                             const char **error_r);

/* Validate local@domain; 0 and writes the normal form into out
 * (ADDRESS_MAX + 1 bytes), or -1 with *error_r. */
int address_normalize(const char *address, char out[ADDRESS_MAX + 1], const char **error_r);

/* The domain part of a normalized address (the text after the last '@'). */
const char *address_domain(const char *normalized);

#endif
