/* fdpark: sockets held outside the descriptor table, on real loopback TCP
 * connections. Skipped (not failed) where the kernel has no way to do it
 * (no io_uring, or older than Linux 6.8): the server then does without. */
#include "unit.h"
#include "lib/ev.h"
#include "lib/fdpark.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int listener(struct sockaddr_in *a)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)a, sizeof(*a)), 0);
	socklen_t len = sizeof(*a);
	assert_int_equal(getsockname(l, (struct sockaddr *)a, &len), 0);
	assert_int_equal(listen(l, 512), 0);
	return l;
}

/* A connected pair: *client and *server. */
static void connect_pair(int l, const struct sockaddr_in *a, int *client, int *server)
{
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*client >= 0);
	assert_int_equal(connect(*client, (const struct sockaddr *)a, sizeof(*a)), 0);
	*server = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(*server >= 0);
}

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

struct waker {
	struct fdpark *park;
	struct ev_loop *loop;
	uint32_t slot;
	int fd;        /* after the wake: the socket's new descriptor, or -1 */
	int wakes;
	char got[32];
	ssize_t got_len;
};

static void wake_and_read(void *arg)
{
	struct waker *w = arg;
	w->wakes++;
	w->fd = fdpark_unpark(w->park, w->slot);
	if (w->fd < 0)
		return;
	w->got_len = read(w->fd, w->got, sizeof(w->got));
	ev_loop_stop(w->loop);
}

static void give_up(struct ev_loop *loop, struct ev_timer *t)
{
	(void)t;
	ev_loop_stop(loop);
}

/* Run the loop until a wake stops it, at most 5 s. */
static void run_until_woken(struct ev_loop *loop)
{
	struct ev_timer t = { .cb = give_up };
	ev_timer_start(loop, &t, 5000);
	ev_loop_run(loop);
	ev_timer_stop(loop, &t);
}

static struct fdpark *park_or_skip(struct ev_loop *loop)
{
	struct fdpark *p = fdpark_new(loop);
	if (p == NULL) {
		print_message("fdpark unavailable here: %s\n", strerror(errno));
		skip();
	}
	return p;
}

/* One loopback connection whose server end is parked, its owner w. */
struct parked {
	struct ev_loop *loop;
	struct fdpark *park;
	int l, client;
	int fds_unparked;   /* open descriptors just before the park */
	struct waker w;
};

static void parked_connection(struct parked *f)
{
	f->loop = ev_loop_new();
	f->park = park_or_skip(f->loop);
	struct sockaddr_in a;
	int server;
	f->l = listener(&a);
	connect_pair(f->l, &a, &f->client, &server);
	f->w = (struct waker){ .park = f->park, .loop = f->loop, .fd = -1 };
	f->fds_unparked = open_fds();
	assert_int_equal(fdpark_park(f->park, server, wake_and_read, &f->w, &f->w.slot), 0);
}

static void parked_done(struct parked *f)
{
	if (f->w.fd >= 0)
		close(f->w.fd);
	if (f->client >= 0)
		close(f->client);
	close(f->l);
	fdpark_free(&f->park);
	ev_loop_free(&f->loop);
}

static void a_parked_socket_wakes_its_owner_with_the_data(void **state)
{
	struct parked f;
	parked_connection(&f);
	assert_int_equal(fdpark_count(f.park), 1);
	assert_int_equal(open_fds(), f.fds_unparked - 1);   /* its descriptor is gone */
	assert_int_equal(write(f.client, "a1 DONE\r\n", 9), 9);
	run_until_woken(f.loop);
	assert_int_equal(f.w.wakes, 1);
	assert_true(f.w.fd >= 0);
	assert_int_equal(f.w.got_len, 9);
	assert_memory_equal(f.w.got, "a1 DONE\r\n", 9);
	assert_int_equal(fdpark_count(f.park), 0);
	/* The same connection, both ways. */
	assert_int_equal(write(f.w.fd, "a1 OK\r\n", 7), 7);
	char back[16];
	assert_int_equal(read(f.client, back, sizeof(back)), 7);
	assert_memory_equal(back, "a1 OK\r\n", 7);
	assert_true(fcntl(f.w.fd, F_GETFD) & FD_CLOEXEC);
	parked_done(&f);
}

static void a_hangup_wakes_its_owner_too(void **state)
{
	struct parked f;
	parked_connection(&f);
	close(f.client);
	f.client = -1;
	run_until_woken(f.loop);
	assert_int_equal(f.w.wakes, 1);
	assert_int_equal(f.w.got_len, 0);   /* end of file */
	parked_done(&f);
}

/* With an open-files limit of 64, 600 sockets (300 connections, both
 * ends) are held at once, each still usable when taken back. */
static void more_sockets_than_the_open_files_limit(void **state)
{
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	struct ev_loop *loop = ev_loop_new();
	struct fdpark *p = fdpark_new(loop);
	if (p == NULL) {
		setrlimit(RLIMIT_NOFILE, &old);
		ev_loop_free(&loop);
		skip();
	}
	struct sockaddr_in a;
	int l = listener(&a);
	enum { PAIRS = 300 };
	uint32_t cs[PAIRS], ss[PAIRS];
	struct waker unused = { 0 };
	for (int i = 0; i < PAIRS; i++) {
		int client, server;
		connect_pair(l, &a, &client, &server);
		assert_int_equal(fdpark_park(p, client, wake_and_read, &unused, &cs[i]), 0);
		assert_int_equal(fdpark_park(p, server, wake_and_read, &unused, &ss[i]), 0);
	}
	assert_int_equal(fdpark_count(p), 2 * PAIRS);
	assert_true(open_fds() < 64);
	for (int i = 0; i < PAIRS; i++) {
		int client = fdpark_unpark(p, cs[i]), server = fdpark_unpark(p, ss[i]);
		assert_true(client >= 0 && server >= 0);
		char msg[16], got[16];
		int n = snprintf(msg, sizeof(msg), "pair %d\n", i);
		assert_int_equal(write(client, msg, (size_t)n), n);
		assert_int_equal(read(server, got, sizeof(got)), n);
		assert_memory_equal(got, msg, (size_t)n);
		close(client);
		close(server);
	}
	assert_int_equal(fdpark_count(p), 0);
	assert_int_equal(unused.wakes, 0);
	close(l);
	fdpark_free(&p);
	ev_loop_free(&loop);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

/* With every descriptor taken, an unpark fails and leaves the socket
 * parked; the wake comes again until a descriptor is free. */
static void no_descriptor_free_means_woken_again_later(void **state)
{
	struct parked f;
	parked_connection(&f);
	assert_int_equal(write(f.client, "x", 1), 1);
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 128;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int fill[128], nfill = 0;
	while (nfill < 128 && (fill[nfill] = dup(0)) >= 0)
		nfill++;
	/* Wakes keep failing while the table is full... */
	struct ev_timer t = { .cb = give_up };
	ev_timer_start(f.loop, &t, 200);
	ev_loop_run(f.loop);
	assert_true(f.w.wakes >= 2);
	assert_int_equal(f.w.fd, -1);
	assert_int_equal(fdpark_count(f.park), 1);
	/* ... and the next one after a descriptor is freed succeeds. */
	close(fill[--nfill]);
	run_until_woken(f.loop);
	assert_true(f.w.fd >= 0);
	assert_int_equal(f.w.got_len, 1);
	while (nfill > 0)
		close(fill[--nfill]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	parked_done(&f);
}

static void a_dropped_socket_is_closed(void **state)
{
	struct parked f;
	parked_connection(&f);
	fdpark_drop(f.park, f.w.slot);
	assert_int_equal(fdpark_count(f.park), 0);
	/* The peer sees the connection end; the owner is not woken. */
	char c;
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(f.client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(read(f.client, &c, 1), 0);
	struct ev_timer t = { .cb = give_up };
	ev_timer_start(f.loop, &t, 50);
	ev_loop_run(f.loop);
	assert_int_equal(f.w.wakes, 0);
	parked_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_parked_socket_wakes_its_owner_with_the_data),
		cmocka_unit_test(a_hangup_wakes_its_owner_too),
		cmocka_unit_test(more_sockets_than_the_open_files_limit),
		cmocka_unit_test(no_descriptor_free_means_woken_again_later),
		cmocka_unit_test(a_dropped_socket_is_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
