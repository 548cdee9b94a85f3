/* store_indexer.c: the background indexer thread (see store_index.c).
 *
 * Server threads post a job per commit that added or deleted blobs; jobs
 * of one user merge while they wait. The thread indexes a user in chunks
 * of INDEX_CHUNK, one transaction each, and goes round the users with
 * work, so one user's burst does not starve the others. It runs at the
 * lowest priority: on cores the server threads leave idle (deliveries to
 * one user use one core), and after a burst that kept every core busy.
 * A search catches the index up for its own user meanwhile; the indexer
 * then ends its transaction at the next message (index_urgent) rather
 * than make the search wait for a chunk done at the lowest priority. It
 * keeps a few index.db connections open for the users it saw last. */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define INDEX_CHUNK 64
/* A job waits this long after its first post, so that the commits of a
 * busy user are indexed a chunk at a time rather than one by one: FTS5
 * writes a segment per transaction and merges them later, so two
 * messages per transaction cost 6.7 M instructions each, eight 4.3 M
 * (with automerge 8: store_index_writer.c). Searches meanwhile read the
 * few messages not yet indexed directly (store_search_tail.c). */
#define BATCH_MS 250
#define WRITERS_KEPT 32
#define WRITER_IDLE_S 30
/* Quiet this long after a job, the kept writers give back their page
 * caches: an idle server should not hold megabytes per user it indexed. */
#define RELEASE_AFTER_S 1
/* Rows of deleted blobs are purged from a user's index when the indexer
 * has been quiet RELEASE_AFTER_S, a chunk per transaction; a user with
 * more than DEAD_MAX waiting has a chunk purged after each of its jobs,
 * so a server never quiet still keeps its indexes in bounds. */
#define PURGE_CHUNK 64
#define DEAD_MAX 4096
#define NICE 19

struct job {
	struct job *next;
	char *dir;
	int64_t posted_ms;
	bool added;
	int64_t *gone;
	size_t n_gone;
};

struct kept {
	char *dir;
	struct index_writer *w;
	time_t used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct job *head, **tail = &head;
static bool started, stopping;
static pthread_t thread;
static struct kept kept[WRITERS_KEPT];   /* the thread's own */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void job_free(struct job *j)
{
	free(j->dir);
	free(j->gone);
	free(j);
}

static struct index_writer *writer_for(const char *dir)
{
	time_t now = time(NULL);
	struct kept *slot = &kept[0];
	for (int i = 0; i < WRITERS_KEPT; i++) {
		if (kept[i].dir != NULL && strcmp(kept[i].dir, dir) == 0) {
			kept[i].used = now;
			return kept[i].w;
		}
		if (kept[i].dir == NULL || (slot->dir != NULL && kept[i].used < slot->used))
			slot = &kept[i];
	}
	index_writer_close(&slot->w);
	free(slot->dir);
	slot->dir = NULL;
	const char *err;
	if (index_writer_open(dir, true, &slot->w, &err) < 0)
		return NULL;
	slot->dir = xstrdup(dir);
	slot->used = now;
	return slot->w;
}

static void close_kept(time_t used_until)
{
	for (int i = 0; i < WRITERS_KEPT; i++) {
		if (kept[i].dir != NULL && kept[i].used <= used_until) {
			index_writer_close(&kept[i].w);
			free(kept[i].dir);
			kept[i].dir = NULL;
		}
	}
}

/* Called with the lock held. */
static void enqueue(struct job *j)
{
	j->next = NULL;
	*tail = j;
	tail = &j->next;
}

/* Purges the kept writers' dead rows until done or a job is waiting. */
static void purge_kept(void)
{
	for (int i = 0; i < WRITERS_KEPT; i++) {
		bool more = kept[i].w != NULL && index_writer_dead(kept[i].w) > 0;
		while (more) {
			if (index_writer_purge(kept[i].w, PURGE_CHUNK, &more) < 0)
				break;
			if (more && index_urgent > 0)
				usleep(1000);   /* let the searching thread have the lock */
			pthread_mutex_lock(&lock);
			bool waiting = head != NULL || stopping;
			pthread_mutex_unlock(&lock);
			if (waiting)
				return;
		}
	}
}

static void release_kept(void)
{
	for (int i = 0; i < WRITERS_KEPT; i++)
		index_writer_release_memory(kept[i].w);
#ifdef __GLIBC__
	/* Freed pages in the middle of an arena stay resident otherwise. */
	malloc_trim(0);
#endif
}

static void *indexer_main(void *arg)
{
	(void)arg;
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), NICE);
	bool holding = false;   /* caches filled since the last release */
	pthread_mutex_lock(&lock);
	while (!stopping) {
		if (head == NULL) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += holding ? RELEASE_AFTER_S : WRITER_IDLE_S;
			if (pthread_cond_timedwait(&wake, &lock, &until) != 0) {
				pthread_mutex_unlock(&lock);
				if (holding) {
					purge_kept();
					release_kept();
				} else {
					close_kept(time(NULL) - WRITER_IDLE_S);
				}
				holding = false;
				pthread_mutex_lock(&lock);
			}
			continue;
		}
		struct job *j = head;
		int64_t wait = j->posted_ms + BATCH_MS - now_ms();
		if (wait > 0) {
			pthread_mutex_unlock(&lock);
			usleep((useconds_t)wait * 1000);
			pthread_mutex_lock(&lock);
			continue;
		}
		head = j->next;
		if (head == NULL)
			tail = &head;
		pthread_mutex_unlock(&lock);
		holding = true;
		struct index_writer *w = writer_for(j->dir);
		bool more = false;
		/* A failure leaves the work to the next search (or stale rows to
		 * the check): nothing is lost. */
		if (w != NULL && j->n_gone > 0)
			index_writer_forget(w, j->gone, j->n_gone);
		bool purge_more;
		if (w != NULL && index_writer_dead(w) > DEAD_MAX)
			index_writer_purge(w, PURGE_CHUNK, &purge_more);
		if (w != NULL && j->added && index_writer_run(w, INDEX_CHUNK, &more) < 0)
			more = false;
		if (more && index_urgent > 0)
			usleep(1000);   /* let the searching thread have the lock */
		pthread_mutex_lock(&lock);
		if (more) {
			/* Behind the other users' jobs; merged with a newer one. */
			free(j->gone);
			j->gone = NULL;
			j->n_gone = 0;
			struct job *same = NULL;
			for (struct job *o = head; o != NULL && same == NULL; o = o->next)
				if (strcmp(o->dir, j->dir) == 0)
					same = o;
			if (same != NULL) {
				same->added = true;
				job_free(j);
			} else {
				enqueue(j);
			}
		} else {
			job_free(j);
		}
	}
	pthread_mutex_unlock(&lock);
	close_kept(time(NULL) + 1);
	return NULL;
}

void indexer_post(const char *user_dir, bool added, const int64_t *gone, size_t n_gone)
{
	pthread_mutex_lock(&lock);
	if (stopping) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (!started) {
		if (pthread_create(&thread, NULL, indexer_main, NULL) != 0) {
			/* No thread: searches index for themselves. */
			pthread_mutex_unlock(&lock);
			return;
		}
		started = true;
	}
	struct job *j = NULL;
	for (struct job *o = head; o != NULL && j == NULL; o = o->next)
		if (strcmp(o->dir, user_dir) == 0)
			j = o;
	if (j == NULL) {
		j = xcalloc(1, sizeof(*j));
		j->dir = xstrdup(user_dir);
		j->posted_ms = now_ms();
		enqueue(j);
		/* A job merged into a waiting one needs no wake-up. */
		pthread_cond_signal(&wake);
	}
	j->added |= added;
	if (n_gone > 0) {
		j->gone = xrealloc(j->gone, (j->n_gone + n_gone) * sizeof(*j->gone));
		memcpy(j->gone + j->n_gone, gone, n_gone * sizeof(*gone));
		j->n_gone += n_gone;
	}
	pthread_mutex_unlock(&lock);
}

void store_indexer_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	bool join = started;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	if (join)
		pthread_join(thread, NULL);
	/* Work left behind is done by the next search. */
	while (head != NULL) {
		struct job *j = head;
		head = j->next;
		job_free(j);
	}
	tail = &head;
	started = false;
	stopping = false;
}
