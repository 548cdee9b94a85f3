/* queue_api: handing messages to the queue, and the control client (queue.h). */
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "queue/queue_spool.h"
#include "lib/arena.h"
#include "lib/jobs.h"
#include "lib/runtime.h"
#include "lib/xtext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static bool non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 128)
			return true;
	return false;
}

int queue_enqueue(const char *data_dir, const struct queue_msg *m, char id_r[QUEUE_ID_LEN + 1],
                  char **error_r)
{
	if (m->n_rcpts == 0 || m->n_rcpts > QUEUE_MAX_RCPTS) {
		*error_r = xstrdup("no recipients, or too many");
		return -1;
	}
	if (queue_spool_init(data_dir, error_r) < 0)
		return -1;
	struct queue_env env;
	memset(&env, 0, sizeof(env));
	queue_id_new(env.id);
	if (strlen(m->sender) >= sizeof(env.sender)) {
		*error_r = xstrdup("sender address too long");
		return -1;
	}
	strcpy(env.sender, m->sender);
	env.sender_user = m->sender_user;
	env.local_user = m->local_user;
	env.smtputf8 = m->smtputf8 || non_ascii(m->sender);
	env.ret = m->ret;
	if (m->envid != NULL && m->envid[0] != '\0') {
		if (!xtext_envid_valid(m->envid, strlen(m->envid), QUEUE_ENVID_MAX)) {
			*error_r = xstrdup("bad ENVID");
			return -1;
		}
		strcpy(env.envid, m->envid);
	}
	for (size_t i = 0; i < m->n_rcpts; i++) {
		const char *orcpt = m->orcpt != NULL && m->orcpt[i] != NULL ? m->orcpt[i] : "";
		if (queue_env_add_rcpt(&env, m->rcpts[i]) < 0 ||
		    (orcpt[0] != '\0' && !xtext_orcpt_valid(orcpt, strlen(orcpt), QUEUE_ORCPT_MAX))) {
			queue_env_clear(&env);
			*error_r = xstrdup("bad recipient address or ORCPT");
			return -1;
		}
		struct queue_rcpt *r = &env.rcpts[i];
		r->notify = m->notify != NULL ? m->notify[i] : 0;
		strcpy(r->orcpt, orcpt);
		env.smtputf8 |= non_ascii(m->rcpts[i]);
	}
	env.created = (int64_t)time(NULL);
	env.next_attempt = env.created;
	int rc = queue_spool_write_msg(data_dir, &env, m->prefix, m->prefix_len, m->body_fd,
	                               m->body_size, error_r);
	if (rc == 0 && (rc = queue_spool_save_env(data_dir, &env, error_r)) < 0) {
		char path[4096];
		if (queue_spool_path(path, sizeof(path), data_dir, "msg", env.id) == 0)
			unlink(path);
	}
	queue_env_clear(&env);
	if (rc < 0)
		return -1;
	memcpy(id_r, env.id, QUEUE_ID_LEN + 1);
	qr_notify(env.id);
	return 0;
}

/* ---- queue_submit: the same on the job pool ------------------------------ */

struct submit {
	struct queue_msg m;
	char **rcpts;
	char **orcpt;          /* NULL when the message has none */
	unsigned *notify;
	queue_submit_done_fn *done;
	void *arg;
	int rc;
	char id[QUEUE_ID_LEN + 1];
	char *error;
};

static void submit_work(void *arg)
{
	struct submit *s = arg;
	s->rc = queue_enqueue(runtime_config->data_dir, &s->m, s->id, &s->error);
}

static void submit_free(struct submit *s)
{
	for (size_t i = 0; i < s->m.n_rcpts; i++) {
		free(s->rcpts[i]);
		if (s->orcpt != NULL)
			free(s->orcpt[i]);
	}
	free(s->rcpts);
	free(s->orcpt);
	free(s->notify);
	free((char *)s->m.sender);
	free((char *)s->m.envid);
	free((char *)s->m.prefix);
	if (s->m.body_fd >= 0)
		close(s->m.body_fd);
	free(s->error);
	free(s);
}

static void submit_done(void *arg)
{
	struct submit *s = arg;
	if (s->done != NULL)
		s->done(s->rc, s->rc == 0 ? s->id : "", s->rc == 0 ? "" : s->error, s->arg);
	submit_free(s);
}

int queue_submit(struct ev_loop *home, const struct queue_msg *m, queue_submit_done_fn *done,
                 void *arg)
{
	struct submit *s = xcalloc(1, sizeof(*s));
	s->m = *m;
	s->m.sender = xstrdup(m->sender);
	s->rcpts = xcalloc(m->n_rcpts ? m->n_rcpts : 1, sizeof(char *));
	for (size_t i = 0; i < m->n_rcpts; i++)
		s->rcpts[i] = xstrdup(m->rcpts[i]);
	s->m.rcpts = (const char *const *)s->rcpts;
	s->m.envid = m->envid != NULL ? xstrdup(m->envid) : NULL;
	if (m->notify != NULL) {
		s->notify = xcalloc(m->n_rcpts ? m->n_rcpts : 1, sizeof(unsigned));
		memcpy(s->notify, m->notify, m->n_rcpts * sizeof(unsigned));
	}
	s->m.notify = s->notify;
	if (m->orcpt != NULL) {
		s->orcpt = xcalloc(m->n_rcpts ? m->n_rcpts : 1, sizeof(char *));
		for (size_t i = 0; i < m->n_rcpts; i++)
			s->orcpt[i] = m->orcpt[i] != NULL ? xstrdup(m->orcpt[i]) : NULL;
	}
	s->m.orcpt = (const char *const *)s->orcpt;
	if (m->prefix_len > 0) {
		char *p = xmalloc(m->prefix_len);
		memcpy(p, m->prefix, m->prefix_len);
		s->m.prefix = p;
	} else {
		s->m.prefix = NULL;
	}
	s->m.body_fd = m->body_fd >= 0 ? dup(m->body_fd) : -1;
	s->done = done;
	s->arg = arg;
	if ((m->body_fd >= 0 && s->m.body_fd < 0) ||
	    jobs_submit(home, submit_work, submit_done, s) < 0) {
		submit_free(s);
		return -1;
	}
	return 0;
}

/* ---- control client ------------------------------------------------------ */

int queue_control(const char *data_dir, const char *line, char *reply, size_t replyn)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/queue/control", data_dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(reply, replyn, "control socket path too long");
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		snprintf(reply, replyn, "no server is running (%s)", strerror(e));
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char req[512];
	int rl = snprintf(req, sizeof(req), "%s\n", line);
	size_t got = 0;
	if (rl > 0 && (size_t)rl < sizeof(req) && write(fd, req, (size_t)rl) == rl) {
		ssize_t k;
		while (got + 1 < replyn && (k = read(fd, reply + got, replyn - 1 - got)) > 0)
			got += (size_t)k;
	}
	close(fd);
	reply[got] = '\0';
	char *nl = strchr(reply, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (got == 0) {
		snprintf(reply, replyn, "no reply from the server");
		errno = EIO;
		return -1;
	}
	return 0;
}
