#include "unit.h"
#include "lib/conn.h"
#include "lib/ev.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- line framing --- */

static void line_framing(void **state)
{
	struct conn c;
	memset(&c, 0, sizeof(c));
	buf_init(&c.in, 1024);
	size_t len, total;

	buf_append_str(&c.in, "abc");
	assert_int_equal(conn_line(&c, 100, &len, &total), 0);
	buf_append_str(&c.in, "\r\nnext");
	assert_int_equal(conn_line(&c, 100, &len, &total), 1);
	assert_int_equal(len, 3);
	assert_int_equal(total, 5);
	buf_consume(&c.in, total);

	buf_append_str(&c.in, "\n");  /* a lone LF ends a line too */
	assert_int_equal(conn_line(&c, 100, &len, &total), 1);
	assert_int_equal(len, 4);
	assert_int_equal(total, 5);
	buf_consume(&c.in, total);

	char big[200];
	memset(big, 'x', sizeof(big));
	buf_append(&c.in, big, sizeof(big));
	assert_int_equal(conn_line(&c, 100, &len, &total), -1);
	buf_append_str(&c.in, "\n");
	/* The end is past the limit: still too long. */
	assert_int_equal(conn_line(&c, 100, &len, &total), -1);
	buf_deinit(&c.in);
}

/* --- back-pressure over a socketpair --- */

static int answers;
static struct conn *the_conn;

/* Each input line is answered with 1 KiB, as a greedy session would. */
static void echo_input(struct conn *c)
{
	static char kib[1024];
	memset(kib, 'a', sizeof(kib) - 2);
	kib[1022] = '\r';
	kib[1023] = '\n';
	size_t len, total;
	while (!conn_output_full(c) && conn_line(c, 1000, &len, &total) == 1) {
		buf_consume(&c->in, total);
		conn_write(c, kib, sizeof(kib));
		answers++;
	}
}

static void closed_cb(struct conn *c) { the_conn = NULL; }

static const struct conn_ops echo_ops = { .input = echo_input, .closed = closed_cb };

static void echo_start(struct conn *c)
{
	c->ops = &echo_ops;
	the_conn = c;
}

static const struct proto echo_proto = { .name = "test", .start = echo_start };

static void stop_loop(struct ev_loop *loop, struct ev_timer *t) { ev_loop_stop(loop); }

static void reader_that_never_reads_is_bounded(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	int small = 4096;
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));

	struct ev_loop *loop = ev_loop_new();
	struct conn_list list = { 0 };
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	struct conn_settings s = { .in_max = 4096, .out_limit = 16384 };
	struct conn *c = conn_new(loop, &list, sv[0], &peer, sizeof(sa_family_t), &echo_proto,
	                          false, &s);
	conn_begin(c, 0);

	/* The client writes 20,000 commands (20 MB of answers) and reads none. */
	size_t sent = 0;
	const char *cmd = "x\n";
	struct ev_timer t = { .cb = stop_loop };
	for (int round = 0; round < 200; round++) {
		while (sent < 20000 * 2 && write(sv[1], cmd, 2) == 2)
			sent += 2;
		ev_timer_start(loop, &t, 2);
		ev_loop_run(loop);
	}
	assert_non_null(the_conn);
	/* The server stopped reading: most commands are still unread, and what
	 * it holds for the client is about the limit, not 20 MB. */
	assert_true(sent < 20000 * 2);
	assert_true(conn_output_pending(c) <= s.out_limit + 1024);
	assert_true(answers < 200);

	/* Once the client reads, the server goes on answering. */
	int before = answers;
	char sink[65536];
	for (int round = 0; round < 200; round++) {
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
		ev_timer_start(loop, &t, 2);
		ev_loop_run(loop);
	}
	assert_true(answers > before);

	conn_abort(c);
	ev_timer_start(loop, &t, 1);
	ev_loop_run(loop);  /* runs the deferred free */
	assert_null(the_conn);
	close(sv[1]);
	ev_loop_free(&loop);
}

/* --- output formatted in place, buffers reused between answers --- */

/* Each line "n" is answered "<n> ok\r\n", formatted with conn_reserve. */
static void reserve_input(struct conn *c)
{
	size_t len, total;
	while (conn_line(c, 1000, &len, &total) == 1) {
		char *p = conn_reserve(c, len + 8);
		assert_non_null(p);
		memcpy(p, buf_ptr(&c->in), len);
		memcpy(p + len, " ok\r\n", 5);
		conn_commit(c, len + 5);
		buf_consume(&c->in, total);
		answers++;
	}
}

static const struct conn_ops reserve_ops = { .input = reserve_input, .closed = closed_cb };

static void reserve_start(struct conn *c)
{
	c->ops = &reserve_ops;
	the_conn = c;
}

static const struct proto reserve_proto = { .name = "test", .start = reserve_start };

static void reserved_output_arrives_whole_across_buffer_reuse(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	struct ev_loop *loop = ev_loop_new();
	struct conn_list list = { 0 };
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	struct conn_settings s = { .in_max = 4096, .out_limit = 16384 };
	struct conn *c = conn_new(loop, &list, sv[0], &peer, sizeof(sa_family_t), &reserve_proto,
	                          false, &s);
	conn_begin(c, 0);
	answers = 0;
	struct ev_timer t = { .cb = stop_loop };
	/* One command per loop turn: each answer drains, its buffer is kept
	 * for the next one; the bytes must still be exactly right. */
	char want[64], got[64];
	for (int i = 0; i < 300; i++) {
		int n = snprintf(want, sizeof(want), "%d\n", i);
		assert_int_equal(write(sv[1], want, (size_t)n), n);
		ev_timer_start(loop, &t, 2);
		ev_loop_run(loop);
		n = snprintf(want, sizeof(want), "%d ok\r\n", i);
		ssize_t r = read(sv[1], got, sizeof(got));
		assert_int_equal(r, n);
		assert_memory_equal(got, want, (size_t)n);
		assert_int_equal(conn_output_pending(c), 0);
	}
	assert_int_equal(answers, 300);
	conn_abort(c);
	ev_timer_start(loop, &t, 1);
	ev_loop_run(loop);
	close(sv[1]);
	ev_loop_free(&loop);
}

/* --- connections moved between loops running on their own threads --- */

#define MOVE_CONNS 64
#define MOVE_HOPS 2000

struct mover {
	struct ev_loop *loop;
	struct conn_list list;
	struct mover *other;
	pthread_t thread;
};
static struct mover movers[2];
static atomic_int moves_left;
static int hops[MOVE_CONNS];

static void *mover_main(void *arg)
{
	struct mover *m = arg;
	ev_loop_run(m->loop);
	return NULL;
}

/* On arrival a connection goes straight back, while the other loop's
 * thread does the same with its arrivals: both lists change on both
 * threads at once, as when logins move sessions between workers. */
static void arrived(struct conn *c, void *arg)
{
	struct mover *here = arg;
	if (c->list != &here->list || c->loop != here->loop)
		abort();
	if (++hops[c->id] < MOVE_HOPS)
		conn_move(c, here->other->loop, &here->other->list, arrived, here->other);
	else
		atomic_fetch_sub(&moves_left, 1);
}

/* Runs on the first loop's thread, which owns its connections. */
static void move_all(void *arg)
{
	struct mover *m = arg;
	while (m->list.head != NULL)
		conn_move(m->list.head, m->other->loop, &m->other->list, arrived, m->other);
}

static void stop_posted(void *arg) { ev_loop_stop(arg); }

/* The list's length by walking it, each link checked. */
static size_t walk(const struct conn_list *l)
{
	size_t n = 0;
	const struct conn *prev = NULL;
	for (const struct conn *c = l->head; c != NULL && n <= MOVE_CONNS; c = c->next) {
		assert_true(c->prev == prev);
		assert_true(c->list == l);
		prev = c;
		n++;
	}
	return n;
}

static void moves_between_threads_keep_both_lists_whole(void **state)
{
	struct conn_settings s = { .in_max = 4096, .out_limit = 16384 };
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	int fds[MOVE_CONNS][2];
	memset(movers, 0, sizeof(movers));
	for (int i = 0; i < 2; i++) {
		movers[i].loop = ev_loop_new();
		movers[i].other = &movers[1 - i];
	}
	for (int i = 0; i < MOVE_CONNS; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds[i]), 0);
		struct conn *c = conn_new(movers[0].loop, &movers[0].list, fds[i][0], &peer,
		                          sizeof(sa_family_t), &echo_proto, false, &s);
		c->id = (uint64_t)i;
		hops[i] = 0;
	}
	atomic_store(&moves_left, MOVE_CONNS);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&movers[i].thread, NULL, mover_main, &movers[i]), 0);
	ev_post(movers[0].loop, move_all, &movers[0]);
	for (int ms = 0; atomic_load(&moves_left) > 0 && ms < 60000; ms++)
		usleep(1000);
	for (int i = 0; i < 2; i++) {
		ev_post(movers[i].loop, stop_posted, movers[i].loop);
		pthread_join(movers[i].thread, NULL);
	}
	assert_int_equal(atomic_load(&moves_left), 0);
	/* Every connection is on exactly one list, and each list's count is
	 * its length. */
	size_t n0 = walk(&movers[0].list), n1 = walk(&movers[1].list);
	assert_int_equal(n0, movers[0].list.n);
	assert_int_equal(n1, movers[1].list.n);
	assert_int_equal(n0 + n1, MOVE_CONNS);

	struct ev_timer t = { .cb = stop_loop };
	for (int i = 0; i < 2; i++) {
		while (movers[i].list.head != NULL)
			conn_abort(movers[i].list.head);
		ev_timer_start(movers[i].loop, &t, 1);
		ev_loop_run(movers[i].loop);   /* runs the deferred frees */
		ev_loop_free(&movers[i].loop);
	}
	for (int i = 0; i < MOVE_CONNS; i++)
		close(fds[i][1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_framing),
		cmocka_unit_test(reader_that_never_reads_is_bounded),
		cmocka_unit_test(reserved_output_arrives_whole_across_buffer_reuse),
		cmocka_unit_test(moves_between_threads_keep_both_lists_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
