#include "server/listen.h"
#include "lib/arena.h"
#include "lib/netaddr.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LISTENERS 64
#define ACCEPT_BATCH 64
#define IPTABLE_SIZE 65536  /* open-addressed; distinct addresses with live connections */

struct listener {
	int fd;
	const struct listen_service *svc;
	char addr[NETADDR_STRLEN];
	struct ev_io *io;  /* one per worker */
};

static struct listener listeners[MAX_LISTENERS];
static size_t nlisteners;
static char description[2048];

/* Live connections: the whole server and per client address. */
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total_conns;
static struct ipcount {
	struct netaddr addr;
	uint32_t n;
} iptable[IPTABLE_SIZE];

static size_t ip_slot(const struct netaddr *a)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < sizeof(a->bytes); i++)
		h = (h ^ a->bytes[i]) * 1099511628211ull;
	return (size_t)(h % IPTABLE_SIZE);
}

/* Count a new connection; false if over a limit. */
static bool count_acquire(const struct netaddr *a, bool have_addr)
{
	const struct config *cfg = runtime_config;
	bool ok = false;
	pthread_mutex_lock(&count_lock);
	if (cfg->max_connections != 0 && total_conns >= cfg->max_connections)
		goto out;
	if (have_addr) {
		size_t i = ip_slot(a), free_slot = SIZE_MAX;
		for (size_t probe = 0; probe < IPTABLE_SIZE; probe++, i = (i + 1) % IPTABLE_SIZE) {
			if (iptable[i].n == 0) {
				if (free_slot == SIZE_MAX)
					free_slot = i;
				if (iptable[i].addr.family == 0)
					break;  /* never used: the address is not further on */
				continue;
			}
			if (netaddr_equal(&iptable[i].addr, a)) {
				if (cfg->max_connections_per_ip != 0 &&
				    iptable[i].n >= cfg->max_connections_per_ip)
					goto out;
				iptable[i].n++;
				free_slot = SIZE_MAX;
				goto counted;
			}
		}
		if (free_slot == SIZE_MAX)
			goto out;  /* table full of live addresses */
		iptable[free_slot].addr = *a;
		iptable[free_slot].n = 1;
	}
counted:
	total_conns++;
	ok = true;
out:
	pthread_mutex_unlock(&count_lock);
	return ok;
}

static void count_release(struct conn *c)
{
	struct netaddr a;
	bool have = netaddr_from_sockaddr((const struct sockaddr *)&c->peer, c->peer_len, &a) == 0;
	pthread_mutex_lock(&count_lock);
	total_conns--;
	if (have) {
		size_t i = ip_slot(&a);
		for (size_t probe = 0; probe < IPTABLE_SIZE; probe++, i = (i + 1) % IPTABLE_SIZE) {
			if (iptable[i].addr.family == 0)
				break;
			if (iptable[i].n > 0 && netaddr_equal(&iptable[i].addr, &a)) {
				/* Last one gone and nothing probed past it: free the
				 * slot outright so lookups stay short. */
				if (--iptable[i].n == 0 &&
				    iptable[(i + 1) % IPTABLE_SIZE].addr.family == 0)
					memset(&iptable[i].addr, 0, sizeof(iptable[i].addr));
				break;
			}
		}
	}
	pthread_mutex_unlock(&count_lock);
}

static void accept_cb(struct ev_loop *loop, struct ev_io *io, unsigned revents)
{
	struct listener *l = io->data;
	struct worker *w = runtime_worker_self();
	const struct config *cfg = runtime_config;
	if (w == NULL || w->stopping)
		return;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Quiet connections give their descriptors back
				 * (conn.h); said once a second at most, as this
				 * comes back at every loop pass until then. */
				conn_list_park_quiet(&w->conns, loop);
				static _Thread_local uint64_t said;
				if (said == 0 || ev_now(loop) - said >= 1000) {
					said = ev_now(loop);
					log_error("accept on %s: %s", l->addr, strerror(errno));
				}
			}
			return;
		}
		struct netaddr a;
		bool have = netaddr_from_sockaddr((struct sockaddr *)&peer, plen, &a) == 0;
		if (!count_acquire(&a, have)) {
			char ip[NETADDR_STRLEN] = "local";
			if (have)
				netaddr_format(&a, ip, sizeof(ip));
			log_warn("%s refused ip=%s reason=connection-limit", l->svc->proto->name, ip);
			if (!l->svc->implicit_tls && l->svc->proto->busy_reply != NULL) {
				ssize_t r = send(fd, l->svc->proto->busy_reply,
				                 strlen(l->svc->proto->busy_reply), MSG_NOSIGNAL | MSG_DONTWAIT);
				(void)r;
			}
			close(fd);
			continue;
		}
		int one = 1;
		if (peer.ss_family != AF_UNIX)
			setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
		struct conn_settings s = {
			.in_max = (size_t)cfg->max_line + 4096,
			.out_limit = (size_t)cfg->output_buffer_limit,
		};
		struct conn *c = conn_new(loop, &w->conns, fd, &peer, plen, l->svc->proto,
		                          l->svc->implicit_tls, &s);
		c->on_release = count_release;
		conn_log(c, LOGL_DEBUG, "connected port=%s", l->addr);
		conn_begin(c, cfg->preauth_timeout * 1000);
	}
}

static int open_one(const char *spec, const struct listen_service *svc, char **error_r)
{
	struct netaddr_listen nl;
	const char *err;
	char msg[512];
	if (netaddr_parse_listen(spec, strcmp(svc->key, "lmtp_listen") == 0, &nl, &err) < 0) {
		snprintf(msg, sizeof(msg), "%s = %s: %s", svc->key, spec, err);
		*error_r = xstrdup(msg);
		return -1;
	}
	if (nlisteners == MAX_LISTENERS) {
		*error_r = xstrdup("too many listeners");
		return -1;
	}
	struct sockaddr_storage *addr = &nl.addr;
	size_t addrlen = nl.addrlen;
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && nl.wildcard && errno == EAFNOSUPPORT) {
		addr = &nl.fallback;
		addrlen = nl.fallbacklen;
		fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		goto fail;
	int one = 1, zero = 0;
	if (addr->ss_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss_family == AF_INET6 && nl.wildcard)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (nl.is_unix)
		unlink(nl.path);  /* a stale socket from an earlier run */
	if (bind(fd, (struct sockaddr *)addr, (socklen_t)addrlen) < 0 || listen(fd, 1024) < 0) {
		close(fd);
		goto fail;
	}
	if (nl.is_unix)
		chmod(nl.path, 0660);
	struct listener *l = &listeners[nlisteners++];
	l->fd = fd;
	l->svc = svc;
	/* Workers exist already (runtime_workers_init), threads not yet. */
	l->io = xcalloc(runtime_worker_count() ? runtime_worker_count() : 1, sizeof(*l->io));
	netaddr_format_sockaddr((struct sockaddr *)addr, addrlen, l->addr, sizeof(l->addr));
	size_t dl = strlen(description);
	snprintf(description + dl, sizeof(description) - dl, "%s%s %s", dl ? ", " : "",
	         svc->key, l->addr);
	return 0;
fail:
	snprintf(msg, sizeof(msg), "%s = %s: cannot listen: %s", svc->key, spec, strerror(errno));
	*error_r = xstrdup(msg);
	return -1;
}

static const struct str_list *listen_key(const struct config *cfg, const char *key)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "imap_listen", offsetof(struct config, imap_listen) },
		{ "imaps_listen", offsetof(struct config, imaps_listen) },
		{ "pop3_listen", offsetof(struct config, pop3_listen) },
		{ "pop3s_listen", offsetof(struct config, pop3s_listen) },
		{ "submission_listen", offsetof(struct config, submission_listen) },
		{ "submissions_listen", offsetof(struct config, submissions_listen) },
		{ "smtp_listen", offsetof(struct config, smtp_listen) },
		{ "lmtp_listen", offsetof(struct config, lmtp_listen) },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].key, key) == 0)
			return (const struct str_list *)((const char *)cfg + keys[i].off);
	return NULL;
}

int listeners_open(const struct config *cfg, const struct listen_service *services,
                   size_t nservices, char **error_r)
{
	for (size_t s = 0; s < nservices; s++) {
		const struct str_list *specs = listen_key(cfg, services[s].key);
		if (specs == NULL)
			continue;
		for (size_t i = 0; i < specs->n; i++)
			if (open_one(specs->v[i], &services[s], error_r) < 0)
				return -1;
	}
	return 0;
}

void listeners_attach(struct worker *w)
{
	for (size_t i = 0; i < nlisteners; i++) {
		struct listener *l = &listeners[i];
		struct ev_io *io = &l->io[w->idx];
		io->fd = l->fd;
		io->cb = accept_cb;
		io->data = l;
		ev_io_set(w->loop, io, EV_READ | EV_EXCLUSIVE);
	}
}

void listeners_detach(struct worker *w)
{
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i].io != NULL)
			ev_io_stop(w->loop, &listeners[i].io[w->idx]);
}

void listeners_close(void)
{
	for (size_t i = 0; i < nlisteners; i++) {
		close(listeners[i].fd);
		free(listeners[i].io);
	}
	nlisteners = 0;
	description[0] = '\0';
}

const char *listeners_describe(void)
{
	return description;
}
