/* The outbound SMTP dialogue (queue_deliver.h) against a scripted server
 * thread on loopback: per-recipient outcomes, dot-stuffing, MAIL FROM
 * parameters, the DSN requests passed on only to a server that offers DSN,
 * the SIZE and SMTPUTF8 refusals, a refused connection. */
#include "unit.h"
#include "queue/queue_deliver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct fake {
	int lfd;
	uint16_t port;
	const char *ehlo;            /* EHLO reply */
	const char *rcpt_bad;        /* address refused at RCPT */
	const char *rcpt_reply;      /* ... with this reply */
	const char *data_end;        /* reply after the message */
	char got[16384];             /* every byte the client sent */
	size_t n;
	pthread_t t;
};

static void say(int fd, const char *s)
{
	ssize_t w = write(fd, s, strlen(s));
	(void)w;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	say(fd, "220 fake ESMTP\r\n");
	bool data = false;
	size_t line_start = 0;
	for (;;) {
		ssize_t k = read(fd, f->got + f->n, sizeof(f->got) - 1 - f->n);
		if (k <= 0)
			break;
		f->n += (size_t)k;
		f->got[f->n] = '\0';
		char *nl;
		while ((nl = memchr(f->got + line_start, '\n', f->n - line_start)) != NULL) {
			char *line = f->got + line_start;
			size_t len = (size_t)(nl - line) + 1;
			line_start += len;
			if (data) {
				if (len == 3 && memcmp(line, ".\r\n", 3) == 0) {
					data = false;
					say(fd, f->data_end);
				}
				continue;
			}
			if (strncmp(line, "EHLO", 4) == 0)
				say(fd, f->ehlo);
			else if (strncmp(line, "RCPT", 4) == 0 && f->rcpt_bad && strstr(line, f->rcpt_bad))
				say(fd, f->rcpt_reply);
			else if (strncmp(line, "DATA", 4) == 0) {
				say(fd, "354 go\r\n");
				data = true;
			} else if (strncmp(line, "QUIT", 4) == 0) {
				say(fd, "221 bye\r\n");
				close(fd);
				return NULL;
			} else
				say(fd, "250 ok\r\n");
		}
	}
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f)
{
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(listen(f->lfd, 4), 0);
	pthread_create(&f->t, NULL, serve, f);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->t, NULL);
}

static const char *msg_file(const char *content)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/msg", unit_tmpdir());
	unit_write_file(path, content, strlen(content));
	return path;
}

static void setup(struct qd_attempt *a, struct qd_rcpt *r, size_t n, uint16_t port,
                  const char *path)
{
	memset(a, 0, sizeof(*a));
	a->kind = QD_ROUTE;
	strcpy(a->host, "127.0.0.1");
	a->port = port;
	a->helo = "mail.test";
	a->msg_path = path;
	a->sender = "alice@example.com";
	a->size = 100;
	a->timeout_ms = 5000;
	a->rcpts = r;
	a->n_rcpts = n;
	qc_init(&a->conn, a->timeout_ms);
}

static void outcomes_and_stuffing(void **state)
{
	struct fake f = {
		.ehlo = "250-fake\r\n250-SIZE 100000\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
		.rcpt_bad = "<gone@", .rcpt_reply = "550 5.1.1 gone\r\n",
		.data_end = "250 2.0.0 queued\r\n",
	};
	fake_start(&f);
	struct qd_rcpt r[3] = { { .addr = "a@x.test" }, { .addr = "gone@x.test" },
	                        { .addr = "b@x.test" } };
	struct qd_attempt a;
	setup(&a, r, 3, f.port, msg_file("Subject: t\r\n\r\n.dot\r\nbare\nlf\r\n.\r\nend"));
	a.body8bit = true;
	qd_run(&a);
	fake_stop(&f);
	assert_int_equal(r[0].outcome, QD_OK);
	assert_int_equal(r[1].outcome, QD_PERM);
	assert_str(r[1].status, "5.1.1");
	assert_str(r[1].reply, "550 5.1.1 gone");
	assert_int_equal(r[2].outcome, QD_OK);
	assert_str(r[2].reply, "250 2.0.0 queued");
	assert_false(a.tls);
	assert_non_null(strstr(f.got, "EHLO mail.test\r\n"));
	assert_non_null(strstr(f.got, "MAIL FROM:<alice@example.com> SIZE=100 BODY=8BITMIME\r\n"));
	assert_non_null(strstr(f.got, "RCPT TO:<gone@x.test>\r\n"));
	/* dot-stuffed, bare LF made CRLF, a final CRLF added before the dot */
	assert_non_null(strstr(f.got, "DATA\r\nSubject: t\r\n\r\n..dot\r\nbare\r\nlf\r\n..\r\n"
	                              "end\r\n.\r\nQUIT\r\n"));
	pthread_mutex_destroy(&a.conn.lock);
}

static void dsn_requests_go_along_only_with_dsn(void **state)
{
	struct fake f = { .ehlo = "250-fake\r\n250-DSN\r\n250 8BITMIME\r\n",
	                  .data_end = "250 ok\r\n" };
	fake_start(&f);
	struct qd_rcpt r[2] = {
		{ .addr = "a@x.test", .notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE,
		  .orcpt = "rfc822;A+2Bb@x.test" },
		{ .addr = "b@x.test", .notify = QUEUE_NOTIFY_NEVER, .orcpt = "" },
	};
	struct qd_attempt a;
	setup(&a, r, 2, f.port, msg_file("x\r\n"));
	a.ret = QUEUE_RET_HDRS;
	a.envid = "QQ+2B1";
	qd_run(&a);
	fake_stop(&f);
	assert_true(a.peer_dsn);
	assert_int_equal(r[0].outcome, QD_OK);
	assert_non_null(strstr(f.got, "MAIL FROM:<alice@example.com> RET=HDRS ENVID=QQ+2B1\r\n"));
	assert_non_null(strstr(f.got, "RCPT TO:<a@x.test> NOTIFY=SUCCESS,FAILURE "
	                              "ORCPT=rfc822;A+2Bb@x.test\r\n"));
	assert_non_null(strstr(f.got, "RCPT TO:<b@x.test> NOTIFY=NEVER\r\n"));
	pthread_mutex_destroy(&a.conn.lock);

	/* no DSN offered: the parameters would be refused, so none is sent */
	struct fake g = { .ehlo = "250-fake\r\n250 8BITMIME\r\n", .data_end = "250 ok\r\n" };
	fake_start(&g);
	setup(&a, r, 2, g.port, msg_file("x\r\n"));
	a.ret = QUEUE_RET_FULL;
	a.envid = "QQ";
	qd_run(&a);
	fake_stop(&g);
	assert_false(a.peer_dsn);
	assert_int_equal(r[0].outcome, QD_OK);
	assert_non_null(strstr(g.got, "MAIL FROM:<alice@example.com>\r\n"));
	assert_non_null(strstr(g.got, "RCPT TO:<a@x.test>\r\n"));
	assert_null(strstr(g.got, "NOTIFY"));
	pthread_mutex_destroy(&a.conn.lock);
}

static void refusals_before_sending(void **state)
{
	struct fake f = { .ehlo = "250-fake\r\n250 SIZE 50\r\n", .data_end = "250 ok\r\n" };
	fake_start(&f);
	struct qd_rcpt r[1] = { { .addr = "a@x.test" } };
	struct qd_attempt a;
	setup(&a, r, 1, f.port, msg_file("x\r\n"));
	qd_run(&a);
	fake_stop(&f);
	assert_int_equal(r[0].outcome, QD_PERM);
	assert_str(r[0].status, "5.3.4");
	assert_null(strstr(f.got, "MAIL FROM"));
	pthread_mutex_destroy(&a.conn.lock);

	struct fake g = { .ehlo = "250 fake\r\n", .data_end = "250 ok\r\n" };
	fake_start(&g);
	setup(&a, r, 1, g.port, msg_file("x\r\n"));
	a.smtputf8 = true;
	qd_run(&a);
	fake_stop(&g);
	assert_int_equal(r[0].outcome, QD_PERM);
	assert_str(r[0].status, "5.6.7");
	assert_null(strstr(g.got, "MAIL FROM"));
	pthread_mutex_destroy(&a.conn.lock);
}

static void temporary_replies_and_refused_connection(void **state)
{
	struct fake f = { .ehlo = "250 fake\r\n", .data_end = "451 4.3.0 disk full\r\n" };
	fake_start(&f);
	struct qd_rcpt r[1] = { { .addr = "a@x.test" } };
	struct qd_attempt a;
	setup(&a, r, 1, f.port, msg_file("x\r\n"));
	qd_run(&a);
	fake_stop(&f);
	assert_int_equal(r[0].outcome, QD_TEMP);
	assert_str(r[0].reply, "451 4.3.0 disk full");
	pthread_mutex_destroy(&a.conn.lock);

	/* nothing listens: temporary, with the reason */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	socklen_t sl = sizeof(sa);
	getsockname(s, (struct sockaddr *)&sa, &sl);
	close(s);
	setup(&a, r, 1, ntohs(sa.sin_port), msg_file("x\r\n"));
	qd_run(&a);
	assert_int_equal(r[0].outcome, QD_TEMP);
	assert_non_null(strstr(r[0].reply, "Connection refused"));
	pthread_mutex_destroy(&a.conn.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(outcomes_and_stuffing),
		cmocka_unit_test(dsn_requests_go_along_only_with_dsn),
		cmocka_unit_test(refusals_before_sending),
		cmocka_unit_test(temporary_replies_and_refused_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
