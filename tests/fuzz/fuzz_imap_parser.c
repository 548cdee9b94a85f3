/*
 * fuzz_imap_parser: input byte 0 seeds the split pattern, byte 1 picks the
 * session policy (limits, LITERAL-, UTF-8, which literals are streamed or
 * refused), the rest is client input. The input is fed whole and in
 * pseudo-random chunks; both must give the same transcript of events.
 * Also checked: consumed <= fed, MORE consumes everything, arena use per
 * command stays bounded by the limits.
 */
#include "imap/imap_parser.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

struct policy {
	struct imap_parser_limits lim;
	bool minus, utf8, stream_all, refuse_odd;
};

static void out_args(struct buf *o, const struct imap_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *a = &args[i];
		buf_printf(o, " %d:%llu:", (int)a->type, (unsigned long long)a->len);
		if (a->str != NULL && a->len > 0)
			buf_append(o, a->str, (size_t)a->len);
		if (a->type == IMAP_ARG_LIST) {
			buf_append(o, "(", 1);
			out_args(o, a->list, a->count);
			buf_append(o, ")", 1);
			CHECK(a->list[a->count].type == IMAP_ARG_EOL);
		}
	}
	CHECK(args[n].type == IMAP_ARG_EOL);
}

static void run(const struct policy *pol, const uint8_t *in, size_t len, uint32_t seed,
                struct buf *o)
{
	struct arena *a = arena_new(0);
	struct imap_parser *p = imap_parser_new(&pol->lim, a);
	imap_parser_set_literal_minus(p, pol->minus);
	imap_parser_set_utf8(p, pol->utf8);
	size_t pos = 0, lits = 0;
	bool fatal = false;
	uint64_t stream_total = 0;
	size_t arena_max = 128 * pol->lim.max_line + 65536;

	while (pos < len && !fatal) {
		size_t chunk = len - pos;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % 17;
			if (chunk > len - pos)
				chunk = len - pos;
		}
		const char *buf = (const char *)in + pos;
		size_t avail = chunk;
		for (;;) {
			struct imap_parse_result res;
			enum imap_parse_status st = imap_parser_feed(p, buf, avail, &res);
			CHECK(res.consumed <= avail);
			/* chunking of streamed literals depends on the split: only
			 * the last chunk is part of the transcript */
			bool shown = st != IMAP_PARSE_MORE &&
			             (st != IMAP_PARSE_LITERAL_DATA || res.literal_left == 0);
			if (shown)
				buf_printf(o, "%d ", (int)st);
			switch (st) {
			case IMAP_PARSE_MORE:
				CHECK(res.consumed == avail);
				break;
			case IMAP_PARSE_DONE:
				buf_printf(o, "%s %s %d", res.cmd->tag, res.cmd->name, res.cmd->uid);
				out_args(o, res.cmd->args, res.cmd->nargs);
				if (strcmp(res.cmd->name, "AUTHENTICATE") == 0)
					imap_parser_expect_line(p, IMAP_LINE_AUTH);
				else if (strcmp(res.cmd->name, "IDLE") == 0)
					imap_parser_expect_line(p, IMAP_LINE_IDLE);
				CHECK(arena_used(a) <= arena_max);
				arena_reset(a);
				break;
			case IMAP_PARSE_LITERAL:
				buf_printf(o, "%llu %d %d", (unsigned long long)res.literal_size,
				           res.literal_sync, res.literal_binary);
				CHECK(res.literal_size <= pol->lim.max_literal);
				lits++;
				if (pol->refuse_odd && lits % 2 == 1)
					buf_printf(o, " r%d", imap_parser_literal_refuse(p));
				else if (pol->stream_all)
					CHECK(imap_parser_literal_stream(p) == 0);
				else if (imap_parser_literal_keep(p) < 0)
					buf_printf(o, " n%d", imap_parser_literal_refuse(p));
				break;
			case IMAP_PARSE_LITERAL_DATA:
				CHECK(res.len <= res.consumed);
				stream_total += res.len;
				if (res.literal_left == 0) {
					buf_printf(o, "%llu %d", (unsigned long long)stream_total, res.literal_nul);
					stream_total = 0;
				}
				break;
			case IMAP_PARSE_LINE:
				buf_printf(o, "%d ", res.line_cancel);
				buf_append(o, res.line, res.line_len);
				break;
			case IMAP_PARSE_BAD:
			case IMAP_PARSE_FATAL:
				buf_printf(o, "%s %d %s", res.cmd != NULL && res.cmd->tag != NULL ?
				           res.cmd->tag : "*", (int)res.error, res.error_msg);
				fatal = st == IMAP_PARSE_FATAL;
				/* after BAD the parser no longer uses the command's
				 * memory, even while it still skips (header contract) */
				CHECK(arena_used(a) <= arena_max);
				arena_reset(a);
				break;
			}
			if (shown)
				buf_append(o, "\n", 1);
			buf += res.consumed;
			avail -= res.consumed;
			if (st == IMAP_PARSE_MORE || fatal)
				break;
		}
		pos += chunk;
	}
	buf_printf(o, "end %d\n", imap_parser_idle(p));
	imap_parser_free(&p);
	arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t seed = data[0] | 1u;
	uint8_t pick = data[1];
	struct policy pol = {
		.lim = {
			.max_line = (pick & 1) ? 64 : 4096,
			.max_literal = (pick & 2) ? 100 : 100000,
			.max_discard = (pick & 4) ? 50 : 1000,
			.max_depth = (pick & 8) ? 2 : 10,
			.max_args = (pick & 8) ? 5 : 1000,
		},
		.minus = (pick & 16) != 0,
		.utf8 = (pick & 32) != 0,
		.stream_all = (pick & 64) != 0,
		.refuse_odd = (pick & 128) != 0,
	};
	struct buf whole, split;
	buf_init(&whole, SIZE_MAX / 4);
	buf_init(&split, SIZE_MAX / 4);
	run(&pol, data + 2, size - 2, 0, &whole);
	run(&pol, data + 2, size - 2, seed, &split);
	if (buf_len(&whole) != buf_len(&split) ||
	    memcmp(buf_ptr(&whole), buf_ptr(&split), buf_len(&whole)) != 0) {
		fprintf(stderr, "whole:\n%s\nsplit:\n%s\n", buf_ptr(&whole), buf_ptr(&split));
		abort();
	}
	buf_deinit(&whole);
	buf_deinit(&split);
	return 0;
}
