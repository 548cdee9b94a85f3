/*
 * address: RFC 5322 address lists (with the obsolete syntax: routes,
 * phrases with dots, missing parts) as the IMAP ENVELOPE models them.
 *
 * Each entry is an IMAP address: a mailbox, or a group marker. A group
 * "name: a, b;" gives a start marker (mailbox = "name", host NULL), its
 * members, and an end marker (mailbox NULL, host NULL). Display names are
 * kept as written (RFC 2047 words still encoded, as ENVELOPE wants them),
 * quotes removed and runs of whitespace made one space; a mailbox with no
 * display name takes a trailing comment's text ("a@b (Ann)"). A mailbox
 * with no domain has host "". Never fails; at most MIME_MAX_ADDRESSES
 * entries. Pure, thread-safe.
 */
#ifndef MK_MIME_ADDRESS_H
#define MK_MIME_ADDRESS_H

#include <stddef.h>

struct arena;
struct buf;

#define MIME_MAX_ADDRESSES 10000

struct mime_address {
	struct mime_address *next;
	const char *name;     /* NULL if none */
	const char *route;    /* "@a,@b" (obsolete source route) or NULL */
	const char *mailbox;  /* local part; group name at a group start */
	const char *host;     /* domain; NULL for the group markers */
};

/* Parse a raw header value s[0..n). NULL for an empty list. */
struct mime_address *mime_address_parse(struct arena *a, const char *s, size_t n);

/* Append the IMAP form: "((name adl mailbox host)...)" or NIL for an empty
 * list. 0, or -1 at b's ceiling. */
int mime_address_write_imap(struct buf *b, const struct mime_address *list);

#endif
