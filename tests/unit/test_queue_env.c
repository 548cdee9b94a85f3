/* The queue envelope: text form round trip, refusal of bad input, and the
 * spool files (write, read, list, remove, collect). */
#include "unit.h"
#include "lib/arena.h"
#include "queue/queue.h"
#include "queue/queue_env.h"
#include "queue/queue_spool.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void sample(struct queue_env *e)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->id, "65f1a2b300c0ffee");
	strcpy(e->sender, "alice@example.com");
	e->sender_user = 12;
	e->smtputf8 = true;
	e->size = 1234;
	e->created = 1732222222;
	e->attempts = 3;
	e->next_attempt = 1732223333;
	e->last_attempt = 1732223000;
	strcpy(e->last_error, "connect 127.0.0.1:2525: Connection\trefused\r\n");
	assert_int_equal(queue_env_add_rcpt(e, "bob@example.net"), 0);
	assert_int_equal(queue_env_add_rcpt(e, "\"odd name\"@example.net"), 0);
	assert_int_equal(queue_env_add_rcpt(e, "j\xc3\xb6rg@example.de"), 0);
	e->rcpts[0].state = QUEUE_RCPT_DELIVERED;
	strcpy(e->rcpts[0].status, "2.0.0");
	strcpy(e->rcpts[0].remote, "mx.example.net[192.0.2.1]:25");
	strcpy(e->rcpts[0].diag, "250 2.0.0 Ok: queued as X");
	e->rcpts[1].state = QUEUE_RCPT_FAILED;
	strcpy(e->rcpts[1].status, "5.1.1");
	strcpy(e->rcpts[1].diag, "550 5.1.1 no\tsuch user");
}

static void round_trip(void **state)
{
	struct queue_env e, back;
	sample(&e);
	struct buf b;
	buf_init(&b, QUEUE_ENV_MAX);
	assert_int_equal(queue_env_format(&e, &b), 0);
	const char *err = NULL;
	assert_int_equal(queue_env_parse(buf_ptr(&b), buf_len(&b), &back, &err), 0);
	assert_str(back.id, e.id);
	assert_str(back.sender, e.sender);
	assert_int_equal(back.sender_user, 12);
	assert_true(back.smtputf8);
	assert_false(back.body8bit);
	assert_int_equal(back.size, 1234);
	assert_int_equal(back.created, e.created);
	assert_int_equal(back.attempts, 3);
	assert_int_equal(back.next_attempt, e.next_attempt);
	assert_int_equal(back.last_attempt, e.last_attempt);
	/* control characters in free text became spaces */
	assert_str(back.last_error, "connect 127.0.0.1:2525: Connection refused  ");
	assert_int_equal(back.n_rcpts, 3);
	assert_int_equal(back.rcpts[0].state, QUEUE_RCPT_DELIVERED);
	assert_str(back.rcpts[0].remote, "mx.example.net[192.0.2.1]:25");
	assert_str(back.rcpts[0].diag, "250 2.0.0 Ok: queued as X");
	assert_str(back.rcpts[1].addr, "\"odd name\"@example.net");
	assert_int_equal(back.rcpts[1].state, QUEUE_RCPT_FAILED);
	assert_str(back.rcpts[1].status, "5.1.1");
	assert_str(back.rcpts[1].remote, "");
	assert_str(back.rcpts[1].diag, "550 5.1.1 no such user");
	assert_str(back.rcpts[2].addr, "j\xc3\xb6rg@example.de");
	assert_int_equal(back.rcpts[2].state, QUEUE_RCPT_PENDING);
	assert_int_equal(queue_env_count(&back, QUEUE_RCPT_PENDING), 1);
	/* formatting again gives the same text */
	struct buf b2;
	buf_init(&b2, QUEUE_ENV_MAX);
	assert_int_equal(queue_env_format(&back, &b2), 0);
	assert_int_equal(buf_len(&b2), buf_len(&b));
	assert_memory_equal(buf_ptr(&b2), buf_ptr(&b), buf_len(&b));
	buf_deinit(&b2);

	/* the null sender */
	strcpy(e.sender, "");
	buf_reset(&b, 0);
	assert_int_equal(queue_env_format(&e, &b), 0);
	assert_non_null(strstr(buf_ptr(&b), "\nsender <>\n"));
	queue_env_clear(&back);
	assert_int_equal(queue_env_parse(buf_ptr(&b), buf_len(&b), &back, &err), 0);
	assert_str(back.sender, "");
	queue_env_clear(&back);
	queue_env_clear(&e);
	buf_deinit(&b);
}

static void refuses_bad_input(void **state)
{
	struct queue_env e;
	const char *err;
	static const char *const bad[] = {
		"",
		"mailkeep-queue 2\n",
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n",  /* no rcpt */
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tpending\tb@c\t-\t-\t",                                      /* no final LF */
		"mailkeep-queue 1\nid 65f1a2b3\nsender a@b\ncreated 1\nrcpt\tpending\tb@c\t-\t-\t\n",
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tlost\tb@c\t-\t-\t\n",                                       /* bad state */
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated -5\n"
		"rcpt\tpending\tb@c\t-\t-\t\n",
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\nwhat 1\n"
		"rcpt\tpending\tb@c\t-\t-\t\n",                                    /* unknown key */
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tpending\tb@c\t-\n",                                         /* few fields */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (queue_env_parse(bad[i], strlen(bad[i]), &e, &err) != -1)
			fail_msg("accepted case %zu", i);
		assert_non_null(err);
		assert_null(e.rcpts);
	}
	const char *good = "mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
	                   "rcpt\tpending\tb@c\t-\t-\t\n";
	assert_int_equal(queue_env_parse(good, strlen(good), &e, &err), 0);
	queue_env_clear(&e);
	/* recipients: no control characters, bounded count */
	memset(&e, 0, sizeof(e));
	assert_int_equal(queue_env_add_rcpt(&e, "a\tb@c"), -1);
	assert_int_equal(queue_env_add_rcpt(&e, ""), -1);
	for (int i = 0; i < QUEUE_MAX_RCPTS; i++)
		assert_int_equal(queue_env_add_rcpt(&e, "x@y"), 0);
	assert_int_equal(queue_env_add_rcpt(&e, "x@y"), -1);
	queue_env_clear(&e);
}

/* The DSN requests (version 2) round trip; version 1 files (spooled before
 * DSN support) still load, with every DSN item "not given". */
static void dsn_fields_and_version_1(void **state)
{
	struct queue_env e, back;
	sample(&e);
	e.local_user = 9;
	e.delay_notified = true;
	e.ret = QUEUE_RET_HDRS;
	strcpy(e.envid, "QQ+2B123");
	e.rcpts[0].notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY;
	strcpy(e.rcpts[0].orcpt, "rfc822;bob+2Bx@example.net");
	e.rcpts[1].notify = QUEUE_NOTIFY_NEVER;
	e.rcpts[2].state = QUEUE_RCPT_RELAYED;
	struct buf b;
	buf_init(&b, QUEUE_ENV_MAX);
	assert_int_equal(queue_env_format(&e, &b), 0);
	const char *t = buf_ptr(&b);
	assert_true(strncmp(t, "mailkeep-queue 2\n", 17) == 0);
	assert_non_null(strstr(t, "\nlocal-user 9\n"));
	assert_non_null(strstr(t, "\nflags smtputf8 delay-notified\n"));
	assert_non_null(strstr(t, "\nret hdrs\nenvid QQ+2B123\n"));
	assert_non_null(strstr(t, "\nrcpt\tdelivered\tbob@example.net\tsuccess,delay\t"
	                          "rfc822;bob+2Bx@example.net\t2.0.0\t"));
	assert_non_null(strstr(t, "\nrcpt\tfailed\t\"odd name\"@example.net\tnever\t-\t5.1.1\t-\t"));
	assert_non_null(strstr(t, "\nrcpt\trelayed\tj\xc3\xb6rg@example.de\t-\t-\t-\t-\t\n"));
	const char *err = NULL;
	assert_int_equal(queue_env_parse(t, buf_len(&b), &back, &err), 0);
	assert_int_equal(back.local_user, 9);
	assert_true(back.delay_notified);
	assert_true(back.smtputf8);
	assert_false(back.body8bit);
	assert_int_equal(back.ret, QUEUE_RET_HDRS);
	assert_str(back.envid, "QQ+2B123");
	assert_int_equal(back.rcpts[0].notify, QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY);
	assert_str(back.rcpts[0].orcpt, "rfc822;bob+2Bx@example.net");
	assert_str(back.rcpts[0].status, "2.0.0");
	assert_str(back.rcpts[0].diag, "250 2.0.0 Ok: queued as X");
	assert_int_equal(back.rcpts[1].notify, QUEUE_NOTIFY_NEVER);
	assert_str(back.rcpts[1].orcpt, "");
	assert_int_equal(back.rcpts[2].state, QUEUE_RCPT_RELAYED);
	assert_int_equal(back.rcpts[2].notify, 0);
	queue_env_clear(&back);
	queue_env_clear(&e);
	buf_deinit(&b);

	/* a version 1 envelope, as the queue wrote it before */
	static const char v1[] =
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender alice@example.com\nsender-user 12\n"
		"flags 8bit\nsize 99\ncreated 1732222222\nattempts 1\nnext 1732223333\n"
		"last 1732222300\nerror connect: refused\n"
		"rcpt\tpending\tbob@example.net\t4.4.1\tmx[192.0.2.1]:25\tconnect: refused\n"
		"rcpt\tdelivered\tcarol@example.net\t2.0.0\t-\t250 ok\n";
	assert_int_equal(queue_env_parse(v1, sizeof(v1) - 1, &back, &err), 0);
	assert_int_equal(back.n_rcpts, 2);
	assert_true(back.body8bit);
	assert_int_equal(back.sender_user, 12);
	assert_int_equal(back.local_user, 0);
	assert_false(back.delay_notified);
	assert_int_equal(back.ret, QUEUE_RET_NONE);
	assert_str(back.envid, "");
	assert_int_equal(back.rcpts[0].state, QUEUE_RCPT_PENDING);
	assert_str(back.rcpts[0].status, "4.4.1");
	assert_str(back.rcpts[0].remote, "mx[192.0.2.1]:25");
	assert_str(back.rcpts[0].diag, "connect: refused");
	assert_int_equal(back.rcpts[0].notify, 0);
	assert_str(back.rcpts[0].orcpt, "");
	assert_str(back.rcpts[1].diag, "250 ok");
	queue_env_clear(&back);

	/* bad DSN items are refused */
	static const char *const bad[] = {
		"mailkeep-queue 2\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tpending\tb@c\tnever,success\t-\t-\t-\t\n",
		"mailkeep-queue 2\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tpending\tb@c\tsometimes\t-\t-\t-\t\n",
		"mailkeep-queue 2\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tpending\tb@c\t-\tnosemicolon\t-\t-\t\n",
		"mailkeep-queue 2\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\nenvid a+zz\n"
		"rcpt\tpending\tb@c\t-\t-\t-\t-\t\n",
		"mailkeep-queue 2\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\nret some\n"
		"rcpt\tpending\tb@c\t-\t-\t-\t-\t\n",
		/* a version 2 line in a version 1 file: DIAG would hold tabs */
		"mailkeep-queue 1\nid 65f1a2b300c0ffee\nsender a@b\ncreated 1\n"
		"rcpt\tpending\tb@c\t-\t-\t-\t-\t\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (queue_env_parse(bad[i], strlen(bad[i]), &back, &err) != -1)
			fail_msg("accepted case %zu", i);

	/* NOTIFY's meaning: not given is FAILURE,DELAY; NEVER is nothing */
	assert_true(queue_notify_wants(0, QUEUE_NOTIFY_FAILURE));
	assert_true(queue_notify_wants(0, QUEUE_NOTIFY_DELAY));
	assert_false(queue_notify_wants(0, QUEUE_NOTIFY_SUCCESS));
	assert_false(queue_notify_wants(QUEUE_NOTIFY_NEVER, QUEUE_NOTIFY_FAILURE));
	assert_false(queue_notify_wants(QUEUE_NOTIFY_SUCCESS, QUEUE_NOTIFY_FAILURE));
	assert_true(queue_notify_wants(QUEUE_NOTIFY_SUCCESS, QUEUE_NOTIFY_SUCCESS));
	assert_false(queue_notify_wants(QUEUE_NOTIFY_FAILURE, QUEUE_NOTIFY_DELAY));
}

static void ids(void **state)
{
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
	queue_id_new(a);
	queue_id_new(b);
	assert_true(queue_id_valid(a));
	assert_true(queue_id_valid(b));
	assert_string_not_equal(a, b);
	assert_false(queue_id_valid("../../etc/passw"));
	assert_false(queue_id_valid("65F1A2B300C0FFEE"));
	assert_false(queue_id_valid("65f1a2b300c0ffe"));
	assert_false(queue_id_valid("65f1a2b300c0ffee0"));
	assert_false(queue_id_valid(""));
}

static void spool_files(void **state)
{
	const char *dir = unit_tmpdir();
	char *err = NULL, path[4096];
	const char *rcpts[] = { "bob@example.net", "carol@example.org" };
	char body_path[4096];
	snprintf(body_path, sizeof(body_path), "%s/body", dir);
	const char body[] = "Subject: hi\r\n\r\nb\xc3\xa4" "dy\r\n";
	unit_write_file(body_path, body, sizeof(body) - 1);
	int fd = open(body_path, O_RDONLY);
	assert_true(fd >= 0);
	struct queue_msg m = {
		.sender = "alice@example.com", .sender_user = 7, .rcpts = rcpts, .n_rcpts = 2,
		.prefix = "Received: x\r\n", .prefix_len = 13, .body_fd = fd,
		.body_size = sizeof(body) - 1,
	};
	const unsigned notify[] = { QUEUE_NOTIFY_SUCCESS, 0 };
	const char *orcpt[] = { "rfc822;bob@example.net", NULL };
	m.ret = QUEUE_RET_FULL;
	m.envid = "env+2B1";
	m.notify = notify;
	m.orcpt = orcpt;
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], id3[QUEUE_ID_LEN + 1];
	assert_int_equal(queue_enqueue(dir, &m, id, &err), 0);
	/* DSN values that are not what RFC 3461 allows are refused */
	m.envid = "bad envid";
	assert_int_equal(queue_enqueue(dir, &m, id3, &err), -1);
	free(err);
	err = NULL;
	m.envid = NULL;
	orcpt[1] = "rfc822;x+0Ay";  /* decodes to a line break */
	assert_int_equal(queue_enqueue(dir, &m, id3, &err), -1);
	free(err);
	err = NULL;
	m.sender = "";
	m.n_rcpts = 1;
	m.ret = QUEUE_RET_NONE;
	m.notify = NULL;
	m.orcpt = NULL;
	m.local_user = 3;
	assert_int_equal(queue_enqueue(dir, &m, id2, &err), 0);
	close(fd);

	struct queue_env e;
	assert_int_equal(queue_spool_load_env(dir, id, &e, &err), 0);
	assert_str(e.sender, "alice@example.com");
	assert_int_equal(e.sender_user, 7);
	assert_int_equal(e.n_rcpts, 2);
	assert_int_equal(e.size, 13 + sizeof(body) - 1);
	assert_true(e.body8bit);
	assert_false(e.smtputf8);
	assert_true(e.next_attempt <= e.created);
	assert_int_equal(e.ret, QUEUE_RET_FULL);
	assert_str(e.envid, "env+2B1");
	assert_int_equal(e.rcpts[0].notify, QUEUE_NOTIFY_SUCCESS);
	assert_str(e.rcpts[0].orcpt, "rfc822;bob@example.net");
	assert_int_equal(e.rcpts[1].notify, 0);
	assert_str(e.rcpts[1].orcpt, "");
	assert_int_equal(e.local_user, 0);
	struct queue_env e2;
	assert_int_equal(queue_spool_load_env(dir, id2, &e2, &err), 0);
	assert_int_equal(e2.local_user, 3);
	assert_int_equal(e2.ret, QUEUE_RET_NONE);
	assert_str(e2.envid, "");
	queue_env_clear(&e2);
	/* the whole message, when it fits */
	struct buf whole;
	buf_init(&whole, 1 << 20);
	assert_int_equal(queue_spool_read_msg(dir, id, &whole, 4096, &err), 0);
	assert_int_equal(buf_len(&whole), 13 + sizeof(body) - 1);
	assert_memory_equal(buf_ptr(&whole) + 13, body, sizeof(body) - 1);
	buf_reset(&whole, 0);
	assert_int_equal(queue_spool_read_msg(dir, id, &whole, 20, &err), -1);
	free(err);
	err = NULL;
	buf_deinit(&whole);
	/* the message file is prefix + body */
	struct buf hdr;
	buf_init(&hdr, 4096);
	assert_int_equal(queue_spool_read_headers(dir, id, &hdr, 4096, &err), 0);
	assert_str(buf_ptr(&hdr), "Received: x\r\nSubject: hi\r\n");
	buf_deinit(&hdr);
	/* save a change, read it back */
	e.attempts = 5;
	e.rcpts[1].state = QUEUE_RCPT_BOUNCED;
	assert_int_equal(queue_spool_save_env(dir, &e, &err), 0);
	queue_env_clear(&e);
	assert_int_equal(queue_spool_load_env(dir, id, &e, &err), 0);
	assert_int_equal(e.attempts, 5);
	assert_int_equal(e.rcpts[1].state, QUEUE_RCPT_BOUNCED);
	queue_env_clear(&e);

	char(*list)[QUEUE_ID_LEN + 1];
	size_t n;
	assert_int_equal(queue_spool_list(dir, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	free(list);
	/* no temp files are left behind */
	queue_spool_path(path, sizeof(path), dir, "tmp", NULL);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);

	assert_int_equal(queue_spool_remove(dir, id, &err), 0);
	assert_int_equal(queue_spool_remove(dir, id, &err), -1);
	assert_non_null(strstr(err, "no such message"));
	free(err);
	err = NULL;
	assert_int_equal(queue_spool_load_env(dir, id, &e, &err), -1);
	free(err);
	queue_spool_path(path, sizeof(path), dir, "msg", id);
	assert_int_equal(access(path, F_OK), -1);

	/* a message file without envelope (crash mid-enqueue) is collected */
	queue_spool_path(path, sizeof(path), dir, "msg", "0000000000000001");
	unit_write_file(path, "x", 1);
	queue_spool_collect(dir, 3600);
	assert_int_equal(access(path, F_OK), 0);   /* too young */
	queue_spool_collect(dir, 0);
	assert_int_equal(access(path, F_OK), -1);
	queue_spool_path(path, sizeof(path), dir, "msg", id2);
	assert_int_equal(access(path, F_OK), 0);   /* has an envelope: kept */

	/* the lock excludes a second holder */
	int l1 = queue_spool_lock(dir, false, &err);
	assert_true(l1 >= 0);
	int l2 = queue_spool_lock(dir, false, &err);
	assert_int_equal(l2, -1);
	free(err);
	close(l1);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refuses_bad_input),
		cmocka_unit_test(dsn_fields_and_version_1),
		cmocka_unit_test(ids),
		cmocka_unit_test(spool_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
