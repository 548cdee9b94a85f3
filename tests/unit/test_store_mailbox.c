/* Mailboxes: defaults, names, create/delete/rename, subscriptions, LIST. */
#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int setup(void **state)
{
	*state = store_fx_open("alice");
	return 0;
}

static int teardown(void **state)
{
	store_fx_close(*state);
	return 0;
}

static unsigned attrs_of(struct fx *f, const char *name)
{
	struct store_mbox_entry *l;
	size_t n;
	assert_int_equal(store_mailbox_list(f->u, f->a, &l, &n), STORE_OK);
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].attrs | 0x80000000u;
	return 0;
}

static void defaults_created_with_special_use(void **state)
{
	struct fx *f = *state;
	struct store_mbox_entry *l;
	size_t n;
	assert_int_equal(store_mailbox_list(f->u, f->a, &l, &n), STORE_OK);
	assert_int_equal(n, 6);
	assert_str(l[0].name, "INBOX");
	assert_true(attrs_of(f, "Sent") & STORE_MB_SENT);
	assert_true(attrs_of(f, "Drafts") & STORE_MB_DRAFTS);
	assert_true(attrs_of(f, "Trash") & STORE_MB_TRASH);
	assert_true(attrs_of(f, "Junk") & STORE_MB_JUNK);
	assert_true(attrs_of(f, "Archive") & STORE_MB_ARCHIVE);
	assert_true(attrs_of(f, "INBOX") & STORE_MB_HASNOCHILDREN);
	assert_true(attrs_of(f, "INBOX") & STORE_MB_SUBSCRIBED);
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/users/alice/store.db", f->dir);
	assert_int_equal(stat(path, &st), 0);
}

static void names_validated_and_normalized(void **state)
{
	char out[STORE_NAME_MAX + 1];
	assert_int_equal(store_name_normalize("inbox", out), 0);
	assert_str(out, "INBOX");
	assert_int_equal(store_name_normalize("Inbox/Sub", out), 0);
	assert_str(out, "INBOX/Sub");
	assert_int_equal(store_name_normalize("a/b/", out), 0);
	assert_str(out, "a/b");
	assert_int_equal(store_name_normalize("Entwürfe", out), 0);
	assert_int_equal(store_name_normalize("", out), STORE_E_BADNAME);
	assert_int_equal(store_name_normalize("/a", out), STORE_E_BADNAME);
	assert_int_equal(store_name_normalize("a//b", out), STORE_E_BADNAME);
	assert_int_equal(store_name_normalize("a\tb", out), STORE_E_BADNAME);
	assert_int_equal(store_name_normalize("a*", out), STORE_E_BADNAME);
	assert_int_equal(store_name_normalize("\xc3\x28", out), STORE_E_BADNAME);
	assert_int_equal(store_name_normalize("../../etc", out), 0);  /* never a path */
	char longname[STORE_NAME_MAX + 10];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(store_name_normalize(longname, out), STORE_E_BADNAME);
}

static void bad_user_id_refused(void **state)
{
	struct store_user *u;
	const char *err;
	struct fx *f = *state;
	assert_int_equal(store_user_open(f->dir, "../x", NULL, &u, &err), STORE_E_BADNAME);
	assert_int_equal(store_user_open(f->dir, "a/b", NULL, &u, &err), STORE_E_BADNAME);
	assert_int_equal(store_user_open(f->dir, ".", NULL, &u, &err), STORE_E_BADNAME);
}

static void create_makes_superiors_and_children_attrs(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_mailbox_create(f->u, "a/b/c", 0), STORE_OK);
	assert_true(attrs_of(f, "a") & STORE_MB_HASCHILDREN);
	assert_true(attrs_of(f, "a/b") & STORE_MB_HASCHILDREN);
	assert_true(attrs_of(f, "a/b/c") & STORE_MB_HASNOCHILDREN);
	assert_false(attrs_of(f, "a") & STORE_MB_NOSELECT);
	assert_int_equal(store_mailbox_create(f->u, "a/b/c", 0), STORE_E_EXISTS);
	assert_int_equal(store_mailbox_create(f->u, "inbox", 0), STORE_E_EXISTS);
	/* "a-b" sorts between "a" and "a/b": children still found */
	assert_int_equal(store_mailbox_create(f->u, "a-b", 0), STORE_OK);
	assert_true(attrs_of(f, "a") & STORE_MB_HASCHILDREN);
	assert_true(attrs_of(f, "a-b") & STORE_MB_HASNOCHILDREN);
}

static void delete_rules(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_mailbox_delete(f->u, "INBOX"), STORE_E_NOTALLOWED);
	assert_int_equal(store_mailbox_delete(f->u, "nope"), STORE_E_NOTFOUND);
	assert_int_equal(store_mailbox_create(f->u, "p/q", 0), STORE_OK);
	struct store_status st1, st2;
	assert_int_equal(store_mailbox_status(f->u, "p", &st1), STORE_OK);
	/* With children: becomes \Noselect */
	assert_int_equal(store_mailbox_delete(f->u, "p"), STORE_OK);
	assert_true(attrs_of(f, "p") & STORE_MB_NOSELECT);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(f->u, "p", 0, &mb), STORE_E_NOSELECT);
	/* \Noselect with children: error */
	assert_int_equal(store_mailbox_delete(f->u, "p"), STORE_E_HASCHILDREN);
	assert_int_equal(store_mailbox_delete(f->u, "p/q"), STORE_OK);
	assert_int_equal(attrs_of(f, "p/q"), 0);
	/* Re-created: selectable, new UIDVALIDITY */
	assert_int_equal(store_mailbox_create(f->u, "p", 0), STORE_OK);
	assert_int_equal(store_mailbox_status(f->u, "p", &st2), STORE_OK);
	assert_true(st2.uidvalidity > st1.uidvalidity);
	assert_int_equal(store_mailbox_delete(f->u, "p"), STORE_OK);
	assert_int_equal(attrs_of(f, "p"), 0);
}

static void rename_moves_children_and_subscriptions(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_mailbox_create(f->u, "x/y", 0), STORE_OK);
	assert_int_equal(store_mailbox_subscribe(f->u, "x/y", true), STORE_OK);
	struct store_status before, after;
	assert_int_equal(store_mailbox_status(f->u, "x", &before), STORE_OK);
	assert_int_equal(store_mailbox_rename(f->u, "x", "z/w"), STORE_OK);
	assert_int_equal(attrs_of(f, "x"), 0);
	assert_int_equal(attrs_of(f, "x/y"), 0);
	assert_true(attrs_of(f, "z") != 0);
	assert_true(attrs_of(f, "z/w/y") & STORE_MB_SUBSCRIBED);
	assert_int_equal(store_mailbox_status(f->u, "z/w", &after), STORE_OK);
	assert_int_equal(after.uidvalidity, before.uidvalidity);
	assert_int_equal(store_mailbox_rename(f->u, "z", "z/w/q"), STORE_E_NOTALLOWED);
	assert_int_equal(store_mailbox_rename(f->u, "Sent", "Drafts"), STORE_E_EXISTS);
	assert_int_equal(store_mailbox_rename(f->u, "nope", "n2"), STORE_E_NOTFOUND);
	assert_true(attrs_of(f, "z/w") & STORE_MB_HASCHILDREN);
	/* Special-use travels with the mailbox */
	assert_int_equal(store_mailbox_rename(f->u, "Sent", "Sent Items"), STORE_OK);
	assert_true(attrs_of(f, "Sent Items") & STORE_MB_SENT);
}

static void subscriptions_may_name_nonexistent(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_mailbox_subscribe(f->u, "ghost", true), STORE_OK);
	unsigned at = attrs_of(f, "ghost");
	assert_true(at & STORE_MB_NONEXISTENT);
	assert_true(at & STORE_MB_SUBSCRIBED);
	assert_int_equal(store_mailbox_subscribe(f->u, "ghost", false), STORE_OK);
	assert_int_equal(attrs_of(f, "ghost"), 0);
	assert_false(attrs_of(f, "Junk") & STORE_MB_NONEXISTENT);
}

static void handles_share_one_store_and_reopen_keeps_state(void **state)
{
	struct fx *f = *state;
	struct store_user *u2;
	const char *err;
	assert_int_equal(store_mailbox_create(f->u, "kept", 0), STORE_OK);
	assert_int_equal(store_user_open(f->dir, "alice", NULL, &u2, &err), STORE_OK);
	assert_true(attrs_of(f, "kept") != 0);
	store_user_close(&f->u);
	assert_null(f->u);
	struct store_status st;
	assert_int_equal(store_mailbox_status(u2, "kept", &st), STORE_OK);
	store_user_close(&u2);
	assert_int_equal(store_user_open(f->dir, "alice", NULL, &f->u, &err), STORE_OK);
	assert_true(attrs_of(f, "kept") != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults_created_with_special_use, setup, teardown),
		cmocka_unit_test(names_validated_and_normalized),
		cmocka_unit_test_setup_teardown(bad_user_id_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(create_makes_superiors_and_children_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_moves_children_and_subscriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(subscriptions_may_name_nonexistent, setup, teardown),
		cmocka_unit_test_setup_teardown(handles_share_one_store_and_reopen_keeps_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
