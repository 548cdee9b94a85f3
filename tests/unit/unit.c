#include "unit.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dirs[8][256];
static int next_dir;

const char *unit_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *d = dirs[next_dir++ % 8];
	snprintf(d, 256, "%s/mk-unit-XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(d) == NULL)
		fail_msg("mkdtemp failed");
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void unit_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void unit_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}
