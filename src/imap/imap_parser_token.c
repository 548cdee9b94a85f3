/*
 * imap_parser_token: one byte of a command line at a time: tag, command
 * name, and the tokens between them (atoms, fetch-attribute sections,
 * quoted strings, lists, literal announcements). The feed loop and the
 * argument storage are in imap_parser.c.
 *
 * A state that does not take the byte leaves `pos` alone and the loop
 * hands the same byte to the next state: that is how a token's terminator
 * ends the token and then acts in ST_ARGS, and how the byte that caused an
 * error reaches ST_SKIP.
 */
#include "imap/imap_parser_private.h"

#include "lib/arena.h"
#include "lib/strutil.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

static bool open_list(struct imap_parser *p)
{
	if (p->depth >= p->lim.max_depth)
		return false;
	struct imap_arg *a = parser_push_arg(p);
	if (a == NULL)
		return false;
	a->type = IMAP_ARG_LIST;
	size_t idx = p->levels[p->depth].count - 1;
	struct arg_vec *child = &p->levels[++p->depth];
	memset(child, 0, sizeof(*child));
	child->parent_index = idx;
	child->items = arena_alloc(p->cmd_arena, sizeof(struct imap_arg));
	child->cap = 1;
	return true;
}

static void close_list(struct imap_parser *p)
{
	struct arg_vec *child = &p->levels[p->depth--];
	struct imap_arg *a = &p->levels[p->depth].items[child->parent_index];
	a->list = child->items;
	a->count = child->count;
}

/* ---- character classes ---- */

/* Lenient atom: ATOM-CHAR plus list-wildcards, `]` and `\` (flags). */
static bool is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

/* ASTRING-CHAR except "+" (RFC 9051 tag). */
static bool is_tag_char(unsigned char c)
{
	return is_atom_char(c) && c != '%' && c != '*' && c != '\\' && c != '+';
}

static bool is_name_char(unsigned char c)
{
	return is_atom_char(c) && c != '%' && c != '*' && c != '\\' && c != ']' && c != '[';
}

/* The fetch attributes whose `[` opens a section (RFC 9051 fetch-att). */
static bool opens_section(const struct buf *tok)
{
	static const char *const names[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_ieq_n(buf_ptr(tok), buf_len(tok), names[i]))
			return true;
	return false;
}

/* RFC 3629 well-formed UTF-8, one byte at a time (no overlongs, no
 * surrogates, nothing past U+10FFFF). */
static bool utf8_byte(struct imap_parser *p, unsigned char c)
{
	if (p->u8_need > 0) {
		if (c < p->u8_lo || c > p->u8_hi)
			return false;
		p->u8_need--;
		p->u8_lo = 0x80;
		p->u8_hi = 0xbf;
		return true;
	}
	p->u8_lo = 0x80;
	p->u8_hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		p->u8_need = 1;
	else if (c == 0xe0)
		p->u8_need = 2, p->u8_lo = 0xa0;
	else if (c == 0xed)
		p->u8_need = 2, p->u8_hi = 0x9f;
	else if (c >= 0xe1 && c <= 0xef)
		p->u8_need = 2;
	else if (c == 0xf0)
		p->u8_need = 3, p->u8_lo = 0x90;
	else if (c == 0xf4)
		p->u8_need = 3, p->u8_hi = 0x8f;
	else if (c >= 0xf1 && c <= 0xf3)
		p->u8_need = 3;
	else
		return false;
	return true;
}

/* ---- tokens ---- */

static char *tok_dup(struct imap_parser *p)
{
	return arena_strndup(p->cmd_arena, buf_ptr(&p->tok), buf_len(&p->tok));
}

static void tok_add(struct imap_parser *p, unsigned char c)
{
	/* Cannot fail: the ceiling is far above max_line, which bounds tokens. */
	(void)buf_append(&p->tok, &c, 1);
}

static bool finish_token(struct imap_parser *p, enum imap_arg_type type)
{
	struct imap_arg *a = parser_push_arg(p);
	if (a == NULL)
		return false;
	if (type == IMAP_ARG_ATOM && str_ieq_n(buf_ptr(&p->tok), buf_len(&p->tok), "NIL"))
		type = IMAP_ARG_NIL;
	a->type = type;
	a->str = tok_dup(p);
	a->len = buf_len(&p->tok);
	buf_reset(&p->tok, 4096);
	return true;
}

static enum imap_parse_status end_of_line(struct imap_parser *p, struct imap_parse_result *res)
{
	bool open = p->depth > 0;
	parser_end_command(p);
	if (open) {
		res->error = IMAP_PARSE_ERR_SYNTAX;
		res->error_msg = "Missing ')'";
		return IMAP_PARSE_BAD;
	}
	return IMAP_PARSE_DONE;
}

static void start_literal(struct imap_parser *p, bool binary)
{
	p->lit_binary = binary;
	p->lit_nonsync = false;
	p->lit_digits = false;
	p->lit_size = 0;
	p->state = ST_LIT_SIZE;
}

#define BAD(msg) parser_bad(p, res, IMAP_PARSE_ERR_SYNTAX, (msg))
#define TAKE() ((*pos)++, p->line_bytes++)
#define MORE IMAP_PARSE_MORE

enum imap_parse_status parser_step_command(struct imap_parser *p, unsigned char c, size_t *pos,
                                           struct imap_parse_result *res)
{
	switch (p->state) {
	case ST_TAG:
		if (is_tag_char(c)) {
			if (buf_len(&p->tok) >= IMAP_TAG_MAX)
				return BAD("Tag too long");
			tok_add(p, c);
			TAKE();
			return MORE;
		}
		if (buf_len(&p->tok) == 0 || (c != ' ' && c != '\r' && c != '\n'))
			return BAD("Invalid tag");
		p->cmd->tag = tok_dup(p);
		buf_reset(&p->tok, 4096);
		if (c != ' ')
			return BAD("Missing command name");
		TAKE();
		p->state = ST_AFTER_TAG;
		return MORE;
	case ST_AFTER_TAG:
		if (c == ' ') {
			TAKE();
			return MORE;
		}
		if (!is_name_char(c))
			return BAD(c == '\r' || c == '\n' ? "Missing command name" : "Invalid command name");
		p->state = ST_NAME;
		return MORE;
	case ST_NAME:
		if (is_name_char(c)) {
			if (buf_len(&p->tok) >= 64)
				return BAD("Command name too long");
			tok_add(p, (unsigned char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
			TAKE();
			return MORE;
		}
		if (c != ' ' && c != '\r' && c != '\n')
			return BAD("Invalid command name");
		if (!p->cmd->uid && str_ieq_n(buf_ptr(&p->tok), buf_len(&p->tok), "UID")) {
			p->cmd->uid = true;
			buf_reset(&p->tok, 4096);
			if (c != ' ')
				return BAD("Missing command after UID");
			p->state = ST_AFTER_TAG;
			return MORE;
		}
		p->cmd->name = tok_dup(p);
		buf_reset(&p->tok, 4096);
		if (p->lim.wide_cmd != NULL && !p->cmd->uid && strcasecmp(p->cmd->name, p->lim.wide_cmd) == 0) {
			/* Only ever raised mid-command, never lowered. */
			if (p->lim.wide_max_line > p->lim.max_line)
				p->lim.max_line = p->lim.wide_max_line;
			if (p->lim.wide_max_args > p->lim.max_args)
				p->lim.max_args = p->lim.wide_max_args;
		}
		p->state = ST_ARGS;
		return MORE;
	case ST_ARGS:
		switch (c) {
		case ' ':
			TAKE();
			return MORE;
		case '\r':
			TAKE();
			p->state = ST_CR;
			return MORE;
		case '\n':
			TAKE();
			return end_of_line(p, res);
		case '(':
			if (p->depth >= p->lim.max_depth)
				return BAD("Lists nested too deeply");
			if (!open_list(p))
				return parser_bad(p, res, IMAP_PARSE_ERR_TOOBIG, "Too many arguments");
			TAKE();
			return MORE;
		case ')':
			if (p->depth == 0)
				return BAD("Unexpected ')'");
			close_list(p);
			TAKE();
			return MORE;
		case '"':
			buf_reset(&p->tok, 4096);
			p->u8_need = 0;
			TAKE();
			p->state = ST_QUOTED;
			return MORE;
		case '{':
			start_literal(p, false);
			TAKE();
			return MORE;
		case '~':
			TAKE();
			p->state = ST_TILDE;
			return MORE;
		default:
			if (!is_atom_char(c))
				return BAD("Invalid character");
			buf_reset(&p->tok, 4096);
			p->state = ST_ATOM;
			return MORE;
		}
	case ST_CR:
		if (c != '\n')
			return BAD("CR without LF");
		TAKE();
		return end_of_line(p, res);
	case ST_TILDE:
		if (c == '{') {
			start_literal(p, true);
			TAKE();
			return MORE;
		}
		buf_reset(&p->tok, 4096);
		tok_add(p, '~');
		p->state = ST_ATOM;
		return MORE;
	case ST_ATOM:
		if (c == '[' && opens_section(&p->tok)) {
			tok_add(p, c);
			TAKE();
			p->state = ST_SECTION;
			return MORE;
		}
		if (is_atom_char(c)) {
			tok_add(p, c);
			TAKE();
			return MORE;
		}
		if (c != ' ' && c != '\r' && c != '\n' && c != ')')
			return BAD("Invalid character in atom");
		if (!finish_token(p, IMAP_ARG_ATOM))
			return parser_bad(p, res, IMAP_PARSE_ERR_TOOBIG, "Too many arguments");
		p->state = ST_ARGS;
		return MORE;
	case ST_SECTION:
	case ST_SECTION_QUOTED:
		if (c < 0x20 || c >= 0x7f)
			return BAD(c == '\r' || c == '\n' ? "Missing ']'" : "Invalid character in section");
		if (p->state == ST_SECTION) {
			if (c == '{')
				return BAD("Literal inside a section");
			if (c == ']')
				p->state = ST_ATOM;
			else if (c == '"')
				p->state = ST_SECTION_QUOTED;
		} else if (c == '\\') {
			p->state = ST_SECTION_ESC;
		} else if (c == '"') {
			p->state = ST_SECTION;
		}
		tok_add(p, c);
		TAKE();
		return MORE;
	case ST_SECTION_ESC:
		if (c != '"' && c != '\\')
			return BAD("Invalid escape in quoted string");
		tok_add(p, c);
		TAKE();
		p->state = ST_SECTION_QUOTED;
		return MORE;
	case ST_QUOTED:
		if (c >= 0x80) {
			if (!p->utf8)
				return BAD("8-bit character in quoted string");
			if (!utf8_byte(p, c))
				return BAD("Invalid UTF-8 in quoted string");
			tok_add(p, c);
			TAKE();
			return MORE;
		}
		if (p->u8_need > 0)
			return BAD("Invalid UTF-8 in quoted string");
		if (c == '\r' || c == '\n')
			return BAD("Missing '\"'");
		if (c == '\0')
			return BAD("NUL in quoted string");
		TAKE();
		if (c == '\\') {
			p->state = ST_QUOTED_ESC;
		} else if (c == '"') {
			if (!finish_token(p, IMAP_ARG_QUOTED))
				return parser_bad(p, res, IMAP_PARSE_ERR_TOOBIG, "Too many arguments");
			p->state = ST_ARGS;
		} else {
			tok_add(p, c);
		}
		return MORE;
	case ST_QUOTED_ESC:
		if (c != '"' && c != '\\')
			return BAD("Invalid escape in quoted string");
		tok_add(p, c);
		TAKE();
		p->state = ST_QUOTED;
		return MORE;
	case ST_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			unsigned d = (unsigned)(c - '0');
			/* Saturate: any size past the limits is refused the same way. */
			if (p->lit_size > (UINT64_MAX - d) / 10)
				p->lit_size = UINT64_MAX;
			else
				p->lit_size = p->lit_size * 10 + d;
			p->lit_digits = true;
			TAKE();
			return MORE;
		}
		if (!p->lit_digits || (c != '+' && c != '}'))
			return BAD("Invalid literal size");
		TAKE();
		p->lit_nonsync = c == '+';
		p->state = c == '+' ? ST_LIT_CLOSE : ST_LIT_END;
		return MORE;
	case ST_LIT_CLOSE:
		if (c != '}')
			return BAD("Invalid literal size");
		TAKE();
		p->state = ST_LIT_END;
		return MORE;
	case ST_LIT_END:
	case ST_LIT_CR:
		if (c == '\r' && p->state == ST_LIT_END) {
			TAKE();
			p->state = ST_LIT_CR;
			return MORE;
		}
		if (c != '\n')
			return BAD("Literal size not followed by CRLF");
		TAKE();
		return parser_literal_announced(p, res);
	default:
		assert(!"not a command state");
		return parser_fatal(p, res, "Internal parser error");
	}
}
