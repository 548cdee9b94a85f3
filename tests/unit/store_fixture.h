/* The fixture the store unit tests share: one user's fresh store in its
 * own temp directory, and an arena for results. */
#ifndef MK_TEST_STORE_FIXTURE_H
#define MK_TEST_STORE_FIXTURE_H

#include "unit.h"
#include "lib/arena.h"
#include "store/store.h"

#include <stdlib.h>

struct fx {
	const char *dir;
	struct store_user *u;
	struct arena *a;
};

static inline struct fx *store_fx_open(const char *user)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *err = NULL;
	f->dir = unit_tmpdir();
	f->a = arena_new(0);
	assert_int_equal(store_user_open(f->dir, user, NULL, &f->u, &err), STORE_OK);
	return f;
}

static inline void store_fx_close(struct fx *f)
{
	store_user_close(&f->u);
	arena_free(&f->a);
	unit_rmtree(f->dir);
	free(f);
}

#endif
