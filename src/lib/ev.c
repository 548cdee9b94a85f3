#include "lib/ev.h"
#include "lib/arena.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define EV_BATCH 256

struct ev_post_item {
	void (*fn)(void *);
	void *arg;
};

struct ev_loop {
	int epfd;
	bool stop;
	uint64_t now;
	size_t nio;

	struct ev_timer **heap;  /* 1-based binary min-heap */
	size_t heap_len, heap_cap;

	struct ev_defer *defer_head, *defer_tail;

	/* Post queue: filled by any thread, drained by the loop thread. */
	pthread_mutex_t post_lock;
	struct ev_post_item *posts;
	size_t npost, post_cap;
	int post_fd;
	struct ev_io post_io;
};

uint64_t ev_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t ev_now(const struct ev_loop *loop)
{
	return loop->now;
}

static void post_drain(struct ev_loop *loop, struct ev_io *io, unsigned revents)
{
	uint64_t v;
	while (read(loop->post_fd, &v, sizeof(v)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&loop->post_lock);
		struct ev_post_item *items = loop->posts;
		size_t n = loop->npost;
		loop->posts = NULL;
		loop->npost = loop->post_cap = 0;
		pthread_mutex_unlock(&loop->post_lock);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			items[i].fn(items[i].arg);
		free(items);
	}
}

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *loop = xcalloc(1, sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->post_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->post_fd < 0) {
		if (loop->epfd >= 0)
			close(loop->epfd);
		if (loop->post_fd >= 0)
			close(loop->post_fd);
		free(loop);
		return NULL;
	}
	pthread_mutex_init(&loop->post_lock, NULL);
	loop->now = ev_clock_ms();
	loop->post_io.fd = loop->post_fd;
	loop->post_io.cb = post_drain;
	ev_io_set(loop, &loop->post_io, EV_READ);
	return loop;
}

void ev_loop_free(struct ev_loop **lp)
{
	struct ev_loop *loop = *lp;
	if (loop == NULL)
		return;
	close(loop->epfd);
	close(loop->post_fd);
	pthread_mutex_destroy(&loop->post_lock);
	free(loop->posts);
	free(loop->heap);
	free(loop);
	*lp = NULL;
}

int ev_io_set(struct ev_loop *loop, struct ev_io *io, unsigned events)
{
	if (events == io->events)
		return 0;
	if (events == 0) {
		ev_io_stop(loop, io);
		return 0;
	}
	struct epoll_event ee = { .data.ptr = io };
	if (events & EV_READ)
		ee.events |= EPOLLIN | EPOLLRDHUP;
	if (events & EV_WRITE)
		ee.events |= EPOLLOUT;
	if (events & EV_EXCLUSIVE)
		ee.events = EPOLLIN | EPOLLEXCLUSIVE;
	int op = io->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(loop->epfd, op, io->fd, &ee) < 0)
		return -1;
	if (io->events == 0)
		loop->nio++;
	io->events = events;
	return 0;
}

void ev_io_stop(struct ev_loop *loop, struct ev_io *io)
{
	if (io->events == 0)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->events = 0;
	loop->nio--;
}

size_t ev_loop_io_count(const struct ev_loop *loop)
{
	return loop->nio - 1;  /* minus the post queue's own watcher */
}

/* --- timers: binary heap ordered by `at` --- */

static void heap_set(struct ev_loop *loop, size_t i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];
	while (i > 1 && loop->heap[i / 2]->at > t->at) {
		heap_set(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];
	for (;;) {
		size_t c = i * 2;
		if (c > loop->heap_len)
			break;
		if (c + 1 <= loop->heap_len && loop->heap[c + 1]->at < loop->heap[c]->at)
			c++;
		if (loop->heap[c]->at >= t->at)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	size_t i = t->heap_idx;
	if (i == 0)
		return;
	struct ev_timer *last = loop->heap[loop->heap_len--];
	t->heap_idx = 0;
	if (last != t) {
		heap_set(loop, i, last);
		heap_up(loop, i);
		heap_down(loop, last->heap_idx);
	}
}

void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms)
{
	ev_timer_stop(loop, t);
	t->at = loop->now + after_ms;
	if (loop->heap_len + 1 >= loop->heap_cap) {
		loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		loop->heap = xrealloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
	}
	loop->heap_len++;
	heap_set(loop, loop->heap_len, t);
	heap_up(loop, loop->heap_len);
}

static void run_timers(struct ev_loop *loop)
{
	while (loop->heap_len > 0 && loop->heap[1]->at <= loop->now) {
		struct ev_timer *t = loop->heap[1];
		ev_timer_stop(loop, t);
		t->cb(loop, t);
	}
}

/* --- deferred callbacks --- */

void ev_defer(struct ev_loop *loop, struct ev_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	if (loop->defer_tail != NULL)
		loop->defer_tail->next = d;
	else
		loop->defer_head = d;
	loop->defer_tail = d;
}

void ev_defer_cancel(struct ev_loop *loop, struct ev_defer *d)
{
	if (!d->queued)
		return;
	struct ev_defer **pp = &loop->defer_head, *prev = NULL;
	while (*pp != NULL && *pp != d) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == d) {
		*pp = d->next;
		if (loop->defer_tail == d)
			loop->defer_tail = prev;
	}
	d->queued = false;
	d->next = NULL;
}

static void run_defers(struct ev_loop *loop)
{
	/* Callbacks may queue more; those run in this same pass. */
	while (loop->defer_head != NULL) {
		struct ev_defer *d = loop->defer_head;
		loop->defer_head = d->next;
		if (loop->defer_head == NULL)
			loop->defer_tail = NULL;
		d->queued = false;
		d->next = NULL;
		d->cb(loop, d);
	}
}

/* --- posting from other threads --- */

void ev_post(struct ev_loop *loop, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&loop->post_lock);
	if (loop->npost == loop->post_cap) {
		loop->post_cap = loop->post_cap ? loop->post_cap * 2 : 16;
		loop->posts = xrealloc(loop->posts, loop->post_cap * sizeof(*loop->posts));
	}
	loop->posts[loop->npost].fn = fn;
	loop->posts[loop->npost].arg = arg;
	loop->npost++;
	pthread_mutex_unlock(&loop->post_lock);
	uint64_t one = 1;
	ssize_t r = write(loop->post_fd, &one, sizeof(one));
	(void)r;  /* EAGAIN means the counter is already non-zero: fine */
}

void ev_loop_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

int ev_loop_run(struct ev_loop *loop)
{
	struct epoll_event events[EV_BATCH];
	loop->stop = false;
	while (!loop->stop) {
		int timeout = -1;
		if (loop->defer_head != NULL) {
			timeout = 0;
		} else if (loop->heap_len > 0) {
			uint64_t now = ev_clock_ms();
			uint64_t at = loop->heap[1]->at;
			timeout = at <= now ? 0 : (int)(at - now > 60000 ? 60000 : at - now);
		}
		int n = epoll_wait(loop->epfd, events, EV_BATCH, timeout);
		if (n < 0 && errno != EINTR)
			return -1;
		loop->now = ev_clock_ms();
		for (int i = 0; i < n; i++) {
			struct ev_io *io = events[i].data.ptr;
			unsigned ev = events[i].events, rev = 0;
			if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				rev |= EV_READ;
			if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				rev |= EV_WRITE;
			rev &= io->events | (io->events & EV_EXCLUSIVE ? EV_READ : 0);
			/* A watcher stopped earlier in this batch is not called. */
			if (rev != 0)
				io->cb(loop, io, rev);
		}
		run_timers(loop);
		run_defers(loop);
	}
	return 0;
}
