/* queue_ctl: the runner's control socket (see queue.h). */
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "lib/arena.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void do_flush(struct qrunner *r, char *out, size_t n)
{
	int64_t now = (int64_t)time(NULL);
	size_t k = 0;
	for (struct qmsg *m = r->msgs; m != NULL; m = m->next) {
		if (m->deleted)
			continue;
		m->env.next_attempt = now;
		k++;
	}
	qr_reschedule(r);
	log_write(LOGL_INFO, "queue", "flush: %zu message(s) due now", k);
	snprintf(out, n, "ok %zu\n", k);
}

static void do_delete(struct qrunner *r, const char *id, char *out, size_t n)
{
	char *err = NULL;
	struct qmsg *m = queue_id_valid(id) ? qr_find(r, id) : NULL;
	if (m == NULL || m->deleted) {
		snprintf(out, n, "error no such message: %s\n", id);
		return;
	}
	if (queue_spool_remove(r->cfg->data_dir, id, &err) < 0) {
		snprintf(out, n, "error %s\n", err);
		free(err);
		return;
	}
	m->deleted = true;
	qw_abort_msg(r, m);
	log_write(LOGL_INFO, "queue", "id=%s deleted by the administrator", id);
	qr_settle(r, m);  /* frees it now unless a delivery is in flight */
	snprintf(out, n, "ok\n");
}

static void do_load(struct qrunner *r, const char *id, char *out, size_t n)
{
	char *err = NULL;
	struct queue_env env;
	if (!queue_id_valid(id)) {
		snprintf(out, n, "error bad id\n");
	} else if (qr_find(r, id) != NULL) {
		snprintf(out, n, "ok\n");
	} else if (queue_spool_load_env(r->cfg->data_dir, id, &env, &err) < 0) {
		snprintf(out, n, "error %s\n", err);
		free(err);
	} else {
		qr_add(r, &env);
		snprintf(out, n, "ok\n");
	}
}

static void ctl_accept(struct ev_loop *loop, struct ev_io *io, unsigned revents)
{
	struct qrunner *r = io->data;
	int fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A local tool on the server's own account: a short blocking read. */
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char line[256], out[600];
	size_t len = 0;
	while (len + 1 < sizeof(line)) {
		ssize_t k = read(fd, line + len, sizeof(line) - 1 - len);
		if (k <= 0)
			break;
		len += (size_t)k;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "flush") == 0)
		do_flush(r, out, sizeof(out));
	else if (strncmp(line, "delete ", 7) == 0)
		do_delete(r, line + 7, out, sizeof(out));
	else if (strncmp(line, "load ", 5) == 0)
		do_load(r, line + 5, out, sizeof(out));
	else
		snprintf(out, sizeof(out), "error unknown command\n");
	ssize_t w = write(fd, out, strlen(out));
	(void)w;
	close(fd);
}

int qctl_open(struct qrunner *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/queue/control", r->cfg->data_dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(sa.sun_path);  /* a stale one: we hold the queue lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	memcpy(r->ctl_path, sa.sun_path, sizeof(r->ctl_path));
	r->ctl_io.fd = fd;
	r->ctl_io.cb = ctl_accept;
	r->ctl_io.data = r;
	if (ev_io_set(r->loop, &r->ctl_io, EV_READ) < 0) {
		close(fd);
		unlink(r->ctl_path);
		r->ctl_path[0] = '\0';
		return -1;
	}
	return 0;
}

void qctl_close(struct qrunner *r)
{
	if (r->ctl_path[0] == '\0')
		return;
	ev_io_stop(r->loop, &r->ctl_io);
	close(r->ctl_io.fd);
	unlink(r->ctl_path);
	r->ctl_path[0] = '\0';
}
