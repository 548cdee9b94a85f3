/*
 * fuzz_lib_utf7: modified UTF-7 and UTF-8 conversions.
 * Checks: utf7_is_valid agrees with utf7_to_utf8; valid UTF-7 decodes to
 * valid UTF-8 that encodes back to the same bytes; valid UTF-8 (without
 * NUL) encodes to valid UTF-7 that decodes back; invalid input is refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/utf7.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf a, b;
	buf_init(&a, UTF7_MAX_UTF8_LEN(size));
	buf_init(&b, UTF7_MAX_UTF7_LEN(size) + 1);

	/* as UTF-7 */
	int r = utf7_to_utf8(s, size, &a);
	check(r == UTF7_OK || r == UTF7_INVALID);
	check(utf7_is_valid(s, size) == (r == UTF7_OK));
	if (r == UTF7_OK) {
		check(buf_len(&a) <= UTF7_MAX_UTF8_LEN(size));
		check(buf_len(&a) <= size + size / 8);
		check(utf8_is_valid(buf_ptr(&a), buf_len(&a)));
		check(utf8_to_utf7(buf_ptr(&a), buf_len(&a), &b) == UTF7_OK);
		check(buf_len(&b) == size && memcmp(buf_ptr(&b), s, size) == 0);
	} else {
		check(buf_len(&a) == 0);
	}

	/* the arena variant agrees */
	struct arena *ar = arena_new(0);
	char *viaarena = utf7_to_utf8_arena(ar, s, size);
	check((viaarena != NULL) == (r == UTF7_OK));
	check(viaarena == NULL || (strlen(viaarena) == buf_len(&a) &&
	                           memcmp(viaarena, buf_ptr(&a), buf_len(&a)) == 0));
	arena_free(&ar);

	/* as UTF-8 */
	buf_reset(&a, 0);
	buf_reset(&b, 0);
	r = utf8_to_utf7(s, size, &b);
	bool valid8 = utf8_is_valid(s, size) && memchr(s, '\0', size) == NULL;
	check((r == UTF7_OK) == valid8);
	if (r == UTF7_OK) {
		check(utf7_is_valid(buf_ptr(&b), buf_len(&b)));
		check(utf7_to_utf8(buf_ptr(&b), buf_len(&b), &a) == UTF7_OK);
		check(buf_len(&a) == size && memcmp(buf_ptr(&a), s, size) == 0);
	} else {
		check(buf_len(&b) == 0);
	}

	/* a small ceiling: TOOBIG or OK, never a partial result */
	struct buf small;
	buf_init(&small, size / 2);
	r = utf7_to_utf8(s, size, &small);
	check(r != UTF7_OK || buf_len(&small) <= size / 2);
	check(r == UTF7_OK || buf_len(&small) == 0);
	buf_deinit(&small);

	buf_deinit(&a);
	buf_deinit(&b);
	return 0;
}
