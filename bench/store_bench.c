/*
 * store_bench: the store's numbers for issue 3 point 4. Not part of
 * `make check`. Build and run (from the repository root):
 *
 *   make build/debug/libmk_store.a build/debug/libmk_mime.a build/debug/libmk_lib.a
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/store_bench.c \
 *      build/debug/libmk_store.a build/debug/libmk_mime.a build/debug/libmk_lib.a \
 *      -lsqlite3 -lcrypto -lpthread -lm -o build/store_bench
 *   build/store_bench /dev/shm/mk-bench 100000 /tmp/mk-bench-disk
 *
 * The 100,000-message load goes to the first directory (tmpfs: this VM's
 * disk takes ~10 ms per fsync, which would make the load take hours; the
 * load is not what is measured). Durable append rates are measured on the
 * second directory, on the real disk.
 */
#include "lib/arena.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static const char *const words[] = {
	"meeting", "report", "budget", "lunch", "project", "status", "update", "review",
	"invoice", "travel", "schedule", "release", "customer", "support", "design", "draft",
	"server", "backup", "weekend", "coffee", "question", "answer", "quarter", "planning",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static size_t make_message(char *buf, size_t cap, unsigned i, bool rare)
{
	unsigned r = i * 2654435761u;
	int n = snprintf(buf, cap,
	    "From: User %u <user%u@example.org>\r\nTo: bench@example.com\r\n"
	    "Subject: %s %s #%u\r\nDate: Sat, 21 Nov 2026 10:%02u:00 +0000\r\n"
	    "Message-ID: <%u@bench.example>\r\n\r\n"
	    "Hello,\r\n\r\nabout the %s and the %s: %s %s %s.\r\n%s\r\nRegards,\r\nUser %u\r\n",
	    r % 500, r % 500, words[r % NWORDS], words[(r >> 5) % NWORDS], i, i % 60, i,
	    words[(r >> 7) % NWORDS], words[(r >> 11) % NWORDS], words[(r >> 13) % NWORDS],
	    words[(r >> 17) % NWORDS], words[(r >> 19) % NWORDS],
	    rare ? "The xylophonist arrives on Tuesday." : "Nothing unusual here.", r % 500);
	return (size_t)n;
}

static void die(const char *what, struct store_user *u)
{
	fprintf(stderr, "%s: %s\n", what, u != NULL ? store_error(u) : "");
	exit(1);
}

static void append_one(struct store_user *u, unsigned i, bool rare)
{
	char msg[1024];
	size_t len = make_message(msg, sizeof(msg), i, rare);
	struct store_append *ap;
	struct store_append_opts o = { .flags = i % 3 ? STORE_SEEN : 0,
	                               .internal_date = 1790000000 + i };
	if (store_append_begin(u, "INBOX", 0, &ap) < 0 ||
	    store_append_write(ap, msg, len) < 0 ||
	    store_append_commit(ap, &o, NULL, NULL) < 0)
		die("append", u);
}

static void load(const char *dir, unsigned n)
{
	struct store_user *u;
	const char *err;
	if (store_user_open(dir, "bench", NULL, &u, &err) < 0) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	double t0 = now_ms();
	for (unsigned i = 0; i < n; i += 1000) {
		store_txn_begin(u);
		for (unsigned k = i; k < i + 1000 && k < n; k++)
			append_one(u, k, k == n / 2 + 7);
		if (store_txn_commit(u) < 0)
			die("commit", u);
	}
	double t1 = now_ms();
	printf("load %u messages (batches of 1000, tmpfs): %.0f ms (%.0f msg/s)\n", n, t1 - t0,
	       n / ((t1 - t0) / 1e3));
	store_user_close(&u);
}

static void measure(const char *dir, unsigned n)
{
	struct store_user *u, *u2;
	const char *err;
	struct arena *a = arena_new(1 << 20);
	double t0 = now_ms();
	if (store_user_open(dir, "bench", NULL, &u, &err) < 0)
		die("open", NULL);
	double t1 = now_ms();
	struct store_mailbox *mb, *mb2;
	if (store_mailbox_open(u, "INBOX", 0, &mb) < 0)
		die("select", u);
	double t2 = now_ms();
	struct store_status st;
	store_mailbox_get_status(mb, &st);
	double t3 = now_ms();
	printf("open store (cold process): %.2f ms\n", t1 - t0);
	printf("SELECT INBOX, view loaded from the database (first session): %.2f ms\n", t2 - t1);
	printf("  status (messages %u, unseen %u, first unseen %u): %.3f ms\n", st.messages,
	       st.unseen, st.first_unseen, t3 - t2);
	/* Second session of the same user on this thread: the shared view. */
	int reps = 1000;
	double t4 = now_ms();
	for (int i = 0; i < reps; i++) {
		if (store_user_open(dir, "bench", NULL, &u2, &err) < 0 ||
		    store_mailbox_open(u2, "INBOX", 0, &mb2) < 0)
			die("select 2", NULL);
		store_mailbox_get_status(mb2, &st);
		store_user_close(&u2);
	}
	double t5 = now_ms();
	printf("SELECT INBOX again by another session (shared view, incl. status): %.3f ms\n",
	       (t5 - t4) / reps);

	/* FETCH 1:* (UID FLAGS), formatted as the protocol would. */
	char *out = malloc(64u << 20);
	double t6 = now_ms();
	size_t count, len = 0;
	const struct store_msg *m = store_mailbox_msgs(mb, &count);
	for (size_t i = 0; i < count; i++)
		len += (size_t)sprintf(out + len, "* %zu FETCH (UID %u FLAGS (%s%s))\r\n", i + 1, m[i].uid,
		                       m[i].flags & STORE_SEEN ? "\\Seen" : "",
		                       m[i].flags & STORE_FLAGGED ? " \\Flagged" : "");
	double t7 = now_ms();
	printf("FETCH 1:* (UID FLAGS) from the view, %zu messages, %zu bytes formatted: %.2f ms\n",
	       count, len, t7 - t6);

	struct store_range all = { 1, UINT32_MAX };
	struct store_uidset set = { 1, &all };
	struct store_fetch *f;
	struct store_msg_info info;
	double t8 = now_ms();
	if (store_fetch_begin(mb, &set, STORE_WANT_ENVELOPE, &f) < 0)
		die("fetch", u);
	size_t nf = 0, envbytes = 0;
	while (store_fetch_next(f, a, &info) == 1) {
		nf++;
		envbytes += strlen(info.envelope);
		if (nf % 1000 == 0)
			arena_reset(a);
	}
	store_fetch_end(&f);
	double t9 = now_ms();
	printf("FETCH 1:* (ENVELOPE INTERNALDATE RFC822.SIZE) cached, %zu messages: %.1f ms\n", nf,
	       t9 - t8);

	const char *terms[][2] = { { "BODY", "xylophonist" }, { "BODY", "XYLOPHON" },
	                           { "BODY", "budget" }, { "SUBJECT", "#4242" },
	                           { "FROM", "user123@" }, { "TEXT", "xylophonist" } };
	for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
		struct store_search q = { .key = terms[i][0][0] == 'B' ? STORE_SK_BODY :
		                          terms[i][0][0] == 'S' ? STORE_SK_SUBJECT :
		                          terms[i][0][0] == 'F' ? STORE_SK_FROM : STORE_SK_TEXT,
		                          .u.str = terms[i][1] };
		uint32_t *uids;
		size_t nu;
		double s0 = now_ms();
		if (store_search(mb, &q, a, &uids, &nu) < 0)
			die("search", u);
		double s1 = now_ms();
		printf("SEARCH %s \"%s\": %zu matches, %.2f ms\n", terms[i][0], terms[i][1], nu,
		       s1 - s0);
		arena_reset(a);
	}
	struct store_search unseen = { .key = STORE_SK_FLAGS_UNSET, .u.flags = STORE_SEEN };
	uint32_t *uids;
	size_t nu;
	double s0 = now_ms();
	store_search(mb, &unseen, a, &uids, &nu);
	printf("SEARCH UNSEEN: %zu matches, %.2f ms\n", nu, now_ms() - s0);

	/* STORE +FLAGS \Flagged on 1:1000, and the change log after it. */
	struct store_range r = { 1, 1000 };
	struct store_uidset s1000 = { 1, &r };
	struct store_flags_req req = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAGGED };
	struct store_flags_result res;
	double c0 = now_ms();
	if (store_flags(mb, &s1000, &req, a, &res) < 0)
		die("store", u);
	double c1 = now_ms();
	struct store_changes ch;
	store_changes_since(mb, res.modseq - 1, a, &ch);
	double c2 = now_ms();
	printf("STORE +FLAGS on 1000 messages (tmpfs): %.1f ms; CHANGEDSINCE: %zu changes, %.2f ms\n",
	       c1 - c0, ch.n_changed, c2 - c1);
	free(out);
	store_user_close(&u);
	arena_free(&a);
	(void)n;
}

static void durable(const char *dir)
{
	struct store_user *u;
	const char *err;
	if (store_user_open(dir, "bench", NULL, &u, &err) < 0) {
		fprintf(stderr, "open %s: %s\n", dir, err);
		exit(1);
	}
	int n = 100;
	double t0 = now_ms();
	for (int i = 0; i < n; i++)
		append_one(u, (unsigned)i, false);
	double t1 = now_ms();
	printf("durable append, one per transaction (disk): %.1f ms each, %.0f msg/s\n",
	       (t1 - t0) / n, n / ((t1 - t0) / 1e3));
	for (int batch = 16; batch <= 64; batch *= 4) {
		double b0 = now_ms();
		for (int i = 0; i < 4; i++) {
			store_txn_begin(u);
			for (int k = 0; k < batch; k++)
				append_one(u, (unsigned)(1000 + batch * 10 + i * batch + k), false);
			if (store_txn_commit(u) < 0)
				die("commit", u);
		}
		double b1 = now_ms();
		printf("durable append, %d per transaction (group commit, disk): %.2f ms/msg, %.0f msg/s\n",
		       batch, (b1 - b0) / (4 * batch), 4 * batch / ((b1 - b0) / 1e3));
	}
	store_user_close(&u);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s DATA_DIR N [DISK_DIR]\n", argv[0]);
		return 2;
	}
	unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
	if (n > 0)   /* 0: measure an existing store */
		load(argv[1], n);
	measure(argv[1], n);
	if (argc > 3)
		durable(argv[3]);
	return 0;
}
