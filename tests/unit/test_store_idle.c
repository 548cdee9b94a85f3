/* Stores kept open after their last handle closes (store_keep_idle). An
 * open store keeps its write-ahead log file; SQLite removes it when the
 * last connection closes, which is how these tests see whether a store
 * is still open. */
#include "unit.h"
#include "lib/ev.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool store_is_open(const char *dir, const char *user)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/users/%s/store.db-wal", dir, user);
	return access(path, F_OK) == 0;
}

static void use_once(const char *dir, const char *user)
{
	struct store_user *u;
	const char *err;
	assert_int_equal(store_user_open(dir, user, NULL, &u, &err), STORE_OK);
	struct store_status st;
	assert_int_equal(store_mailbox_status(u, "INBOX", &st), STORE_OK);
	store_user_close(&u);
}

static void append_one(struct store_user *u, const char *text)
{
	struct store_append *ap;
	assert_int_equal(store_append_begin(u, "INBOX", 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, text, strlen(text)), STORE_OK);
	assert_int_equal(store_append_commit(ap, NULL, NULL, NULL), STORE_OK);
}

static void closed_with_last_handle_by_default(void **state)
{
	const char *dir = unit_tmpdir();
	use_once(dir, "ann");
	assert_false(store_is_open(dir, "ann"));
	unit_rmtree(dir);
}

static void kept_until_its_time_is_up(void **state)
{
	const char *dir = unit_tmpdir();
	store_keep_idle(4, 5000);
	use_once(dir, "ann");
	assert_true(store_is_open(dir, "ann"));
	store_idle_sweep(ev_clock_ms() + 1000);
	assert_true(store_is_open(dir, "ann"));
	store_idle_sweep(ev_clock_ms() + 6000);
	assert_false(store_is_open(dir, "ann"));
	/* A sweep with a clock older than the close keeps it. */
	use_once(dir, "ann");
	store_idle_sweep(ev_clock_ms() - 1);
	assert_true(store_is_open(dir, "ann"));
	store_idle_close_all();
	assert_false(store_is_open(dir, "ann"));
	/* Keeping is off again. */
	use_once(dir, "ann");
	assert_false(store_is_open(dir, "ann"));
	unit_rmtree(dir);
}

static void the_first_to_go_idle_is_closed_first(void **state)
{
	const char *dir = unit_tmpdir();
	store_keep_idle(2, 60000);
	use_once(dir, "ann");
	use_once(dir, "bob");
	use_once(dir, "cid");   /* three idle, two kept */
	assert_false(store_is_open(dir, "ann"));
	assert_true(store_is_open(dir, "bob"));
	assert_true(store_is_open(dir, "cid"));
	use_once(dir, "bob");   /* bob again: now cid is the older idle one */
	use_once(dir, "dan");
	assert_false(store_is_open(dir, "cid"));
	assert_true(store_is_open(dir, "bob"));
	assert_true(store_is_open(dir, "dan"));
	store_idle_close_all();
	assert_false(store_is_open(dir, "bob"));
	assert_false(store_is_open(dir, "dan"));
	unit_rmtree(dir);
}

static void *append_elsewhere(void *arg)
{
	const char *dir = arg;
	struct store_user *u;
	const char *err;
	if (store_user_open(dir, "eve", NULL, &u, &err) != STORE_OK)
		return NULL;
	append_one(u, "Subject: while idle\r\n\r\nz\r\n");
	store_user_close(&u);
	return (void *)1;
}

static void kept_store_sees_what_changed_while_idle(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	store_keep_idle(4, 60000);
	struct store_user *u;
	assert_int_equal(store_user_open(dir, "eve", NULL, &u, &err), STORE_OK);
	append_one(u, "Subject: first\r\n\r\n1\r\n");
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(u, "INBOX", 0, &mb), STORE_OK);
	size_t n;
	store_mailbox_msgs(mb, &n);
	assert_int_equal(n, 1);
	store_mailbox_close(&mb);
	store_user_close(&u);
	assert_true(store_is_open(dir, "eve"));
	/* Another thread (another connection to the database) delivers. */
	pthread_t t;
	void *ok = NULL;
	assert_int_equal(pthread_create(&t, NULL, append_elsewhere, (void *)dir), 0);
	pthread_join(t, &ok);
	assert_non_null(ok);
	assert_true(store_is_open(dir, "eve"));
	/* The next session here reuses the kept store and sees both. */
	assert_int_equal(store_user_open(dir, "eve", NULL, &u, &err), STORE_OK);
	struct store_status st;
	assert_int_equal(store_mailbox_status(u, "INBOX", &st), STORE_OK);
	assert_int_equal(st.messages, 2);
	assert_int_equal(store_mailbox_open(u, "INBOX", 0, &mb), STORE_OK);
	store_mailbox_msgs(mb, &n);
	assert_int_equal(n, 2);
	/* And our next append comes after the other one's. */
	append_one(u, "Subject: third\r\n\r\n3\r\n");
	store_mailbox_msgs(mb, &n);
	assert_int_equal(n, 3);
	store_mailbox_close(&mb);
	store_user_close(&u);
	store_idle_close_all();
	assert_false(store_is_open(dir, "eve"));
	unit_rmtree(dir);
}

/* More users than the table's first size, open together, closed in
 * another order: each handle finds its own user's store, and the kept
 * ones are the last to have gone idle. */
static void many_users_each_find_their_own(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	enum { USERS = 80 };
	struct store_user *first[USERS], *second[USERS];
	char name[USERS][16];
	store_keep_idle(USERS, 60000);
	for (int i = 0; i < USERS; i++) {
		snprintf(name[i], sizeof(name[i]), "u%d", i);
		assert_int_equal(store_user_open(dir, name[i], NULL, &first[i], &err), STORE_OK);
		if (i % 29 == 0)
			append_one(first[i], "Subject: only some\r\n\r\nx\r\n");
	}
	for (int i = USERS - 1; i >= 0; i--) {
		assert_int_equal(store_user_open(dir, name[i], NULL, &second[i], &err), STORE_OK);
		struct store_status st;
		assert_int_equal(store_mailbox_status(second[i], "INBOX", &st), STORE_OK);
		assert_int_equal(st.messages, i % 29 == 0 ? 1 : 0);
	}
	/* Odd users go idle first, then the even ones. */
	for (int pass = 1; pass >= 0; pass--)
		for (int i = pass; i < USERS; i += 2) {
			store_user_close(&first[i]);
			assert_true(store_is_open(dir, name[i]));
			store_user_close(&second[i]);
		}
	for (int i = 0; i < USERS; i++)
		assert_true(store_is_open(dir, name[i]));
	store_keep_idle(USERS / 2, 60000);
	for (int i = 0; i < USERS; i++)
		assert_int_equal(store_is_open(dir, name[i]), i % 2 == 0);
	/* Reused, an idle store is no longer among those to close. */
	struct store_user *again;
	assert_int_equal(store_user_open(dir, name[0], NULL, &again, &err), STORE_OK);
	store_keep_idle(0, 60000);
	assert_true(store_is_open(dir, name[0]));
	assert_false(store_is_open(dir, name[2]));
	store_user_close(&again);
	assert_false(store_is_open(dir, name[0]));
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_with_last_handle_by_default),
		cmocka_unit_test(kept_until_its_time_is_up),
		cmocka_unit_test(the_first_to_go_idle_is_closed_first),
		cmocka_unit_test(kept_store_sees_what_changed_while_idle),
		cmocka_unit_test(many_users_each_find_their_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
