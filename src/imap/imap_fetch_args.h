/*
 * imap_fetch_args: the data items of a FETCH command (RFC 9051 6.4.5,
 * RFC 3501 6.4.5, BINARY RFC 3516, CONDSTORE/QRESYNC RFC 7162, PREVIEW
 * RFC 8970), parsed from the argument tree into a plain struct.
 *
 *   FETCH <set> <att>            att: one item or macro (ALL, FAST, FULL)
 *   FETCH <set> (<att> ...)      a list of items (macros not allowed here)
 *   FETCH <set> <att> (<modifier> ...)
 *                                CHANGEDSINCE <modseq>, VANISHED
 *
 * Items with a section arrive from the parser as one atom
 * ("BODY.PEEK[HEADER.FIELDS (From To)]<0.100>"); they are taken apart
 * here, the section text by mime_section_parse(). Each body item gets
 * `name`, the text its value is announced with in the response
 * ("BODY[HEADER.FIELDS (FROM TO)]<0>"): keywords and field names upper
 * case, the partial shown as its origin only.
 *
 * Pure: no session, no store. Errors are syntax errors: the caller answers
 * BAD with *error_r (static text). Rules that depend on the session
 * (VANISHED needs QRESYNC and UID FETCH) are the command's to check; the
 * parser only checks that VANISHED comes with CHANGEDSINCE.
 */
#ifndef MK_IMAP_FETCH_ARGS_H
#define MK_IMAP_FETCH_ARGS_H

#include "imap/imap_args.h"
#include "mime/section.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Items of at most this many; more is BAD. */
#define IMAP_FETCH_MAX_ITEMS 128

enum imap_fetch_item {
	IMAP_FETCH_FLAGS = 1 << 0,
	IMAP_FETCH_INTERNALDATE = 1 << 1,
	IMAP_FETCH_RFC822_SIZE = 1 << 2,
	IMAP_FETCH_ENVELOPE = 1 << 3,
	IMAP_FETCH_BODY = 1 << 4,          /* BODY without section */
	IMAP_FETCH_BODYSTRUCTURE = 1 << 5,
	IMAP_FETCH_UID = 1 << 6,
	IMAP_FETCH_MODSEQ = 1 << 7,
	IMAP_FETCH_PREVIEW = 1 << 8,
};

enum imap_fetch_sect_kind {
	IMAP_SECT_BODY,          /* BODY[...] / BODY.PEEK[...] */
	IMAP_SECT_BINARY,        /* BINARY[...] / BINARY.PEEK[...] */
	IMAP_SECT_BINARY_SIZE,   /* BINARY.SIZE[...] */
	IMAP_SECT_RFC822,        /* = BODY[] answered as "RFC822" */
	IMAP_SECT_RFC822_HEADER, /* = BODY.PEEK[HEADER] as "RFC822.HEADER" */
	IMAP_SECT_RFC822_TEXT,   /* = BODY[TEXT] as "RFC822.TEXT" */
};

struct imap_fetch_sect {
	enum imap_fetch_sect_kind kind;
	bool peek;               /* no implicit \Seen */
	struct mime_section sec; /* BINARY*: only sec.path/npath are used */
	bool partial;            /* <start.count> given */
	uint64_t start, count;
	const char *name;        /* response item name, see above */
};

struct imap_fetch_args {
	unsigned items;          /* enum imap_fetch_item bits */
	struct imap_fetch_sect *sects;
	size_t nsects;
	bool sets_seen;          /* some section is not PEEK (\Seen is set) */
	bool need_message;       /* some section needs the message bytes */
	bool preview_lazy;       /* PREVIEW (LAZY) was asked (answered alike) */
	bool changedsince;       /* CHANGEDSINCE modifier given */
	uint64_t changedsince_modseq;
	bool vanished;           /* VANISHED modifier given */
};

/* args[0..n): the arguments after the sequence set. 0, or -1 with
 * *error_r. Memory from `a`. */
int imap_fetch_args_parse(struct arena *a, const struct imap_arg *args, size_t n,
                          struct imap_fetch_args *out, const char **error_r);

/* Parse one item atom ("BODY.PEEK[1.MIME]<5.10>", "FLAGS", ...) into out;
 * exposed for tests. Macros are not items. 0 or -1. */
int imap_fetch_item_parse(struct arena *a, const char *s, size_t n,
                          struct imap_fetch_args *out, const char **error_r);

#endif
