#include "server/server.h"
#include "server/listen.h"
#include "server/privdrop.h"
#include "lib/arena.h"
#include "lib/jobs.h"
#include "lib/log.h"
#include "lib/runtime.h"
#include "lib/tls.h"
#include "auth/auth_login.h"
#include "auth/auth_thread.h"
#include "imap/imap_session.h"
#include "pop3/pop3_session.h"
#include "queue/queue.h"
#include "smtp/smtp.h"
#include "store/store.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct listen_service services[] = {
	{ "imap_listen", &imap_proto, false },
	{ "imaps_listen", &imap_proto, true },
	{ "pop3_listen", &pop3_proto, false },
	{ "pop3s_listen", &pop3_proto, true },
	{ "submission_listen", &smtp_submission_proto, false },
	{ "submissions_listen", &smtp_submission_proto, true },
	{ "smtp_listen", &smtp_inbound_proto, false },
	{ "lmtp_listen", &smtp_lmtp_proto, false },
};

static char *tls_cert_path, *tls_key_path;

static int setup_tls(const struct config *cfg, char **error_r)
{
	char path[4096];
	if (cfg->tls_cert[0] == '\0') {
		snprintf(path, sizeof(path), "%s/tls", cfg->data_dir);
		if (tls_selfsigned_ensure(path, cfg->hostname, error_r) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s/tls/cert.pem", cfg->data_dir);
		tls_cert_path = xstrdup(path);
		snprintf(path, sizeof(path), "%s/tls/key.pem", cfg->data_dir);
		tls_key_path = xstrdup(path);
	} else {
		tls_cert_path = xstrdup(cfg->tls_cert);
		tls_key_path = xstrdup(cfg->tls_key);
	}
	return tls_load(tls_cert_path, tls_key_path, error_r);
}

/* --- shutdown, run on each worker's own thread --- */

struct worker_stop {
	struct ev_timer tick;
	uint64_t deadline;
};
static struct worker_stop *stops;  /* one per worker */

static void shutdown_tick(struct ev_loop *loop, struct ev_timer *t)
{
	struct worker *w = t->data;
	if (w->conns.n > 0 && ev_now(loop) < stops[w->idx].deadline) {
		ev_timer_start(loop, t, 20);
		return;
	}
	while (w->conns.head != NULL) {
		conn_log(w->conns.head, LOGL_INFO, "disconnected reason=shutdown-timeout");
		conn_abort(w->conns.head);
	}
	ev_loop_stop(loop);
}

static void worker_shutdown(void *arg)
{
	struct worker *w = arg;
	w->stopping = true;
	listeners_detach(w);
	stops[w->idx].deadline = ev_clock_ms() + runtime_config->shutdown_timeout * 1000;
	/* Sessions say goodbye and close once their current command ends.
	 * Telling one may close others (a write to a session whose peer is
	 * gone, from a watcher): walk a copy of the list, and skip those
	 * already closed (freed only by a later deferred call). */
	size_t n = 0;
	struct conn **all = xmalloc((w->conns.n + 1) * sizeof(*all));
	for (struct conn *c = w->conns.head; c != NULL && n < w->conns.n; c = c->next)
		all[n++] = c;
	for (size_t i = 0; i < n; i++) {
		struct conn *c = all[i];
		if (c->closing || c->closed)
			continue;
		if (c->ops != NULL && c->ops->shutdown != NULL)
			c->ops->shutdown(c);
		else
			conn_abort(c);
	}
	free(all);
	struct ev_timer *t = &stops[w->idx].tick;
	t->cb = shutdown_tick;
	t->data = w;
	ev_timer_start(w->loop, t, 0);
}

/* --- stores kept open between sessions (store_keep_idle) --- */

/* Per worker thread: how many stores stay open after their last session,
 * and for how long; the idle ones are looked at every quarter of that. */
#define STORE_IDLE_MAX 64
#define STORE_IDLE_TTL_MS 60000
static struct ev_timer *idle_sweeps;  /* one per worker */

static void idle_sweep_tick(struct ev_loop *loop, struct ev_timer *t)
{
	store_idle_sweep(ev_now(loop));
	ev_timer_start(loop, t, STORE_IDLE_TTL_MS / 4);
}

static void worker_init(struct worker *w)
{
	listeners_attach(w);
	store_keep_idle(STORE_IDLE_MAX, STORE_IDLE_TTL_MS);
	struct ev_timer *t = &idle_sweeps[w->idx];
	t->cb = idle_sweep_tick;
	t->data = w;
	ev_timer_start(w->loop, t, STORE_IDLE_TTL_MS / 4);
}

static void worker_fini(struct worker *w)
{
	auth_thread_close();
	pop3_thread_exit();
	smtp_deliver_thread_exit();
	conn_list_park_free(&w->conns, w->loop);
	/* Last: the handles closed above would be kept otherwise. */
	store_idle_close_all();
}

static const char *config_file;

static void reload_config(void)
{
	if (config_file == NULL)
		return;
	char *err = NULL;
	struct config *fresh = config_new_defaults(false);
	if (config_load_file(fresh, config_file, &err) < 0 || config_validate(fresh, &err) < 0) {
		log_error("reload: %s unchanged: %s", config_file, err);
		free(err);
		config_free(&fresh);
		return;
	}
	int lvl = log_level_parse(fresh->log_level);
	if (lvl >= 0)
		log_set_level((enum log_level)lvl);
	log_info("reload: log_level=%s applied; other settings take effect at the next start",
	         fresh->log_level);
	config_free(&fresh);
}

static void reload(void)
{
	char *err = NULL;
	log_reopen();
	reload_config();
	if (tls_load(tls_cert_path, tls_key_path, &err) < 0) {
		log_error("reload: keeping the old certificate: %s", err);
		free(err);
	} else {
		log_info("reload: certificate reloaded from %s", tls_cert_path);
	}
}

static unsigned cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

int server_run(struct config *cfg, const char *config_path)
{
	config_file = config_path;
	/* A fixed mmap threshold turns off glibc's dynamic one, which, after
	 * the first argon2id check frees its 19 MiB, would serve the next ones
	 * from the job threads' heaps and keep ~19 MiB resident per thread. */
	mallopt(M_MMAP_THRESHOLD, 512 * 1024);
	store_process_init();
	char *err = NULL;
	const char *cerr;
	int lvl = log_level_parse(cfg->log_level);
	log_set_level(lvl < 0 ? LOGL_INFO : (enum log_level)lvl);
	if (log_open(cfg->log_file, &cerr) < 0) {
		fprintf(stderr, "mailkeep: log_file %s: %s\n", cfg->log_file, cerr);
		return 1;
	}
	if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
		log_error("cannot create data_dir %s: %s", cfg->data_dir, strerror(errno));
		return 1;
	}
	runtime_config = cfg;
	if (setup_tls(cfg, &err) < 0)
		goto fail;
	/* Two loops per core: a loop waits on the disk (the fsync of every
	 * commit, page faults on mapped files) and shares the cores with the
	 * indexer and job threads; with one per core, a core idles while its
	 * loop waits and every user on that loop waits with it (mixed IMAP
	 * load on 2 cores: ~23% more commands/s with 4 loops than with 2). */
	unsigned nworkers = cfg->workers ? cfg->workers : 2 * cores();
	stops = xcalloc(nworkers, sizeof(*stops));
	idle_sweeps = xcalloc(nworkers, sizeof(*idle_sweeps));
	if (runtime_workers_init(nworkers) < 0) {
		err = xstrdup("cannot create event loops");
		goto fail;
	}
	if (listeners_open(cfg, services, sizeof(services) / sizeof(services[0]), &err) < 0)
		goto fail;
	if (privdrop_to_user(cfg->user, cfg->data_dir, &err) < 0)
		goto fail;

	/* Signals go to the main thread only: block them before threads start. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	jobs_set_thread_exit(auth_login_thread_exit);
	if (jobs_start(cores(), 4096) < 0 || runtime_workers_start(worker_init, worker_fini) < 0) {
		err = xstrdup("cannot start threads");
		goto fail;
	}
	queue_runner_start(cfg);  /* logs why if it cannot run */
	log_info("mailkeep ready workers=%u data_dir=%s listening: %s", nworkers, cfg->data_dir,
	         listeners_describe());

	for (;;) {
		int sig = sigwaitinfo(&sigs, NULL);
		if (sig == SIGHUP) {
			reload();
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_info("shutting down: stop accepting, finishing sessions (at most %llus)",
	         (unsigned long long)cfg->shutdown_timeout);
	queue_runner_stop();  /* before the workers: local bounces run on them */
	for (unsigned i = 0; i < runtime_worker_count(); i++)
		ev_post(runtime_worker(i)->loop, worker_shutdown, runtime_worker(i));
	runtime_workers_join();
	store_indexer_stop();
	jobs_stop();
	listeners_close();
	runtime_workers_free();
	tls_shutdown();
	free(stops);
	free(idle_sweeps);
	log_info("stopped");
	return 0;
fail:
	log_error("cannot start: %s", err != NULL ? err : "unknown error");
	free(err);
	return 1;
}
