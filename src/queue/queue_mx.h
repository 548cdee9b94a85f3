/*
 * queue_mx: where to deliver mail for a domain (RFC 5321 section 5.1).
 *
 * queue_mx_lookup() asks the system resolver (res_query, libresolv) for
 * the domain's MX records. The hosts are tried in order of preference,
 * lowest first, and in random order among equal preferences (the spread
 * RFC 5321 asks for). A domain without MX records (NODATA) is its own
 * mail host (the "implicit MX": its A/AAAA records, looked up by the
 * caller with getaddrinfo). A domain that does not exist is a permanent
 * failure, as is a "null MX" (RFC 7505: one MX "." saying the domain takes
 * no mail). Resolver trouble (SERVFAIL, timeout) is temporary.
 *
 * queue_mx_parse() and queue_mx_sort() are pure functions over a DNS
 * answer and a record array, for the unit tests. All thread-safe (glibc's
 * resolver state is per thread).
 */
#ifndef MK_QUEUE_MX_H
#define MK_QUEUE_MX_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_MX_MAX 16

struct queue_mx {
	unsigned pref;
	char host[256];      /* "" for the null MX "." */
};

enum queue_mx_result {
	QUEUE_MX_OK,         /* n >= 1 records, sorted */
	QUEUE_MX_NONE,       /* no MX: deliver to the domain itself */
	QUEUE_MX_NULL,       /* RFC 7505 null MX: the domain accepts no mail */
	QUEUE_MX_NXDOMAIN,   /* no such domain: permanent */
	QUEUE_MX_TEMP,       /* try again later */
};

/* Parse a DNS answer (as res_query returns it) into at most max records
 * (the rest are dropped). QUEUE_MX_OK with *n_r >= 1, QUEUE_MX_NONE when
 * it has no MX record, QUEUE_MX_TEMP when it cannot be parsed. Not sorted. */
enum queue_mx_result queue_mx_parse(const unsigned char *answer, size_t len,
                                    struct queue_mx *out, size_t max, size_t *n_r);

/* Sort by preference; records of equal preference are shuffled with a
 * generator seeded by `seed` (the same seed gives the same order). */
void queue_mx_sort(struct queue_mx *mx, size_t n, uint64_t seed);

/* Lookup + sort. On failure *why (static) says what happened. */
enum queue_mx_result queue_mx_lookup(const char *domain, struct queue_mx *out, size_t max,
                                     size_t *n_r, const char **why);

#endif
