/* queue_spool: the queue's files (see queue_spool.h). */
#include "queue/queue_spool.h"
#include "lib/arena.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failf(char **error_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(char **error_r, const char *fmt, ...)
{
	char msg[768];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*error_r = xstrdup(msg);
	errno = saved;
	return -1;
}

int queue_spool_path(char *out, size_t n, const char *data_dir, const char *sub, const char *id)
{
	int k = id != NULL ? snprintf(out, n, "%s/queue/%s/%s", data_dir, sub, id)
	                   : snprintf(out, n, "%s/queue/%s", data_dir, sub);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int queue_spool_init(const char *data_dir, char **error_r)
{
	static const char *const subs[] = { "", "msg", "env", "tmp" };
	char path[4096];
	for (size_t i = 0; i < 4; i++) {
		if (queue_spool_path(path, sizeof(path), data_dir, subs[i], NULL) < 0)
			return failf(error_r, "queue path too long");
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return failf(error_r, "mkdir %s: %s", path, strerror(errno));
	}
	return 0;
}

void queue_id_new(char out[QUEUE_ID_LEN + 1])
{
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)clock() ^ (uint32_t)getpid() ^ (uint32_t)(uintptr_t)out;
	snprintf(out, QUEUE_ID_LEN + 1, "%08x%08x", (unsigned)(uint32_t)time(NULL), (unsigned)rnd);
}

bool queue_id_valid(const char *s)
{
	size_t i = 0;
	for (; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == QUEUE_ID_LEN;
}

static int dir_fsync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Open a temp file in tmp/ named after id and kind. */
static int tmp_open(const char *data_dir, const char *id, const char *kind, char *path, size_t n)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.%s.%d", id, kind, (int)gettid());
	if (queue_spool_path(path, n, data_dir, "tmp", name) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* fsync + close fd, rename tmp to <sub>/<id>, fsync <sub>. */
static int commit(int fd, const char *tmp, const char *data_dir, const char *sub, const char *id,
                  char **error_r)
{
	char dst[4096], dir[4096];
	if (fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return failf(error_r, "fsync %s: %s", tmp, strerror(errno));
	}
	close(fd);
	if (queue_spool_path(dst, sizeof(dst), data_dir, sub, id) < 0 ||
	    queue_spool_path(dir, sizeof(dir), data_dir, sub, NULL) < 0 || rename(tmp, dst) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return failf(error_r, "rename into %s/%s: %s", sub, id, strerror(errno));
	}
	if (dir_fsync(dir) < 0)
		return failf(error_r, "fsync %s: %s", dir, strerror(errno));
	return 0;
}

int queue_spool_write_msg(const char *data_dir, struct queue_env *env, const char *prefix,
                          size_t prefix_len, int body_fd, uint64_t body_size, char **error_r)
{
	char tmp[4096], chunk[64 * 1024];
	int fd = tmp_open(data_dir, env->id, "msg", tmp, sizeof(tmp));
	if (fd < 0)
		return failf(error_r, "create %s: %s", tmp, strerror(errno));
	bool eight = false;
	for (size_t i = 0; i < prefix_len; i++)
		eight |= (unsigned char)prefix[i] >= 128;
	if (prefix_len > 0 && write_all(fd, prefix, prefix_len) < 0)
		goto fail;
	uint64_t off = 0;
	while (off < body_size) {
		size_t want = sizeof(chunk);
		if (body_size - off < want)
			want = (size_t)(body_size - off);
		ssize_t n = pread(body_fd, chunk, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		for (ssize_t i = 0; i < n && !eight; i++)
			eight = (unsigned char)chunk[i] >= 128;
		if (write_all(fd, chunk, (size_t)n) < 0)
			goto fail;
		off += (uint64_t)n;
	}
	env->size = prefix_len + body_size;
	env->body8bit = eight;
	return commit(fd, tmp, data_dir, "msg", env->id, error_r);
fail:
	failf(error_r, "writing queue file %s: %s", tmp, strerror(errno));
	close(fd);
	unlink(tmp);
	return -1;
}

int queue_spool_save_env(const char *data_dir, const struct queue_env *env, char **error_r)
{
	struct buf b;
	buf_init(&b, QUEUE_ENV_MAX);
	if (queue_env_format(env, &b) < 0) {
		buf_deinit(&b);
		return failf(error_r, "envelope too large");
	}
	char tmp[4096];
	int fd = tmp_open(data_dir, env->id, "env", tmp, sizeof(tmp));
	if (fd < 0 || write_all(fd, buf_ptr(&b), buf_len(&b)) < 0) {
		failf(error_r, "writing envelope %s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		buf_deinit(&b);
		return -1;
	}
	buf_deinit(&b);
	return commit(fd, tmp, data_dir, "env", env->id, error_r);
}

/* Read a whole file (at most max bytes) into b. */
static int read_file(const char *path, struct buf *b, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		if (buf_len(b) >= max) {
			errno = EFBIG;
			break;
		}
		char *p = buf_reserve(b, 8192);
		if (p == NULL) {
			errno = EFBIG;
			break;
		}
		ssize_t n = read(fd, p, 8192);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			close(fd);
			return 0;
		}
		buf_commit(b, (size_t)n);
	}
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int queue_spool_load_env(const char *data_dir, const char *id, struct queue_env *env,
                         char **error_r)
{
	char path[4096];
	const char *perr;
	if (!queue_id_valid(id) || queue_spool_path(path, sizeof(path), data_dir, "env", id) < 0)
		return failf(error_r, "bad queue id '%s'", id);
	struct buf b;
	buf_init(&b, QUEUE_ENV_MAX + 8192);
	if (read_file(path, &b, QUEUE_ENV_MAX) < 0) {
		buf_deinit(&b);
		return failf(error_r, "%s: %s", path, errno == ENOENT ? "no such message" : strerror(errno));
	}
	int rc = queue_env_parse(buf_ptr(&b), buf_len(&b), env, &perr);
	buf_deinit(&b);
	if (rc < 0)
		return failf(error_r, "%s: %s", path, perr);
	if (strcmp(env->id, id) != 0) {
		queue_env_clear(env);
		return failf(error_r, "%s: id inside is %s", path, env->id);
	}
	return 0;
}

int queue_spool_remove(const char *data_dir, const char *id, char **error_r)
{
	char path[4096], dir[4096];
	if (!queue_id_valid(id) || queue_spool_path(path, sizeof(path), data_dir, "env", id) < 0)
		return failf(error_r, "bad queue id '%s'", id);
	if (unlink(path) < 0)
		return failf(error_r, "%s: %s", id, errno == ENOENT ? "no such message" : strerror(errno));
	queue_spool_path(dir, sizeof(dir), data_dir, "env", NULL);
	if (dir_fsync(dir) < 0)
		return failf(error_r, "fsync %s: %s", dir, strerror(errno));
	queue_spool_path(path, sizeof(path), data_dir, "msg", id);
	unlink(path);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

int queue_spool_list(const char *data_dir, char (**ids_r)[QUEUE_ID_LEN + 1], size_t *n_r,
                     char **error_r)
{
	char dir[4096];
	queue_spool_path(dir, sizeof(dir), data_dir, "env", NULL);
	*ids_r = NULL;
	*n_r = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : failf(error_r, "%s: %s", dir, strerror(errno));
	char (*ids)[QUEUE_ID_LEN + 1] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		memcpy(ids[n++], de->d_name, QUEUE_ID_LEN + 1);
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_id);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

void queue_spool_collect(const char *data_dir, int64_t min_age)
{
	static const char *const subs[] = { "msg", "tmp" };
	char dir[4096], path[4096 + 300], env[4096];
	time_t now = time(NULL);
	for (int s = 0; s < 2; s++) {
		queue_spool_path(dir, sizeof(dir), data_dir, subs[s], NULL);
		DIR *d = opendir(dir);
		if (d == NULL)
			continue;
		struct dirent *de;
		struct stat st;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (stat(path, &st) < 0 || now - st.st_mtime < min_age)
				continue;
			if (s == 0 && queue_id_valid(de->d_name) &&
			    queue_spool_path(env, sizeof(env), data_dir, "env", de->d_name) == 0 &&
			    access(env, F_OK) == 0)
				continue;
			unlink(path);
		}
		closedir(d);
	}
}

int queue_spool_lock(const char *data_dir, bool wait, char **error_r)
{
	char path[4096];
	if (queue_spool_path(path, sizeof(path), data_dir, "lock", NULL) < 0)
		return failf(error_r, "queue path too long");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return failf(error_r, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return failf(error_r, "%s: %s", path, strerror(e));
	}
	return fd;
}

int queue_spool_read_headers(const char *data_dir, const char *id, struct buf *out, size_t max,
                             char **error_r)
{
	char path[4096];
	queue_spool_path(path, sizeof(path), data_dir, "msg", id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(error_r, "%s: %s", path, strerror(errno));
	char *p = buf_reserve(out, max);
	ssize_t n = p != NULL ? pread(fd, p, max, 0) : -1;
	close(fd);
	if (n < 0)
		return failf(error_r, "%s: %s", path, p == NULL ? "buffer" : strerror(errno));
	size_t len = (size_t)n;
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < len &&
		                                          p[i + 2] == '\n'))) {
			len = i + 1;
			break;
		}
	}
	buf_commit(out, len);
	return 0;
}

int queue_spool_read_msg(const char *data_dir, const char *id, struct buf *out, size_t max,
                         char **error_r)
{
	char path[4096];
	queue_spool_path(path, sizeof(path), data_dir, "msg", id);
	size_t before = buf_len(out);
	if (read_file(path, out, before + max + 1) < 0 || buf_len(out) - before > max) {
		int e = buf_len(out) - before > max ? EFBIG : errno;
		buf_reset(out, 0);
		errno = e;
		return failf(error_r, "%s: %s", path, strerror(e));
	}
	return 0;
}
