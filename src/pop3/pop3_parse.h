/*
 * pop3_parse: one POP3 command line (without CRLF) into keyword and
 * arguments (RFC 1939 section 3: a keyword of 3-4 printable characters,
 * then arguments separated by single spaces; RFC 2449 allows up to 255
 * octets per line, which the session's line limit enforces).
 *
 * Pure: no I/O. The keyword is upper-cased into the struct; `rest` points
 * into `line` (which gets a NUL at len); args are NUL-terminated copies in
 * the struct, for the short commands that take them (RETR 3, TOP 3 10).
 */
#ifndef MK_POP3_PARSE_H
#define MK_POP3_PARSE_H

#include <stddef.h>

#define POP3_MAX_ARGS 4

enum pop3_parse_status {
	POP3_PARSE_OK,
	POP3_PARSE_EMPTY,        /* empty line */
	POP3_PARSE_BAD_KEYWORD,  /* not 3-4 letters */
	POP3_PARSE_BAD_CHAR,     /* NUL or control character */
};

struct pop3_cmd {
	char keyword[5];
	/* The text after the keyword and one space, as the client sent it
	 * (PASS takes the rest of the line, spaces included); NULL if none. */
	char *rest;
	/* rest split on single spaces: nargs pieces, the first POP3_MAX_ARGS
	 * of them in args; none when rest is longer than the copy buffer (a
	 * password, say: commands with arguments are short). */
	char *args[POP3_MAX_ARGS];
	size_t nargs;
	char argbuf[256];
};

/* line must have room for a NUL at line[len]. */
enum pop3_parse_status pop3_parse_line(char *line, size_t len, struct pop3_cmd *cmd);

#endif
