/*
 * imap_parser: life cycle, argument storage and the feed loop of the
 * streaming command parser. One byte-at-a-time state machine (nginx's
 * shape) split by job: imap_parser_token.c reads command lines,
 * imap_parser_literal.c literals, skipping and continuation lines.
 */
#include "imap/imap_parser_private.h"

#include "lib/arena.h"
#include "lib/strutil.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct imap_parser_limits default_limits = {
	.max_line = 65536,
	.max_literal = 64u * 1024 * 1024,
	.max_discard = 1024 * 1024,
	.max_depth = 16,
	.max_args = 10000,
};

static void apply_limits(struct imap_parser *p, const struct imap_parser_limits *l)
{
	p->lim = default_limits;
	if (l != NULL) {
		if (l->max_line > 0)
			p->lim.max_line = l->max_line;
		if (l->max_literal > 0)
			p->lim.max_literal = l->max_literal;
		if (l->max_discard > 0)
			p->lim.max_discard = l->max_discard;
		if (l->max_depth > 0)
			p->lim.max_depth = l->max_depth;
		if (l->max_args > 0)
			p->lim.max_args = l->max_args;
		p->lim.wide_cmd = l->wide_cmd;
		p->lim.wide_max_line = l->wide_max_line;
		p->lim.wide_max_args = l->wide_max_args;
	}
	if (p->lim.max_depth + 1 > p->levels_cap) {
		p->levels = xrealloc(p->levels, (p->lim.max_depth + 1) * sizeof(*p->levels));
		p->levels_cap = p->lim.max_depth + 1;
	}
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits, struct arena *arena)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));
	apply_limits(p, limits);
	p->next_lim = p->lim;
	p->arena = arena;
	/* The token never outgrows the line: max_line bounds it. */
	buf_init(&p->tok, SIZE_MAX / 4);
	p->state = ST_START;
	return p;
}

void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;
	if (p == NULL)
		return;
	buf_deinit(&p->tok);
	free(p->levels);
	free(p);
	*pp = NULL;
}

void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits)
{
	/* Never mid-command: the level stack may move and max_line shrink. */
	p->next_lim = *limits;
}

void imap_parser_set_arena(struct imap_parser *p, struct arena *arena) { p->arena = arena; }
void imap_parser_set_literal_minus(struct imap_parser *p, bool on) { p->literal_minus = on; }
void imap_parser_set_utf8(struct imap_parser *p, bool on) { p->utf8 = on; }

void imap_parser_reset(struct imap_parser *p)
{
	if (p->state != ST_FATAL)
		p->state = ST_START;
	p->cmd = NULL;
	p->depth = 0;
	buf_reset(&p->tok, 4096);
}

bool imap_parser_idle(const struct imap_parser *p)
{
	return p->state == ST_START;
}

/* ---- arguments ---- */

struct imap_arg *parser_push_arg(struct imap_parser *p)
{
	if (p->nargs_total >= p->lim.max_args)
		return NULL;
	p->nargs_total++;
	struct arg_vec *v = &p->levels[p->depth];
	if (v->count + 1 >= v->cap) {
		size_t cap = v->cap < 4 ? 8 : v->cap * 2;
		struct imap_arg *items = arena_alloc(p->cmd_arena, cap * sizeof(*items));
		if (v->count > 0)
			memcpy(items, v->items, v->count * sizeof(*items));
		v->items = items;
		v->cap = cap;
	}
	struct imap_arg *a = &v->items[v->count++];
	if (p->depth == 0) {
		p->cmd->args = v->items;
		p->cmd->nargs = v->count;
	}
	return a;
}

static void begin_command(struct imap_parser *p)
{
	apply_limits(p, &p->next_lim);
	p->cmd_arena = p->arena;
	p->cmd = arena_alloc(p->cmd_arena, sizeof(*p->cmd));
	p->line_bytes = 0;
	p->nargs_total = 0;
	p->depth = 0;
	memset(&p->levels[0], 0, sizeof(p->levels[0]));
	/* args always points at an EOL-terminated array, even when empty */
	p->levels[0].items = arena_alloc(p->cmd_arena, sizeof(struct imap_arg));
	p->levels[0].cap = 1;
	p->cmd->args = p->levels[0].items;
	buf_reset(&p->tok, 4096);
}

void parser_end_command(struct imap_parser *p)
{
	p->state = ST_START;
	p->depth = 0;
}

/* ---- errors ---- */

enum imap_parse_status parser_bad(struct imap_parser *p, struct imap_parse_result *res,
                                  enum imap_parse_error err, const char *msg)
{
	/* A literal announcement cut short by the line limit still counts when
	 * skipping: carry its state over so the skip sees the {N+}. */
	switch (p->state) {
	case ST_LIT_SIZE: p->state = ST_SKIP_LIT_SIZE; break;
	case ST_LIT_CLOSE: p->state = ST_SKIP_LIT_CLOSE; break;
	case ST_LIT_END: p->state = ST_SKIP_LIT_END; break;
	case ST_LIT_CR: p->state = ST_SKIP_LIT_CR; break;
	default: p->state = ST_SKIP; break;
	}
	res->error = err;
	res->error_msg = msg;
	return IMAP_PARSE_BAD;
}

static bool counts_toward_line(enum parser_state st)
{
	return st >= ST_TAG && st <= ST_LIT_CR;
}

enum imap_parse_status imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
                                        struct imap_parse_result *res)
{
	enum imap_parse_status st = IMAP_PARSE_MORE;
	size_t pos = 0;

	memset(res, 0, sizeof(*res));
	if (p->state == ST_LIT_DECIDE) {
		/* The session must answer LITERAL first: our bug, not the client's. */
		assert(!"literal decision missing");
		(void)imap_parser_literal_refuse(p);
	}
	while (st == IMAP_PARSE_MORE && p->state != ST_FATAL) {
		enum parser_state s = p->state;
		if (s == ST_LIT_KEEP || s == ST_LIT_STREAM || s == ST_LIT_DISCARD) {
			/* A 0-byte streamed literal still ends with one empty chunk. */
			if (pos == len && !(s == ST_LIT_STREAM && p->lit_left == 0))
				break;
			st = parser_literal_bytes(p, data, len, &pos, res);
			continue;
		}
		if (pos == len)
			break;
		unsigned char c = (unsigned char)data[pos];
		if (counts_toward_line(s) && p->line_bytes >= p->lim.max_line) {
			st = parser_bad(p, res, IMAP_PARSE_ERR_TOOBIG, "Command line too long");
			break;
		}
		if (s == ST_START) {
			if (c == '\n' || c == '\r') {
				pos++;
				if (c == '\r')
					p->state = ST_START_CR;
				continue;
			}
			begin_command(p);
			p->state = ST_TAG;
		} else if (s == ST_START_CR) {
			if (c == '\n') {
				pos++;
				p->state = ST_START;
				continue;
			}
			p->cmd = NULL;
			st = parser_bad(p, res, IMAP_PARSE_ERR_SYNTAX, "CR without LF");
		} else if (s >= ST_SKIP && s <= ST_SKIP_LIT_CR) {
			pos++;
			st = parser_skip_byte(p, c, res);
		} else if (s == ST_LINE || s == ST_LINE_CR) {
			pos++;
			st = parser_line_byte(p, c, res);
		} else {
			st = parser_step_command(p, c, &pos, res);
		}
	}
	if (p->state == ST_FATAL && st != IMAP_PARSE_FATAL) {
		st = IMAP_PARSE_FATAL;
		res->error = IMAP_PARSE_ERR_TOOBIG;
		res->error_msg = "Connection state lost";
	}
	res->consumed = pos;
	if (st != IMAP_PARSE_MORE && st != IMAP_PARSE_LINE)
		res->cmd = p->cmd;
	/* Done with this command: never hand out a pointer into an arena the
	 * session may have reset by then (a FATAL found while skipping, or a
	 * feed after FATAL). */
	if (st == IMAP_PARSE_DONE || st == IMAP_PARSE_BAD || st == IMAP_PARSE_FATAL)
		p->cmd = NULL;
	return st;
}
