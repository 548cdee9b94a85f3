#include "unit.h"
#include "auth/accounts.h"
#include "lib/arena.h"

#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>

struct fixture {
	const char *dir;
	struct accounts *acc;
	struct arena *a;
};

static int setup(void **state)
{
	static struct fixture f;
	const char *error;
	f.dir = unit_tmpdir();
	if (accounts_open(f.dir, &f.acc, &error) != ACCOUNTS_OK)
		fail_msg("accounts_open: %s", error);
	f.a = arena_new(0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	accounts_close(&f->acc);
	arena_free(&f->a);
	unit_rmtree(f->dir);
	return 0;
}

/* Each test declares `const char *error` for the calls to fill. */
#define OK(call) do { error = "?"; \
	if ((call) != ACCOUNTS_OK) fail_msg("%s: %s", #call, error); } while (0)

static void add_list_get_delete(void **state)
{
	struct fixture *f = *state;
	const char *error;
	int64_t id1, id2;
	OK(accounts_user_add(f->acc, "bob@Example.COM", "pw-bob", 6, &id1, &error));
	OK(accounts_user_add(f->acc, "alice@example.com", "pw-alice", 8, &id2, &error));
	assert_true(id1 > 0 && id2 > id1);

	struct account *list;
	size_t n;
	OK(accounts_user_list(f->acc, f->a, &list, &n, &error));
	assert_int_equal(n, 2);
	assert_str(list[0].address, "alice@example.com");
	assert_str(list[1].address, "bob@example.com");  /* domain lower-cased */
	assert_false(list[0].disabled);
	assert_true(list[0].created > 1600000000);
	assert_int_equal(list[0].quota_bytes, 0);

	/* The domain was added with the first user. */
	const char **domains;
	OK(accounts_domain_list(f->acc, f->a, &domains, &n, &error));
	assert_int_equal(n, 1);
	assert_str(domains[0], "example.com");

	struct account acct;
	OK(accounts_user_get(f->acc, f->a, "ALICE@EXAMPLE.com", &acct, &error));
	assert_int_equal(acct.id, id2);
	assert_str(acct.address, "alice@example.com");
	assert_true(strncmp(acct.password_hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	OK(accounts_user_get_by_id(f->acc, f->a, id1, &acct, &error));
	assert_str(acct.address, "bob@example.com");

	unsigned n_aliases = 99;
	OK(accounts_user_del(f->acc, "bob@example.com", &n_aliases, &error));
	assert_int_equal(n_aliases, 0);
	assert_int_equal(accounts_user_get(f->acc, f->a, "bob@example.com", &acct, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);
	assert_non_null(strstr(error, "bob@example.com"));
	assert_int_equal(accounts_user_del(f->acc, "bob@example.com", NULL, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);

	/* Ids are never reused: the old id names a mail directory. */
	int64_t id3;
	OK(accounts_user_add(f->acc, "bob@example.com", "pw", 2, &id3, &error));
	assert_true(id3 > id2);
}

static void duplicate_and_invalid_refused(void **state)
{
	struct fixture *f = *state;
	const char *error;
	OK(accounts_user_add(f->acc, "Carol@example.org", "x", 1, NULL, &error));
	assert_int_equal(accounts_user_add(f->acc, "carol@EXAMPLE.ORG", "y", 1, NULL, &error),
	                 ACCOUNTS_ERR_EXISTS);
	assert_non_null(strstr(error, "exists"));

	static const char *const bad[] = {
		"", "carol", "@example.org", "carol@", "carol@org", "ca rol@example.org",
		"carol@exa mple.org", "ca/rol@example.org", "carol@example..org", ".carol@example.org",
		"car..ol@example.org", "carol@-example.org", "carol\n@example.org", "caröl@example.org",
		"\"carol\"@example.org", "carol@example.org.", "a@b@example.org",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (accounts_user_add(f->acc, bad[i], "pw", 2, NULL, &error) != ACCOUNTS_ERR_INVALID)
			fail_msg("accepted '%s'", bad[i]);
	}
	char longlocal[80];
	memset(longlocal, 'a', 65);
	strcpy(longlocal + 65, "@example.org");
	assert_int_equal(accounts_user_add(f->acc, longlocal, "pw", 2, NULL, &error),
	                 ACCOUNTS_ERR_INVALID);
	assert_int_equal(accounts_user_add(f->acc, "dave@example.org", "", 0, NULL, &error),
	                 ACCOUNTS_ERR_INVALID);
	/* Plausible unusual ones are fine. */
	OK(accounts_user_add(f->acc, "first.last+x_y-z@mail-1.example.org", "pw", 2, NULL, &error));
}

static void passwd_disable_and_quota(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct account before, after;
	OK(accounts_user_add(f->acc, "erin@example.net", "old", 3, NULL, &error));
	OK(accounts_user_get(f->acc, f->a, "erin@example.net", &before, &error));
	OK(accounts_user_passwd(f->acc, "Erin@example.net", "new", 3, &error));
	OK(accounts_user_get(f->acc, f->a, "erin@example.net", &after, &error));
	assert_string_not_equal(before.password_hash, after.password_hash);
	assert_int_equal(accounts_user_passwd(f->acc, "nobody@example.net", "p", 1, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);

	OK(accounts_user_set_disabled(f->acc, "erin@example.net", true, &error));
	OK(accounts_user_get(f->acc, f->a, "erin@example.net", &after, &error));
	assert_true(after.disabled);
	OK(accounts_user_set_disabled(f->acc, "erin@example.net", false, &error));
	OK(accounts_user_get(f->acc, f->a, "erin@example.net", &after, &error));
	assert_false(after.disabled);

	uint64_t bytes = 1, msgs = 1;
	OK(accounts_quota_get(f->acc, "erin@example.net", &bytes, &msgs, &error));
	assert_int_equal(bytes, 0);
	assert_int_equal(msgs, 0);
	OK(accounts_quota_set(f->acc, "erin@example.net", 10ull << 30, 5000, &error));
	OK(accounts_quota_get(f->acc, "ERIN@example.net", &bytes, &msgs, &error));
	assert_int_equal(bytes, 10ull << 30);
	assert_int_equal(msgs, 5000);
	assert_int_equal(accounts_quota_set(f->acc, "erin@example.net", UINT64_MAX, 0, &error),
	                 ACCOUNTS_ERR_INVALID);
	assert_int_equal(accounts_quota_set(f->acc, "x@example.net", 1, 0, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);
}

static void aliases_catch_all_and_resolution(void **state)
{
	struct fixture *f = *state;
	const char *error;
	int64_t alice, bob, id;
	OK(accounts_user_add(f->acc, "Alice@example.com", "a", 1, &alice, &error));
	OK(accounts_user_add(f->acc, "bob@example.com", "b", 1, &bob, &error));
	OK(accounts_alias_add(f->acc, "postmaster@example.com", "alice@EXAMPLE.com", &error));
	OK(accounts_alias_add(f->acc, "info@other.org", "bob@example.com", &error));

	assert_int_equal(accounts_alias_add(f->acc, "postmaster@example.com", "bob@example.com",
	                                    &error), ACCOUNTS_ERR_EXISTS);
	assert_int_equal(accounts_alias_add(f->acc, "bob@example.com", "alice@example.com", &error),
	                 ACCOUNTS_ERR_EXISTS);
	assert_int_equal(accounts_alias_add(f->acc, "x@example.com", "nobody@example.com", &error),
	                 ACCOUNTS_ERR_NOT_FOUND);
	assert_int_equal(accounts_user_add(f->acc, "postmaster@example.com", "p", 1, NULL, &error),
	                 ACCOUNTS_ERR_EXISTS);

	/* Exact account, any case in either part. */
	OK(accounts_resolve_recipient(f->acc, "ALICE@Example.Com", &id, &error));
	assert_int_equal(id, alice);
	OK(accounts_resolve_recipient(f->acc, "PostMaster@example.com", &id, &error));
	assert_int_equal(id, alice);
	OK(accounts_resolve_recipient(f->acc, "info@OTHER.org", &id, &error));
	assert_int_equal(id, bob);
	/* The alias's domain became local. */
	assert_int_equal(accounts_domain_exists(f->acc, "other.org", &error), ACCOUNTS_OK);
	/* Subaddress. */
	OK(accounts_resolve_recipient(f->acc, "bob+lists@example.com", &id, &error));
	assert_int_equal(id, bob);
	/* No catch-all yet. */
	assert_int_equal(accounts_resolve_recipient(f->acc, "random@example.com", &id, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);
	assert_int_equal(accounts_resolve_recipient(f->acc, "not an address", &id, &error),
	                 ACCOUNTS_ERR_INVALID);

	OK(accounts_alias_add(f->acc, "@Example.com", "bob@example.com", &error));
	OK(accounts_resolve_recipient(f->acc, "random@example.com", &id, &error));
	assert_int_equal(id, bob);
	/* Exact matches still win over the catch-all. */
	OK(accounts_resolve_recipient(f->acc, "alice@example.com", &id, &error));
	assert_int_equal(id, alice);
	assert_int_equal(accounts_resolve_recipient(f->acc, "random@other.org", &id, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);

	struct alias *list;
	size_t n;
	OK(accounts_alias_list(f->acc, f->a, &list, &n, &error));
	assert_int_equal(n, 3);
	assert_str(list[0].source, "@example.com");
	assert_str(list[0].target, "bob@example.com");
	assert_str(list[1].source, "postmaster@example.com");
	assert_str(list[1].target, "Alice@example.com");
	assert_int_equal(list[1].target_id, alice);
	assert_str(list[2].source, "info@other.org");

	OK(accounts_alias_del(f->acc, "@example.com", &error));
	assert_int_equal(accounts_alias_del(f->acc, "@example.com", &error), ACCOUNTS_ERR_NOT_FOUND);

	/* Deleting bob takes his alias with him. */
	unsigned gone;
	OK(accounts_user_del(f->acc, "bob@example.com", &gone, &error));
	assert_int_equal(gone, 1);
	assert_int_equal(accounts_resolve_recipient(f->acc, "info@other.org", &id, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);
}

static void domains_add_del_in_use(void **state)
{
	struct fixture *f = *state;
	const char *error;
	const char **names;
	size_t n;
	OK(accounts_domain_add(f->acc, "B.example", &error));
	OK(accounts_domain_add(f->acc, "a.example", &error));
	assert_int_equal(accounts_domain_add(f->acc, "b.EXAMPLE", &error), ACCOUNTS_ERR_EXISTS);
	assert_int_equal(accounts_domain_add(f->acc, "bad_domain.example", &error),
	                 ACCOUNTS_ERR_INVALID);
	OK(accounts_domain_list(f->acc, f->a, &names, &n, &error));
	assert_int_equal(n, 2);
	assert_str(names[0], "a.example");
	assert_str(names[1], "b.example");

	OK(accounts_user_add(f->acc, "u@a.example", "p", 1, NULL, &error));
	assert_int_equal(accounts_domain_del(f->acc, "a.example", &error), ACCOUNTS_ERR_IN_USE);
	assert_non_null(strstr(error, "1 account"));
	OK(accounts_domain_del(f->acc, "B.example", &error));
	assert_int_equal(accounts_domain_del(f->acc, "b.example", &error), ACCOUNTS_ERR_NOT_FOUND);
	assert_int_equal(accounts_domain_exists(f->acc, "b.example", &error), ACCOUNTS_ERR_NOT_FOUND);
	OK(accounts_user_del(f->acc, "u@a.example", NULL, &error));
	OK(accounts_domain_del(f->acc, "a.example", &error));
}

static void database_settings_and_reopen(void **state)
{
	struct fixture *f = *state;
	const char *error;
	OK(accounts_user_add(f->acc, "keep@example.com", "p", 1, NULL, &error));
	accounts_close(&f->acc);
	assert_null(f->acc);

	char path[512];
	snprintf(path, sizeof(path), "%s/accounts.db", f->dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_str((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), ACCOUNTS_SCHEMA_VERSION);
	sqlite3_finalize(stmt);
	/* A database from a newer program is refused, not misread. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(accounts_open(f->dir, &f->acc, &error), ACCOUNTS_ERR_INTERNAL);
	assert_non_null(strstr(error, "newer"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char restore[64];
	snprintf(restore, sizeof(restore), "PRAGMA user_version = %d", ACCOUNTS_SCHEMA_VERSION);
	assert_int_equal(sqlite3_exec(db, restore, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	OK(accounts_open(f->dir, &f->acc, &error));
	struct account acct;
	OK(accounts_user_get(f->acc, f->a, "keep@example.com", &acct, &error));
}

static void admin_attribute(void **state)
{
	struct fixture *f = *state;
	const char *error;
	int64_t id;
	OK(accounts_user_add(f->acc, "root@example.com", "pw", 2, &id, &error));
	struct account acct;
	OK(accounts_user_get(f->acc, f->a, "root@example.com", &acct, &error));
	assert_false(acct.admin);
	OK(accounts_user_set_admin(f->acc, "Root@EXAMPLE.com", true, &error));
	OK(accounts_user_get_by_id(f->acc, f->a, id, &acct, &error));
	assert_true(acct.admin);
	struct account *list;
	size_t n;
	OK(accounts_user_list(f->acc, f->a, &list, &n, &error));
	assert_true(list[0].admin);
	OK(accounts_user_set_admin(f->acc, "root@example.com", false, &error));
	OK(accounts_user_get(f->acc, f->a, "root@example.com", &acct, &error));
	assert_false(acct.admin);
	assert_int_equal(accounts_user_set_admin(f->acc, "nobody@example.com", true, &error),
	                 ACCOUNTS_ERR_NOT_FOUND);
	assert_int_equal(accounts_user_set_admin(f->acc, "not an address", true, &error),
	                 ACCOUNTS_ERR_INVALID);
}

/* A database written by a version-1 program is upgraded in place: the
 * accounts keep everything and are not admins. */
static void schema_1_is_migrated(void **state)
{
	struct fixture *f = *state;
	const char *error;
	accounts_close(&f->acc);
	const char *dir = unit_tmpdir();
	char path[512];
	snprintf(path, sizeof(path), "%s/accounts.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	const char *v1 =
		"CREATE TABLE domains (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
		"  created INTEGER NOT NULL);"
		"CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
		"  domain_id INTEGER NOT NULL REFERENCES domains(id), password_hash TEXT NOT NULL,"
		"  created INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"
		"  quota_bytes INTEGER NOT NULL DEFAULT 0, quota_messages INTEGER NOT NULL DEFAULT 0);"
		"CREATE INDEX accounts_domain ON accounts(domain_id);"
		"CREATE TABLE aliases (id INTEGER PRIMARY KEY, source TEXT NOT NULL UNIQUE COLLATE NOCASE,"
		"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
		"  target_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
		"  created INTEGER NOT NULL);"
		"INSERT INTO domains VALUES (1, 'example.com', 1700000000);"
		"INSERT INTO accounts VALUES (7, 'old@example.com', 1, '$argon2id$x', 1700000000, 1,"
		"  2048, 5);"
		"PRAGMA user_version = 1;";
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	OK(accounts_open(dir, &f->acc, &error));
	struct account acct;
	OK(accounts_user_get(f->acc, f->a, "old@example.com", &acct, &error));
	assert_int_equal(acct.id, 7);
	assert_true(acct.disabled);
	assert_int_equal(acct.quota_bytes, 2048);
	assert_int_equal(acct.quota_messages, 5);
	assert_false(acct.admin);
	OK(accounts_user_set_admin(f->acc, "old@example.com", true, &error));
	accounts_close(&f->acc);
	/* Reopening does not migrate twice. */
	OK(accounts_open(dir, &f->acc, &error));
	OK(accounts_user_get(f->acc, f->a, "old@example.com", &acct, &error));
	assert_true(acct.admin);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), ACCOUNTS_SCHEMA_VERSION);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	unit_rmtree(dir);
}

static void open_creates_missing_data_dir(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/new/deeper", f->dir);
	struct accounts *acc;
	OK(accounts_open(sub, &acc, &error));
	accounts_close(&acc);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(add_list_get_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_and_invalid_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(passwd_disable_and_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(aliases_catch_all_and_resolution, setup, teardown),
		cmocka_unit_test_setup_teardown(domains_add_del_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(database_settings_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(open_creates_missing_data_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(admin_attribute, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_1_is_migrated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
