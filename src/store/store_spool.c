/* store_spool.c: raw message bytes waiting for a second look before they
 * become a store_append (see store.h, "raw spool"). */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct store_spool {
	struct store_user *u;
	int fd;
	uint64_t size;
	void *map;              /* after store_spool_map */
};

int store_spool_begin(struct store_user *u, struct store_spool **sp_r)
{
	*sp_r = NULL;
	int fd;
	char *path;
	int rc = blob_tmp_open(u, &fd, &path);
	if (rc < 0)
		return rc;
	/* Nameless from now on: whatever happens, nothing is left behind. */
	unlink(path);
	free(path);
	struct store_spool *sp = xcalloc(1, sizeof(*sp));
	sp->u = u;
	sp->fd = fd;
	*sp_r = sp;
	return STORE_OK;
}

int store_spool_write(struct store_spool *sp, const void *data, size_t len)
{
	const char *p = data;
	if (sp->map != NULL)
		return store_fail(sp->u, STORE_E_INTERNAL, "spool already mapped");
	while (len > 0) {
		ssize_t n = write(sp->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return store_fail(sp->u, STORE_E_INTERNAL, "spool write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
		sp->size += (uint64_t)n;
	}
	return STORE_OK;
}

int store_spool_map(struct store_spool *sp, const char **data_r, size_t *len_r)
{
	if (sp->map == NULL && sp->size > 0) {
		void *m = mmap(NULL, sp->size, PROT_READ, MAP_PRIVATE, sp->fd, 0);
		if (m == MAP_FAILED)
			return store_fail(sp->u, STORE_E_INTERNAL, "spool mmap: %s", strerror(errno));
		sp->map = m;
	}
	*data_r = sp->map != NULL ? sp->map : "";
	*len_r = sp->size;
	return STORE_OK;
}

void store_spool_free(struct store_spool **spp)
{
	struct store_spool *sp = *spp;
	if (sp == NULL)
		return;
	*spp = NULL;
	if (sp->map != NULL)
		munmap(sp->map, sp->size);
	close(sp->fd);
	free(sp);
}
