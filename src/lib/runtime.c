#include "lib/runtime.h"
#include "lib/arena.h"
#include "lib/netaddr.h"

#include <stdlib.h>

const struct config *runtime_config;

static struct worker *workers;
static unsigned nworkers;
static _Thread_local struct worker *self;
static void (*thread_init)(struct worker *w);
static void (*thread_fini)(struct worker *w);

int runtime_workers_init(unsigned n)
{
	if (n == 0)
		n = 1;
	workers = xcalloc(n, sizeof(*workers));
	for (unsigned i = 0; i < n; i++) {
		workers[i].idx = i;
		workers[i].loop = ev_loop_new();
		if (workers[i].loop == NULL)
			return -1;
	}
	nworkers = n;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	self = w;
	if (thread_init != NULL)
		thread_init(w);
	ev_loop_run(w->loop);
	if (thread_fini != NULL)
		thread_fini(w);
	return NULL;
}

int runtime_workers_start(void (*init)(struct worker *w), void (*fini)(struct worker *w))
{
	thread_init = init;
	thread_fini = fini;
	for (unsigned i = 0; i < nworkers; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
			return -1;
	return 0;
}

void runtime_workers_join(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
}

void runtime_workers_free(void)
{
	for (unsigned i = 0; i < nworkers; i++)
		ev_loop_free(&workers[i].loop);
	free(workers);
	workers = NULL;
	nworkers = 0;
}

unsigned runtime_worker_count(void)
{
	return nworkers;
}

struct worker *runtime_worker(unsigned idx)
{
	return idx < nworkers ? &workers[idx] : NULL;
}

struct worker *runtime_worker_self(void)
{
	return self;
}

struct worker *runtime_worker_for_user(uint64_t user_id)
{
	/* A multiplicative hash spreads sequential ids across workers. */
	uint64_t h = user_id * 0x9E3779B97F4A7C15ull;
	return &workers[(h >> 32) % nworkers];
}

bool runtime_plaintext_auth_ok(const struct conn *c)
{
	if (conn_secure(c))
		return true;
	const struct config *cfg = runtime_config;
	if (cfg == NULL)
		return false;
	for (size_t i = 0; i < cfg->plaintext_auth_networks.n; i++) {
		struct netaddr_cidr net;
		const char *err;
		if (netaddr_parse_cidr(cfg->plaintext_auth_networks.v[i], &net, &err) == 0 &&
		    netaddr_cidr_match_sockaddr(&net, (const struct sockaddr *)&c->peer, c->peer_len))
			return true;
	}
	return false;
}
