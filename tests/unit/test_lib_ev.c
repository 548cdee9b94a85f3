#include "unit.h"
#include "lib/ev.h"
#include "lib/jobs.h"

#include <pthread.h>
#include <unistd.h>

static int order[16];
static int norder;

static void record_timer(struct ev_loop *loop, struct ev_timer *t)
{
	order[norder++] = (int)(intptr_t)t->data;
	if (norder == 3)
		ev_loop_stop(loop);
}

static void timers_fire_in_deadline_order(void **state)
{
	/* Before the loop exists: deadlines count from the loop's clock, read
	 * at creation, and on a busy machine the lines below take time. */
	uint64_t t0 = ev_clock_ms();
	struct ev_loop *loop = ev_loop_new();
	struct ev_timer t[4] = { 0 };
	int delays[4] = { 30, 10, 20, 5000 };
	norder = 0;
	for (int i = 0; i < 4; i++) {
		t[i].cb = record_timer;
		t[i].data = (void *)(intptr_t)i;
		ev_timer_start(loop, &t[i], (uint64_t)delays[i]);
	}
	ev_timer_stop(loop, &t[3]);
	assert_false(ev_timer_active(&t[3]));
	ev_loop_run(loop);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	assert_true(ev_clock_ms() - t0 >= 30);
	ev_loop_free(&loop);
}

static void restarting_a_timer_moves_it(void **state)
{
	struct ev_loop *loop = ev_loop_new();
	struct ev_timer a = { .cb = record_timer, .data = (void *)1 };
	struct ev_timer b = { .cb = record_timer, .data = (void *)2 };
	struct ev_timer c = { .cb = record_timer, .data = (void *)3 };
	norder = 0;
	ev_timer_start(loop, &a, 10);
	ev_timer_start(loop, &b, 20);
	ev_timer_start(loop, &c, 30);
	ev_timer_start(loop, &a, 40);  /* a now fires last */
	ev_loop_run(loop);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 1);
	ev_loop_free(&loop);
}

static int defer_runs;
static void defer_cb(struct ev_loop *loop, struct ev_defer *d)
{
	defer_runs++;
	ev_loop_stop(loop);
}

static void defer_runs_once_per_queueing(void **state)
{
	struct ev_loop *loop = ev_loop_new();
	struct ev_defer d = { .cb = defer_cb };
	defer_runs = 0;
	ev_defer(loop, &d);
	ev_defer(loop, &d);  /* already queued: no second run */
	ev_loop_run(loop);
	assert_int_equal(defer_runs, 1);
	ev_defer(loop, &d);
	ev_defer_cancel(loop, &d);
	struct ev_timer stop = { .cb = record_timer };
	norder = 2;
	ev_timer_start(loop, &stop, 5);
	ev_loop_run(loop);
	assert_int_equal(defer_runs, 1);
	ev_loop_free(&loop);
}

struct post_ctx {
	struct ev_loop *loop;
	int count;
	pthread_t owner;
	bool wrong_thread;
};

static void post_cb(void *arg)
{
	struct post_ctx *p = arg;
	if (!pthread_equal(pthread_self(), p->owner))
		p->wrong_thread = true;
	if (++p->count == 4000)
		ev_loop_stop(p->loop);
}

static void *poster(void *arg)
{
	struct post_ctx *p = arg;
	for (int i = 0; i < 1000; i++)
		ev_post(p->loop, post_cb, p);
	return NULL;
}

static void posts_from_other_threads_run_on_the_loop(void **state)
{
	struct post_ctx p = { .loop = ev_loop_new(), .owner = pthread_self() };
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, poster, &p);
	ev_loop_run(p.loop);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(p.count, 4000);
	assert_false(p.wrong_thread);
	ev_loop_free(&p.loop);
}

static unsigned seen_events;
static void pipe_cb(struct ev_loop *loop, struct ev_io *io, unsigned revents)
{
	char c;
	seen_events |= revents;
	assert_int_equal(read(io->fd, &c, 1), 1);
	assert_int_equal(c, 'x');
	ev_io_stop(loop, io);
	ev_loop_stop(loop);
}

static void io_watcher_sees_readable_pipe(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct ev_loop *loop = ev_loop_new();
	struct ev_io io = { .fd = fds[0], .cb = pipe_cb };
	seen_events = 0;
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(ev_io_set(loop, &io, EV_READ), 0);
	assert_int_equal(ev_loop_io_count(loop), 1);
	ev_loop_run(loop);
	assert_int_equal(seen_events, EV_READ);
	assert_int_equal(ev_loop_io_count(loop), 0);
	ev_loop_free(&loop);
	close(fds[0]);
	close(fds[1]);
}

static int job_done_count;
static void job_work(void *arg) { *(int *)arg *= 2; }
static void job_done(void *arg)
{
	job_done_count++;
	if (job_done_count == 50)
		ev_loop_stop((struct ev_loop *)((void **)arg)[1]);
}

static void jobs_run_off_loop_and_report_back(void **state)
{
	struct ev_loop *loop = ev_loop_new();
	assert_int_equal(jobs_start(2, 100), 0);
	struct { int v; struct ev_loop *loop; } items[50];
	job_done_count = 0;
	for (int i = 0; i < 50; i++) {
		items[i].v = i;
		items[i].loop = loop;
	}
	for (int i = 0; i < 50; i++)
		assert_int_equal(jobs_submit(loop, job_work, job_done, &items[i]), 0);
	ev_loop_run(loop);
	for (int i = 0; i < 50; i++)
		assert_int_equal(items[i].v, i * 2);
	jobs_stop();
	ev_loop_free(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timers_fire_in_deadline_order),
		cmocka_unit_test(restarting_a_timer_moves_it),
		cmocka_unit_test(defer_runs_once_per_queueing),
		cmocka_unit_test(posts_from_other_threads_run_on_the_loop),
		cmocka_unit_test(io_watcher_sees_readable_pipe),
		cmocka_unit_test(jobs_run_off_loop_and_report_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
