/*
 * imap_parser: resumable streaming parser of IMAP client commands
 * (RFC 9051 / RFC 3501 section 9 grammar, LITERAL+/LITERAL- of RFC 7888,
 * literal8 of RFC 3516).
 *
 * Pure syntax: no sockets, no logging. The session hands it whatever bytes
 * it has; the parser consumes what it can, keeps its state in the struct,
 * and reports how much it used. Partial tokens are copied into the parser
 * (bounded by max_line), so a client sending one byte per packet costs O(n)
 * in total and the session may drop consumed bytes at once.
 *
 * Driving it (the session loop):
 *
 *   st = imap_parser_feed(p, in, len, &res);  drop res.consumed bytes of in;
 *   IMAP_PARSE_MORE          every byte was consumed; read more.
 *   IMAP_PARSE_DONE          res.cmd is a complete command. The parser
 *                            stopped right after its line's LF: nothing of
 *                            the next command is consumed (STARTTLS may drop
 *                            what is left; IDLE/AUTHENTICATE switch mode).
 *   IMAP_PARSE_LITERAL       a literal was announced (res.literal_*); res.cmd
 *                            holds the command so far (tag, name, top-level
 *                            args before the literal). Before feeding again
 *                            call exactly one of imap_parser_literal_keep(),
 *                            _stream() or _refuse(); after keep/stream of a
 *                            synchronizing literal, send "+ ..." first.
 *   IMAP_PARSE_LITERAL_DATA  a chunk of a streamed literal: res.data/res.len
 *                            point into the caller's input (valid until the
 *                            caller changes that buffer); res.literal_left is
 *                            what is still to come. Every streamed literal
 *                            ends with a chunk whose literal_left is 0 (a
 *                            0-byte literal gives one empty chunk, on the
 *                            next feed, which may have len 0; since a
 *                            command always goes on after a literal, the
 *                            next bytes from the client also bring it).
 *                            Parsing of the command then continues.
 *   IMAP_PARSE_LINE          a continuation line (see imap_parser_expect_line).
 *   IMAP_PARSE_BAD           syntax error or limit: reply "<tag> BAD" (or
 *                            "* BAD" when res.cmd/tag is NULL), adding
 *                            [TOOBIG] when res.error == IMAP_PARSE_ERR_TOOBIG.
 *                            The parser then skips the rest of the command
 *                            by itself, literal-aware: {N+} bytes are read
 *                            and discarded, never parsed as commands; a line
 *                            ending in {N} ends the command (no "+" was sent,
 *                            so the client sends no bytes). Skipping can
 *                            span feeds: imap_parser_idle() is false until
 *                            it is over, and it may still end in FATAL.
 *                            Skipping allocates nothing and never looks at
 *                            the bad command again: reset its arena as soon
 *                            as the BAD is answered (waiting for idle would
 *                            let a run of bad commands, each found mid-line,
 *                            pile up in one arena).
 *   IMAP_PARSE_FATAL         the stream can no longer be followed (a
 *                            non-synchronizing literal larger than
 *                            max_discard): send "* BYE [TOOBIG] ..." and
 *                            close. res.cmd may be NULL. Further feeds
 *                            return FATAL again and consume nothing.
 *
 * Non-synchronizing literal policy (RFC 7888 allows either): one refused
 * (over max_literal, over 4096 under LITERAL-, refused by the session, or
 * inside a command being skipped) is read and discarded when its size is
 * at most max_discard, otherwise the result is FATAL.
 *
 * Lenient where it is safe (as Dovecot): a lone LF ends a line like CRLF;
 * runs of spaces between arguments are accepted; empty lines are ignored.
 * Strict where it matters: CR not followed by LF is BAD; NUL is BAD outside
 * literal8 (in a kept literal it is BAD at the literal's end; streamed
 * literals report it in res.literal_nul); quoted strings accept only the
 * escapes \" and \\, no CR/LF, and 8-bit only as valid UTF-8 once
 * imap_parser_set_utf8() enabled it (IMAP4rev2 / UTF8=ACCEPT).
 *
 * The command name is upper-cased; "UID FETCH ..." gives name "FETCH" with
 * cmd.uid set. `[` after BODY, BODY.PEEK, BINARY, BINARY.PEEK or BINARY.SIZE
 * opens a section that may hold spaces, lists and quoted strings up to the
 * first `]` outside a quoted string; the whole fetch attribute, partial
 * `<a.b>` included, is one atom, for the FETCH code to take apart. Literals
 * inside a section are BAD.
 *
 * Memory: the parser is a heap object (imap_parser_new/_free) holding its
 * partial-token buffer, bounded by max_line. Commands and their arguments
 * are allocated in the arena given with imap_parser_set_arena(), taken when
 * a command's first byte arrives; they stay valid until the caller resets
 * that arena. Pipelining sessions give each queued command its own arena or
 * reset one arena only when the queue is empty.
 */
#ifndef MK_IMAP_PARSER_H
#define MK_IMAP_PARSER_H

#include "imap/imap_args.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Largest non-synchronizing literal under LITERAL- (RFC 7888 section 5). */
#define IMAP_LITERAL_MINUS_MAX 4096
/* Longest tag accepted; longer is BAD. */
#define IMAP_TAG_MAX 64

struct imap_parser_limits {
	size_t max_line;      /* bytes of one command, in-memory literals
	                         included, streamed literals excluded */
	uint64_t max_literal; /* largest literal accepted at all */
	uint64_t max_discard; /* largest refused {N+} read and thrown away */
	unsigned max_depth;   /* nesting of parenthesized lists */
	unsigned max_args;    /* arguments of one command, all levels */
	/* One command (upper case, not after UID) may go up to wide_max_line
	 * and wide_max_args instead, once its name is read: ID before login,
	 * whose RFC 2971 maximum (30 pairs, values of 1024 octets) is far
	 * above what the other commands of that state need. NULL: none. */
	const char *wide_cmd;
	size_t wide_max_line;
	unsigned wide_max_args;
};

enum imap_parse_status {
	IMAP_PARSE_MORE = 0,
	IMAP_PARSE_DONE,
	IMAP_PARSE_LITERAL,
	IMAP_PARSE_LITERAL_DATA,
	IMAP_PARSE_LINE,
	IMAP_PARSE_BAD,
	IMAP_PARSE_FATAL,
};

enum imap_parse_error {
	IMAP_PARSE_ERR_NONE = 0,
	IMAP_PARSE_ERR_SYNTAX,
	IMAP_PARSE_ERR_TOOBIG,  /* a limit was passed: add [TOOBIG] */
};

enum imap_line_kind {
	IMAP_LINE_AUTH,  /* AUTHENTICATE response: base64 text, or "*" */
	IMAP_LINE_IDLE,  /* the DONE that ends IDLE (any case) */
};

struct imap_command {
	const char *tag;          /* NULL until parsed */
	const char *name;         /* upper case; NULL until parsed */
	bool uid;                 /* "UID <name>" */
	const struct imap_arg *args; /* top level, nargs + EOL sentinel */
	size_t nargs;
};

struct imap_parse_result {
	size_t consumed;          /* bytes of this feed used, <= len */
	/* DONE, LITERAL, LITERAL_DATA, BAD: the command (so far); NULL if no
	 * command had begun (e.g. BAD on a malformed tag). */
	const struct imap_command *cmd;
	/* LITERAL */
	uint64_t literal_size;
	bool literal_sync;        /* {N}: needs "+ " after keep/stream */
	bool literal_binary;      /* ~{N} */
	/* LITERAL_DATA */
	const char *data;
	size_t len;
	uint64_t literal_left;
	bool literal_nul;         /* last chunk: a NUL was seen in a non-binary literal */
	/* LINE */
	enum imap_line_kind line_kind;
	const char *line;         /* NUL-terminated; valid until the next feed */
	size_t line_len;
	bool line_cancel;         /* AUTH line was "*" */
	/* BAD, FATAL */
	enum imap_parse_error error;
	const char *error_msg;    /* static text for the client */
};

struct imap_parser;

/* Parsers are heap objects: the state is internal so the session cannot
 * depend on it. `limits` (may be NULL) is copied. Fields of 0 are replaced
 * by defaults:
 * max_line 65536, max_literal 64 MiB, max_discard 1 MiB, max_depth 16,
 * max_args 10000. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits,
                                    struct arena *arena);
void imap_parser_free(struct imap_parser **p);

/* Change limits (e.g. after login); applies from the next command. */
void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits);
/* Arena for the next command (the current one keeps its own). */
void imap_parser_set_arena(struct imap_parser *p, struct arena *arena);
/* LITERAL- (RFC 7888): {N+} over 4096 bytes is refused (BAD [TOOBIG]). */
void imap_parser_set_literal_minus(struct imap_parser *p, bool on);
/* Accept UTF-8 (validated) in quoted strings: IMAP4rev2 / UTF8=ACCEPT. */
void imap_parser_set_utf8(struct imap_parser *p, bool on);

/* Back to the start of a command, forgetting any partial one (STARTTLS:
 * buffered plaintext is dropped and the parser rebuilt). A FATAL parser
 * stays FATAL. */
void imap_parser_reset(struct imap_parser *p);

enum imap_parse_status imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
                                        struct imap_parse_result *res);

/* After LITERAL. keep: read the bytes into the argument (bounded: -1 if
 * the command would pass max_line; then call _refuse). stream: hand them
 * out as LITERAL_DATA. Both return 0 on success. */
int imap_parser_literal_keep(struct imap_parser *p);
int imap_parser_literal_stream(struct imap_parser *p);
/* After LITERAL (also after keep failed): the command ends here; reply
 * with a tagged NO or BAD. Returns 0 if parsing goes on (a {N} literal:
 * nothing will come; a {N+} within max_discard: discarded, then the rest of
 * the command skipped), -1 if the stream is lost: send BYE and close. */
int imap_parser_literal_refuse(struct imap_parser *p);

/* Only between commands (imap_parser_idle() true, e.g. right after the
 * DONE of AUTHENTICATE or IDLE): the next line is a continuation line of the given kind
 * (after "+ " for AUTHENTICATE, after "+ idling" for IDLE); feed returns
 * LINE for it, or BAD (too long, bad base64 characters, not DONE), then
 * parses commands again. */
void imap_parser_expect_line(struct imap_parser *p, enum imap_line_kind kind);

/* True between commands (nothing of a command is buffered). */
bool imap_parser_idle(const struct imap_parser *p);

#endif
