/*
 * loadgen: the client side of bench/run. One process, one epoll loop, many
 * connections (plain TCP or TLS with OpenSSL), speaking just enough IMAP,
 * POP3 and LMTP to drive the workloads of issue 7 against any server.
 * Not part of the mailkeep build; bench/run compiles it with one cc line.
 *
 *   loadgen -w WORKLOAD -p PORT [-t] [options]
 *
 * Workloads (-w):
 *   setup    sessions/s: connect (+TLS), LOGIN, [SELECT INBOX, IDLE, DONE,]
 *            LOGOUT, over and over, -c clients at once (-S adds SELECT+IDLE)
 *   idle     memory: open -n connections, LOGIN, SELECT INBOX and IDLE
 *            (login only when the server has no SELECT), then read the
 *            server's PSS (-P pid: that process and all its descendants);
 *            more connections than one process can hold open (-N, default
 *            the open-files limit less a margin) are opened by forked
 *            worker processes, a share each
 *   mixed    IMAP mixed load: -c clients, each LOGIN + SELECT INBOX then a
 *            random mix of FETCH, STORE, SEARCH, APPEND, EXPUNGE, IDLE for
 *            -d seconds: commands/s, p50/p99 latency
 *   large    one connection on a big mailbox: cached SELECT, UID FETCH 1:*
 *            (FLAGS), FETCH 1:* (ENVELOPE), UID SEARCH BODY, SEARCH SUBJECT,
 *            each after one unmeasured run (-O select,fetch_flags: just those)
 *   pop3     one POP3 connection: USER/PASS, STAT, UIDL, RETR 1..N, QUIT
 *   lmtp     -c LMTP connections deliver -n messages (from -C DIR) to
 *            -u users, one RCPT each: messages/s
 *   append   loader: -c connections APPEND -n messages from -C DIR into
 *            INBOX of one user (-U)
 *
 * Output: "RESULT key value" lines on stdout, progress on stderr. Exit 0,
 * 1 on error, 3 when the server does not implement what the workload needs
 * ("UNSUPPORTED reason" on stdout), 4 when a load stopped at its time
 * bound (RESULT messages says how many went in).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ---------------------------------------------------------------- options */

static struct {
	const char *workload;
	const char *host;
	int port;
	bool tls;
	const char *user_fmt;   /* printf format with %d */
	int users;              /* users 1..users */
	int user;               /* one user (append, pop3, large) */
	const char *pass;
	int clients;
	long count;
	double duration;
	int nsrc;               /* source addresses 127.0.0.2 .. */
	int server_pid;
	const char *corpus;
	bool select_idle;
	const char *rare;       /* SEARCH BODY word */
	const char *subject;    /* SEARCH SUBJECT word */
	const char *only;       /* large: just these commands (-O select,fetch_flags) */
	long per_process;       /* idle: at most this many connections a process */
	unsigned seed;
} opt = {
	.host = "127.0.0.1", .user_fmt = "u%d@bench.test", .users = 1, .user = 1,
	.pass = "benchpass", .clients = 1, .count = 0, .duration = 10, .nsrc = 0,
	.rare = "quixotry", .subject = "marzipan", .seed = 1,
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One write: idle's worker processes share stderr. */
static void vsay_exit(const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "loadgen: %s%s\n", prefix, msg);
	exit(1);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay_exit("", fmt, ap);
}

static void unsupported(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("UNSUPPORTED ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(3);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		die("out of memory");
	return p;
}

static unsigned long long rng_state;
static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return n ? (unsigned)((rng_state >> 33) % n) : 0;
}

/* ---------------------------------------------------------------- latency */

struct lat {
	double *v;
	size_t n, cap;
};

static void lat_add(struct lat *l, double s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = realloc(l->v, l->cap * sizeof(double));
		if (l->v == NULL)
			die("out of memory");
	}
	l->v[l->n++] = s;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double lat_pct(struct lat *l, double p)
{
	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof(double), dcmp);
	size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
	return l->v[i];
}

/* ---------------------------------------------------------------- corpus */

struct msg {
	char *data;     /* CRLF text */
	size_t len;
	char *dot;      /* dot-stuffed, ending in CRLF.CRLF, for LMTP */
	size_t dotlen;
};
static struct msg *corpus;
static size_t ncorpus;

static int namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void corpus_load(const char *dir, size_t max, bool dotstuff)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		die("corpus %s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(char *));
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), namecmp);
	if (max && n > max)
		n = max;
	corpus = calloc(n, sizeof(struct msg));
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			die("%s: %s", path, strerror(errno));
		struct stat st;
		fstat(fileno(f), &st);
		corpus[i].len = (size_t)st.st_size;
		corpus[i].data = xmalloc(corpus[i].len + 1);
		if (fread(corpus[i].data, 1, corpus[i].len, f) != corpus[i].len)
			die("%s: short read", path);
		fclose(f);
		if (dotstuff) {
			struct msg *m = &corpus[i];
			m->dot = xmalloc(m->len * 2 + 8);
			size_t o = 0;
			bool bol = true;
			for (size_t k = 0; k < m->len; k++) {
				if (bol && m->data[k] == '.')
					m->dot[o++] = '.';
				m->dot[o++] = m->data[k];
				bol = m->data[k] == '\n';
			}
			if (!bol) {
				m->dot[o++] = '\r';
				m->dot[o++] = '\n';
			}
			memcpy(m->dot + o, ".\r\n", 3);
			m->dotlen = o + 3;
		}
		free(names[i]);
	}
	free(names);
	ncorpus = n;
	if (n == 0)
		die("corpus %s is empty", dir);
}

/* ---------------------------------------------------------------- connections */

enum expect {
	EXP_NONE,
	EXP_IMAP_GREETING,  /* first untagged line */
	EXP_IMAP_TAGGED,    /* tagged reply to c->tag */
	EXP_IMAP_CONT,      /* "+ " (or a tagged reply, on refusal) */
	EXP_LINE,           /* POP3 single line / SMTP greeting */
	EXP_POP_MULTI,      /* POP3 +OK then lines to "." */
	EXP_SMTP,           /* c->smtp_left final SMTP/LMTP replies */
};

enum status { ST_OK, ST_NO, ST_BAD, ST_CONT, ST_CLOSED };

struct conn;
typedef void step_fn(struct conn *c, enum status st);

struct conn {
	int fd, idx;
	SSL *ssl;
	bool connecting, handshaking, want_write_on_read, closed;
	uint32_t ep_events;     /* registered with epoll */
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t wlen, woff, wcap;
	/* response scanning */
	enum expect expect;
	char tag[16];
	unsigned tagno;
	size_t lit_left;
	bool in_resp;           /* inside a response continued by a literal */
	char first[512];        /* first line of the current response */
	bool pop_multi_body;
	int smtp_left;
	char appenduid[32];
	/* IMAP session view */
	long exists;
	/* workload state */
	step_fn *step;
	int phase;
	double t_sent, t_start;
	int user;
	long next_msg;
	long my_uids[64];
	int nmy;
	int op;
	long retr_next, retr_total;
	bool measured;
	const void *pending_data;
	size_t pending_len;
};

static int epfd;
static SSL_CTX *ssl_ctx;
static struct conn **conns;
static int nconns;
static long n_open;
static bool stop_all;

static void conn_close(struct conn *c);

/* The interest set, changed only when it changes: a system call per
 * command would be the load generator's cost, not the server's. */
static void ep_set(struct conn *c, uint32_t events)
{
	if (events == c->ep_events)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->ep_events = events;
}

static void ep_mod(struct conn *c)
{
	uint32_t events = EPOLLIN;
	if (c->connecting || c->woff < c->wlen || c->want_write_on_read)
		events |= EPOLLOUT;
	ep_set(c, events);
}

static void wbuf_add(struct conn *c, const void *p, size_t n)
{
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (c->wlen + n > c->wcap) {
		if (c->woff > 0) {
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
		}
		if (c->wlen + n > c->wcap) {
			c->wcap = (c->wlen + n) * 2;
			c->wbuf = realloc(c->wbuf, c->wcap);
			if (c->wbuf == NULL)
				die("out of memory");
		}
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
}

static void conn_flush(struct conn *c);

static void sendf(struct conn *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		die("command too long");
	wbuf_add(c, line, (size_t)n);
}

/* IMAP command: "TAG <text>\r\n", then wait for the tagged reply. */
static void imap_cmd(struct conn *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		die("command too long");
	snprintf(c->tag, sizeof(c->tag), "a%u", ++c->tagno);
	sendf(c, "%s %s\r\n", c->tag, line);
	c->expect = EXP_IMAP_TAGGED;
	c->appenduid[0] = '\0';
	c->t_sent = now();
	conn_flush(c);
}

/* APPEND with a synchronizing literal: the data goes after "+ ". */
static void imap_append(struct conn *c, const char *mbox, const struct msg *m)
{
	snprintf(c->tag, sizeof(c->tag), "a%u", ++c->tagno);
	sendf(c, "%s APPEND %s (\\Seen) {%zu}\r\n", c->tag, mbox, m->len);
	c->expect = EXP_IMAP_CONT;
	c->pending_data = m->data;
	c->pending_len = m->len;
	c->appenduid[0] = '\0';
	c->t_sent = now();
	conn_flush(c);
}

static void line_cmd(struct conn *c, enum expect e, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		die("command too long");
	memcpy(line + n, "\r\n", 2);
	wbuf_add(c, line, (size_t)n + 2);
	c->expect = e;
	c->pop_multi_body = false;
	c->t_sent = now();
	conn_flush(c);
}

static void conn_fail(struct conn *c, const char *why)
{
	if (!stop_all)
		fprintf(stderr, "loadgen: connection %d: %s\n", c->idx, why);
	c->expect = EXP_NONE;
	step_fn *s = c->step;
	conn_close(c);
	if (s)
		s(c, ST_CLOSED);
}

static void conn_flush(struct conn *c)
{
	if (c->closed || c->connecting || c->handshaking)
		return;
	while (c->woff < c->wlen) {
		size_t n = c->wlen - c->woff;
		ssize_t w;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, c->wbuf + c->woff, (int)(n > 1 << 20 ? 1 << 20 : n));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE)
					break;
				if (e == SSL_ERROR_WANT_READ) {
					c->want_write_on_read = true;
					break;
				}
				conn_fail(c, "TLS write failed");
				return;
			}
			w = r;
		} else {
			w = send(c->fd, c->wbuf + c->woff, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_fail(c, strerror(errno));
				return;
			}
		}
		c->woff += (size_t)w;
	}
	ep_mod(c);
}

static void finish(struct conn *c, enum status st)
{
	c->expect = EXP_NONE;
	if (c->step)
		c->step(c, st);
}

static void imap_untagged(struct conn *c, const char *l)
{
	/* "* N EXISTS", "* N EXPUNGE" keep the session's view right. */
	char *end;
	long n = strtol(l + 2, &end, 10);
	if (end == l + 2)
		return;
	if (strncasecmp(end, " EXISTS", 7) == 0)
		c->exists = n;
	else if (strncasecmp(end, " EXPUNGE", 8) == 0 && c->exists > 0)
		c->exists--;
}

/* A complete IMAP response (its first line in c->first). */
static void imap_response(struct conn *c)
{
	const char *l = c->first;
	if (l[0] == '*' && l[1] == ' ') {
		imap_untagged(c, l);
		if (c->expect == EXP_IMAP_GREETING) {
			if (strncasecmp(l, "* OK", 4) == 0 || strncasecmp(l, "* PREAUTH", 9) == 0)
				finish(c, ST_OK);
			else
				finish(c, ST_NO);
		}
		return;
	}
	if (l[0] == '+') {
		if (c->expect == EXP_IMAP_CONT) {
			if (c->pending_data) {
				wbuf_add(c, c->pending_data, c->pending_len);
				wbuf_add(c, "\r\n", 2);
				c->pending_data = NULL;
				c->expect = EXP_IMAP_TAGGED;
				conn_flush(c);
			} else {
				finish(c, ST_CONT);
			}
		}
		return;
	}
	size_t tl = strlen(c->tag);
	if ((c->expect == EXP_IMAP_TAGGED || c->expect == EXP_IMAP_CONT) &&
	    strncmp(l, c->tag, tl) == 0 && l[tl] == ' ') {
		const char *s = l + tl + 1;
		const char *a = strstr(s, "[APPENDUID ");
		if (a) {
			long v, u;
			if (sscanf(a, "[APPENDUID %ld %ld]", &v, &u) == 2)
				snprintf(c->appenduid, sizeof(c->appenduid), "%ld", u);
		}
		c->pending_data = NULL;
		if (strncasecmp(s, "OK", 2) == 0)
			finish(c, ST_OK);
		else if (strncasecmp(s, "NO", 2) == 0)
			finish(c, ST_NO);
		else
			finish(c, ST_BAD);
	}
}

/* p[0..n) starts at a line start inside a POP3 multi-line answer: true
 * and *used past the terminating ".\r\n" (or ".\n") line if it is
 * there; else false and *used the bytes of whole lines that are not it
 * (the rest may be the start of the terminator). */
static bool pop_multi_end(const char *p, size_t n, size_t *used)
{
	size_t i = 0;
	for (;;) {
		/* i is a line start: is this line "."? */
		if (i < n && p[i] == '.') {
			if (i + 1 < n && p[i + 1] == '\n') {
				*used = i + 2;
				return true;
			}
			if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
				*used = i + 3;
				return true;
			}
			if (i + 2 >= n && (i + 1 >= n || p[i + 1] == '\r'))
				break;   /* maybe, when more comes */
		}
		/* The next line start that holds a dot. */
		const char *q = p + i + 1, *end = p + n;
		while (q < end && (q = memchr(q, '.', (size_t)(end - q))) != NULL && q[-1] != '\n')
			q++;
		if (q == NULL || q >= end)
			break;
		i = (size_t)(q - p);
	}
	/* Keep the last, unfinished line (it may be the terminator). */
	const char *lf = n > i ? memrchr(p + i, '\n', n - i) : NULL;
	*used = lf != NULL ? (size_t)(lf - p) + 1 : i;
	return false;
}

/* Parse everything complete in rbuf; returns bytes consumed. */
static size_t scan_input(struct conn *c)
{
	size_t pos = 0;
	while (!c->closed) {
		if (c->lit_left > 0) {
			size_t take = c->rlen - pos < c->lit_left ? c->rlen - pos : c->lit_left;
			pos += take;
			c->lit_left -= take;
			if (c->lit_left > 0)
				break;
		}
		char *start = c->rbuf + pos;
		if (c->pop_multi_body) {
			/* At a line start inside a POP3 multi-line answer. Only
			 * its end matters: look for a "." that starts a line
			 * (memchr on dots, which base64 has none of), not at
			 * every line: a line by line scan made this client
			 * spend as many instructions per RETR as the server. */
			size_t end;
			if (pop_multi_end(start, c->rlen - pos, &end)) {
				pos += end;
				c->pop_multi_body = false;
				finish(c, ST_OK);
				continue;
			}
			pos += end;   /* whole lines, none the last */
			break;
		}
		char *nl = memchr(start, '\n', c->rlen - pos);
		if (nl == NULL)
			break;
		size_t len = (size_t)(nl - start) + 1;
		size_t body = len - 1;
		if (body > 0 && start[body - 1] == '\r')
			body--;
		pos += len;

		if (c->expect == EXP_LINE || c->expect == EXP_POP_MULTI) {
			size_t k = body < sizeof(c->first) - 1 ? body : sizeof(c->first) - 1;
			memcpy(c->first, start, k);
			c->first[k] = '\0';
			bool ok = body >= 3 && strncmp(start, "+OK", 3) == 0;
			if (c->expect == EXP_POP_MULTI && ok) {
				c->pop_multi_body = true;
				continue;
			}
			finish(c, ok ? ST_OK : ST_NO);
			continue;
		}
		if (c->expect == EXP_SMTP) {
			if (body >= 4 && start[3] == '-')
				continue;
			int code = atoi(start);
			bool ok = code >= 200 && code < 400;
			if (!ok)
				c->smtp_left = 1;  /* an error ends the wait */
			if (--c->smtp_left <= 0)
				finish(c, ok ? ST_OK : ST_NO);
			continue;
		}
		if (c->expect == EXP_NONE && !c->in_resp && c->step == NULL)
			continue;
		/* IMAP */
		if (!c->in_resp) {
			size_t k = body < sizeof(c->first) - 1 ? body : sizeof(c->first) - 1;
			memcpy(c->first, start, k);
			c->first[k] = '\0';
		}
		/* A literal at the end of the line: the response goes on after it. */
		if (body >= 3 && start[body - 1] == '}') {
			size_t i = body - 2;
			while (i > 0 && start[i] >= '0' && start[i] <= '9')
				i--;
			if (start[i] == '+' && i > 0)
				i--;
			if (start[i] == '{' && i < body - 2) {
				c->lit_left = strtoul(start + i + 1, NULL, 10);
				c->in_resp = true;
				continue;
			}
		}
		c->in_resp = false;
		imap_response(c);
	}
	return pos;
}

static void conn_read(struct conn *c)
{
	for (;;) {
		if (c->rcap - c->rlen < 16384) {
			c->rcap = c->rcap ? c->rcap * 2 : 32768;
			c->rbuf = realloc(c->rbuf, c->rcap);
			if (c->rbuf == NULL)
				die("out of memory");
		}
		ssize_t n;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->want_write_on_read = true;
					ep_mod(c);
					break;
				}
				conn_fail(c, e == SSL_ERROR_ZERO_RETURN ? "closed by server" : "TLS read failed");
				return;
			}
			n = r;
		} else {
			n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
			if (n == 0) {
				conn_fail(c, "closed by server");
				return;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_fail(c, strerror(errno));
				return;
			}
		}
		c->rlen += (size_t)n;
		size_t used = scan_input(c);
		if (c->closed)
			return;
		memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
		if (c->rlen == 0 && c->rcap > 65536) {
			free(c->rbuf);
			c->rbuf = NULL;
			c->rcap = 0;
		}
		if (!c->ssl && (size_t)n < 16384)
			break;
	}
	/* An idle connection keeps no read buffer. */
	if (c->rlen == 0 && c->rbuf) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

static void tls_handshake(struct conn *c)
{
	ERR_clear_error();
	int r = SSL_connect(c->ssl);
	if (r == 1) {
		c->handshaking = false;
		ep_mod(c);
		conn_flush(c);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	uint32_t events = EPOLLIN;
	if (e == SSL_ERROR_WANT_WRITE)
		events |= EPOLLOUT;
	else if (e != SSL_ERROR_WANT_READ) {
		conn_fail(c, "TLS handshake failed");
		return;
	}
	ep_set(c, events);
}

static struct conn *conn_new(int idx, step_fn *step, enum expect first)
{
	struct conn *c = calloc(1, sizeof(*c));
	c->idx = idx;
	c->step = step;
	c->expect = first;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s (raise ulimit -n)", strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opt.nsrc > 0) {
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		struct sockaddr_in src = { .sin_family = AF_INET };
		src.sin_addr.s_addr = htonl(0x7f000002u + (unsigned)(idx % opt.nsrc));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			die("bind 127.0.0.%d: %s", 2 + idx % opt.nsrc, strerror(errno));
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	c->connecting = true;
	c->t_start = now();
	int r = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno != EINPROGRESS)
		die("connect: %s", strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	c->ep_events = ev.events;
	n_open++;
	return c;
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->rlen = c->rcap = c->wlen = c->woff = c->wcap = 0;
	n_open--;
}

static void on_event(struct conn *c, uint32_t ev)
{
	if (c->closed)
		return;
	if (c->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			conn_fail(c, strerror(err));
			return;
		}
		if (!(ev & (EPOLLOUT | EPOLLIN)))
			return;
		c->connecting = false;
		if (opt.tls) {
			c->ssl = SSL_new(ssl_ctx);
			SSL_set_fd(c->ssl, c->fd);
			SSL_set_connect_state(c->ssl);
			c->handshaking = true;
			tls_handshake(c);
			return;
		}
		ep_mod(c);
		conn_flush(c);
		return;
	}
	if (c->handshaking) {
		tls_handshake(c);
		if (c->closed || c->handshaking)
			return;
	}
	if (ev & EPOLLOUT) {
		if (c->want_write_on_read) {
			c->want_write_on_read = false;
			conn_read(c);
			if (c->closed)
				return;
		}
		conn_flush(c);
		if (c->closed)
			return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
}

static void loop_once(int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(epfd, evs, 256, timeout_ms);
	for (int i = 0; i < n; i++)
		on_event(evs[i].data.ptr, evs[i].events);
}

static void user_name(int u, char *out, size_t cap)
{
	snprintf(out, cap, opt.user_fmt, u);
}

static void imap_login(struct conn *c)
{
	char u[256];
	user_name(c->user, u, sizeof(u));
	imap_cmd(c, "LOGIN \"%s\" \"%s\"", u, opt.pass);
}

/* Phase 0 of every IMAP workload: on the greeting, LOGIN and phase 1. */
static void imap_greeted(struct conn *c, enum status st)
{
	if (st != ST_OK) {
		conn_fail(c, "bad greeting");
		return;
	}
	c->phase = 1;
	imap_login(c);
}

/* IDLE sent: the continuation request is expected next. */
static void imap_idle_begin(struct conn *c)
{
	snprintf(c->tag, sizeof(c->tag), "a%u", ++c->tagno);
	sendf(c, "%s IDLE\r\n", c->tag);
	c->expect = EXP_IMAP_CONT;
	c->t_sent = now();
	conn_flush(c);
}

/* DONE sent: IDLE's tagged answer is expected next. */
static void imap_idle_done(struct conn *c)
{
	sendf(c, "DONE\r\n");
	c->expect = EXP_IMAP_TAGGED;
	conn_flush(c);
}

/* ---------------------------------------------------------------- PSS */

static long pss_of(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	long kb = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Pss:", 4) == 0)
			kb += atol(line + 4);
	fclose(f);
	return kb;
}

/* Total PSS (KiB) of pid and all its descendants; *nproc set. */
static long pss_tree(int root, int *nproc)
{
	int cap = 1 << 16, n = 0;
	int *pid = xmalloc(sizeof(int) * (size_t)cap), *ppid = xmalloc(sizeof(int) * (size_t)cap);
	DIR *d = opendir("/proc");
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		char *rp = strrchr(buf, ')');
		if (rp == NULL)
			continue;
		char st;
		int pp;
		if (sscanf(rp + 2, "%c %d", &st, &pp) != 2)
			continue;
		if (n == cap) {
			cap *= 2;
			pid = realloc(pid, sizeof(int) * (size_t)cap);
			ppid = realloc(ppid, sizeof(int) * (size_t)cap);
		}
		pid[n] = atoi(e->d_name);
		ppid[n] = pp;
		n++;
	}
	closedir(d);
	char *in = calloc((size_t)n, 1);
	long total = 0;
	int count = 0;
	bool grew = true;
	for (int i = 0; i < n; i++)
		if (pid[i] == root)
			in[i] = 1;
	while (grew) {
		grew = false;
		for (int i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (int j = 0; j < n; j++)
				if (in[j] && pid[j] == ppid[i]) {
					in[i] = 1;
					grew = true;
					break;
				}
		}
	}
	for (int i = 0; i < n; i++)
		if (in[i]) {
			total += pss_of(pid[i]);
			count++;
		}
	free(pid);
	free(ppid);
	free(in);
	*nproc = count;
	return total;
}

/* ---------------------------------------------------------------- setup */

static long sessions_done, sessions_failed;
static double t_measure_end;
static struct lat lat_all;
static bool no_select;

static void setup_step(struct conn *c, enum status st);

static void setup_spawn(int idx)
{
	struct conn *c = conn_new(idx, setup_step, EXP_IMAP_GREETING);
	c->user = 1 + idx % opt.users;
	conns[idx] = c;
}

static void setup_step(struct conn *c, enum status st)
{
	if (st == ST_CLOSED) {
		if (c->phase != 9)
			sessions_failed++;
		else {
			sessions_done++;
			lat_add(&lat_all, now() - c->t_start);
		}
		/* Not freed: the event loop may still hold the pointer in this
		 * batch. A few KB per session over a bounded run. */
		int idx = c->idx;
		conns[idx] = NULL;
		if (!stop_all && now() < t_measure_end &&
		    (opt.count == 0 || sessions_done + n_open < opt.count))
			setup_spawn(idx);
		return;
	}
	switch (c->phase) {
	case 0:
		imap_greeted(c, st);
		return;
	case 1:
		if (st != ST_OK) {
			fprintf(stderr, "loadgen: LOGIN refused: %s\n", c->first);
			stop_all = true;
			conn_fail(c, "login failed");
			return;
		}
		if (opt.select_idle) {
			c->phase = 2;
			imap_cmd(c, "SELECT INBOX");
			return;
		}
		c->phase = 5;
		imap_cmd(c, "LOGOUT");
		return;
	case 2:
		if (st != ST_OK) {
			no_select = true;
			stop_all = true;
			conn_close(c);
			return;
		}
		c->phase = 3;
		imap_idle_begin(c);
		return;
	case 3:
		if (st != ST_CONT) {
			no_select = true;
			stop_all = true;
			conn_close(c);
			return;
		}
		c->phase = 4;
		imap_idle_done(c);
		return;
	case 4:
		c->phase = 5;
		imap_cmd(c, "LOGOUT");
		return;
	case 5:
		/* tagged OK to LOGOUT: the session is complete. */
		c->phase = 9;
		c->expect = EXP_NONE;
		step_fn *s = c->step;
		conn_close(c);
		s(c, ST_CLOSED);
		return;
	}
}

static void run_setup(void)
{
	conns = calloc((size_t)opt.clients, sizeof(*conns));
	nconns = opt.clients;
	double t0 = now();
	t_measure_end = t0 + opt.duration;
	for (int i = 0; i < opt.clients; i++)
		setup_spawn(i);
	while (n_open > 0 && !(stop_all && no_select))
		loop_once(100);
	double el = now() - t0;
	if (no_select)
		unsupported("SELECT/IDLE not implemented: %s", "");
	if (sessions_done == 0)
		die("no session completed (%ld failed)", sessions_failed);
	printf("RESULT sessions %ld\nRESULT failed %ld\nRESULT seconds %.3f\n"
	       "RESULT sessions_per_s %.1f\nRESULT p50_ms %.2f\nRESULT p99_ms %.2f\n",
	       sessions_done, sessions_failed, el, (double)sessions_done / el,
	       lat_pct(&lat_all, 0.5) * 1e3, lat_pct(&lat_all, 0.99) * 1e3);
}

/* ---------------------------------------------------------------- idle */

static long idle_ready, idle_failed, idle_started;
static int idle_mode = 2;   /* 2: SELECT+IDLE, 1: login only (no SELECT) */

static void idle_step(struct conn *c, enum status st)
{
	if (st == ST_CLOSED) {
		if (c->phase < 9)
			idle_failed++;
		else
			idle_ready--;
		return;
	}
	switch (c->phase) {
	case 0:
		imap_greeted(c, st);
		return;
	case 1:
		if (st != ST_OK) {
			fprintf(stderr, "loadgen: LOGIN refused: %s\n", c->first);
			conn_fail(c, "login failed");
			return;
		}
		if (idle_mode == 1) {
			c->phase = 9;
			idle_ready++;
			return;
		}
		c->phase = 2;
		imap_cmd(c, "SELECT INBOX");
		return;
	case 2:
		if (st != ST_OK) {
			/* No SELECT on this server: hold the logged-in session. */
			idle_mode = 1;
			c->phase = 9;
			idle_ready++;
			return;
		}
		c->phase = 3;
		imap_idle_begin(c);
		return;
	case 3:
		if (st != ST_CONT) {
			idle_mode = 1;
			c->phase = 9;
			idle_ready++;
			return;
		}
		c->phase = 9;
		c->expect = EXP_NONE;
		idle_ready++;
		return;
	}
}

/* Opens the connections with global indices [lo, hi) into conns[0 ..
 * hi - lo), at most -c of them being set up at a time, until every one
 * is ready or failed or the deadline; tick() after each turn of the loop.
 * What depends on the index (the user, the source address, the id in
 * messages) takes the global one, so a share in a worker process spreads
 * over users and addresses as it would in one process. */
static void idle_open(long lo, long hi, double deadline, void (*tick)(void))
{
	long n = hi - lo;
	int inflight_max = opt.clients > 0 ? opt.clients : 64;
	while (now() < deadline) {
		while (idle_started < n && idle_started - idle_ready - idle_failed < inflight_max) {
			long idx = lo + idle_started;
			conns[idle_started] = conn_new((int)idx, idle_step, EXP_IMAP_GREETING);
			conns[idle_started]->user = 1 + (int)(idx % opt.users);
			idle_started++;
		}
		if (idle_ready + idle_failed >= n)
			break;
		if (idle_failed > n / 10 + 10)
			die("too many failed connections (%ld)", idle_failed);
		loop_once(50);
		tick();
	}
}

static void idle_close_all(void)
{
	stop_all = true;
	for (long i = 0; i < idle_started; i++)
		if (conns[i]) {
			conn_close(conns[i]);
			free(conns[i]);
			conns[i] = NULL;
		}
}

static void idle_print(long ready, long failed, bool select_idle, double setup, long pss,
                       long pss0, int np)
{
	printf("RESULT connections %ld\nRESULT failed %ld\nRESULT mode %s\n"
	       "RESULT setup_seconds %.1f\nRESULT pss_kib %ld\nRESULT pss_before_kib %ld\n"
	       "RESULT processes %d\nRESULT kib_per_conn %.1f\nRESULT delta_kib_per_conn %.1f\n",
	       ready, failed, select_idle ? "select+idle" : "login-only",
	       setup, pss, pss0, np, ready ? (double)pss / (double)ready : 0,
	       ready ? (double)(pss - pss0) / (double)ready : 0);
	fflush(stdout);
}

static double idle_t0, idle_last;

static void idle_progress(void)
{
	if (now() - idle_last > 5) {
		idle_last = now();
		fprintf(stderr, "loadgen: idle: %ld ready, %ld failed, %.0f s\n",
		        idle_ready, idle_failed, idle_last - idle_t0);
	}
}

/* All N connections in this process. */
static void run_idle_one(void)
{
	long n = opt.count;
	conns = calloc((size_t)n, sizeof(*conns));
	int np0;
	long pss0 = opt.server_pid ? pss_tree(opt.server_pid, &np0) : 0;
	idle_t0 = idle_last = now();
	idle_open(0, n, idle_t0 + opt.duration, idle_progress);
	double setup = now() - idle_t0;
	/* Let the server settle, keep serving events. */
	double settle = now() + 2;
	while (now() < settle)
		loop_once(50);
	int np;
	long pss = pss_tree(opt.server_pid, &np);
	idle_print(idle_ready, idle_failed, idle_mode == 2, setup, pss, pss0, np);
	idle_close_all();
}

/* More connections than one process can hold open (its open-files limit):
 * worker processes, forked before the first connection, each open a share
 * (global indices [k*per, (k+1)*per)) as run_idle_one does, tell the parent
 * over a pipe when their share is ready, and hold it until the parent
 * closes their stop pipe (or dies); the parent measures the server. */

#define IDLE_MAX_WORKERS 256
#define IDLE_FD_MARGIN 256      /* descriptors a process keeps for itself */
#define IDLE_PARENT_GRACE 10    /* s past -d the parent waits for reports */

/* Worker -> parent, a whole record per write (well under PIPE_BUF). */
struct idle_msg {
	int done;               /* 1: the share is ready or failed (or -d) */
	int mode;               /* idle_mode */
	long ready, failed;
	double setup;           /* s from the common start */
};

struct idle_worker {
	pid_t pid;              /* 0 once reaped */
	int rfd, sfd;           /* report pipe (read end), stop pipe (write end) */
	long lo, hi;
	bool done, eof;
	struct idle_msg st, in; /* latest state; record being read */
	size_t inlen;
	double setup;
};

static struct idle_worker *idle_w;
static int idle_nw;
static int idle_wfd = -1, idle_sfd = -1;   /* in a worker: its pipe ends */

/* In a worker: close everything and go. */
static void idle_worker_exit(int code)
{
	idle_close_all();
	_exit(code);
}

static void idle_send(int done)
{
	struct idle_msg m = {
		.done = done, .mode = idle_mode, .ready = idle_ready, .failed = idle_failed,
		.setup = now() - idle_t0,
	};
	const char *p = (const char *)&m;
	size_t off = 0;
	while (off < sizeof(m)) {
		ssize_t w = write(idle_wfd, p + off, sizeof(m) - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			idle_worker_exit(1);   /* the parent is gone */
		off += (size_t)w;
	}
}

/* In a worker: the parent closed the stop pipe (or died): stop. */
static void idle_worker_poll_stop(void)
{
	struct pollfd pf = { .fd = idle_sfd, .events = POLLIN };
	if (poll(&pf, 1, 0) > 0)
		idle_worker_exit(0);
}

static void idle_worker_tick(void)
{
	idle_worker_poll_stop();
	if (now() - idle_last >= 1) {
		idle_last = now();
		idle_send(0);
	}
}

static void idle_worker_run(long lo, long hi, double deadline)
{
	conns = calloc((size_t)(hi - lo), sizeof(*conns));
	if (conns == NULL)
		die("out of memory");
	idle_last = now();
	idle_open(lo, hi, deadline, idle_worker_tick);
	idle_send(1);
	/* Hold the connections; say when a count changes (one closed). A
	 * bound on top of the parent's, should the parent hang. */
	long r = idle_ready, f = idle_failed;
	int m = idle_mode;
	double give_up = deadline + IDLE_PARENT_GRACE + 120;
	for (;;) {
		loop_once(100);
		idle_worker_poll_stop();
		if (idle_ready != r || idle_failed != f || idle_mode != m) {
			r = idle_ready;
			f = idle_failed;
			m = idle_mode;
			idle_send(0);
		}
		if (now() > give_up) {
			fprintf(stderr, "loadgen: idle worker %d: no word from the parent\n",
			        (int)getpid());
			idle_worker_exit(1);
		}
	}
}

/* Kill every worker still there and reap it. */
static void idle_kill_workers(void)
{
	for (int k = 0; k < idle_nw; k++)
		if (idle_w[k].pid > 0)
			kill(idle_w[k].pid, SIGKILL);
	for (int k = 0; k < idle_nw; k++)
		if (idle_w[k].pid > 0) {
			while (waitpid(idle_w[k].pid, NULL, 0) < 0 && errno == EINTR)
				;
			idle_w[k].pid = 0;
		}
}

static void idle_fail(const char *fmt, ...)
{
	idle_kill_workers();
	va_list ap;
	va_start(ap, fmt);
	vsay_exit("idle: ", fmt, ap);
}

static void idle_status_text(int status, char *out, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, cap, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, cap, "status 0x%x", status);
}

/* A worker's report pipe at end of file: it is gone; reap it and fail. */
static void idle_worker_gone(int k, const char *when)
{
	struct idle_worker *w = &idle_w[k];
	int status = 0;
	char how[64] = "unknown status";
	/* Its pipe closes as it exits: the exit status follows at once. */
	for (int i = 0; i < 100; i++) {
		pid_t r = waitpid(w->pid, &status, WNOHANG);
		if (r == w->pid) {
			w->pid = 0;
			idle_status_text(status, how, sizeof(how));
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		usleep(10000);
	}
	idle_fail("worker %d (connections %ld..%ld) ended %s: %s",
	          k, w->lo, w->hi - 1, when, how);
}

/* Read what worker k sent; false at end of file. */
static bool idle_worker_read(int k)
{
	struct idle_worker *w = &idle_w[k];
	for (;;) {
		ssize_t r = read(w->rfd, (char *)&w->in + w->inlen, sizeof(w->in) - w->inlen);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		if (r == 0)
			return false;
		w->inlen += (size_t)r;
		if (w->inlen < sizeof(w->in))
			continue;
		w->inlen = 0;
		w->st = w->in;
		if (w->in.done && !w->done) {
			w->done = true;
			w->setup = w->in.setup;
			fprintf(stderr, "loadgen: idle: worker %d (connections %ld..%ld): "
			        "%ld ready, %ld failed, %s, %.1f s\n", k, w->lo, w->hi - 1,
			        w->st.ready, w->st.failed,
			        w->st.mode == 2 ? "select+idle" : "login-only", w->setup);
		}
	}
}

/* Read the workers' reports until all are done (for_done; failing at
 * 'until') or until 'until'; a worker that ends fails the run. */
static void idle_pump(double until, bool for_done, double t0, double *last)
{
	struct pollfd *pf = calloc((size_t)idle_nw, sizeof(*pf));
	if (pf == NULL)
		idle_fail("out of memory");
	for (;;) {
		int ndone = 0;
		for (int k = 0; k < idle_nw; k++)
			ndone += idle_w[k].done;
		if (for_done && ndone == idle_nw)
			break;
		double left = until - now();
		if (left <= 0 && for_done)
			idle_fail("%d of %d workers not ready %.0f s after the start (-d %.0f)",
			          idle_nw - ndone, idle_nw, now() - t0, opt.duration);
		for (int k = 0; k < idle_nw; k++)
			pf[k] = (struct pollfd){ .fd = idle_w[k].rfd, .events = POLLIN };
		/* Past 'until' (not for_done): one last look, not waiting. */
		int ms = left <= 0 ? 0 : left > 0.5 ? 500 : (int)(left * 1000) + 1;
		int r = poll(pf, (nfds_t)idle_nw, ms);
		if (r < 0 && errno != EINTR)
			idle_fail("poll: %s", strerror(errno));
		for (int k = 0; r > 0 && k < idle_nw; k++)
			if (pf[k].revents && !idle_worker_read(k))
				idle_worker_gone(k, idle_w[k].done ? "while holding its connections"
				                                   : "before its connections were ready");
		if (for_done && now() - *last > 5) {
			*last = now();
			long ready = 0, failed = 0;
			for (int k = 0; k < idle_nw; k++) {
				ready += idle_w[k].st.ready;
				failed += idle_w[k].st.failed;
			}
			fprintf(stderr, "loadgen: idle: %ld ready, %ld failed, %.0f s (%d workers, %d done)\n",
			        ready, failed, *last - t0, idle_nw, ndone);
		}
		if (!for_done && left <= 0)
			break;
	}
	free(pf);
}

/* At the end: close the stop pipes, let the workers close their
 * connections and exit (at most 10 s), then kill what is left. */
static void idle_stop_workers(void)
{
	for (int k = 0; k < idle_nw; k++)
		close(idle_w[k].sfd);
	double end = now() + 10;
	int left = idle_nw;
	while (left > 0 && now() < end) {
		left = 0;
		for (int k = 0; k < idle_nw; k++) {
			struct idle_worker *w = &idle_w[k];
			if (w->pid <= 0)
				continue;
			int status;
			pid_t r = waitpid(w->pid, &status, WNOHANG);
			if (r == w->pid) {
				w->pid = 0;
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
					char how[64];
					idle_status_text(status, how, sizeof(how));
					fprintf(stderr, "loadgen: idle: worker %d: %s\n", k, how);
				}
			} else
				left++;
		}
		if (left > 0)
			usleep(20000);
	}
	if (left > 0)
		fprintf(stderr, "loadgen: idle: %d workers still there after 10 s: killed\n", left);
	idle_kill_workers();
	for (int k = 0; k < idle_nw; k++)
		close(idle_w[k].rfd);
}

static void run_idle_forked(long n, long per)
{
	long nw = (n + per - 1) / per;
	if (nw > IDLE_MAX_WORKERS)
		die("idle: %ld connections at %ld per process need %ld processes (at most %d)",
		    n, per, nw, IDLE_MAX_WORKERS);
	idle_nw = (int)nw;
	idle_w = calloc((size_t)idle_nw, sizeof(*idle_w));
	if (idle_w == NULL)
		die("out of memory");
	fprintf(stderr, "loadgen: idle: %ld connections in %d processes of at most %ld\n",
	        n, idle_nw, per);
	int np0;
	long pss0 = opt.server_pid ? pss_tree(opt.server_pid, &np0) : 0;
	idle_t0 = now();
	double deadline = idle_t0 + opt.duration;
	pid_t parent = getpid();
	fflush(stdout);
	fflush(stderr);
	for (int k = 0; k < idle_nw; k++) {
		struct idle_worker *w = &idle_w[k];
		w->lo = (long)k * per;
		w->hi = w->lo + per < n ? w->lo + per : n;
		int rp[2], sp[2];
		if (pipe2(rp, O_CLOEXEC) < 0)
			idle_fail("pipe: %s", strerror(errno));
		if (pipe2(sp, O_CLOEXEC) < 0) {
			close(rp[0]);
			close(rp[1]);
			idle_fail("pipe: %s", strerror(errno));
		}
		pid_t pid = fork();
		if (pid < 0) {
			close(rp[0]);
			close(rp[1]);
			close(sp[0]);
			close(sp[1]);
			idle_fail("fork: %s", strerror(errno));
		}
		if (pid == 0) {
			/* Worker: dies with the parent; keeps only its own pipe
			 * ends (another worker's stop pipe held open here would
			 * never reach end of file); its own epoll instance (the
			 * inherited one is shared with every other process). */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			for (int j = 0; j < k; j++) {
				close(idle_w[j].rfd);
				close(idle_w[j].sfd);
			}
			close(rp[0]);
			close(sp[1]);
			idle_wfd = rp[1];
			idle_sfd = sp[0];
			close(epfd);
			epfd = epoll_create1(EPOLL_CLOEXEC);
			if (epfd < 0)
				die("epoll_create1: %s", strerror(errno));
			idle_worker_run(w->lo, w->hi, deadline);
			_exit(1);   /* not reached */
		}
		close(rp[1]);
		close(sp[0]);
		w->pid = pid;
		w->rfd = rp[0];
		w->sfd = sp[1];
		fcntl(w->rfd, F_SETFL, fcntl(w->rfd, F_GETFL) | O_NONBLOCK);
	}
	double last = idle_t0;
	idle_pump(deadline + IDLE_PARENT_GRACE, true, idle_t0, &last);
	double setup = 0;
	for (int k = 0; k < idle_nw; k++)
		if (idle_w[k].setup > setup)
			setup = idle_w[k].setup;
	/* Let the server settle; the workers keep serving events. */
	idle_pump(now() + 2, false, idle_t0, &last);
	int np;
	long pss = pss_tree(opt.server_pid, &np);
	idle_pump(now(), false, idle_t0, &last);   /* counts as of now */
	long ready = 0, failed = 0;
	bool select_idle = true;
	for (int k = 0; k < idle_nw; k++) {
		ready += idle_w[k].st.ready;
		failed += idle_w[k].st.failed;
		if (idle_w[k].st.mode != 2)
			select_idle = false;
	}
	idle_print(ready, failed, select_idle, setup, pss, pss0, np);
	idle_stop_workers();
}

static long idle_per_process(void)
{
	struct rlimit rl;
	long per = LONG_MAX;
	/* main() raised the soft limit to the hard one (if it could). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		per = (long)rl.rlim_cur - IDLE_FD_MARGIN;
	if (opt.per_process > 0 && opt.per_process < per)
		per = opt.per_process;
	return per > 0 ? per : 1;
}

static void run_idle(void)
{
	long per = idle_per_process();
	if (opt.count <= per)
		run_idle_one();
	else
		run_idle_forked(opt.count, per);
}

/* ---------------------------------------------------------------- mixed */

static long mixed_cmds, mixed_errors;
static bool mixed_unsupported;
static char mixed_why[600];
static long op_count[8], op_errors[8];
static const char *const op_names[8] = {
	"fetch-flags", "fetch-envelope", "fetch-body", "store", "search", "append", "expunge", "idle",
};

static void mixed_next(struct conn *c);

static void mixed_step(struct conn *c, enum status st)
{
	if (st == ST_CLOSED) {
		if (c->phase != 99 && !stop_all)
			mixed_errors++;
		return;
	}
	double t = now();
	switch (c->phase) {
	case 0:
		imap_greeted(c, st);
		return;
	case 1:
		if (st != ST_OK) {
			snprintf(mixed_why, sizeof(mixed_why), "LOGIN: %s", c->first);
			mixed_unsupported = true;
			conn_close(c);
			return;
		}
		c->phase = 2;
		imap_cmd(c, "SELECT INBOX");
		return;
	case 2:
		if (st != ST_OK) {
			snprintf(mixed_why, sizeof(mixed_why), "SELECT: %s", c->first);
			mixed_unsupported = true;
			conn_close(c);
			return;
		}
		c->phase = 10;
		mixed_next(c);
		return;
	case 10:  /* a mix command finished */
	case 11:
		if (c->op == 7 && c->phase == 10) {
			/* IDLE accepted: end it at once. */
			if (st != ST_CONT) {
				if (st == ST_BAD || st == ST_NO) {
					snprintf(mixed_why, sizeof(mixed_why), "IDLE: %s", c->first);
					mixed_unsupported = true;
					conn_close(c);
					return;
				}
			} else {
				c->phase = 11;
				imap_idle_done(c);
				return;
			}
		}
		if (c->op == 6 && c->phase == 10) {
			/* STORE \Deleted done, now UID EXPUNGE. */
			if (st == ST_BAD) {
				snprintf(mixed_why, sizeof(mixed_why), "STORE: %s", c->first);
				mixed_unsupported = true;
				conn_close(c);
				return;
			}
			c->phase = 11;
			if (t < t_measure_end) {
				mixed_cmds++;
				lat_add(&lat_all, t - c->t_sent);
			}
			imap_cmd(c, "UID EXPUNGE %ld", c->my_uids[--c->nmy]);
			return;
		}
		if (st == ST_BAD && c->first[0] && strstr(c->first, "nknown")) {
			snprintf(mixed_why, sizeof(mixed_why), "%s: %s", op_names[c->op], c->first);
			mixed_unsupported = true;
			conn_close(c);
			return;
		}
		if (st != ST_OK) {
			/* The first answer of each kind is printed; all are counted. */
			if (op_errors[c->op]++ == 0 || mixed_errors < 5)
				fprintf(stderr, "loadgen: mixed: %s: %s\n", op_names[c->op], c->first);
			mixed_errors++;
		}
		if (c->op == 5 && st == ST_OK && c->appenduid[0] && c->nmy < 64)
			c->my_uids[c->nmy++] = atol(c->appenduid);
		if (t < t_measure_end) {
			mixed_cmds++;
			op_count[c->op]++;
			lat_add(&lat_all, t - c->t_sent);
		}
		c->phase = 10;
		mixed_next(c);
		return;
	case 98:
		c->phase = 99;
		conn_close(c);
		return;
	}
}

static void mixed_next(struct conn *c)
{
	if (now() >= t_measure_end || stop_all) {
		c->phase = 98;
		imap_cmd(c, "LOGOUT");
		return;
	}
	static const char *const searches[] = {
		"UID SEARCH UNSEEN", "UID SEARCH SUBJECT \"%s\"", "UID SEARCH FROM \"alice\"",
		"UID SEARCH SINCE 20-Oct-2026", "UID SEARCH FLAGGED",
	};
	unsigned r = rnd(100);
	int op = r < 20 ? 0 : r < 35 ? 1 : r < 48 ? 2 : r < 63 ? 3 : r < 73 ? 4 : r < 83 ? 5 : r < 90 ? 6 : 7;
	if (c->exists == 0 && op <= 3)
		op = 5;
	if (op == 6 && c->nmy == 0)
		op = 5;
	c->op = op;
	long a = c->exists ? 1 + (long)rnd((unsigned)c->exists) : 1;
	long b = a + 9 > c->exists ? c->exists : a + 9;
	switch (op) {
	case 0: imap_cmd(c, "FETCH %ld:%ld (FLAGS)", a, b); break;
	case 1: imap_cmd(c, "FETCH %ld:%ld (ENVELOPE)", a, b); break;
	case 2: imap_cmd(c, "FETCH %ld (BODY.PEEK[])", a); break;
	case 3:
		imap_cmd(c, "STORE %ld %cFLAGS (%s)", a, rnd(2) ? '+' : '-', rnd(3) ? "\\Seen" : "\\Flagged");
		break;
	case 4: {
		const char *s = searches[rnd(5)];
		if (strstr(s, "%s"))
			imap_cmd(c, s, opt.subject);
		else
			imap_cmd(c, "%s", s);
		break;
	}
	case 5: imap_append(c, "INBOX", &corpus[c->next_msg++ % (long)ncorpus]); break;
	case 6: imap_cmd(c, "UID STORE %ld +FLAGS.SILENT (\\Deleted)", c->my_uids[c->nmy - 1]); break;
	case 7:
		imap_idle_begin(c);
		break;
	}
}

static void run_mixed(void)
{
	conns = calloc((size_t)opt.clients, sizeof(*conns));
	t_measure_end = now() + 3600;
	for (int i = 0; i < opt.clients; i++) {
		conns[i] = conn_new(i, mixed_step, EXP_IMAP_GREETING);
		conns[i]->user = 1 + i % opt.users;
		conns[i]->next_msg = (long)i * 97;
	}
	/* Wait until every client has selected (or one failed). */
	double t0 = now(), deadline = t0 + 120;
	for (;;) {
		int ready = 0;
		for (int i = 0; i < opt.clients; i++)
			if (conns[i]->phase >= 10)
				ready++;
		if (ready == opt.clients || mixed_unsupported || now() > deadline)
			break;
		loop_once(20);
	}
	if (mixed_unsupported)
		unsupported("%s", mixed_why);
	double t1 = now();
	t_measure_end = t1 + opt.duration;
	while (n_open > 0 && !mixed_unsupported) {
		loop_once(50);
		if (now() > t_measure_end + 30)
			break;
	}
	if (mixed_unsupported)
		unsupported("%s", mixed_why);
	double el = opt.duration;
	printf("RESULT commands %ld\nRESULT errors %ld\nRESULT seconds %.1f\n"
	       "RESULT commands_per_s %.1f\nRESULT p50_ms %.2f\nRESULT p99_ms %.2f\n",
	       mixed_cmds, mixed_errors, el, (double)mixed_cmds / el,
	       lat_pct(&lat_all, 0.5) * 1e3, lat_pct(&lat_all, 0.99) * 1e3);
	for (int i = 0; i < 8; i++)
		fprintf(stderr, "loadgen: mixed: %s %ld (NO/BAD %ld)\n", op_names[i], op_count[i],
		        op_errors[i]);
}

/* ---------------------------------------------------------------- large */

static enum status sync_status;
static bool sync_done;

static void sync_step(struct conn *c, enum status st)
{
	sync_status = st;
	sync_done = true;
}

static enum status sync_wait(struct conn *c, double limit)
{
	double end = now() + limit;
	while (!sync_done && !c->closed) {
		loop_once(100);
		if (now() > end)
			die("no answer within %.0f s", limit);
	}
	if (!sync_done)
		die("connection closed");
	sync_done = false;
	return sync_status;
}

static struct conn *sync_connect(int user, bool pop)
{
	struct conn *c = conn_new(0, sync_step, pop ? EXP_LINE : EXP_IMAP_GREETING);
	c->user = user;
	if (sync_wait(c, 30) != ST_OK)
		die("bad greeting: %s", c->first);
	return c;
}

/* Run one IMAP command once unmeasured (so each server has filled whatever
 * cache it keeps for it), then n times (fewer if it is slow); median ms. */
static double timed(struct conn *c, const char *what, const char *cmd, int n, double slow_s)
{
	double v[16];
	int k = 0;
	if (opt.only != NULL) {
		/* -O a,b: a word of the list, whole. */
		size_t wl = strlen(what);
		const char *p = opt.only;
		bool hit = false;
		while ((p = strstr(p, what)) != NULL && !hit) {
			hit = (p == opt.only || p[-1] == ',') && (p[wl] == ',' || p[wl] == '\0');
			p += wl;
		}
		if (!hit)
			return -1;
	}
	imap_cmd(c, "%s", cmd);
	if (sync_wait(c, 600) != ST_OK) {
		printf("RESULT %s_unsupported 1\n", what);
		fprintf(stderr, "loadgen: %s: %s\n", cmd, c->first);
		return -1;
	}
	for (int i = 0; i < n && i < 16; i++) {
		double t = now();
		imap_cmd(c, "%s", cmd);
		enum status st = sync_wait(c, 600);
		double el = now() - t;
		if (st != ST_OK) {
			printf("RESULT %s_unsupported 1\n", what);
			fprintf(stderr, "loadgen: %s: %s\n", cmd, c->first);
			return -1;
		}
		v[k++] = el;
		if (el > slow_s)
			break;
	}
	qsort(v, (size_t)k, sizeof(double), dcmp);
	double med = v[k / 2] * 1e3;
	printf("RESULT %s_ms %.3f\nRESULT %s_runs %d\n", what, med, what, k);
	fflush(stdout);
	return med;
}

static void run_large(void)
{
	struct conn *c = sync_connect(opt.user, false);
	imap_login(c);
	if (sync_wait(c, 60) != ST_OK)
		die("LOGIN refused: %s", c->first);
	/* The first SELECT may build indexes: not measured. */
	imap_cmd(c, "SELECT INBOX");
	if (sync_wait(c, 600) != ST_OK)
		unsupported("SELECT: %s", c->first);
	printf("RESULT messages %ld\n", c->exists);
	if (c->exists == 0)
		unsupported("the mailbox is empty (no way to load it yet)");
	timed(c, "select", "SELECT INBOX", 9, 5);
	timed(c, "fetch_flags", "UID FETCH 1:* (FLAGS)", 5, 2);
	timed(c, "fetch_envelope", "FETCH 1:* (ENVELOPE)", 3, 2);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "UID SEARCH BODY \"%s\"", opt.rare);
	timed(c, "search_body", cmd, 3, 2);
	snprintf(cmd, sizeof(cmd), "SEARCH SUBJECT \"%s\"", opt.subject);
	timed(c, "search_subject", cmd, 3, 2);
	imap_cmd(c, "LOGOUT");
	sync_wait(c, 10);
}

/* ---------------------------------------------------------------- pop3 */

static void run_pop3(void)
{
	double t0 = now();
	struct conn *c = sync_connect(opt.user, true);
	char u[256];
	user_name(opt.user, u, sizeof(u));
	line_cmd(c, EXP_LINE, "USER %s", u);
	if (sync_wait(c, 30) != ST_OK)
		die("USER: %s", c->first);
	line_cmd(c, EXP_LINE, "PASS %s", opt.pass);
	if (sync_wait(c, 30) != ST_OK)
		die("PASS refused");
	line_cmd(c, EXP_LINE, "STAT");
	if (sync_wait(c, 60) != ST_OK)
		unsupported("STAT refused");
	long n = atol(c->first + 3);
	if (opt.count && n > opt.count)
		n = opt.count;
	if (n == 0)
		unsupported("the maildrop is empty");
	line_cmd(c, EXP_POP_MULTI, "UIDL");
	if (sync_wait(c, 600) != ST_OK)
		unsupported("UIDL refused");
	long bytes = 0;
	long i;
	for (i = 1; i <= n; i++) {
		line_cmd(c, EXP_POP_MULTI, "RETR %ld", i);
		enum status st = sync_wait(c, 600);
		if (st != ST_OK) {
			if (i == 1)
				unsupported("RETR 1 refused (maildrop empty?)");
			break;
		}
	}
	long got = i - 1;
	line_cmd(c, EXP_LINE, "QUIT");
	sync_wait(c, 30);
	double el = now() - t0;
	printf("RESULT messages %ld\nRESULT seconds %.3f\nRESULT msgs_per_s %.1f\n",
	       got, el, (double)got / el);
	(void)bytes;
}

/* ---------------------------------------------------------------- lmtp */

static long lmtp_sent, lmtp_done, lmtp_failed;
static struct lat lat_lmtp;

static int lmtp_user(long i)
{
	return 1 + (int)(i % opt.users);
}

static void lmtp_step(struct conn *c, enum status st)
{
	if (st == ST_CLOSED)
		return;
	switch (c->phase) {
	case 0:
		if (st != ST_OK) {
			fprintf(stderr, "loadgen: LMTP greeting: refused\n");
			conn_fail(c, "bad greeting");
			return;
		}
		c->phase = 1;
		c->smtp_left = 1;
		line_cmd(c, EXP_SMTP, "LHLO bench.test");
		return;
	case 1:
		if (st != ST_OK) {
			conn_fail(c, "LHLO refused");
			return;
		}
		/* fall through */
	case 5:
		if (c->phase == 5) {
			if (st == ST_OK) {
				lmtp_done++;
				lat_add(&lat_lmtp, now() - c->t_start);
			} else
				lmtp_failed++;
		}
		if (lmtp_sent >= opt.count || stop_all) {
			c->phase = 9;
			c->smtp_left = 1;
			line_cmd(c, EXP_SMTP, "QUIT");
			return;
		}
		c->next_msg = lmtp_sent++;
		c->t_start = now();
		c->phase = 2;
		c->smtp_left = 1;
		line_cmd(c, EXP_SMTP, "MAIL FROM:<sender@example.org>");
		return;
	case 2: {
		if (st != ST_OK) {
			conn_fail(c, "MAIL refused");
			return;
		}
		char u[256];
		user_name(lmtp_user(c->next_msg), u, sizeof(u));
		c->phase = 3;
		c->smtp_left = 1;
		line_cmd(c, EXP_SMTP, "RCPT TO:<%s>", u);
		return;
	}
	case 3:
		if (st != ST_OK) {
			fprintf(stderr, "loadgen: RCPT refused\n");
			stop_all = true;
			conn_fail(c, "RCPT refused");
			return;
		}
		c->phase = 4;
		c->smtp_left = 1;
		line_cmd(c, EXP_SMTP, "DATA");
		return;
	case 4: {
		if (st != ST_OK) {
			conn_fail(c, "DATA refused");
			return;
		}
		const struct msg *m = &corpus[c->next_msg % (long)ncorpus];
		wbuf_add(c, m->dot, m->dotlen);
		c->phase = 5;
		c->smtp_left = 1;   /* one recipient: one reply */
		c->expect = EXP_SMTP;
		conn_flush(c);
		return;
	}
	case 9:
		c->phase = 10;
		conn_close(c);
		return;
	}
}

static void run_lmtp(void)
{
	conns = calloc((size_t)opt.clients, sizeof(*conns));
	double t0 = now();
	for (int i = 0; i < opt.clients; i++) {
		conns[i] = conn_new(i, lmtp_step, EXP_SMTP);
		conns[i]->smtp_left = 1;
	}
	double deadline = t0 + opt.duration;
	while (n_open > 0) {
		loop_once(100);
		if (now() > deadline) {
			stop_all = true;
			break;
		}
	}
	double el = now() - t0;
	if (lmtp_done == 0)
		unsupported("no message delivered (%ld failed)", lmtp_failed);
	printf("RESULT messages %ld\nRESULT failed %ld\nRESULT seconds %.2f\n"
	       "RESULT msgs_per_s %.1f\nRESULT p50_ms %.2f\nRESULT p99_ms %.2f\n",
	       lmtp_done, lmtp_failed, el, (double)lmtp_done / el,
	       lat_pct(&lat_lmtp, 0.5) * 1e3, lat_pct(&lat_lmtp, 0.99) * 1e3);
}

/* ---------------------------------------------------------------- append loader */

static long app_next, app_done, app_failed;
static bool app_unsupported;
static char app_why[600];

static void app_step(struct conn *c, enum status st)
{
	if (st == ST_CLOSED)
		return;
	switch (c->phase) {
	case 0:
		imap_greeted(c, st);
		return;
	case 1:
		if (st != ST_OK) {
			snprintf(app_why, sizeof(app_why), "LOGIN: %s", c->first);
			app_unsupported = true;
			conn_close(c);
			return;
		}
		c->phase = 2;
		break;
	case 2:
		if (st == ST_OK)
			app_done++;
		else {
			if (st == ST_BAD || app_done == 0) {
				snprintf(app_why, sizeof(app_why), "APPEND: %s", c->first);
				app_unsupported = true;
				conn_close(c);
				return;
			}
			app_failed++;
		}
		break;
	case 3:
		conn_close(c);
		return;
	}
	if (app_next >= (long)ncorpus || (opt.count && app_next >= opt.count)) {
		c->phase = 3;
		imap_cmd(c, "LOGOUT");
		return;
	}
	imap_append(c, "INBOX", &corpus[app_next++]);
}

static void run_append(void)
{
	conns = calloc((size_t)opt.clients, sizeof(*conns));
	double t0 = now(), last = t0;
	for (int i = 0; i < opt.clients; i++) {
		conns[i] = conn_new(i, app_step, EXP_IMAP_GREETING);
		conns[i]->user = opt.user;
	}
	while (n_open > 0 && !app_unsupported) {
		loop_once(100);
		if (now() - t0 > opt.duration) {
			/* Bounded: say how far it got; exit 4 = partial load. */
			fprintf(stderr, "loadgen: APPEND load not done in %.0f s (%ld loaded)\n",
			        opt.duration, app_done);
			printf("RESULT messages %ld\nRESULT partial 1\n", app_done);
			fflush(stdout);
			exit(4);
		}
		if (now() - last > 10) {
			last = now();
			fprintf(stderr, "loadgen: append: %ld loaded\n", app_done);
		}
	}
	if (app_unsupported)
		unsupported("%s", app_why);
	double el = now() - t0;
	printf("RESULT messages %ld\nRESULT failed %ld\nRESULT seconds %.2f\nRESULT msgs_per_s %.1f\n",
	       app_done, app_failed, el, (double)app_done / el);
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -w setup|idle|mixed|large|pop3|lmtp|append -p PORT [-t]\n"
	    "  [-H HOST] [-f USERFMT] [-u USERS] [-U USER] [-k PASS] [-c CLIENTS]\n"
	    "  [-n COUNT] [-d SECONDS] [-a NSRC] [-P SERVERPID] [-C CORPUSDIR]\n"
	    "  [-S] [-r RAREWORD] [-s SUBJECTWORD] [-x SEED] [-O LARGE_ITEMS]\n"
	    "  [-N PER_PROCESS]\n"
	    "  idle: more than PER_PROCESS connections (default: the open-files\n"
	    "  limit less %d) are opened by ceil(COUNT / PER_PROCESS) forked\n"
	    "  worker processes; the RESULT lines are the same\n", IDLE_FD_MARGIN);
	exit(2);
}

int main(int argc, char **argv)
{
	int ch;
	while ((ch = getopt(argc, argv, "w:p:tH:f:u:U:k:c:n:d:a:P:C:Sr:s:x:O:N:")) != -1) {
		switch (ch) {
		case 'w': opt.workload = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 't': opt.tls = true; break;
		case 'H': opt.host = optarg; break;
		case 'f': opt.user_fmt = optarg; break;
		case 'u': opt.users = atoi(optarg); break;
		case 'U': opt.user = atoi(optarg); break;
		case 'k': opt.pass = optarg; break;
		case 'c': opt.clients = atoi(optarg); break;
		case 'n': opt.count = atol(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'a': opt.nsrc = atoi(optarg); break;
		case 'P': opt.server_pid = atoi(optarg); break;
		case 'C': opt.corpus = optarg; break;
		case 'S': opt.select_idle = true; break;
		case 'r': opt.rare = optarg; break;
		case 's': opt.subject = optarg; break;
		case 'x': opt.seed = (unsigned)atoi(optarg); break;
		case 'O': opt.only = optarg; break;
		case 'N':
			opt.per_process = atol(optarg);
			if (opt.per_process <= 0)
				usage();
			break;
		default: usage();
		}
	}
	if (opt.workload == NULL || opt.port <= 0)
		usage();
	/* Loopback only, ever. */
	if (strncmp(opt.host, "127.", 4) != 0)
		die("only loopback (127.x.x.x) targets");
	rng_state = opt.seed;
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	ssl_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	epfd = epoll_create1(EPOLL_CLOEXEC);

	const char *w = opt.workload;
	if (strcmp(w, "mixed") == 0 || strcmp(w, "append") == 0 || strcmp(w, "lmtp") == 0) {
		if (opt.corpus == NULL)
			die("-C CORPUSDIR needed");
		corpus_load(opt.corpus, strcmp(w, "append") == 0 ? (size_t)opt.count :
		            2000,
		            strcmp(w, "lmtp") == 0);
	}
	if (strcmp(w, "setup") == 0)
		run_setup();
	else if (strcmp(w, "idle") == 0)
		run_idle();
	else if (strcmp(w, "mixed") == 0)
		run_mixed();
	else if (strcmp(w, "large") == 0)
		run_large();
	else if (strcmp(w, "pop3") == 0)
		run_pop3();
	else if (strcmp(w, "lmtp") == 0)
		run_lmtp();
	else if (strcmp(w, "append") == 0)
		run_append();
	else
		usage();
	fflush(stdout);
	return 0;
}
