/* pop3_stuff_message: a small message's whole answer body in one step
 * (RETR and TOP), within the room it promises. */
#include "unit.h"
#include "pop3/pop3_stream.h"

#include <stdlib.h>
#include <string.h>

/* The answer by the rule, byte by byte: stuffed, CRLF added if the last
 * line has none, then ".\r\n". */
static size_t reference(const char *in, size_t n, char *out)
{
	bool bol = true;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		bol = in[i] == '\n';
	}
	if (!bol)
		o += (size_t)sprintf(out + o, "\r\n");
	return o + (size_t)sprintf(out + o, ".\r\n");
}

/* Into exactly POP3_STUFFED_ROOM(n) bytes, fenced: nothing written past. */
static void check(const char *in, size_t n, int64_t top_lines)
{
	size_t end = top_lines < 0 ? n : pop3_top_length(in, n, (uint64_t)top_lines);
	size_t room = POP3_STUFFED_ROOM(n);
	char *want = malloc(room), *got = malloc(room + 16);
	memset(got + room, 0x5a, 16);
	size_t wn = reference(in, end, want);
	size_t gn = pop3_stuff_message(in, n, top_lines, got);
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(got[room + i], 0x5a);
	free(want);
	free(got);
}

static void retr_matches_the_rule(void **state)
{
	static const char *const samples[] = {
		"", ".", "..", "\n", ".\r\n", "x", "no line end", "a\r\n.\r\n.",
		"line\n.bare LF\n\n.\n", "dot at end.\r\n.next\r\n. \r\n.",
	};
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++)
		check(samples[s], strlen(samples[s]), -1);
}

/* The most stuffing there can be: every line a lone dot. */
static void worst_case_fits_the_room(void **state)
{
	for (size_t n = 1; n < 64; n++) {
		char *in = malloc(n);
		for (size_t i = 0; i < n; i++)
			in[i] = i % 2 == 0 ? '.' : '\n';
		check(in, n, -1);
		memset(in, '.', n);
		check(in, n, -1);
		free(in);
	}
}

static void top_sends_header_and_lines(void **state)
{
	const char *m = "A: 1\r\n.B: 2\r\n\r\n.l1\r\nl2\r\nl3";
	size_t n = strlen(m);
	for (int64_t lines = 0; lines < 5; lines++)
		check(m, n, lines);
	char out[64];
	size_t k = pop3_stuff_message(m, n, 1, out);
	const char *want = "A: 1\r\n..B: 2\r\n\r\n..l1\r\n.\r\n";
	assert_int_equal(k, strlen(want));
	assert_memory_equal(out, want, k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(retr_matches_the_rule),
		cmocka_unit_test(worst_case_fits_the_room),
		cmocka_unit_test(top_sends_header_and_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
