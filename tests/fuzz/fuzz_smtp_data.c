/*
 * fuzz_smtp_data: the DATA/BDAT byte machine.
 *  1. arbitrary bytes fed whole and in pieces (piece size from the first
 *     byte) give the same output, consumption and error;
 *  2. a valid message x (the input with its line ends made CRLF) survives
 *     stuffing and unstuffing: unstuff(stuff(x)) == x (plus a final CRLF
 *     when x lacks one), ending exactly at the terminator.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	char *out;
	size_t out_len, used;
	struct smtp_data d;
};

static void feed(const char *in, size_t n, size_t step, enum smtp_data_mode mode,
                 uint64_t max, struct run *r)
{
	smtp_data_init(&r->d, mode, max);
	r->out_len = r->used = 0;
	while (r->used < n && !r->d.done) {
		size_t len = step == 0 || n - r->used < step ? n - r->used : step;
		size_t o;
		size_t u = smtp_data_feed(&r->d, in + r->used, len, r->out + r->out_len, &o);
		if (o > len + 1 || u > len || (u < len && !r->d.done))
			abort();
		r->out_len += o;
		r->used += u;
	}
	if (r->out_len > r->d.size || (max != 0 && r->out_len > max))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 8192)
		return 0;
	enum smtp_data_mode mode = data[0] & 1 ? SMTP_DATA_CHUNK : SMTP_DATA_DOT;
	size_t step = data[1] % 17;
	uint64_t max = data[0] & 2 ? (uint64_t)(data[0] >> 2) * 16 : 0;
	const char *in = (const char *)data + 2;
	size_t n = size - 2;

	struct run a, b;
	a.out = malloc(n + 2);
	b.out = malloc(n + 2);
	feed(in, n, 0, mode, max, &a);
	feed(in, n, step, mode, max, &b);
	if (a.out_len != b.out_len || a.used != b.used || a.d.err != b.d.err ||
	    a.d.done != b.d.done || memcmp(a.out, b.out, a.out_len) != 0)
		abort();
	free(a.out);
	free(b.out);

	/* x: the input with every CR dropped and every LF made CRLF. */
	char *x = malloc(2 * n + 1);
	size_t xn = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r')
			continue;
		if (in[i] == '\n')
			x[xn++] = '\r';
		x[xn++] = in[i];
	}
	char *st = malloc(2 * xn + 5);
	size_t sn = smtp_data_stuff(x, xn, st);
	struct run c;
	c.out = malloc(sn + 2);
	feed(st, sn, step, SMTP_DATA_DOT, 0, &c);
	bool crlf = xn >= 2 && x[xn - 2] == '\r' && x[xn - 1] == '\n';
	size_t want = xn == 0 || crlf ? xn : xn + 2;
	if (!c.d.done || c.d.err != SMTP_DATA_OK || c.used != sn || c.out_len != want ||
	    memcmp(c.out, x, xn) != 0)
		abort();
	free(c.out);
	free(st);
	free(x);
	return 0;
}
