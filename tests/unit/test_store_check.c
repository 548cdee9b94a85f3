/* store_check and crash safety: orphans collected, missing blobs and bad
 * counters found, and kill -9 during appends loses nothing acknowledged. */
#include "unit.h"
#include "lib/arena.h"
#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

static uint32_t append(struct store_user *u, const char *text)
{
	struct store_append *ap;
	assert_int_equal(store_append_begin(u, "INBOX", 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, text, strlen(text)), STORE_OK);
	uint32_t uid = 0;
	assert_int_equal(store_append_commit(ap, NULL, NULL, &uid), STORE_OK);
	return uid;
}

static size_t check(struct store_user *u, struct arena *a, enum store_finding_kind kind,
                    const char *needle)
{
	struct store_finding *f;
	size_t n, hits = 0;
	assert_int_equal(store_check(u, a, &f, &n), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		print_message("  %s: %s\n", f[i].kind == STORE_FINDING_ERROR ? "error" : "fixed",
		              f[i].text);
		if (f[i].kind == kind && (needle == NULL || strstr(f[i].text, needle) != NULL))
			hits++;
	}
	return needle == NULL ? n : hits;
}

static void sql(const char *dir, const char *stmt)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/users/zed/store.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void orphans_collected_and_damage_found(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	struct arena *a = arena_new(0);
	struct store_user *u;
	assert_int_equal(store_user_open(dir, "zed", NULL, &u, &err), STORE_OK);
	append(u, "Subject: keep\r\n\r\nkeep\r\n");
	assert_int_equal(check(u, a, STORE_FINDING_ERROR, NULL), 0);
	store_user_close(&u);

	/* A temp file from a crashed append: removed at open. */
	char path[600];
	snprintf(path, sizeof(path), "%s/users/zed/tmp/append-crashed", dir);
	unit_write_file(path, "partial", 7);
	/* A blob renamed but never committed: collected by check when old. */
	char orphan[600], young[600];
	snprintf(orphan, sizeof(orphan), "%s/users/zed/blobs/00", dir);
	mkdir(orphan, 0700);
	snprintf(orphan, sizeof(orphan), "%s/users/zed/blobs/00/%064d", dir, 0);
	unit_write_file(orphan, "orphan", 6);
	struct utimbuf old = { time(NULL) - 3600, time(NULL) - 3600 };
	utime(orphan, &old);
	snprintf(young, sizeof(young), "%s/users/zed/blobs/00/%063d1", dir, 0);
	unit_write_file(young, "young", 5);
	assert_int_equal(store_user_open(dir, "zed", NULL, &u, &err), STORE_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(check(u, a, STORE_FINDING_FIXED, "unreferenced blob"), 1);
	assert_int_equal(stat(orphan, &st), -1);
	assert_int_equal(stat(young, &st), 0);   /* may be an append in progress */
	store_user_close(&u);

	/* Wrong counters and a missing blob file (of a large message: small
	 * ones are inline, see test_store_blobs.c). */
	sql(dir, "UPDATE quota_usage SET bytes = 1, messages = 9;"
	         " UPDATE mailbox SET uidnext = 1 WHERE name = 'INBOX';"
	         " UPDATE blob SET refs = 5;");
	assert_int_equal(store_user_open(dir, "zed", NULL, &u, &err), STORE_OK);
	assert_int_equal(check(u, a, STORE_FINDING_FIXED, "quota"), 1);
	store_user_close(&u);
	assert_int_equal(store_user_open(dir, "zed", NULL, &u, &err), STORE_OK);
	assert_int_equal(check(u, a, STORE_FINDING_ERROR, NULL), 0);
	/* UIDNEXT was repaired: the next UID is not a reused one */
	size_t big_len = 100 * 1024;
	char *big = malloc(big_len + 1);
	memcpy(big, "Subject: next\r\n\r\n", 17);
	memset(big + 17, 'n', big_len - 17);
	big[big_len] = '\0';
	assert_int_equal(append(u, big), 2);
	free(big);
	store_user_close(&u);
	sql(dir, "UPDATE mailbox SET uidnext = 1 WHERE name = 'INBOX'; UPDATE blob SET refs = 5;");
	assert_int_equal(store_user_open(dir, "zed", NULL, &u, &err), STORE_OK);
	assert_int_equal(check(u, a, STORE_FINDING_FIXED, "UIDNEXT"), 1);
	assert_int_equal(check(u, a, STORE_FINDING_ERROR, NULL), 0);
	struct store_mailbox *mb;
	assert_int_equal(store_mailbox_open(u, "INBOX", 0, &mb), STORE_OK);
	struct store_msg_info info;
	struct store_range r = { 2, 2 };
	struct store_uidset set = { 1, &r };
	struct store_fetch *ft;
	assert_int_equal(store_fetch_begin(mb, &set, 0, &ft), STORE_OK);
	assert_int_equal(store_fetch_next(ft, a, &info), 1);
	store_fetch_end(&ft);
	store_mailbox_close(&mb);
	char blob[600];
	snprintf(blob, sizeof(blob), "%s/users/zed/blobs/%.2s/%s", dir, info.hash, info.hash);
	assert_int_equal(unlink(blob), 0);
	assert_int_equal(check(u, a, STORE_FINDING_ERROR, "missing"), 1);
	store_user_close(&u);
	arena_free(&a);
	unit_rmtree(dir);
}

/* The child appends forever and reports each acknowledged UID (with the
 * message's index) on a pipe; the parent kills it at a random moment. */
static void child_appends(const char *dir, int fd, int start)
{
	struct store_user *u;
	const char *err;
	if (store_user_open(dir, "zed", NULL, &u, &err) != STORE_OK)
		_exit(2);
	for (int i = start;; i++) {
		char text[256];
		snprintf(text, sizeof(text), "Subject: crash %d\r\n\r\nbody %d %s\r\n", i, i,
		         i % 3 ? "" : "with some more text to vary the size");
		struct store_append *ap;
		uint32_t uid;
		if (store_append_begin(u, i % 2 ? "INBOX" : "Archive", 0, &ap) != STORE_OK ||
		    store_append_write(ap, text, strlen(text)) != STORE_OK ||
		    store_append_commit(ap, NULL, NULL, &uid) != STORE_OK)
			_exit(3);
		uint32_t rec[2] = { (uint32_t)i, uid };
		if (write(fd, rec, sizeof(rec)) != sizeof(rec))
			_exit(4);
	}
}

static void kill9_during_appends_loses_nothing_acknowledged(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	struct arena *a = arena_new(0);
	uint32_t acked_uid[4096], acked_idx[4096];
	size_t n_acked = 0;
	int next = 0;
	srand(12345);
	for (int round = 0; round < 20; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			child_appends(dir, p[1], next);
		}
		close(p[1]);
		usleep(5000 + (useconds_t)(rand() % 100000));
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		uint32_t rec[2];
		while (read(p[0], rec, sizeof(rec)) == sizeof(rec) && n_acked < 4096) {
			acked_idx[n_acked] = rec[0];
			acked_uid[n_acked++] = rec[1];
			next = (int)rec[0] + 1;
		}
		close(p[0]);
		next += 1;  /* the one in flight may or may not have landed */
		struct store_user *u;
		assert_int_equal(store_user_open(dir, "zed", NULL, &u, &err), STORE_OK);
		assert_int_equal(check(u, a, STORE_FINDING_ERROR, NULL), 0);
		struct store_mailbox *in, *ar;
		assert_int_equal(store_mailbox_open(u, "INBOX", 0, &in), STORE_OK);
		assert_int_equal(store_mailbox_open(u, "Archive", 0, &ar), STORE_OK);
		for (size_t k = 0; k < n_acked; k++) {
			struct store_mailbox *mb = acked_idx[k] % 2 ? in : ar;
			const char *data;
			size_t len;
			assert_int_equal(store_message_map(mb, acked_uid[k], &data, &len), STORE_OK);
			char text[256];
			int i = (int)acked_idx[k];
			snprintf(text, sizeof(text), "Subject: crash %d\r\n\r\nbody %d %s\r\n", i, i,
			         i % 3 ? "" : "with some more text to vary the size");
			assert_int_equal(len, strlen(text));
			assert_memory_equal(data, text, len);
			store_unmap(data, len);
		}
		store_mailbox_close(&in);
		store_mailbox_close(&ar);
		store_user_close(&u);
		arena_reset(a);
	}
	print_message("  %zu acknowledged appends over 20 kills\n", n_acked);
	assert_true(n_acked > 0);
	arena_free(&a);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(orphans_collected_and_damage_found),
		cmocka_unit_test(kill9_during_appends_loses_nothing_acknowledged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
