#include "unit.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Every directory handed out is removed when the test binary exits, so a
 * test that forgets (or fails before) its own unit_rmtree leaves nothing in
 * /tmp. Only the process that made them removes them: a forked child's
 * exit must not pull a parent's files away. */
#define UNIT_MAX_DIRS 256
static char dirs[UNIT_MAX_DIRS][256];
static int n_dirs;
static pid_t dirs_owner;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void unit_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void rm_all_dirs(void)
{
	if (getpid() != dirs_owner)
		return;
	for (int i = 0; i < n_dirs; i++)
		unit_rmtree(dirs[i]);
}

const char *unit_tmpdir(void)
{
	if (n_dirs == UNIT_MAX_DIRS)
		fail_msg("more than %d temporary directories in one test binary", UNIT_MAX_DIRS);
	if (n_dirs == 0) {
		dirs_owner = getpid();
		atexit(rm_all_dirs);
	}
	const char *base = getenv("TMPDIR");
	char *d = dirs[n_dirs];
	snprintf(d, 256, "%s/mk-unit-XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(d) == NULL)
		fail_msg("mkdtemp failed");
	n_dirs++;
	return d;
}

void unit_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}
