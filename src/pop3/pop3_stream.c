#include "pop3/pop3_stream.h"
#include "lib/arena.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_CHUNK 16384

struct pop3_stream {
	const char *map;       /* the whole mapping, for unmap */
	size_t map_len;
	size_t pos, end;       /* what is left to send */
	bool at_line_start;
	bool ended_with_lf;
};

size_t pop3_dot_stuff(bool *at_line_start, const char *in, size_t inlen, char *out,
                      size_t outcap, size_t *consumed_r)
{
	size_t i = 0, o = 0;
	while (i < inlen && o + 2 <= outcap) {
		char ch = in[i++];
		if (*at_line_start && ch == '.')
			out[o++] = '.';
		out[o++] = ch;
		*at_line_start = ch == '\n';
	}
	*consumed_r = i;
	return o;
}

size_t pop3_top_length(const char *data, size_t len, uint64_t lines)
{
	/* The header ends at the first empty line (the store keeps CRLF). */
	size_t hdr_end = len;
	if (len >= 2 && data[0] == '\r' && data[1] == '\n') {
		hdr_end = 2;
	} else {
		for (size_t i = 0; i + 3 < len; i++) {
			if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' &&
			    data[i + 3] == '\n') {
				hdr_end = i + 4;
				break;
			}
		}
	}
	size_t pos = hdr_end;
	while (lines > 0 && pos < len) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		pos = lf != NULL ? (size_t)(lf - data) + 1 : len;
		lines--;
	}
	return pos;
}

struct pop3_stream *pop3_stream_new(const char *data, size_t len, int64_t top_lines)
{
	struct pop3_stream *st = xcalloc(1, sizeof(*st));
	st->map = data;
	st->map_len = len;
	st->end = top_lines < 0 ? len : pop3_top_length(data, len, (uint64_t)top_lines);
	st->at_line_start = true;
	st->ended_with_lf = true;
	return st;
}

int pop3_stream_run(struct pop3_stream *st, struct conn *c)
{
	char out[STREAM_CHUNK * 2];
	while (st->pos < st->end) {
		if (conn_output_full(c))
			return 0;
		size_t used;
		size_t n = pop3_dot_stuff(&st->at_line_start, st->map + st->pos, st->end - st->pos,
		                          out, sizeof(out), &used);
		st->pos += used;
		st->ended_with_lf = out[n - 1] == '\n';
		if (conn_write(c, out, n) < 0)
			return 1;  /* connection gone: nothing more to do */
	}
	if (!st->ended_with_lf)
		conn_write(c, "\r\n", 2);
	conn_write(c, ".\r\n", 3);
	return 1;
}

void pop3_stream_free(struct pop3_stream **stp)
{
	struct pop3_stream *st = *stp;
	if (st == NULL)
		return;
	if (st->map != NULL)
		store_unmap(st->map, st->map_len);
	free(st);
	*stp = NULL;
}
