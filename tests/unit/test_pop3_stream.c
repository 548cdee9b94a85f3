#include "unit.h"
#include "pop3/pop3_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rule itself, one byte at a time: what pop3_dot_stuff must match. */
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
	return o;
}

/* Feed `in` in pieces of at most `step` bytes, into outputs of at most
 * `room` bytes per call, and compare with the reference. */
static void check(const char *in, size_t n, size_t step, size_t room)
{
	char *want = malloc(2 * n + 1), *got = malloc(2 * n + room + 1);
	size_t wn = reference(in, n, want), gn = 0, pos = 0;
	bool bol = true;
	while (pos < n) {
		size_t piece = n - pos < step ? n - pos : step, used = 0;
		size_t k = pop3_dot_stuff(&bol, in + pos, piece, got + gn, room, &used);
		assert_true(k <= room);
		assert_true(used > 0);    /* always progress with room >= 2 */
		gn += k;
		pos += used;
	}
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);
	free(want);
	free(got);
}

static const char *const samples[] = {
	"",
	".",
	"..",
	".\r\n",
	"a.b.c\r\n.hidden\r\n..two\r\n\r\n.\r\nend.",
	"line\n.bare LF\n\n.\n",
	"no dots at all\r\nonly lines\r\n",
	"dot at end of line.\r\n.next starts with one\r\n. \r\n.",
};

static void stuffs_like_the_rule_whole_and_split(void **state)
{
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		size_t n = strlen(samples[s]);
		for (size_t step = 1; step <= n + 1; step++)
			for (size_t room = 2; room <= 2 * n + 2; room++)
				check(samples[s], n, step, room);
	}
}

/* n bytes of seeded random text (malloc'd): per hundred, about nl
 * newlines, dot - nl dots and cr - dot lone CRs; letters otherwise. */
static char *random_text(size_t n, unsigned seed, unsigned nl, unsigned dot, unsigned cr)
{
	char *in = malloc(n);
	unsigned x = seed;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		unsigned r = (x >> 16) % 100;
		in[i] = r < nl ? '\n' : r < dot ? '.' : r < cr ? '\r' : (char)('a' + r % 26);
	}
	return in;
}

static void long_text_with_dots_and_base64(void **state)
{
	size_t n = 200000;
	char *in = random_text(n, 12345, 4, 7, 8);
	check(in, n, n, 2 * n);
	check(in, n, 4096, 8192);
	check(in, n, 65536, 1000);
	free(in);
}

static void check_whole(const char *in, size_t n, int64_t top_lines);

/* The whole answer, stuffed in place, over random text with many line
 * starting dots: every run of bytes between them moves. */
static void whole_answer_of_long_text(void **state)
{
	size_t n = 100000;
	char *in = random_text(n, 777, 5, 9, 9);
	check_whole(in, n, -1);
	check_whole(in, n, 40);
	free(in);
}

static void top_length_counts_header_and_lines(void **state)
{
	const char *m = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
	size_t n = strlen(m);
	assert_int_equal(pop3_top_length(m, n, 0), 14);
	assert_int_equal(pop3_top_length(m, n, 2), 22);
	assert_int_equal(pop3_top_length(m, n, 10), n);
}

/* The whole answer by the rule: stuffed, CRLF added if the last line
 * has none, then ".\r\n". */
static size_t reference_answer(const char *in, size_t n, char *out)
{
	size_t o = reference(in, n, out);
	if (o > 0 && out[o - 1] != '\n')
		o += (size_t)sprintf(out + o, "\r\n");
	return o + (size_t)sprintf(out + o, ".\r\n");
}

/* Into exactly POP3_STUFFED_ROOM(n) bytes, fenced: nothing written past. */
static void check_whole(const char *in, size_t n, int64_t top_lines)
{
	size_t end = top_lines < 0 ? n : pop3_top_length(in, n, (uint64_t)top_lines);
	size_t room = POP3_STUFFED_ROOM(n);
	char *want = malloc(room), *got = malloc(room + 16);
	memset(got + room, 0x5a, 16);
	size_t wn = reference_answer(in, end, want);
	memcpy(got, in, n);
	size_t gn = pop3_stuff_message(got, n, top_lines);
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(got[room + i], 0x5a);
	free(want);
	free(got);
}

static void retr_matches_the_rule(void **state)
{
	static const char *const answers[] = {
		"", ".", "..", "\n", ".\r\n", "x", "no line end", "a\r\n.\r\n.",
		"line\n.bare LF\n\n.\n", "dot at end.\r\n.next\r\n. \r\n.",
	};
	for (size_t s = 0; s < sizeof(answers) / sizeof(answers[0]); s++)
		check_whole(answers[s], strlen(answers[s]), -1);
}

/* The most stuffing there can be: every line a lone dot. */
static void worst_case_fits_the_room(void **state)
{
	for (size_t n = 1; n < 64; n++) {
		char *in = malloc(n);
		for (size_t i = 0; i < n; i++)
			in[i] = i % 2 == 0 ? '.' : '\n';
		check_whole(in, n, -1);
		memset(in, '.', n);
		check_whole(in, n, -1);
		free(in);
	}
}

static void top_sends_header_and_lines(void **state)
{
	const char *m = "A: 1\r\n.B: 2\r\n\r\n.l1\r\nl2\r\nl3";
	size_t n = strlen(m);
	for (int64_t lines = 0; lines < 5; lines++)
		check_whole(m, n, lines);
	char out[64];
	memcpy(out, m, n);
	size_t k = pop3_stuff_message(out, n, 1);
	const char *want = "A: 1\r\n..B: 2\r\n\r\n..l1\r\n.\r\n";
	assert_int_equal(k, strlen(want));
	assert_memory_equal(out, want, k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stuffs_like_the_rule_whole_and_split),
		cmocka_unit_test(long_text_with_dots_and_base64),
		cmocka_unit_test(top_length_counts_header_and_lines),
		cmocka_unit_test(retr_matches_the_rule),
		cmocka_unit_test(worst_case_fits_the_room),
		cmocka_unit_test(top_sends_header_and_lines),
		cmocka_unit_test(whole_answer_of_long_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
