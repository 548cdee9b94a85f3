/* queue_client: blocking SMTP client transport (see queue_client.h). */
#include "queue/queue_client.h"

#include <ctype.h>
#include <openssl/err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static SSL_CTX *client_ctx;

static void ctx_create(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	client_ctx = ctx;
}

SSL_CTX *qc_tls_ctx(void)
{
	pthread_once(&ctx_once, ctx_create);
	return client_ctx;
}

void qc_init(struct qc *c, unsigned timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	pthread_mutex_init(&c->lock, NULL);
}

static void set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int qc_connect(struct qc *c, const struct sockaddr *sa, socklen_t salen, const char *host,
               char *err, size_t errn)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errn, "socket: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	bool aborted = c->aborted;
	if (!aborted)
		c->fd = fd;
	pthread_mutex_unlock(&c->lock);
	if (aborted) {
		close(fd);
		snprintf(err, errn, "shutting down");
		return -1;
	}
	int rc = connect(fd, sa, salen);
	if (rc < 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n;
		do
			n = poll(&p, 1, (int)c->timeout_ms);
		while (n < 0 && errno == EINTR);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (n == 0) {
			errno = ETIMEDOUT;
		} else if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0) {
			errno = soerr;
			rc = soerr == 0 ? 0 : -1;
		}
	}
	if (rc < 0) {
		snprintf(err, errn, "connect %s: %s", host, strerror(errno));
		qc_close(c);
		return -1;
	}
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	set_timeouts(fd, c->timeout_ms);
	return 0;
}

int qc_starttls(struct qc *c, const char *sni, char *err, size_t errn)
{
	SSL_CTX *ctx = qc_tls_ctx();
	c->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	if (c->ssl == NULL) {
		snprintf(err, errn, "TLS: cannot create a session");
		return -1;
	}
	SSL_set_fd(c->ssl, c->fd);
	if (sni != NULL && sni[0] != '\0' && strchr(sni, ':') == NULL)
		SSL_set_tlsext_host_name(c->ssl, sni);
	c->rpos = c->rlen = 0;  /* nothing read in plaintext survives STARTTLS */
	if (SSL_connect(c->ssl) != 1) {
		unsigned long e = ERR_get_error();
		char buf[200];
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errn, "TLS handshake failed: %s", e ? buf : "connection closed");
		return -1;
	}
	return 0;
}

void qc_close(struct qc *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	pthread_mutex_lock(&c->lock);
	int fd = c->fd;
	c->fd = -1;
	pthread_mutex_unlock(&c->lock);
	if (fd >= 0)
		close(fd);
}

void qc_abort(struct qc *c)
{
	pthread_mutex_lock(&c->lock);
	c->aborted = true;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->lock);
}

int qc_write(struct qc *c, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w;
		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, s, n > 65536 ? 65536 : (int)n);
			w = k > 0 ? k : -1;
		} else {
			w = send(c->fd, s, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int qc_cmdf(struct qc *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	memcpy(line + n, "\r\n", 2);
	return qc_write(c, line, (size_t)n + 2);
}

/* One line without its CRLF into line (cut at n-1). 0 or -1. */
static int read_line(struct qc *c, char *line, size_t n)
{
	size_t k = 0, total = 0;
	for (;;) {
		if (c->rpos == c->rlen) {
			ssize_t r;
			if (c->ssl != NULL) {
				int x = SSL_read(c->ssl, c->rbuf, sizeof(c->rbuf));
				r = x > 0 ? x : -1;
			} else {
				do
					r = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
				while (r < 0 && errno == EINTR);
			}
			if (r <= 0)
				return -1;
			c->rpos = 0;
			c->rlen = (size_t)r;
		}
		char ch = c->rbuf[c->rpos++];
		if (ch == '\n')
			break;
		if (++total > 64 * 1024)
			return -1;  /* a reply line that never ends */
		if (k + 1 < n)
			line[k++] = ch;
	}
	if (k > 0 && line[k - 1] == '\r')
		k--;
	line[k] = '\0';
	return 0;
}

int qc_reply(struct qc *c, char *text, size_t textn, char *ext, size_t extn)
{
	char line[1024];
	size_t tl = 0, el = 0;
	int code = -1;
	if (textn > 0)
		text[0] = '\0';
	if (ext != NULL && extn > 0)
		ext[0] = '\0';
	for (int lines = 0; lines < 1000; lines++) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
		    (line[3] != ' ' && line[3] != '-' && line[3] != '\0'))
			return -1;
		int this_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (code >= 0 && this_code != code)
			return -1;
		code = this_code;
		const char *rest = line[3] ? line + 4 : "";
		int w = snprintf(text + tl, textn - tl, "%s%s", tl == 0 ? "" : " ",
		                 tl == 0 ? line : rest);
		if (w > 0)
			tl = tl + (size_t)w < textn ? tl + (size_t)w : textn - 1;
		if (ext != NULL && lines > 0) {
			char kw[1024];
			size_t i = 0;
			for (; rest[i] != '\0' && i + 1 < sizeof(kw); i++)
				kw[i] = (char)toupper((unsigned char)rest[i]);
			kw[i] = '\0';
			w = snprintf(ext + el, extn - el, "%s\n", kw);
			if (w > 0 && el + (size_t)w < extn)
				el += (size_t)w;
		}
		if (line[3] != '-')
			break;
	}
	if (code < 200 || code > 599)
		return -1;
	return code;
}

void qc_enhanced(const char *reply, char out[16])
{
	out[0] = '\0';
	if (strlen(reply) < 4)
		return;
	const char *p = reply + 4;
	if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
		return;
	size_t i = 2, dots = 1, digits = 0;
	for (; p[i] != '\0' && p[i] != ' ' && i < 12; i++) {
		if (p[i] == '.') {
			if (digits == 0)
				return;
			dots++;
			digits = 0;
		} else if (isdigit((unsigned char)p[i])) {
			digits++;
		} else {
			return;
		}
	}
	if (dots != 2 || digits == 0 || (p[i] != ' ' && p[i] != '\0'))
		return;
	memcpy(out, p, i);
	out[i] = '\0';
}
