/*
 * imap_parser_private: the parser's state, shared by imap_parser.c (feed
 * loop, argument storage), imap_parser_token.c (command lines, tokens) and
 * imap_parser_literal.c (literals, skipping, continuation lines). Not for
 * use outside the parser.
 */
#ifndef MK_IMAP_PARSER_PRIVATE_H
#define MK_IMAP_PARSER_PRIVATE_H

#include "imap/imap_parser.h"
#include "lib/buf.h"

enum parser_state {
	ST_START,        /* before a tag; empty lines are ignored */
	ST_START_CR,     /* CR on an empty line */
	ST_TAG,
	ST_AFTER_TAG,    /* SP before the command name */
	ST_NAME,
	ST_ARGS,         /* between arguments */
	ST_CR,           /* CR ending the command line */
	ST_ATOM,
	ST_SECTION,      /* inside [...] of a fetch attribute */
	ST_SECTION_QUOTED,
	ST_SECTION_ESC,
	ST_TILDE,        /* '~' that may open a literal8 */
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LIT_SIZE,     /* after '{': digits */
	ST_LIT_CLOSE,    /* after '+': expect '}' */
	ST_LIT_END,      /* after '}': expect CRLF */
	ST_LIT_CR,
	ST_LIT_DECIDE,   /* LITERAL returned; waiting for keep/stream/refuse */
	ST_LIT_KEEP,
	ST_LIT_STREAM,
	ST_LIT_DISCARD,  /* refused {N+}: drop bytes, then ST_SKIP */
	ST_SKIP,         /* rest of a bad command, literal-aware */
	ST_SKIP_LIT_SIZE,
	ST_SKIP_LIT_CLOSE,
	ST_SKIP_LIT_END,
	ST_SKIP_LIT_CR,
	ST_LINE,         /* continuation line */
	ST_LINE_CR,
	ST_FATAL,
};

/* Arguments of one open list level (level 0: the command's top level). */
struct arg_vec {
	struct imap_arg *items;  /* arena; always room for the EOL sentinel */
	size_t count, cap;
	size_t parent_index;     /* index of the LIST arg in the level below */
};

struct imap_parser {
	struct imap_parser_limits lim;
	struct imap_parser_limits next_lim; /* applied when a command begins */
	struct arena *arena;       /* for the next command */
	struct arena *cmd_arena;   /* of the current command */
	bool literal_minus, utf8;

	enum parser_state state;
	struct imap_command *cmd;
	size_t line_bytes;         /* of the current command, vs max_line */
	unsigned nargs_total;
	unsigned depth;
	struct arg_vec *levels;    /* max_depth + 1 */
	unsigned levels_cap;
	struct buf tok;            /* token being read */

	/* quoted-string UTF-8 check: bytes still due and the next one's range */
	unsigned u8_need;
	unsigned char u8_lo, u8_hi;

	/* literal being announced or read */
	uint64_t lit_size, lit_left;
	bool lit_nonsync, lit_binary, lit_digits, lit_nul;
	char *lit_dst;

	enum imap_line_kind line_kind;
};

/* imap_parser_literal.c */
enum imap_parse_status parser_literal_announced(struct imap_parser *p,
                                                struct imap_parse_result *res);
enum imap_parse_status parser_literal_bytes(struct imap_parser *p, const char *data,
                                            size_t len, size_t *pos,
                                            struct imap_parse_result *res);
enum imap_parse_status parser_skip_byte(struct imap_parser *p, unsigned char c,
                                        struct imap_parse_result *res);
enum imap_parse_status parser_line_byte(struct imap_parser *p, unsigned char c,
                                        struct imap_parse_result *res);
enum imap_parse_status parser_fatal(struct imap_parser *p, struct imap_parse_result *res,
                                    const char *msg);

/* imap_parser_token.c: one byte in a command-line state */
enum imap_parse_status parser_step_command(struct imap_parser *p, unsigned char c, size_t *pos,
                                           struct imap_parse_result *res);

/* imap_parser.c */
enum imap_parse_status parser_bad(struct imap_parser *p, struct imap_parse_result *res,
                                  enum imap_parse_error err, const char *msg);
struct imap_arg *parser_push_arg(struct imap_parser *p);
void parser_end_command(struct imap_parser *p);

#endif
