#include "unit.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"

static void buf_ceiling_refuses_and_keeps_content(void **state)
{
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "abcdef", 6), 0);
	assert_int_equal(buf_append(&b, "ghi", 3), -1);
	assert_int_equal(buf_len(&b), 6);
	assert_str(buf_ptr(&b), "abcdef");
	assert_int_equal(buf_append(&b, "gh", 2), 0);
	assert_str(buf_ptr(&b), "abcdefgh");
	buf_deinit(&b);
}

static void buf_consume_then_append_compacts(void **state)
{
	struct buf b;
	buf_init(&b, 16);
	for (int round = 0; round < 100; round++) {
		assert_int_equal(buf_append(&b, "0123456789", 10), 0);
		buf_consume(&b, 7);
		assert_int_equal(buf_len(&b), 3);
		assert_str(buf_ptr(&b), "789");
		buf_consume(&b, 3);
	}
	assert_true(b.cap <= 16);
	buf_deinit(&b);
}

static void buf_zero_length_append_on_fresh_buffer(void **state)
{
	struct buf b;
	buf_init(&b, 16);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_len(&b), 0);
	assert_str(buf_ptr(&b), "");
	buf_commit(&b, 0);
	buf_deinit(&b);
	struct buf z;
	buf_init(&z, 0);  /* a zero ceiling still holds the empty string */
	assert_int_equal(buf_append(&z, "", 0), 0);
	assert_int_equal(buf_append(&z, "x", 1), -1);
	buf_deinit(&z);
}

static void buf_printf_respects_ceiling(void **state)
{
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "ab"), 0);
	assert_str(buf_ptr(&b), "42-ab");
	assert_int_equal(buf_printf(&b, "%s", "123456"), -1);
	assert_str(buf_ptr(&b), "42-ab");
	buf_deinit(&b);
}

static void buf_reserve_commit(void **state)
{
	struct buf b;
	buf_init(&b, 100);
	char *p = buf_reserve(&b, 50);
	assert_non_null(p);
	memcpy(p, "hello", 5);
	buf_commit(&b, 5);
	assert_str(buf_ptr(&b), "hello");
	assert_null(buf_reserve(&b, 96));
	buf_deinit(&b);
}

static void arena_alloc_zeroed_aligned_and_reset(void **state)
{
	struct arena *a = arena_new(1024);
	for (int i = 0; i < 1000; i++) {
		unsigned char *p = arena_alloc(a, (size_t)(i % 37) + 1);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (int j = 0; j < i % 37 + 1; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xff, (size_t)(i % 37) + 1);
	}
	char *big = arena_alloc(a, 100000);
	big[99999] = 1;
	assert_true(arena_used(a) >= 100000);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	assert_str(arena_printf(a, "%s=%d", "x", 5), "x=5");
	assert_str(arena_strndup(a, "abcdef", 3), "abc");
	arena_free(&a);
	assert_null(a);
}

static int cleanup_calls;
static void count_cleanup(void *p) { cleanup_calls += *(int *)p; }

static void arena_cleanups_run_newest_first_once(void **state)
{
	struct arena *a = arena_new(0);
	static int one = 1, ten = 10;
	cleanup_calls = 0;
	arena_on_free(a, count_cleanup, &one);
	arena_on_free(a, count_cleanup, &ten);
	arena_reset(a);
	assert_int_equal(cleanup_calls, 11);
	arena_reset(a);
	assert_int_equal(cleanup_calls, 11);
	arena_on_free(a, count_cleanup, &one);
	arena_free(&a);
	assert_int_equal(cleanup_calls, 12);
}

static void log_escape_marks_control_and_cut(void **state)
{
	char out[32];
	assert_str(log_escape(out, sizeof(out), "a\r\nb", 4), "a\\x0d\\x0ab");
	assert_str(log_escape(out, sizeof(out), "\xff", 1), "\\xff");
	char longin[100];
	memset(longin, 'x', sizeof(longin));
	log_escape(out, sizeof(out), longin, sizeof(longin));
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, "..."));
}

static void detach_and_attach_move_the_storage(void **state)
{
	struct buf a, b;
	buf_init(&a, 100);
	buf_init(&b, 100);
	size_t cap;
	assert_null(buf_detach(&a, &cap));   /* nothing allocated yet */
	assert_int_equal(buf_append(&a, "hello", 5), 0);
	buf_consume(&a, 5);
	char *d = buf_detach(&a, &cap);
	assert_non_null(d);
	assert_true(cap >= 5);
	assert_int_equal(buf_len(&a), 0);
	assert_str(buf_ptr(&a), "");
	buf_attach(&b, d, cap);
	assert_int_equal(buf_len(&b), 0);
	assert_str(buf_ptr(&b), "");
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_ptr_equal(buf_ptr(&b), d);    /* no new allocation */
	assert_str(buf_ptr(&b), "abc");
	assert_int_equal(buf_append(&a, "x", 1), 0);   /* a allocates anew */
	buf_deinit(&a);
	buf_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detach_and_attach_move_the_storage),
		cmocka_unit_test(buf_ceiling_refuses_and_keeps_content),
		cmocka_unit_test(buf_consume_then_append_compacts),
		cmocka_unit_test(buf_zero_length_append_on_fresh_buffer),
		cmocka_unit_test(buf_printf_respects_ceiling),
		cmocka_unit_test(buf_reserve_commit),
		cmocka_unit_test(arena_alloc_zeroed_aligned_and_reset),
		cmocka_unit_test(arena_cleanups_run_newest_first_once),
		cmocka_unit_test(log_escape_marks_control_and_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
