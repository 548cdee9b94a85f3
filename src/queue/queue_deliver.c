/* queue_deliver: hosts and addresses of one attempt (see queue_deliver.h). */
#include "queue/queue_deliver.h"
#include "queue/queue_mx.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qd_parse_hostport(const char *s, char *host, size_t hostn, uint16_t *port,
                      uint16_t default_port)
{
	const char *end, *colon = NULL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			return -1;  /* bare IPv6 needs brackets */
		end = colon != NULL ? colon : s + strlen(s);
	}
	size_t n = (size_t)(end - s);
	if (n == 0 || n >= hostn)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = default_port;
	if (colon != NULL) {
		char *e;
		unsigned long p = strtoul(colon + 1, &e, 10);
		if (colon[1] == '\0' || *e != '\0' || p == 0 || p > 65535)
			return -1;
		*port = (uint16_t)p;
	}
	return 0;
}

static void fail_all(struct qd_attempt *a, enum qd_outcome o, const char *status,
                     const char *text)
{
	for (size_t i = 0; i < a->n_rcpts; i++) {
		a->rcpts[i].outcome = o;
		snprintf(a->rcpts[i].status, sizeof(a->rcpts[i].status), "%s", status);
		snprintf(a->rcpts[i].reply, sizeof(a->rcpts[i].reply), "%s", text);
	}
}

/* Try every address of host. 1 = decided, 0 = not usable (err set). */
static int try_host(struct qd_attempt *a, const char *host, uint16_t port, char *err,
                    size_t errn)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	int gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0) {
		snprintf(err, errn, "%s: address lookup failed: %s", host, gai_strerror(gai));
		return gai == EAI_NONAME ? -1 : 0;
	}
	int decided = 0;
	for (struct addrinfo *ai = res; ai != NULL && !decided; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN] = "?";
		const void *ip = ai->ai_family == AF_INET6
		                     ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
		                     : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		inet_ntop(ai->ai_family, ip, addr, sizeof(addr));
		snprintf(a->remote, sizeof(a->remote), "%s[%s]:%u", host, addr, port);
		if (qc_connect(&a->conn, ai->ai_addr, ai->ai_addrlen, a->remote, err, errn) < 0)
			continue;
		decided = qd_dialog(a, host, err, errn);
		qc_close(&a->conn);
	}
	freeaddrinfo(res);
	return decided;
}

void qd_run(struct qd_attempt *a)
{
	char err[QC_TEXT_MAX] = "no host to try";
	struct queue_mx mx[QUEUE_MX_MAX];
	size_t n = 0;
	fail_all(a, QD_TEMP, "4.4.1", "not attempted");
	a->remote[0] = '\0';
	if (a->kind == QD_MX) {
		const char *why;
		switch (queue_mx_lookup(a->host, mx, QUEUE_MX_MAX, &n, &why)) {
		case QUEUE_MX_OK:
			for (size_t i = 0; i < n; i++)
				if (strcasecmp(mx[i].host, a->helo) == 0)
					n = i;  /* us and worse: never loop to ourselves */
			break;
		case QUEUE_MX_NONE:
			snprintf(mx[0].host, sizeof(mx[0].host), "%s", a->host);
			n = 1;
			break;
		case QUEUE_MX_NULL:
			snprintf(err, sizeof(err), "556 5.1.10 %s: %s", a->host, why);
			fail_all(a, QD_PERM, "5.1.10", err);
			return;
		case QUEUE_MX_NXDOMAIN:
			snprintf(err, sizeof(err), "%s: %s", a->host, why);
			fail_all(a, QD_PERM, "5.1.2", err);
			return;
		case QUEUE_MX_TEMP:
			snprintf(err, sizeof(err), "%s: %s", a->host, why);
			fail_all(a, QD_TEMP, "4.4.3", err);
			return;
		}
		if (n == 0) {
			snprintf(err, sizeof(err), "%s: the best MX is this host (mail loop)", a->host);
			fail_all(a, QD_TEMP, "4.4.6", err);
			return;
		}
	} else {
		snprintf(mx[0].host, sizeof(mx[0].host), "%s", a->host);
		n = 1;
	}
	size_t unknown = 0;
	for (size_t i = 0; i < n; i++) {
		int r = try_host(a, mx[i].host, a->port, err, sizeof(err));
		if (r == 1)
			return;
		unknown += r < 0;
	}
	/* No host could be used. An implicit MX (the domain's own address)
	 * that does not exist is permanent; anything else is worth a retry. */
	if (a->kind == QD_MX && unknown == n && n == 1 && strcmp(mx[0].host, a->host) == 0)
		fail_all(a, QD_PERM, "5.1.2", err);
	else
		fail_all(a, QD_TEMP, "4.4.1", err);
}
