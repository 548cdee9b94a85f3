#include "pop3/pop3_stream.h"
#include "lib/arena.h"
#include "lib/runtime.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* Message bytes dot-stuffed per step: a quarter of output_buffer_limit,
 * 1-64 KiB. The room reserved is twice that (every line a lone "."), and
 * a step starts only under the limit, so the connection's buffer holds at
 * most 1.5 times its limit. */
#define STREAM_CHUNK_MIN 1024
#define STREAM_CHUNK_MAX (64 * 1024)

struct pop3_stream {
	const char *map;       /* the whole mapping, for unmap */
	size_t map_len;
	size_t chunk;          /* input bytes per step */
	size_t pos, end;       /* what is left to send */
	bool at_line_start;
	bool ended_with_lf;
};

/* Runs of whole lines are copied with memcpy; only a '.' that starts a
 * line (rare in mail; base64 has no dots at all) stops the copy to add
 * the stuffing dot. memchr for the dots, not memmem for "\n.": this is
 * the hot loop of RETR. */
size_t pop3_dot_stuff(bool *at_line_start, const char *in, size_t inlen, char *out,
                      size_t outcap, size_t *consumed_r)
{
	size_t i = 0, o = 0;
	while (i < inlen && o + 2 <= outcap) {
		if (*at_line_start && in[i] == '.')
			out[o++] = '.';
		size_t avail = inlen - i < outcap - o ? inlen - i : outcap - o;
		/* Up to the next line-starting '.' after in[i], or all. */
		size_t run = avail;
		const char *p = in + i + 1, *end = in + i + avail;
		while (p < end && (p = memchr(p, '.', (size_t)(end - p))) != NULL) {
			if (p[-1] == '\n') {
				run = (size_t)(p - (in + i));
				break;
			}
			p++;
		}
		memcpy(out + o, in + i, run);
		o += run;
		i += run;
		*at_line_start = in[i - 1] == '\n';
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

/* The terminator; a message whose last line has no line end gets one
 * first. Returns its length (at most 5). */
static size_t put_end(char *out, bool ended_with_lf)
{
	const char *end = ended_with_lf ? ".\r\n" : "\r\n.\r\n";
	size_t n = strlen(end);
	memcpy(out, end, n);
	return n;
}

static size_t body_end(const char *data, size_t len, int64_t top_lines)
{
	return top_lines < 0 ? len : pop3_top_length(data, len, (uint64_t)top_lines);
}

/* A '.' at i starts a line. */
static bool line_dot(const char *d, size_t i)
{
	return d[i] == '.' && (i == 0 || d[i - 1] == '\n');
}

size_t pop3_stuff_message(char *data, size_t len, int64_t top_lines)
{
	size_t end = body_end(data, len, top_lines), k = 0;
	/* Count the dots to stuff (memchr on dots: base64 has none). */
	for (const char *p = data; p < data + end &&
	     (p = memchr(p, '.', (size_t)(data + end - p))) != NULL; p++)
		k += line_dot(data, (size_t)(p - data));
	/* Then, from the back, each run of bytes moves up by the number of
	 * dots still to stuff before it, and its dot goes in front of it. */
	size_t run_end = end, o = end + k;
	for (size_t left = k; left > 0;) {
		const char *p = memrchr(data, '.', run_end);
		if (p == NULL)
			break;   /* cannot be: the dots were counted */
		size_t i = (size_t)(p - data);
		if (!line_dot(data, i)) {
			run_end = i;   /* search on below; this byte stays in the run */
			continue;
		}
		memmove(data + i + left, data + i, o - (i + left));
		data[i + left - 1] = '.';
		o = i + left - 1;
		left--;
		run_end = i;
	}
	o = end + k;
	return o + put_end(data + o, o == 0 || data[o - 1] == '\n');
}

size_t pop3_stream_step(void)
{
	size_t step = (size_t)runtime_config->output_buffer_limit / 4;
	if (step < STREAM_CHUNK_MIN)
		return STREAM_CHUNK_MIN;
	return step > STREAM_CHUNK_MAX ? STREAM_CHUNK_MAX : step;
}

struct pop3_stream *pop3_stream_new(const char *data, size_t len, int64_t top_lines)
{
	struct pop3_stream *st = xcalloc(1, sizeof(*st));
	st->map = data;
	st->map_len = len;
	st->end = body_end(data, len, top_lines);
	st->at_line_start = true;
	st->ended_with_lf = true;
	st->chunk = pop3_stream_step();
	return st;
}

int pop3_stream_run(struct pop3_stream *st, struct conn *c)
{
	while (st->pos < st->end) {
		if (conn_output_full(c))
			return 0;
		size_t in = st->end - st->pos < st->chunk ? st->end - st->pos : st->chunk;
		/* Stuffed straight into the connection's buffer. */
		char *out = conn_reserve(c, 2 * in);
		if (out == NULL)
			return -1;
		size_t used;
		size_t n = pop3_dot_stuff(&st->at_line_start, st->map + st->pos, in, out, 2 * in, &used);
		st->pos += used;
		st->ended_with_lf = out[n - 1] == '\n';
		conn_commit(c, n);
	}
	char end[5];
	return conn_write(c, end, put_end(end, st->ended_with_lf)) < 0 ? -1 : 1;
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
