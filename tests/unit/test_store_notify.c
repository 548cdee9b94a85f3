/* Notifications: sessions of one user on one thread, and changes made by
 * another connection (thread or process) picked up by polling. */
#include "unit.h"
#include "lib/arena.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct seen {
	int calls;
	bool own, gone, kw;
	uint64_t modseq;
	uint32_t added[16], changed[16], expunged[16];
	uint32_t changed_flags[16];
	uint64_t changed_modseq[16];
	size_t n_added, n_changed, n_expunged;
};

static void watcher(const struct store_event *ev, void *ctx)
{
	struct seen *s = ctx;
	s->calls++;
	s->own = ev->own;
	s->gone = ev->mailbox_gone;
	s->kw = ev->keywords_changed;
	s->modseq = ev->highestmodseq;
	s->n_added = ev->n_added;
	for (size_t i = 0; i < ev->n_added && i < 16; i++)
		s->added[i] = ev->added[i].uid;
	s->n_changed = ev->n_changed;
	for (size_t i = 0; i < ev->n_changed && i < 16; i++) {
		s->changed[i] = ev->changed[i].uid;
		s->changed_flags[i] = ev->changed[i].flags;
		s->changed_modseq[i] = ev->changed[i].modseq;
	}
	s->n_expunged = ev->n_expunged;
	for (size_t i = 0; i < ev->n_expunged && i < 16; i++)
		s->expunged[i] = ev->expunged[i];
}

static uint32_t append(struct store_user *u, const char *box, const char *text)
{
	struct store_append *ap;
	assert_int_equal(store_append_begin(u, box, 0, &ap), STORE_OK);
	assert_int_equal(store_append_write(ap, text, strlen(text)), STORE_OK);
	uint32_t uid = 0;
	assert_int_equal(store_append_commit(ap, NULL, NULL, &uid), STORE_OK);
	return uid;
}

static void closer(const struct store_event *ev, void *ctx)
{
	struct store_mailbox **h = ctx;
	if (ev->mailbox_gone)
		store_mailbox_close(h);
}

static void watcher_may_close_its_handle(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	struct store_user *s1, *s2;
	assert_int_equal(store_user_open(dir, "eve", NULL, &s1, &err), STORE_OK);
	assert_int_equal(store_user_open(dir, "eve", NULL, &s2, &err), STORE_OK);
	assert_int_equal(store_mailbox_create(s1, "Gone", 0), STORE_OK);
	struct store_mailbox *h1, *h2;
	assert_int_equal(store_mailbox_open(s1, "Gone", 0, &h1), STORE_OK);
	assert_int_equal(store_mailbox_open(s2, "Gone", 0, &h2), STORE_OK);
	store_watch(h1, closer, &h1);
	store_watch(h2, closer, &h2);
	assert_int_equal(store_mailbox_delete(s2, "Gone"), STORE_OK);
	assert_null(h1);
	assert_null(h2);
	store_user_close(&s1);
	store_user_close(&s2);
	unit_rmtree(dir);
}

static void two_sessions_same_thread(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	struct arena *a = arena_new(0);
	struct store_user *s1, *s2;
	assert_int_equal(store_user_open(dir, "eve", NULL, &s1, &err), STORE_OK);
	assert_int_equal(store_user_open(dir, "eve", NULL, &s2, &err), STORE_OK);
	struct store_mailbox *m1, *m2;
	assert_int_equal(store_mailbox_open(s1, "INBOX", 0, &m1), STORE_OK);
	assert_int_equal(store_mailbox_open(s2, "INBOX", 0, &m2), STORE_OK);
	struct seen w1 = { 0 }, w2 = { 0 };
	store_watch(m1, watcher, &w1);
	store_watch(m2, watcher, &w2);

	/* Session 2 appends: session 1 hears of it, not as its own. */
	uint32_t uid = append(s2, "INBOX", "Subject: a\r\n\r\nx\r\n");
	assert_int_equal(w1.calls, 1);
	assert_false(w1.own);
	assert_int_equal(w1.n_added, 1);
	assert_int_equal(w1.added[0], uid);
	assert_int_equal(w2.calls, 1);
	assert_true(w2.own);
	struct store_status st;
	store_mailbox_get_status(m1, &st);
	assert_int_equal(w1.modseq, st.highestmodseq);
	/* The view is shared: session 1 sees the message at once. */
	assert_non_null(store_mailbox_find(m1, uid));

	/* Session 2 sets \Seen: session 1 gets the flags with the modseq. */
	struct store_range r = { uid, uid };
	struct store_uidset set = { 1, &r };
	const char *kw[] = { "new-tag" };
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_SEEN,
	                               .keywords = kw, .n_keywords = 1 };
	struct store_flags_result res;
	assert_int_equal(store_flags(m2, &set, &req, a, &res), STORE_OK);
	assert_int_equal(w1.calls, 2);
	assert_int_equal(w1.n_changed, 1);
	assert_int_equal(w1.changed[0], uid);
	assert_int_equal(w1.changed_flags[0], STORE_SEEN);
	assert_int_equal(w1.changed_modseq[0], res.modseq);
	assert_int_equal(w1.modseq, res.modseq);
	assert_true(w1.kw);

	/* Expunge by session 2 */
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(m2, STORE_EXPUNGE_SET, &set, a, &gone, &n), STORE_OK);
	assert_int_equal(w1.calls, 3);
	assert_int_equal(w1.n_expunged, 1);
	assert_int_equal(w1.expunged[0], uid);

	/* A copy into a mailbox session 1 watches */
	struct store_mailbox *arch;
	assert_int_equal(store_mailbox_open(s1, "Archive", 0, &arch), STORE_OK);
	struct seen w3 = { 0 };
	store_watch(arch, watcher, &w3);
	uint32_t u2 = append(s2, "INBOX", "Subject: b\r\n\r\ny\r\n");
	r.lo = r.hi = u2;
	struct store_copy_result cr;
	assert_int_equal(store_copy(m2, &set, "Archive", true, a, &cr), STORE_OK);
	assert_int_equal(w3.calls, 1);
	assert_int_equal(w3.n_added, 1);
	assert_int_equal(w1.n_expunged, 1);
	assert_int_equal(w1.expunged[0], u2);

	/* Deleting a watched mailbox */
	assert_int_equal(store_mailbox_create(s2, "Tmp", 0), STORE_OK);
	struct store_mailbox *tmp;
	assert_int_equal(store_mailbox_open(s1, "Tmp", 0, &tmp), STORE_OK);
	struct seen w4 = { 0 };
	store_watch(tmp, watcher, &w4);
	assert_int_equal(store_mailbox_delete(s2, "Tmp"), STORE_OK);
	assert_int_equal(w4.calls, 1);
	assert_true(w4.gone);
	size_t left;
	store_mailbox_msgs(tmp, &left);
	assert_int_equal(left, 0);

	store_user_close(&s2);
	store_user_close(&s1);
	arena_free(&a);
	unit_rmtree(dir);
}

struct other {
	const char *dir;
	int appended;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;
	struct store_user *u;
	const char *err;
	if (store_user_open(o->dir, "eve", NULL, &u, &err) != STORE_OK)
		return NULL;
	struct store_append *ap;
	const char *text = "Subject: from elsewhere\r\n\r\nz\r\n";
	if (store_append_begin(u, "INBOX", 0, &ap) == STORE_OK &&
	    store_append_write(ap, text, strlen(text)) == STORE_OK &&
	    store_append_commit(ap, NULL, NULL, NULL) == STORE_OK)
		o->appended = 1;
	store_user_close(&u);
	return NULL;
}

static void other_connection_seen_by_poll(void **state)
{
	const char *dir = unit_tmpdir(), *err;
	struct store_user *s1;
	assert_int_equal(store_user_open(dir, "eve", NULL, &s1, &err), STORE_OK);
	uint32_t first = append(s1, "INBOX", "Subject: one\r\n\r\n1\r\n");
	struct store_mailbox *m1;
	assert_int_equal(store_mailbox_open(s1, "INBOX", 0, &m1), STORE_OK);
	struct seen w = { 0 };
	store_watch(m1, watcher, &w);
	struct other o = { dir, 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, other_thread, &o), 0);
	pthread_join(t, NULL);
	assert_int_equal(o.appended, 1);
	assert_int_equal(w.calls, 0);
	assert_int_equal(store_user_poll(s1), STORE_OK);
	assert_int_equal(w.calls, 1);
	assert_false(w.own);
	assert_int_equal(w.n_added, 1);
	assert_int_equal(w.added[0], first + 1);
	size_t n;
	store_mailbox_msgs(m1, &n);
	assert_int_equal(n, 2);
	/* Our next append continues after it. */
	assert_int_equal(append(s1, "INBOX", "Subject: three\r\n\r\n3\r\n"), first + 2);
	store_user_close(&s1);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_sessions_same_thread),
		cmocka_unit_test(other_connection_seen_by_poll),
		cmocka_unit_test(watcher_may_close_its_handle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
