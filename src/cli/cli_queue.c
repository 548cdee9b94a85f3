/* cli_queue: `mailkeep queue list|flush|delete|add` (see cli_queue.h). */
#include "cli/cli_queue.h"
#include "auth/accounts.h"
#include "lib/arena.h"
#include "queue/queue.h"
#include "queue/queue_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: mailkeep queue list | flush | delete ID | add [--from ADDR] RCPT... "
	      "< message\n", stderr);
	return 2;
}

static void span(int64_t secs, char *out, size_t n)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, n, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(out, n, "%lldm", (long long)(secs / 60));
	else if (secs < 2 * 86400)
		snprintf(out, n, "%lldh", (long long)(secs / 3600));
	else
		snprintf(out, n, "%lldd", (long long)(secs / 86400));
}

static int cmd_list(const char *data_dir)
{
	char (*ids)[QUEUE_ID_LEN + 1];
	size_t n;
	char *err = NULL;
	if (queue_spool_list(data_dir, &ids, &n, &err) < 0) {
		fprintf(stderr, "mailkeep: %s\n", err);
		free(err);
		return 1;
	}
	int64_t now = (int64_t)time(NULL);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		struct queue_env e;
		if (queue_spool_load_env(data_dir, ids[i], &e, &err) < 0) {
			free(err);  /* removed meanwhile, most likely */
			err = NULL;
			continue;
		}
		char age[32], next[40];
		span(now - e.created, age, sizeof(age));
		if (e.next_attempt <= now)
			snprintf(next, sizeof(next), "now");
		else
			span(e.next_attempt - now, next + 3, sizeof(next) - 3), memcpy(next, "in ", 3);
		printf("%s  age=%s  attempts=%u  next=%s  size=%" PRIu64 "  from=<%s>\n", e.id, age,
		       e.attempts, next, e.size, e.sender);
		for (size_t k = 0; k < e.n_rcpts; k++) {
			const struct queue_rcpt *r = &e.rcpts[k];
			printf("    %-9s <%s>%s%s\n", queue_rcpt_state_name(r->state), r->addr,
			       r->diag[0] ? "  " : "", r->diag);
		}
		if (e.last_error[0])
			printf("    last error: %s\n", e.last_error);
		queue_env_clear(&e);
		shown++;
	}
	free(ids);
	printf("%zu message(s) queued\n", shown);
	return 0;
}

/* No server running: change the spool directly, under the queue lock. */
static int offline(const char *data_dir, const char *what, const char *id)
{
	char *err = NULL;
	int lock = queue_spool_lock(data_dir, false, &err);
	if (lock < 0) {
		fprintf(stderr, "mailkeep: the queue is busy (a server is starting?): %s\n", err);
		free(err);
		return 1;
	}
	int rc = 0;
	if (strcmp(what, "delete") == 0) {
		if (queue_spool_remove(data_dir, id, &err) < 0) {
			fprintf(stderr, "mailkeep: %s\n", err);
			free(err);
			rc = 1;
		} else {
			printf("deleted %s\n", id);
		}
	} else {
		char (*ids)[QUEUE_ID_LEN + 1];
		size_t n = 0, done = 0;
		if (queue_spool_list(data_dir, &ids, &n, &err) == 0) {
			for (size_t i = 0; i < n; i++) {
				struct queue_env e;
				if (queue_spool_load_env(data_dir, ids[i], &e, &err) < 0) {
					free(err);
					err = NULL;
					continue;
				}
				e.next_attempt = (int64_t)time(NULL);
				done += queue_spool_save_env(data_dir, &e, &err) == 0;
				free(err);
				err = NULL;
				queue_env_clear(&e);
			}
			free(ids);
		}
		printf("no server running: %zu message(s) will be tried when it starts\n", done);
	}
	close(lock);
	return rc;
}

static int cmd_control(const char *data_dir, const char *what, const char *id)
{
	char line[128], reply[512];
	if (id != NULL && !queue_id_valid(id)) {
		fprintf(stderr, "mailkeep: '%s' is not a queue id\n", id);
		return 1;
	}
	snprintf(line, sizeof(line), "%s%s%s", what, id ? " " : "", id ? id : "");
	if (queue_control(data_dir, line, reply, sizeof(reply)) < 0) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			return offline(data_dir, what, id);
		fprintf(stderr, "mailkeep: %s\n", reply);
		return 1;
	}
	if (strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "mailkeep: %s\n", strncmp(reply, "error ", 6) == 0 ? reply + 6 : reply);
		return 1;
	}
	if (strcmp(what, "flush") == 0)
		printf("flushed: %s message(s) due now\n", reply[2] ? reply + 3 : "0");
	else
		printf("deleted %s\n", id);
	return 0;
}

static int cmd_add(const char *data_dir, int argc, char **argv)
{
	const char *from = "";
	int i = 2;
	if (i + 1 < argc && strcmp(argv[i], "--from") == 0) {
		from = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	int64_t uid = 0;
	struct accounts *acc;
	const char *aerr;
	if (from[0] != '\0' && accounts_open(data_dir, &acc, &aerr) == ACCOUNTS_OK) {
		if (accounts_resolve_recipient(acc, from, &uid, &aerr) != ACCOUNTS_OK)
			uid = 0;
		accounts_close(&acc);
	}
	/* The message into an anonymous file, so it can be read with pread. */
	char *err = NULL, dir[4096];
	if (queue_spool_init(data_dir, &err) < 0 ||
	    queue_spool_path(dir, sizeof(dir), data_dir, "tmp", NULL) < 0) {
		fprintf(stderr, "mailkeep: %s\n", err ? err : "queue path too long");
		free(err);
		return 1;
	}
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	char buf[65536];
	uint64_t size = 0;
	ssize_t k;
	while (fd >= 0 && (k = read(0, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)k) != k) {
			close(fd);
			fd = -1;
		}
		size += (uint64_t)k;
	}
	if (fd < 0) {
		fprintf(stderr, "mailkeep: cannot store the message: %s\n", strerror(errno));
		return 1;
	}
	struct queue_msg m = {
		.sender = from, .sender_user = uid, .rcpts = (const char *const *)(argv + i),
		.n_rcpts = (size_t)(argc - i), .body_fd = fd, .body_size = size,
	};
	char id[QUEUE_ID_LEN + 1], reply[256];
	int rc = queue_enqueue(data_dir, &m, id, &err);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "mailkeep: %s\n", err);
		free(err);
		return 1;
	}
	snprintf(buf, sizeof(buf), "load %s", id);
	queue_control(data_dir, buf, reply, sizeof(reply));  /* no server: loaded at start */
	printf("%s\n", id);
	return 0;
}

int cli_queue_main(const char *data_dir, int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		return cmd_list(data_dir);
	if (strcmp(argv[1], "flush") == 0 && argc == 2)
		return cmd_control(data_dir, "flush", NULL);
	if (strcmp(argv[1], "delete") == 0 && argc == 3)
		return cmd_control(data_dir, "delete", argv[2]);
	if (strcmp(argv[1], "add") == 0)
		return cmd_add(data_dir, argc, argv);
	return usage();
}
