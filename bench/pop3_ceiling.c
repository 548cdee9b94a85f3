/*
 * pop3_ceiling: the POP3 workload's ceiling on this machine. A responder
 * that does no server work at all (no store, no login check, blocking
 * I/O on one connection) answers the load generator's POP3 session with
 * the same messages the servers hold, read into memory and dot-stuffed
 * before the client connects. What loadgen measures against it is the
 * most any server can reach with that client here: a RETR is a round trip
 * over loopback, so the client and the kernel take most of the time.
 *
 *   pop3_ceiling -p PORT -C CORPUS_DIR -n COUNT
 *
 * Listens on 127.0.0.1:PORT and serves one connection after another until
 * it is killed, or for 600 s at most.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct msg {
	char *data;     /* "+OK n octets\r\n", the stuffed message, ".\r\n" */
	size_t len;
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pop3_ceiling: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* The answer to RETR of the file at path: CRLF line ends, dot-stuffed. */
static struct msg load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die("%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *raw = malloc((size_t)sz + 1);
	if (raw == NULL || fread(raw, 1, (size_t)sz, f) != (size_t)sz)
		die("%s: cannot read", path);
	fclose(f);
	char *body = malloc(2 * (size_t)sz + 8);
	if (body == NULL)
		die("out of memory");
	size_t n = 0, stuffed = 0;
	int bol = 1;
	for (long i = 0; i < sz; i++) {
		char ch = raw[i];
		if (bol && ch == '.') {
			body[n++] = '.';
			stuffed++;
		}
		if (ch == '\n' && (i == 0 || raw[i - 1] != '\r'))
			body[n++] = '\r';
		body[n++] = ch;
		bol = ch == '\n';
	}
	if (!bol) {
		memcpy(body + n, "\r\n", 2);
		n += 2;
	}
	/* The size announced is of the message, before stuffing. */
	size_t octets = n - stuffed;
	char head[48];
	int hl = snprintf(head, sizeof(head), "+OK %zu octets\r\n", octets);
	struct msg m = { malloc((size_t)hl + n + 3), (size_t)hl + n + 3 };
	if (m.data == NULL)
		die("out of memory");
	memcpy(m.data, head, (size_t)hl);
	memcpy(m.data + hl, body, n);
	memcpy(m.data + hl + n, ".\r\n", 3);
	free(body);
	free(raw);
	return m;
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			return;   /* the client went: the next read says so */
		p += w;
		len -= (size_t)w;
	}
}

/* One POP3 session on c, until QUIT or the client goes. */
static void serve(int c, const struct msg *msgs, int n, const char *uidl, size_t uidl_len)
{
	int one = 1;
	char line[64];
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	send_all(c, "+OK ready\r\n", 11);

	static char buf[65536];
	size_t have = 0;
	for (;;) {
		ssize_t r = read(c, buf + have, sizeof(buf) - have);
		if (r <= 0)
			return;
		have += (size_t)r;
		char *nl;
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			size_t ll = (size_t)(nl - buf) + 1;
			*nl = '\0';
			if (strncasecmp(buf, "RETR ", 5) == 0) {
				int i = atoi(buf + 5);
				if (i >= 1 && i <= n)
					send_all(c, msgs[i - 1].data, msgs[i - 1].len);
				else
					send_all(c, "-ERR No such message\r\n", 22);
			} else if (strncasecmp(buf, "STAT", 4) == 0) {
				size_t total = 0;
				for (int i = 0; i < n; i++)
					total += msgs[i].len;
				int l = snprintf(line, sizeof(line), "+OK %d %zu\r\n", n, total);
				send_all(c, line, (size_t)l);
			} else if (strncasecmp(buf, "UIDL", 4) == 0) {
				send_all(c, uidl, uidl_len);
			} else if (strncasecmp(buf, "QUIT", 4) == 0) {
				send_all(c, "+OK bye\r\n", 9);
				return;
			} else {
				send_all(c, "+OK\r\n", 5);
			}
			memmove(buf, buf + ll, have - ll);
			have -= ll;
		}
		if (have == sizeof(buf))
			die("command line too long");
	}
}

int main(int argc, char **argv)
{
	int port = 0, count = 0, opt;
	const char *dir = NULL;
	while ((opt = getopt(argc, argv, "p:C:n:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'C')
			dir = optarg;
		else if (opt == 'n')
			count = atoi(optarg);
		else
			die("usage: pop3_ceiling -p PORT -C CORPUS_DIR -n COUNT");
	}
	if (port <= 0 || dir == NULL || count <= 0)
		die("usage: pop3_ceiling -p PORT -C CORPUS_DIR -n COUNT");
	alarm(600);

	char path[4096], line[1024];
	snprintf(path, sizeof(path), "%s/index.tsv", dir);
	FILE *idx = fopen(path, "r");
	if (idx == NULL)
		die("%s: cannot open", path);
	struct msg *msgs = calloc((size_t)count, sizeof(*msgs));
	int n = 0;
	while (n < count && fgets(line, sizeof(line), idx) != NULL) {
		line[strcspn(line, "\t\n")] = '\0';
		if ((size_t)snprintf(path, sizeof(path), "%.3000s/%s", dir, line) >= sizeof(path))
			die("%s: path too long", line);
		msgs[n++] = load(path);
	}
	fclose(idx);

	/* The UIDL answer in one piece, as a server would send it. */
	char *uidl = malloc((size_t)n * 24 + 16);
	size_t uidl_len = (size_t)sprintf(uidl, "+OK\r\n");
	for (int i = 0; i < n; i++)
		uidl_len += (size_t)sprintf(uidl + uidl_len, "%d %08x\r\n", i + 1, i + 1);
	uidl_len += (size_t)sprintf(uidl + uidl_len, ".\r\n");

	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0)
		die("cannot listen on port %d", port);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			die("accept failed");
		serve(c, msgs, n, uidl, uidl_len);
		close(c);
	}
}
