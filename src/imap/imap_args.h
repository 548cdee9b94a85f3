/*
 * imap_args: the argument tree of one parsed IMAP command, and typed
 * accessors the command handlers use to read it.
 *
 * The parser (imap_parser.h) builds the tree in the command arena; every
 * string is NUL-terminated and `len` gives its length (literals may contain
 * bytes the NUL-termination hides: always use len). Each argument array ends
 * with an IMAP_ARG_EOL sentinel, so args[count].type == IMAP_ARG_EOL.
 *
 * Lexical classes only: an atom is any run of ATOM-CHARs (plus `]`, `%`, `*`,
 * `\`), so flags (`\Seen`), sequence sets (`1:*,$`), list patterns (`a/%`)
 * and fetch attributes with sections (`BODY.PEEK[HEADER.FIELDS (A B)]<0.10>`)
 * all arrive as one ATOM whose meaning the command decides. Numbers are
 * atoms too: imap_arg_get_number() reads them.
 *
 * The accessors return true and fill *_r, or false and leave *_r alone; they
 * never allocate.
 */
#ifndef MK_IMAP_ARGS_H
#define MK_IMAP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_EOL = 0,        /* sentinel after the last arg of an array */
	IMAP_ARG_ATOM,
	IMAP_ARG_NIL,            /* the atom NIL (any case); str holds its text */
	IMAP_ARG_QUOTED,         /* unescaped content */
	IMAP_ARG_LITERAL,        /* {N} / {N+} / ~{N}, bytes kept in memory */
	IMAP_ARG_LITERAL_STREAM, /* bytes were handed to the caller; str NULL */
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;             /* LITERAL / LITERAL_STREAM sent as ~{N} */
	const char *str;           /* ATOM, NIL, QUOTED, LITERAL */
	uint64_t len;              /* bytes of str; size of a streamed literal */
	const struct imap_arg *list; /* LIST: count args + EOL */
	size_t count;
};

/* ATOM only (not NIL). */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
/* QUOTED or LITERAL held in memory. Literal8 is refused: it may carry NUL. */
bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r, size_t *len_r);
/* astring: ATOM, NIL (a mailbox may be called "NIL"), QUOTED or LITERAL. */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
/* nstring: string or NIL (*str_r = NULL, *len_r = 0 for NIL). */
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
/* Decimal number without sign (number64: up to 2^63-1), from an atom. */
bool imap_arg_get_number(const struct imap_arg *arg, uint64_t *num_r);
/* LIST: its args (EOL-terminated) and count. */
bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r, size_t *count_r);
/* ATOM equal to word, ASCII case-insensitively. */
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *word);

#endif
