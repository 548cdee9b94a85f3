#include "unit.h"
#include "imap/imap_seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdio.h>

/* parse, then write back what was parsed (unresolved) */
static const char *roundtrip(struct arena *a, const char *s, const char **error_r)
{
	struct imap_seqset set;
	if (imap_seqset_parse(a, s, strlen(s), 10, &set, error_r) < 0)
		return NULL;
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(imap_seqset_write(&b, &set), 0);
	const char *out = arena_strdup(a, buf_ptr(&b));
	buf_deinit(&b);
	return out;
}

/* parse and resolve with `star`, then write */
static const char *resolved(struct arena *a, const char *s, uint32_t star)
{
	struct imap_seqset set;
	const char *err;
	assert_int_equal(imap_seqset_parse(a, s, strlen(s), 0, &set, &err), 0);
	imap_seqset_resolve(a, &set, star, &set);
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(imap_seqset_write(&b, &set), 0);
	const char *out = arena_strdup(a, buf_ptr(&b));
	buf_deinit(&b);
	return out;
}

static void seqset_parse_valid(void **state)
{
	struct arena *a = arena_new(0);
	const char *err;
	assert_str(roundtrip(a, "1", &err), "1");
	assert_str(roundtrip(a, "1:3,5,7:*", &err), "1:3,5,7:*");
	assert_str(roundtrip(a, "5:3", &err), "5:3");
	assert_str(roundtrip(a, "*", &err), "*");
	assert_str(roundtrip(a, "*:4", &err), "*:4");
	assert_str(roundtrip(a, "4294967295", &err), "4294967295");
	assert_str(roundtrip(a, "3:3", &err), "3");
	assert_str(roundtrip(a, "$", &err), "$");
	struct imap_seqset set;
	assert_int_equal(imap_seqset_parse(a, "$", 1, 0, &set, &err), 0);
	assert_true(set.saved);
	assert_int_equal(set.count, 0);
	assert_int_equal(imap_seqset_parse(a, "2:*", 3, 0, &set, &err), 0);
	assert_true(set.has_star);
	assert_false(set.saved);
	arena_free(&a);
}

static void seqset_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "0", "0:3", "3:0", "01", "1,", ",1", "1,,2", "1:", ":1", "1::2", "1:2:3",
		"4294967296", "99999999999999999999", "-1", "1 2", " 1", "a", "1,$", "$,1", "$$",
		"**", "1*", "1:*x", "1.2",
	};
	struct arena *a = arena_new(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		if (roundtrip(a, bad[i], &err) != NULL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(err);
	}
	/* the range limit */
	const char *err = NULL;
	assert_null(roundtrip(a, "1,2,3,4,5,6,7,8,9,10,11", &err));
	assert_str(err, "Too many ranges in sequence set");
	assert_non_null(roundtrip(a, "1,2,3,4,5,6,7,8,9,10", &err));
	arena_free(&a);
}

static void seqset_resolve_normalizes(void **state)
{
	struct arena *a = arena_new(0);
	assert_str(resolved(a, "5:3", 10), "3:5");
	assert_str(resolved(a, "7:*", 10), "7:10");
	assert_str(resolved(a, "*:4", 3), "3:4");        /* RFC 9051 example */
	assert_str(resolved(a, "*", 10), "10");
	assert_str(resolved(a, "1:3,2:6,8,9,11:12,7", 20), "1:9,11:12");
	assert_str(resolved(a, "9,1,5", 20), "1,5,9");
	assert_str(resolved(a, "1:*", 0), "1");
	assert_str(resolved(a, "*", 0), "");
	assert_str(resolved(a, "4294967295,1:4294967294", 0), "1:4294967295");
	arena_free(&a);
}

static void seqset_query_and_iterate(void **state)
{
	struct arena *a = arena_new(0);
	struct imap_seqset set;
	const char *err;
	assert_int_equal(imap_seqset_parse(a, "10:12,3,*,1:2", 13, 0, &set, &err), 0);
	imap_seqset_resolve(a, &set, 4294967295u, &set);
	assert_int_equal(set.count, 3);
	assert_true(imap_seqset_contains(&set, 1));
	assert_true(imap_seqset_contains(&set, 3));
	assert_false(imap_seqset_contains(&set, 4));
	assert_true(imap_seqset_contains(&set, 11));
	assert_false(imap_seqset_contains(&set, 13));
	assert_true(imap_seqset_contains(&set, 4294967295u));
	assert_false(imap_seqset_contains(&set, 0));
	assert_int_equal(imap_seqset_count(&set), 7);
	assert_int_equal(imap_seqset_max(&set), 4294967295u);

	struct imap_seqset_iter it;
	uint32_t got[16], n = 0, v;
	imap_seqset_iter_init(&it, &set);
	while (imap_seqset_iter_next(&it, &v)) {
		assert_true(n < 16);
		got[n++] = v;
	}
	static const uint32_t want[] = { 1, 2, 3, 10, 11, 12, 4294967295u };
	assert_int_equal(n, 7);
	assert_memory_equal(got, want, sizeof(want));
	assert_false(imap_seqset_iter_next(&it, &v));

	struct imap_seqset empty = { 0 };
	imap_seqset_iter_init(&it, &empty);
	assert_false(imap_seqset_iter_next(&it, &v));
	assert_int_equal(imap_seqset_count(&empty), 0);
	assert_int_equal(imap_seqset_max(&empty), 0);
	assert_false(imap_seqset_contains(&empty, 1));

	/* the whole UID space counts without overflow */
	assert_int_equal(imap_seqset_parse(a, "1:*", 3, 0, &set, &err), 0);
	imap_seqset_resolve(a, &set, 4294967295u, &set);
	assert_int_equal(imap_seqset_count(&set), 4294967295ull);
	arena_free(&a);
}

static void seqset_write_list(void **state)
{
	struct buf b;
	buf_init(&b, 64);
	static const uint32_t l1[] = { 1, 2, 3, 5 };
	assert_int_equal(imap_seqset_write_list(&b, l1, 4), 0);
	assert_str(buf_ptr(&b), "1:3,5");
	buf_reset(&b, 0);
	/* order kept (COPYUID pairs by position), zeros skipped */
	static const uint32_t l2[] = { 7, 0, 8, 9, 3, 4, 4294967294u, 4294967295u, 1 };
	assert_int_equal(imap_seqset_write_list(&b, l2, 9), 0);
	assert_str(buf_ptr(&b), "7:9,3:4,4294967294:4294967295,1");
	buf_reset(&b, 0);
	assert_int_equal(imap_seqset_write_list(&b, l2, 0), 0);
	assert_str(buf_ptr(&b), "");
	buf_deinit(&b);
	/* ceiling */
	buf_init(&b, 5);
	assert_int_equal(imap_seqset_write_list(&b, l2, 9), -1);
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seqset_parse_valid),
		cmocka_unit_test(seqset_parse_invalid),
		cmocka_unit_test(seqset_resolve_normalizes),
		cmocka_unit_test(seqset_query_and_iterate),
		cmocka_unit_test(seqset_write_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
