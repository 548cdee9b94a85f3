#include "unit.h"
#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/login_cache.h"
#include "auth/password.h"
#include "auth/throttle.h"

#include <argon2.h>
#include <pthread.h>

#include "lib/arena.h"

struct fixture {
	const char *dir;
	struct accounts *acc;
	int64_t alice;
};

static int setup(void **state)
{
	static struct fixture f;
	const char *error;
	f.dir = unit_tmpdir();
	if (accounts_open(f.dir, &f.acc, &error) != ACCOUNTS_OK ||
	    accounts_user_add(f.acc, "Alice@example.com", "right", 5, &f.alice, &error) != 0)
		fail_msg("%s", error);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	accounts_close(&f->acc);
	unit_rmtree(f->dir);
	return 0;
}

static enum auth_status try(struct fixture *f, struct throttle *t, const char *user,
                            const char *pw, struct auth_result *res)
{
	struct auth_request req = {
		.username = user, .password = pw, .password_len = strlen(pw),
		.remote_ip = "192.0.2.1", .now_ms = 1000,
	};
	auth_verify(f->acc, t, &req, res);
	return res->status;
}

static void right_password_logs_in(void **state)
{
	struct fixture *f = *state;
	struct auth_result res;
	assert_int_equal(try(f, NULL, "alice@EXAMPLE.com", "right", &res), AUTH_OK);
	assert_int_equal(res.account_id, f->alice);
	assert_str(res.address, "Alice@example.com");
	assert_int_equal(res.delay_ms, 0);
}

static void wrong_password_and_unknown_user_fail_alike(void **state)
{
	struct fixture *f = *state;
	struct auth_result res;
	assert_int_equal(try(f, NULL, "alice@example.com", "wrong", &res), AUTH_FAIL);
	assert_str(res.reason, "wrong password");
	assert_int_equal(res.account_id, 0);
	assert_str(res.address, "");
	assert_int_equal(try(f, NULL, "nobody@example.com", "right", &res), AUTH_FAIL);
	assert_str(res.reason, "unknown user");
	assert_int_equal(try(f, NULL, "not an address", "right", &res), AUTH_FAIL);
	assert_int_equal(try(f, NULL, "", "right", &res), AUTH_FAIL);
}

static void disabled_only_with_the_right_password(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct auth_result res;
	assert_int_equal(accounts_user_set_disabled(f->acc, "alice@example.com", true, &error), 0);
	assert_int_equal(try(f, NULL, "alice@example.com", "wrong", &res), AUTH_FAIL);
	assert_int_equal(try(f, NULL, "alice@example.com", "right", &res), AUTH_DISABLED);
	assert_str(res.reason, "account disabled");
}

static void bare_local_part_with_a_single_domain(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct auth_result res;
	assert_int_equal(try(f, NULL, "alice", "right", &res), AUTH_OK);
	assert_str(res.address, "Alice@example.com");
	/* With two domains a bare name is ambiguous. */
	assert_int_equal(accounts_domain_add(f->acc, "example.org", &error), 0);
	assert_int_equal(try(f, NULL, "alice", "right", &res), AUTH_FAIL);
}

static void failures_feed_the_throttle(void **state)
{
	struct fixture *f = *state;
	struct throttle_params p;
	throttle_params_default(&p, 10);
	struct throttle *t = throttle_new(&p);
	struct auth_result res;
	assert_int_equal(try(f, t, "alice@example.com", "x", &res), AUTH_FAIL);
	assert_int_equal(res.delay_ms, 250);
	/* The bare name and another spelling count against the same record. */
	assert_int_equal(try(f, t, "alice", "x", &res), AUTH_FAIL);
	assert_int_equal(res.delay_ms, 500);
	assert_int_equal(try(f, t, "ALICE@example.com", "x", &res), AUTH_FAIL);
	assert_int_equal(res.delay_ms, 1000);
	assert_int_equal(throttle_delay_ms(t, "192.0.2.1", "alice@example.com", 1000), 1000);
	assert_int_equal(try(f, t, "alice@example.com", "right", &res), AUTH_OK);
	assert_int_equal(res.delay_ms, 0);
	assert_int_equal(throttle_delay_ms(t, "192.0.2.1", "alice@example.com", 1000), 0);
	throttle_free(&t);
}

static void outdated_hash_is_replaced_after_login(void **state)
{
	struct fixture *f = *state;
	const char *error;
	/* A valid argon2i hash of "right", as an older install might have. */
	char old[256];
	uint8_t salt[16] = "0123456789abcde";
	assert_int_equal(argon2i_hash_encoded(1, 1024, 1, "right", 5, salt, 16, 32, old, sizeof(old)),
	                 0);
	assert_int_equal(accounts_user_set_hash(f->acc, f->alice, old, &error), 0);
	struct auth_result res;
	assert_int_equal(try(f, NULL, "alice@example.com", "right", &res), AUTH_OK);
	struct arena *a = arena_new(0);
	struct account acct;
	assert_int_equal(accounts_user_get_by_id(f->acc, a, f->alice, &acct, &error), 0);
	assert_false(password_needs_rehash(acct.password_hash));
	assert_int_equal(password_verify(acct.password_hash, "right", 5), PASSWORD_OK);
	arena_free(&a);
}

struct worker_arg { const char *dir; int ok; };

static enum auth_status try_cached(struct fixture *f, struct login_cache *lc, const char *pw,
                                   uint64_t now_ms, struct auth_result *res)
{
	struct auth_request req = {
		.username = "alice@example.com", .password = pw, .password_len = strlen(pw),
		.remote_ip = "192.0.2.1", .now_ms = now_ms, .cache = lc,
	};
	auth_verify(f->acc, NULL, &req, res);
	return res->status;
}

static void cache_remembers_only_the_right_password(void **state)
{
	struct fixture *f = *state;
	struct login_cache *lc = login_cache_new(60000, 16);
	struct auth_result res;
	struct arena *a = arena_new(0);
	struct account acct;
	const char *error;
	assert_int_equal(accounts_user_get(f->acc, a, "alice@example.com", &acct, &error), 0);
	assert_false(login_cache_check(lc, f->alice, acct.password_hash, "right", 5, 1000));
	assert_int_equal(try_cached(f, lc, "right", 1000, &res), AUTH_OK);
	assert_true(login_cache_check(lc, f->alice, acct.password_hash, "right", 5, 2000));
	/* Another password, or the right one past the TTL, is not a hit. */
	assert_false(login_cache_check(lc, f->alice, acct.password_hash, "righ", 4, 2000));
	assert_false(login_cache_check(lc, f->alice, acct.password_hash, "right", 5, 61000));
	assert_int_equal(try_cached(f, lc, "wrong", 2000, &res), AUTH_FAIL);
	assert_int_equal(try_cached(f, lc, "right", 2000, &res), AUTH_OK);
	assert_int_equal(res.account_id, f->alice);
	arena_free(&a);
	login_cache_free(&lc);
}

static void cache_does_not_outlive_a_password_change_or_disable(void **state)
{
	struct fixture *f = *state;
	struct login_cache *lc = login_cache_new(60000, 16);
	struct auth_result res;
	const char *error;
	assert_int_equal(try_cached(f, lc, "right", 1000, &res), AUTH_OK);
	assert_int_equal(accounts_user_set_disabled(f->acc, "alice@example.com", true, &error), 0);
	assert_int_equal(try_cached(f, lc, "right", 1001, &res), AUTH_DISABLED);
	assert_int_equal(accounts_user_set_disabled(f->acc, "alice@example.com", false, &error), 0);
	assert_int_equal(accounts_user_passwd(f->acc, "alice@example.com", "new one", 7, &error), 0);
	assert_int_equal(try_cached(f, lc, "right", 1002, &res), AUTH_FAIL);
	assert_str(res.reason, "wrong password");
	assert_int_equal(try_cached(f, lc, "new one", 1003, &res), AUTH_OK);
	login_cache_free(&lc);
	assert_null(lc);
}

static void *login_worker(void *p)
{
	struct worker_arg *w = p;
	struct accounts *acc;
	const char *error;
	if (accounts_open(w->dir, &acc, &error) != ACCOUNTS_OK)
		return NULL;
	for (int i = 0; i < 3; i++) {
		struct auth_request req = { "alice@example.com", "right", 5, "192.0.2.9", 1, NULL };
		struct auth_result res;
		auth_verify(acc, NULL, &req, &res);
		w->ok += res.status == AUTH_OK;
	}
	accounts_close(&acc);
	return NULL;
}

static void one_handle_per_thread_in_parallel(void **state)
{
	struct fixture *f = *state;
	pthread_t th[4];
	struct worker_arg w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker_arg){ f->dir, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, login_worker, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(right_password_logs_in, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_password_and_unknown_user_fail_alike, setup, teardown),
		cmocka_unit_test_setup_teardown(disabled_only_with_the_right_password, setup, teardown),
		cmocka_unit_test_setup_teardown(bare_local_part_with_a_single_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(failures_feed_the_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(outdated_hash_is_replaced_after_login, setup, teardown),
		cmocka_unit_test_setup_teardown(one_handle_per_thread_in_parallel, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_remembers_only_the_right_password, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_does_not_outlive_a_password_change_or_disable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
