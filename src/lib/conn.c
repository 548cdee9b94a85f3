#include "lib/conn.h"
#include "lib/arena.h"
#include "lib/fdpark.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#define READ_CHUNK 16384
/* Per SSL_write. A plain socket takes all that is queued in one send: the
 * loop would go on sending until EAGAIN anyway, and a POP3 answer of 120 KB
 * cost two sends, and more kernel work, in 64 KiB pieces. */
#define WRITE_CHUNK 65536

static _Atomic uint64_t next_conn_id = 1;
/* Reads land here first, so an idle connection holds no input buffer. */
static _Thread_local char read_scratch[READ_CHUNK];

/* Buffers of connections that went idle are kept, a few per thread (at
 * most 1 MiB in all), for the next connection that needs one: an idle
 * connection still holds no buffer, but a busy one no longer pays a
 * malloc, the regrowth from 256 bytes and a free for every command and
 * every answer. */
#define SPARE_MAX 8
#define SPARE_BYTES_MAX (1024 * 1024)   /* kept per thread, at most */
struct spares {
	size_t n, bytes;
	struct { char *data; size_t cap; } b[SPARE_MAX];
};
static _Thread_local struct spares spares;
static _Thread_local bool spares_registered;  /* for spares_free at exit */
static pthread_key_t spares_key;
static pthread_once_t spares_once = PTHREAD_ONCE_INIT;

/* At thread exit the kept buffers go (the key's value is the list). */
static void spares_free(void *p)
{
	struct spares *sp = p;
	while (sp->n > 0)
		free(sp->b[--sp->n].data);
	sp->bytes = 0;
	spares_registered = false;   /* a later release registers again */
}

static void spares_key_init(void)
{
	pthread_key_create(&spares_key, spares_free);
}

/* The buffer is empty: keep its storage for reuse, or free it. */
static void buf_release(struct buf *b)
{
	size_t cap;
	char *d = buf_detach(b, &cap);
	if (d == NULL)
		return;
	if (spares.n == SPARE_MAX || spares.bytes + cap > SPARE_BYTES_MAX) {
		free(d);
		return;
	}
	/* Once per thread: these two were a percent of a POP3 RETR. */
	if (!spares_registered) {
		pthread_once(&spares_once, spares_key_init);
		pthread_setspecific(spares_key, &spares);
		spares_registered = true;
	}
	spares.bytes += cap;
	spares.b[spares.n].data = d;
	spares.b[spares.n++].cap = cap;
}

/* Before bytes go into an unallocated buffer: reuse kept storage. */
static void buf_prepare(struct buf *b)
{
	if (b->data != NULL || spares.n == 0)
		return;
	spares.n--;
	spares.bytes -= spares.b[spares.n].cap;
	buf_attach(b, spares.b[spares.n].data, spares.b[spares.n].cap);
}

static void conn_io_cb(struct ev_loop *loop, struct ev_io *io, unsigned revents);
static void update_io(struct conn *c);
static void finish_close(struct conn *c);
static int conn_unpark(struct conn *c, bool kick);

static void list_add(struct conn_list *l, struct conn *c)
{
	c->list = l;
	c->prev = NULL;
	c->next = l->head;
	if (l->head != NULL)
		l->head->prev = c;
	l->head = c;
	l->n++;
}

static void list_del(struct conn *c)
{
	struct conn_list *l = c->list;
	if (l == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	l->n--;
	c->list = NULL;
	c->prev = c->next = NULL;
}

static void set_logctx(struct conn *c, const char *user)
{
	if (user != NULL) {
		char esc[96];
		log_escape(esc, sizeof(esc), user, strlen(user));
		snprintf(c->logctx, sizeof(c->logctx), "%s c=%llu ip=%s user=%s",
		         c->proto->name, (unsigned long long)c->id, c->ip, esc);
	} else {
		snprintf(c->logctx, sizeof(c->logctx), "%s c=%llu ip=%s",
		         c->proto->name, (unsigned long long)c->id, c->ip);
	}
}

void conn_log(struct conn *c, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(lvl, c->logctx, fmt, ap);
	va_end(ap);
}

void conn_set_user(struct conn *c, const char *user)
{
	set_logctx(c, user);
}

static void timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct conn *c = t->data;
	if (c->closed)
		return;
	if (c->ops != NULL && c->ops->timeout != NULL) {
		c->ops->timeout(c);
	} else {
		conn_log(c, LOGL_INFO, "disconnected reason=handshake-timeout");
		conn_abort(c);
	}
}

void conn_set_timeout(struct conn *c, uint64_t ms)
{
	if (ms == 0)
		ev_timer_stop(c->loop, &c->timer);
	else
		ev_timer_start(c->loop, &c->timer, ms);
}

/* --- TLS --- */

static int tls_begin(struct conn *c)
{
	SSL_CTX *ctx = tls_ctx_acquire();
	if (ctx == NULL)
		return -1;
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);  /* the SSL holds its own reference */
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		ERR_clear_error();
		return -1;
	}
	SSL_set_accept_state(c->ssl);
	c->tls = CONN_TLS_HANDSHAKE;
	return 0;
}

static void handshake(struct conn *c)
{
	ERR_clear_error();
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->tls = CONN_TLS_ON;
		c->ssl_read_wants_write = c->ssl_write_wants_read = false;
		conn_log(c, LOGL_DEBUG, "tls established version=%s cipher=%s",
		         SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
		if (c->implicit_tls) {
			conn_set_timeout(c, 0);
			c->proto->start(c);
		} else if (c->ops != NULL && c->ops->tls_done != NULL) {
			c->ops->tls_done(c);
		}
		if (!c->closed)
			update_io(c);
		/* Application data may already sit decrypted in OpenSSL. */
		if (!c->closed && SSL_pending(c->ssl) > 0)
			ev_defer(c->loop, &c->input_defer);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		ev_io_set(c->loop, &c->io, EV_READ);
	} else if (e == SSL_ERROR_WANT_WRITE) {
		ev_io_set(c->loop, &c->io, EV_WRITE);
	} else {
		char detail[160] = "peer closed";
		unsigned long err = ERR_peek_error();
		if (err != 0)
			ERR_error_string_n(err, detail, sizeof(detail));
		ERR_clear_error();
		conn_log(c, LOGL_INFO, "disconnected reason=tls-handshake-failed error=\"%s\"", detail);
		conn_abort(c);
	}
}

/* --- reading --- */

static bool want_input(const struct conn *c)
{
	return !c->paused && !c->out_full && !c->closing && !c->starttls_pending &&
	       !c->in_eof && buf_room(&c->in) > 0;
}

static void deliver_input(struct conn *c)
{
	if (c->closed || c->paused || c->ops == NULL)
		return;
	if (c->in.len > 0 || c->in_eof)
		c->ops->input(c);
	if (c->closed)
		return;
	if (c->in.len == 0)
		buf_release(&c->in);
	/* The peer closed its side. Answers to what it sent before are still
	 * owed: input left over while output is full is delivered again on
	 * `drained`. Only an incomplete last line (or nothing) ends it here. */
	if (c->in_eof && !c->closing && !c->paused && (c->in.len == 0 || !c->out_full)) {
		conn_log(c, LOGL_INFO, "disconnected reason=peer-closed");
		conn_close(c);
	}
}

/* Read what is available into c->in. Returns -1 if the conn was aborted. */
static int do_read(struct conn *c)
{
	while (want_input(c)) {
		size_t want = buf_room(&c->in);
		if (want > READ_CHUNK)
			want = READ_CHUNK;
		ssize_t n;
		if (c->tls == CONN_TLS_ON) {
			ERR_clear_error();
			int r = SSL_read(c->ssl, read_scratch, (int)want);
			c->ssl_read_wants_write = false;
			if (r > 0) {
				n = r;
			} else {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->ssl_read_wants_write = true;
					break;
				}
				if (e == SSL_ERROR_ZERO_RETURN) {
					c->in_eof = true;
					break;
				}
				ERR_clear_error();
				conn_log(c, LOGL_INFO, "disconnected reason=tls-error");
				conn_abort(c);
				return -1;
			}
		} else {
			n = read(c->fd, read_scratch, want);
			if (n == 0) {
				c->in_eof = true;
				break;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_log(c, LOGL_INFO, "disconnected reason=read-error error=\"%s\"", strerror(errno));
				conn_abort(c);
				return -1;
			}
		}
		c->last_io = ev_now(c->loop);
		buf_prepare(&c->in);
		buf_append(&c->in, read_scratch, (size_t)n);
		/* A short read emptied the socket: skip the read that would
		 * only say EAGAIN (epoll reports what comes later). TLS may
		 * hold decrypted bytes the socket no longer shows. */
		if (c->tls != CONN_TLS_ON && (size_t)n < want)
			break;
	}
	return 0;
}

/* --- writing --- */

static int do_write(struct conn *c)
{
	c->ssl_write_wants_read = false;
	while (c->out.len > 0) {
		size_t n = c->out.len > WRITE_CHUNK && c->tls == CONN_TLS_ON ? WRITE_CHUNK : c->out.len;
		ssize_t w;
		if (c->tls == CONN_TLS_ON) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, buf_ptr(&c->out), (int)n);
			if (r > 0) {
				w = r;
			} else {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE)
					break;
				if (e == SSL_ERROR_WANT_READ) {
					c->ssl_write_wants_read = true;
					break;
				}
				ERR_clear_error();
				conn_log(c, LOGL_INFO, "disconnected reason=tls-write-error");
				conn_abort(c);
				return -1;
			}
		} else {
			w = send(c->fd, buf_ptr(&c->out), n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_log(c, LOGL_INFO, "disconnected reason=write-error error=\"%s\"", strerror(errno));
				conn_abort(c);
				return -1;
			}
		}
		buf_consume(&c->out, (size_t)w);
		c->last_io = ev_now(c->loop);
	}
	if (c->out.len == 0)
		buf_release(&c->out);
	return 0;
}

static void update_io(struct conn *c)
{
	/* A parked socket's poll waits for input; output unparks it. */
	if (c->closed || c->parked || c->tls == CONN_TLS_HANDSHAKE)
		return;
	unsigned ev = 0;
	if (want_input(c) || c->ssl_write_wants_read)
		ev |= EV_READ;
	/* Output waiting for the flush queued in this iteration needs no
	 * EPOLLOUT: the flush writes at once and asks for it only if the
	 * socket is full (two epoll_ctl calls per answer saved). */
	if ((c->out.len > 0 && !c->flush_defer.queued) || c->ssl_read_wants_write)
		ev |= EV_WRITE;
	ev_io_set(c->loop, &c->io, ev);
}

/* After output moved: finish a close or a STARTTLS, lift back-pressure. */
static void after_write(struct conn *c)
{
	if (c->closed)
		return;
	if (c->out.len == 0 && c->closing) {
		finish_close(c);
		return;
	}
	if (c->out.len == 0 && c->starttls_pending) {
		c->starttls_pending = false;
		buf_reset(&c->in, 0);  /* plaintext pipelined after STARTTLS */
		if (tls_begin(c) < 0) {
			conn_log(c, LOGL_ERROR, "disconnected reason=tls-unavailable");
			conn_abort(c);
			return;
		}
		conn_set_timeout(c, 60000);
		handshake(c);
		return;
	}
	if (c->out_full && c->out.len <= c->out_limit / 2) {
		c->out_full = false;
		if (c->ops != NULL && c->ops->drained != NULL)
			c->ops->drained(c);
		if (c->closed)
			return;
		if (c->in.len > 0)
			ev_defer(c->loop, &c->input_defer);
	}
	update_io(c);
}

static void flush_cb(struct ev_loop *loop, struct ev_defer *d)
{
	struct conn *c = d->data;
	if (c->closed || (c->out.len > 0 && conn_unpark(c, true) < 0))
		return;
	if (c->tls != CONN_TLS_HANDSHAKE && do_write(c) < 0)
		return;
	after_write(c);
}

static void input_cb(struct ev_loop *loop, struct ev_defer *d)
{
	struct conn *c = d->data;
	/* Parked, it had nothing buffered, and its poll watches for more. */
	if (c->closed || c->parked || c->tls == CONN_TLS_HANDSHAKE)
		return;
	if (c->tls == CONN_TLS_ON && do_read(c) < 0)
		return;
	deliver_input(c);
	if (!c->closed)
		update_io(c);
}

static void conn_io_cb(struct ev_loop *loop, struct ev_io *io, unsigned revents)
{
	struct conn *c = io->data;
	if (c->closed)
		return;
	if (c->tls == CONN_TLS_HANDSHAKE) {
		handshake(c);
		return;
	}
	if ((revents & EV_WRITE) || c->ssl_write_wants_read) {
		if (do_write(c) < 0)
			return;
		after_write(c);
		if (c->closed)
			return;
	}
	if ((revents & EV_READ) || c->ssl_read_wants_write) {
		if (do_read(c) < 0)
			return;
		deliver_input(c);
		if (c->closed)
			return;
	}
	update_io(c);
}

/* --- parking (conn.h, lib/fdpark.h) --- */

/* Connections quiet this long may be parked, when the process is near its
 * open-files limit; a loop looks for them at most this often. */
#define PARK_QUIET_MS 200
#define SWEEP_EVERY_MS 100

static _Atomic long fds_held;   /* connections' descriptors, all threads */
static long fds_high, fds_low;  /* park from high, down to low */
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

/* The rest of the limit is for listeners, stores, logs and the rings. */
static void limits_init(void)
{
	struct rlimit rl;
	long lim = 1L << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)lim)
		lim = (long)rl.rlim_cur;
	long reserve = lim / 8 > 64 ? lim / 8 : 64;
	fds_low = lim / 2;
	fds_high = lim - reserve > fds_low ? lim - reserve : fds_low;
}

/* Waiting for the client with nothing else to do (how long: the caller
 * looks). */
static bool parkable(const struct conn *c)
{
	return !c->parked && !c->closed && !c->closing && c->ops != NULL && c->fd >= 0 &&
	       c->tls != CONN_TLS_HANDSHAKE && !c->starttls_pending && !c->paused && !c->in_eof &&
	       !c->out_full && c->in.len == 0 && c->out.len == 0 && !c->flush_defer.queued &&
	       !c->input_defer.queued && !c->ssl_read_wants_write && !c->ssl_write_wants_read &&
	       (c->ssl == NULL || SSL_pending(c->ssl) == 0);
}

/* The client sent something or hung up, or output waits: as if epoll
 * had said so. Without a descriptor free, the park wakes it again. */
static void park_wake(void *arg)
{
	struct conn *c = arg;
	if (c->closed || conn_unpark(c, false) < 0)
		return;
	conn_io_cb(c->loop, &c->io, EV_READ | (c->out.len > 0 ? EV_WRITE : 0));
}

/* The loop's park, made at half the limit: it takes a descriptor too, so
 * not when none is left. Unavailable for good where the kernel cannot. */
static struct fdpark *park_of(struct conn_list *l, struct ev_loop *loop)
{
	if (l->park != NULL || l->park_unavailable)
		return l->park;
	l->park = fdpark_new(loop);
	if (l->park == NULL && errno != EMFILE && errno != ENFILE) {
		l->park_unavailable = true;
		log_warn("quiet connections cannot be parked, the open-files limit is the limit on "
		         "connections: %s", strerror(errno));
	}
	return l->park;
}

static bool conn_park(struct conn *c)
{
	struct conn_list *l = c->list;
	if (park_of(l, c->loop) == NULL)
		return false;
	ev_io_stop(c->loop, &c->io);
	if (fdpark_park(l->park, c->fd, park_wake, c, &c->park_slot) < 0) {
		update_io(c);
		return false;
	}
	c->parked = true;
	c->fd = c->io.fd = -1;
	fds_held--;
	return true;
}

/* 0, or -1: no descriptor free (and with kick, the park wakes the
 * connection later to try again), or the socket was lost (closed). */
static int conn_unpark(struct conn *c, bool kick)
{
	if (!c->parked)
		return 0;
	int fd = fdpark_unpark(c->list->park, c->park_slot);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Others, quiet again since they were woken, make room. */
			conn_list_park_quiet(c->list, c->loop);
			if (kick)
				fdpark_kick(c->list->park, c->park_slot);
			return -1;
		}
		conn_log(c, LOGL_WARN, "disconnected reason=unpark-failed error=\"%s\"", strerror(errno));
		fdpark_drop(c->list->park, c->park_slot);
		c->parked = false;
		conn_abort(c);
		return -1;
	}
	c->parked = false;
	c->fd = c->io.fd = fd;
	/* The descriptor is a new number: OpenSSL's socket BIO learns it. */
	if (c->ssl != NULL)
		BIO_set_fd(SSL_get_rbio(c->ssl), fd, BIO_NOCLOSE);
	fds_held++;
	return 0;
}

static void park_timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	conn_list_park_quiet(t->data, loop);
}

static void park_later(struct conn_list *l, struct ev_loop *loop, uint64_t ms)
{
	l->park_timer.cb = park_timer_cb;
	l->park_timer.data = l;
	if (!ev_timer_active(&l->park_timer))
		ev_timer_start(loop, &l->park_timer, ms);
}

/* Past a mark: by the count of connections' descriptors, or by the
 * number a new one got (the lowest free: it counts the others too). */
static bool past(long mark, int fd)
{
	return fds_held >= mark || fd >= mark;
}

/* A connection arrived on this loop (accepted or moved here). */
static void arrived(struct conn *c)
{
	if (past(fds_low, c->fd))
		park_of(c->list, c->loop);
	if (past(fds_high, c->fd))
		conn_list_park_quiet(c->list, c->loop);
}

/* Park this loop's quiet connections until the process holds fds_low
 * connections' descriptors. Those waiting but not quiet long enough yet
 * are looked at again when they are. */
void conn_list_park_quiet(struct conn_list *l, struct ev_loop *loop)
{
	uint64_t now = ev_now(loop);
	if (l->park_unavailable || fds_held <= fds_low)
		return;
	if (l->last_sweep != 0 && now - l->last_sweep < SWEEP_EVERY_MS) {
		park_later(l, loop, SWEEP_EVERY_MS - (now - l->last_sweep));
		return;
	}
	l->last_sweep = now;
	size_t young = 0, parked = 0;
	for (struct conn *c = l->head; c != NULL && fds_held > fds_low; c = c->next) {
		if (!parkable(c))
			continue;
		if (now - c->last_io < PARK_QUIET_MS)
			young++;
		else if (conn_park(c))
			parked++;
		else if (l->park_unavailable)
			return;
	}
	if (parked > 0 && (l->last_said == 0 || now - l->last_said >= 60000)) {
		l->last_said = now;
		log_info("open files near the limit: %zu quiet connections parked now, %zu in all on "
		         "this thread", parked, fdpark_count(l->park));
	}
	if (young > 0 && fds_held > fds_low)
		park_later(l, loop, PARK_QUIET_MS);
}

void conn_list_park_free(struct conn_list *l, struct ev_loop *loop)
{
	ev_timer_stop(loop, &l->park_timer);
	fdpark_free(&l->park);
}

/* --- public --- */

int conn_write(struct conn *c, const void *p, size_t n)
{
	if (c->closed || c->closing)
		return -1;
	buf_prepare(&c->out);
	if (buf_append(&c->out, p, n) < 0) {
		conn_log(c, LOGL_ERROR, "disconnected reason=output-overflow pending=%zu adding=%zu",
		         c->out.len, n);
		conn_abort(c);
		return -1;
	}
	if (c->out.len >= c->out_limit)
		c->out_full = true;
	ev_defer(c->loop, &c->flush_defer);
	return 0;
}

char *conn_reserve(struct conn *c, size_t n)
{
	if (c->closed || c->closing)
		return NULL;
	buf_prepare(&c->out);
	char *p = buf_reserve(&c->out, n);
	if (p == NULL) {
		conn_log(c, LOGL_ERROR, "disconnected reason=output-overflow pending=%zu adding=%zu",
		         c->out.len, n);
		conn_abort(c);
	}
	return p;
}

void conn_commit(struct conn *c, size_t n)
{
	if (c->closed || n == 0)
		return;
	buf_commit(&c->out, n);
	if (c->out.len >= c->out_limit)
		c->out_full = true;
	ev_defer(c->loop, &c->flush_defer);
}

int conn_puts(struct conn *c, const char *s)
{
	return conn_write(c, s, strlen(s));
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return conn_write(c, small, (size_t)n);
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int r = conn_write(c, big, (size_t)n);
	free(big);
	return r;
}

bool conn_output_full(const struct conn *c)
{
	return c->out_full || c->closed;
}

size_t conn_output_pending(const struct conn *c)
{
	return c->out.len;
}

void conn_pause_input(struct conn *c)
{
	c->paused = true;
	if (!c->closed)
		update_io(c);
}

void conn_resume_input(struct conn *c)
{
	if (c->closed)
		return;
	c->paused = false;
	ev_defer(c->loop, &c->input_defer);
	update_io(c);
}

int conn_starttls(struct conn *c)
{
	if (c->tls != CONN_TLS_NONE || c->closed)
		return -1;
	SSL_CTX *ctx = tls_ctx_acquire();
	if (ctx == NULL)
		return -1;
	SSL_CTX_free(ctx);
	c->starttls_pending = true;
	buf_reset(&c->in, 0);
	ev_defer(c->loop, &c->flush_defer);
	return 0;
}

static void free_cb(struct ev_loop *loop, struct ev_defer *d)
{
	struct conn *c = d->data;
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	free(c);
}

static void finish_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	ev_defer_cancel(c->loop, &c->flush_defer);
	ev_defer_cancel(c->loop, &c->input_defer);
	/* Back for a TLS close_notify if a descriptor is free; else closed
	 * where it is. */
	if (c->parked && (c->tls != CONN_TLS_ON || conn_unpark(c, false) < 0)) {
		fdpark_drop(c->list->park, c->park_slot);
		c->parked = false;
	}
	if (c->ssl != NULL) {
		if (c->tls == CONN_TLS_ON && c->fd >= 0)
			SSL_shutdown(c->ssl);  /* best effort close_notify */
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd >= 0) {
		close(c->fd);
		fds_held--;
	}
	c->fd = -1;
	if (c->ops != NULL && c->ops->closed != NULL)
		c->ops->closed(c);
	c->session = NULL;
	list_del(c);
	if (c->on_release != NULL)
		c->on_release(c);
	/* Events for this fd may still be pending in this batch. */
	ev_defer(c->loop, &c->free_defer);
}

void conn_close(struct conn *c)
{
	if (c->closed || c->closing)
		return;
	c->closing = true;
	ev_defer(c->loop, &c->flush_defer);
}

void conn_abort(struct conn *c)
{
	finish_close(c);
}

int conn_line(const struct conn *c, size_t max, size_t *len, size_t *total)
{
	const char *p = buf_ptr(&c->in);
	size_t n = c->in.len < max ? c->in.len : max;
	const char *lf = memchr(p, '\n', n);
	if (lf == NULL)
		return c->in.len >= max ? -1 : 0;
	size_t l = (size_t)(lf - p);
	*total = l + 1;
	if (l > 0 && p[l - 1] == '\r')
		l--;
	*len = l;
	return 1;
}

struct move_ctx {
	struct conn *c;
	struct ev_loop *to;
	struct conn_list *to_list;
	void (*then)(struct conn *c, void *arg);
	void *arg;
};

static void move_arrive(void *ctx)
{
	struct move_ctx *m = ctx;
	struct conn *c = m->c;
	struct ev_loop *here = m->to;
	void (*then)(struct conn *, void *) = m->then;
	void *arg = m->arg;
	list_add(m->to_list, c);
	free(m);
	arrived(c);
	then(c, arg);
	/* Unless `then` closed it or sent it on to yet another loop. */
	if (!c->closed && c->loop == here) {
		ev_defer(c->loop, &c->flush_defer);
		if (c->in.len > 0)
			ev_defer(c->loop, &c->input_defer);
		update_io(c);
	}
}

void conn_move(struct conn *c, struct ev_loop *to, struct conn_list *to_list,
               void (*then)(struct conn *c, void *arg), void *arg)
{
	/* The park is this loop's. A session moves right after input, so
	 * this is not expected; without a descriptor free, the socket is
	 * closed and the session fails on the other side. */
	if (c->parked && conn_unpark(c, false) < 0 && c->parked) {
		fdpark_drop(c->list->park, c->park_slot);
		c->parked = false;
	}
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	ev_defer_cancel(c->loop, &c->flush_defer);
	ev_defer_cancel(c->loop, &c->input_defer);
	list_del(c);
	c->loop = to;
	/* Joins the target's list on the target's thread: that thread adds
	 * and removes its own connections meanwhile, with no lock. */
	struct move_ctx *m = xmalloc(sizeof(*m));
	m->c = c;
	m->to = to;
	m->to_list = to_list;
	m->then = then;
	m->arg = arg;
	ev_post(to, move_arrive, m);
}

struct conn *conn_new(struct ev_loop *loop, struct conn_list *list, int fd,
                      const struct sockaddr_storage *peer, socklen_t peer_len,
                      const struct proto *proto, bool implicit_tls,
                      const struct conn_settings *s)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->id = next_conn_id++;
	c->fd = fd;
	c->loop = loop;
	c->proto = proto;
	c->implicit_tls = implicit_tls;
	c->peer = *peer;
	c->peer_len = peer_len;
	buf_init(&c->in, s->in_max);
	c->out_limit = s->out_limit;
	buf_init(&c->out, s->out_limit * 4);
	c->io.fd = fd;
	c->io.cb = conn_io_cb;
	c->io.data = c;
	c->timer.cb = timer_cb;
	c->timer.data = c;
	c->flush_defer.cb = flush_cb;
	c->flush_defer.data = c;
	c->input_defer.cb = input_cb;
	c->input_defer.data = c;
	c->free_defer.cb = free_cb;
	c->free_defer.data = c;

	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)peer;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], c->ip, sizeof(c->ip));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, c->ip, sizeof(c->ip));
		c->port = ntohs(s6->sin6_port);
	} else if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)peer;
		inet_ntop(AF_INET, &s4->sin_addr, c->ip, sizeof(c->ip));
		c->port = ntohs(s4->sin_port);
	} else {
		snprintf(c->ip, sizeof(c->ip), "local");
	}
	set_logctx(c, NULL);
	list_add(list, c);
	c->last_io = ev_now(loop);
	pthread_once(&limits_once, limits_init);
	fds_held++;
	arrived(c);
	return c;
}

void conn_begin(struct conn *c, uint64_t handshake_timeout_ms)
{
	if (c->implicit_tls) {
		if (tls_begin(c) < 0) {
			conn_log(c, LOGL_ERROR, "disconnected reason=tls-unavailable");
			conn_abort(c);
			return;
		}
		conn_set_timeout(c, handshake_timeout_ms);
		handshake(c);
		return;
	}
	c->proto->start(c);
	if (!c->closed)
		update_io(c);
}
