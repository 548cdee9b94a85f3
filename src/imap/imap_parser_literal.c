/*
 * imap_parser_literal: what happens after a literal's size is read (the
 * caller's keep/stream/refuse decision and the bytes that follow), skipping
 * the rest of a bad command without ever reading {N+} bytes as commands,
 * and the continuation lines of AUTHENTICATE and IDLE.
 */
#include "imap/imap_parser_private.h"

#include "lib/arena.h"
#include "lib/strutil.h"

#include <assert.h>
#include <string.h>

enum imap_parse_status parser_fatal(struct imap_parser *p, struct imap_parse_result *res,
                                    const char *msg)
{
	p->state = ST_FATAL;
	res->error = IMAP_PARSE_ERR_TOOBIG;
	res->error_msg = msg;
	return IMAP_PARSE_FATAL;
}

/* A {N+} that will not be used: its bytes are on the way regardless. */
static int discard_nonsync(struct imap_parser *p)
{
	if (p->lit_size > p->lim.max_discard) {
		p->state = ST_FATAL;
		return -1;
	}
	p->lit_left = p->lit_size;
	p->state = p->lit_left > 0 ? ST_LIT_DISCARD : ST_SKIP;
	return 0;
}

enum imap_parse_status parser_literal_announced(struct imap_parser *p,
                                                struct imap_parse_result *res)
{
	const char *why = NULL;

	res->literal_size = p->lit_size;
	res->literal_sync = !p->lit_nonsync;
	res->literal_binary = p->lit_binary;
	if (p->lit_size > p->lim.max_literal)
		why = "Literal too large";
	else if (p->lit_nonsync && p->literal_minus && p->lit_size > IMAP_LITERAL_MINUS_MAX)
		why = "Non-synchronizing literal over 4096 bytes (LITERAL-)";
	else if (p->nargs_total >= p->lim.max_args)
		why = "Too many arguments";
	if (why == NULL) {
		p->state = ST_LIT_DECIDE;
		return IMAP_PARSE_LITERAL;
	}
	res->error = IMAP_PARSE_ERR_TOOBIG;
	res->error_msg = why;
	if (!p->lit_nonsync) {
		/* No "+" will be sent, so no bytes come: the command ends here. */
		parser_end_command(p);
		return IMAP_PARSE_BAD;
	}
	if (discard_nonsync(p) < 0)
		return parser_fatal(p, res, why);
	return IMAP_PARSE_BAD;
}

int imap_parser_literal_keep(struct imap_parser *p)
{
	assert(p->state == ST_LIT_DECIDE);
	/* >=: at least the LF ending the command must still fit after it */
	if (p->lit_size >= p->lim.max_line - p->line_bytes)
		return -1;
	struct imap_arg *a = parser_push_arg(p);
	assert(a != NULL); /* max_args was checked when the literal was announced */
	char *dst = arena_alloc(p->cmd_arena, (size_t)p->lit_size + 1);
	a->type = IMAP_ARG_LITERAL;
	a->literal8 = p->lit_binary;
	a->str = dst;
	a->len = p->lit_size;
	p->lit_dst = dst;
	p->lit_left = p->lit_size;
	p->lit_nul = false;
	p->line_bytes += (size_t)p->lit_size;
	p->state = p->lit_size > 0 ? ST_LIT_KEEP : ST_ARGS;
	return 0;
}

int imap_parser_literal_stream(struct imap_parser *p)
{
	assert(p->state == ST_LIT_DECIDE);
	struct imap_arg *a = parser_push_arg(p);
	assert(a != NULL);
	a->type = IMAP_ARG_LITERAL_STREAM;
	a->literal8 = p->lit_binary;
	a->len = p->lit_size;
	p->lit_left = p->lit_size;
	p->lit_nul = false;
	p->state = ST_LIT_STREAM;
	return 0;
}

int imap_parser_literal_refuse(struct imap_parser *p)
{
	assert(p->state == ST_LIT_DECIDE);
	if (!p->lit_nonsync) {
		parser_end_command(p);
		return 0;
	}
	return discard_nonsync(p);
}

enum imap_parse_status parser_literal_bytes(struct imap_parser *p, const char *data,
                                            size_t len, size_t *pos,
                                            struct imap_parse_result *res)
{
	const char *src = data + *pos;
	size_t n = len - *pos;
	if (n > p->lit_left)
		n = (size_t)p->lit_left;
	*pos += n;
	p->lit_left -= n;
	if (p->state != ST_LIT_DISCARD && !p->lit_binary && n > 0 && memchr(src, 0, n) != NULL)
		p->lit_nul = true;

	switch (p->state) {
	case ST_LIT_KEEP:
		memcpy(p->lit_dst, src, n);
		p->lit_dst += n;
		if (p->lit_left > 0)
			return IMAP_PARSE_MORE;
		if (p->lit_nul)
			return parser_bad(p, res, IMAP_PARSE_ERR_SYNTAX, "NUL in literal");
		p->state = ST_ARGS;
		return IMAP_PARSE_MORE;
	case ST_LIT_STREAM:
		res->data = src;
		res->len = n;
		res->literal_left = p->lit_left;
		if (p->lit_left == 0) {
			res->literal_nul = p->lit_nul;
			p->state = ST_ARGS;
		}
		return IMAP_PARSE_LITERAL_DATA;
	default: /* ST_LIT_DISCARD */
		if (p->lit_left == 0)
			p->state = ST_SKIP;
		return IMAP_PARSE_MORE;
	}
}

/* The end of a {N} or {N+} line while skipping. */
static enum imap_parse_status skip_literal(struct imap_parser *p, struct imap_parse_result *res)
{
	if (!p->lit_nonsync) {
		/* Without "+" the client sends nothing: the command ends here. */
		parser_end_command(p);
		return IMAP_PARSE_MORE;
	}
	if (discard_nonsync(p) < 0)
		return parser_fatal(p, res, "Non-synchronizing literal too large to skip");
	return IMAP_PARSE_MORE;
}

enum imap_parse_status parser_skip_byte(struct imap_parser *p, unsigned char c,
                                        struct imap_parse_result *res)
{
	switch (p->state) {
	case ST_SKIP_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			unsigned d = (unsigned)(c - '0');
			p->lit_size = p->lit_size > (UINT64_MAX - d) / 10 ? UINT64_MAX : p->lit_size * 10 + d;
			p->lit_digits = true;
			return IMAP_PARSE_MORE;
		}
		if (p->lit_digits && (c == '+' || c == '}')) {
			p->lit_nonsync = c == '+';
			p->state = c == '+' ? ST_SKIP_LIT_CLOSE : ST_SKIP_LIT_END;
			return IMAP_PARSE_MORE;
		}
		break;
	case ST_SKIP_LIT_CLOSE:
		if (c == '}') {
			p->state = ST_SKIP_LIT_END;
			return IMAP_PARSE_MORE;
		}
		break;
	case ST_SKIP_LIT_END:
		if (c == '\r') {
			p->state = ST_SKIP_LIT_CR;
			return IMAP_PARSE_MORE;
		}
		/* fall through */
	case ST_SKIP_LIT_CR:
		if (c == '\n')
			return skip_literal(p, res);
		break;
	default:
		break;
	}
	/* Plain skipping (also: a partial {..} that turned out not to be one). */
	p->state = ST_SKIP;
	if (c == '{') {
		p->lit_size = 0;
		p->lit_digits = false;
		p->lit_nonsync = false;
		p->state = ST_SKIP_LIT_SIZE;
	} else if (c == '\n') {
		parser_end_command(p);
	}
	return IMAP_PARSE_MORE;
}

void imap_parser_expect_line(struct imap_parser *p, enum imap_line_kind kind)
{
	assert(p->state == ST_START);
	if (p->state != ST_START)
		return;
	p->state = ST_LINE;
	p->line_kind = kind;
	p->cmd = NULL;
	buf_reset(&p->tok, 4096);
}

static bool is_base64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return false;
	}
	return true;
}

static enum imap_parse_status line_done(struct imap_parser *p, struct imap_parse_result *res)
{
	const char *s = buf_ptr(&p->tok);
	size_t n = buf_len(&p->tok);

	p->state = ST_START;
	res->line_kind = p->line_kind;
	res->line = s;
	res->line_len = n;
	if (p->line_kind == IMAP_LINE_AUTH) {
		if (n == 1 && s[0] == '*')
			res->line_cancel = true;
		else if (!is_base64(s, n))
			goto bad;
	} else if (!str_ieq_n(s, n, "DONE")) {
		goto bad;
	}
	return IMAP_PARSE_LINE;
bad:
	res->line = NULL;
	res->line_len = 0;
	res->error = IMAP_PARSE_ERR_SYNTAX;
	res->error_msg = p->line_kind == IMAP_LINE_AUTH ? "Invalid base64" : "Expected DONE";
	return IMAP_PARSE_BAD;
}

enum imap_parse_status parser_line_byte(struct imap_parser *p, unsigned char c,
                                        struct imap_parse_result *res)
{
	if (c == '\n')
		return line_done(p, res);
	if (p->state == ST_LINE_CR) {
		p->state = ST_SKIP;
		(void)parser_skip_byte(p, c, res);
		res->error = IMAP_PARSE_ERR_SYNTAX;
		res->error_msg = "CR without LF";
		return IMAP_PARSE_BAD;
	}
	if (c == '\r') {
		p->state = ST_LINE_CR;
		return IMAP_PARSE_MORE;
	}
	if (buf_len(&p->tok) >= p->lim.max_line)
		return parser_bad(p, res, IMAP_PARSE_ERR_TOOBIG, "Line too long");
	(void)buf_append(&p->tok, &c, 1);
	return IMAP_PARSE_MORE;
}
