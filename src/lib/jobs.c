#include "lib/jobs.h"
#include "lib/arena.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
	struct job *next;
	struct ev_loop *reply;
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static size_t queued, max_queue;
static bool stopping;
static pthread_t *threads;
static unsigned nthreads;
static void (*thread_exit_fn)(void);

void jobs_set_thread_exit(void (*fn)(void))
{
	thread_exit_fn = fn;
}

static void *job_thread(void *unused)
{
	for (;;) {
		pthread_mutex_lock(&lock);
		while (head == NULL && !stopping)
			pthread_cond_wait(&cond, &lock);
		struct job *j = head;
		if (j == NULL) {
			pthread_mutex_unlock(&lock);
			break;
		}
		head = j->next;
		if (head == NULL)
			tail = NULL;
		queued--;
		pthread_mutex_unlock(&lock);
		j->work(j->arg);
		ev_post(j->reply, j->done, j->arg);
		free(j);
	}
	if (thread_exit_fn != NULL)
		thread_exit_fn();
	return NULL;
}

int jobs_start(unsigned n, size_t max_queued)
{
	if (n == 0)
		n = 1;
	max_queue = max_queued;
	stopping = false;
	threads = xcalloc(n, sizeof(*threads));
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, job_thread, NULL) != 0)
			return -1;
		nthreads++;
	}
	return 0;
}

void jobs_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	nthreads = 0;
}

int jobs_submit(struct ev_loop *reply, void (*work)(void *), void (*done)(void *), void *arg)
{
	struct job *j = xmalloc(sizeof(*j));
	j->next = NULL;
	j->reply = reply;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&lock);
	if (stopping || queued >= max_queue) {
		pthread_mutex_unlock(&lock);
		free(j);
		return -1;
	}
	if (tail != NULL)
		tail->next = j;
	else
		head = j;
	tail = j;
	queued++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return 0;
}
