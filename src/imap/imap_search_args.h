/*
 * imap_search_args: the SEARCH grammar (RFC 9051 6.4.4, RFC 3501 6.4.4,
 * ESEARCH return options RFC 4731 / RFC 9051, SEARCHRES "$" RFC 5182,
 * CONDSTORE MODSEQ RFC 7162) turned into the store's criteria tree.
 *
 *   SEARCH [RETURN (<opt> ...)] [CHARSET <cs>] <key> [<key> ...]
 *
 * Every key of the RFC is known: ALL, ANSWERED, BCC, BEFORE, BODY, CC,
 * DELETED, DRAFT, FLAGGED, FROM, HEADER, KEYWORD, LARGER, NEW, NOT, OLD,
 * ON, OR, RECENT, SEEN, SENTBEFORE, SENTON, SENTSINCE, SINCE, SMALLER,
 * SUBJECT, TEXT, TO, UID, UNANSWERED, UNDELETED, UNDRAFT, UNFLAGGED,
 * UNKEYWORD, UNSEEN, MODSEQ, a sequence set (with "*" and "$"), and
 * parenthesized lists. Keys are ANDed. KEYWORD with a system flag
 * ("KEYWORD \Seen") is taken as that flag. Strings are astrings (atom,
 * quoted or literal); dates are "1-Feb-1994" (quoted or not).
 *
 * Sequence sets need the selected mailbox: the parser hands each set atom
 * to env->resolve_set, which maps it to UIDs (sequence numbers through the
 * session's map, "$" to the saved result). Everything else is pure.
 *
 * Charsets: UTF-8 and US-ASCII (any case); another gives
 * IMAP_SEARCH_E_BADCHARSET, which the command answers
 * "NO [BADCHARSET (UTF-8 US-ASCII)]".
 *
 * Bounds: at most IMAP_SEARCH_MAX_KEYS keys in all and nesting (NOT, OR,
 * parentheses) at most IMAP_SEARCH_MAX_DEPTH deep; beyond is BAD.
 */
#ifndef MK_IMAP_SEARCH_ARGS_H
#define MK_IMAP_SEARCH_ARGS_H

#include "imap/imap_args.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

#define IMAP_SEARCH_MAX_KEYS 400
#define IMAP_SEARCH_MAX_DEPTH 32

enum imap_search_ret {
	IMAP_SEARCH_RET_MIN = 1 << 0,
	IMAP_SEARCH_RET_MAX = 1 << 1,
	IMAP_SEARCH_RET_ALL = 1 << 2,
	IMAP_SEARCH_RET_COUNT = 1 << 3,
	IMAP_SEARCH_RET_SAVE = 1 << 4,
};

enum imap_search_err {
	IMAP_SEARCH_OK = 0,
	IMAP_SEARCH_E_SYNTAX = -1,     /* BAD */
	IMAP_SEARCH_E_BADCHARSET = -2, /* NO [BADCHARSET (UTF-8 US-ASCII)] */
};

struct imap_search_env {
	/* Map a sequence set written in a SEARCH (set[0..len), as the client
	 * sent it; "$" included) to UIDs: uid tells whether it came after the
	 * UID key. 0, or -1 with *error_r (answered BAD). */
	int (*resolve_set)(void *ctx, const char *set, size_t len, bool uid,
	                   struct arena *a, struct store_uidset *out, const char **error_r);
	void *ctx;
};

struct imap_search_args {
	struct store_search *query;  /* never NULL on success */
	bool esearch;                /* RETURN (...) was given */
	unsigned ret;                /* enum imap_search_ret; RETURN () = ALL */
	bool modseq;                 /* a MODSEQ key was used */
	bool uses_saved;             /* "$" appeared somewhere */
	const char *charset;         /* as given, or NULL */
};

/* args[0..n): everything after "SEARCH". Returns IMAP_SEARCH_OK or an
 * enum imap_search_err with *error_r (static text, or the resolver's).
 * Memory from `a`. */
int imap_search_args_parse(struct arena *a, const struct imap_arg *args, size_t n,
                           const struct imap_search_env *env,
                           struct imap_search_args *out, const char **error_r);

#endif
