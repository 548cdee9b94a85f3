/*
 * fuzz_imap_search: the input is what follows "t SEARCH " on a command
 * line. It goes through the real parser, then the SEARCH grammar with a
 * resolver for a 50-message mailbox. Checked: errors come with a message;
 * the tree is well formed (AND/OR/NOT children counts, depth and key
 * count within the limits, UID sets ascending and non-empty ranges).
 */
#include "fuzz_imap_common.h"
#include "imap/imap_search_args.h"
#include "imap/imap_seqset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int resolve(void *ctx, const char *set, size_t len, bool uid, struct arena *a,
                   struct store_uidset *out, const char **error_r)
{
	struct imap_seqset s;
	if (imap_seqset_parse(a, set, len, 1000, &s, error_r) < 0)
		return -1;
	if (s.saved) {
		*out = (struct store_uidset){ 0, NULL };
		return 0;
	}
	imap_seqset_resolve(a, &s, 50, &s);
	struct store_range *r = arena_alloc(a, (s.count + 1) * sizeof(*r));
	for (size_t i = 0; i < s.count; i++) {
		if (!uid && s.ranges[i].hi > 50) {
			*error_r = "Invalid message sequence number";
			return -1;
		}
		r[i].lo = s.ranges[i].lo;
		r[i].hi = s.ranges[i].hi;
	}
	*out = (struct store_uidset){ s.count, r };
	return 0;
}

static size_t walk(const struct store_search *k, unsigned depth)
{
	CHECK(depth <= IMAP_SEARCH_MAX_DEPTH + 1);
	size_t nodes = 1, kids = 0;
	for (const struct store_search *c = k->kids; c != NULL; c = c->next, kids++)
		nodes += walk(c, depth + 1);
	switch (k->key) {
	case STORE_SK_AND: CHECK(kids >= 2); break;
	case STORE_SK_OR: CHECK(kids == 2); break;
	case STORE_SK_NOT: CHECK(kids == 1); break;
	default: CHECK(kids == 0); break;
	}
	if (k->key == STORE_SK_UID)
		for (size_t i = 0; i < k->u.set.n; i++) {
			CHECK(k->u.set.r[i].lo <= k->u.set.r[i].hi);
			CHECK(i == 0 || k->u.set.r[i - 1].hi < k->u.set.r[i].lo);
		}
	if (k->key == STORE_SK_HEADER)
		CHECK(k->u.hdr.field != NULL && k->u.hdr.field[0] != '\0' && k->u.hdr.value != NULL);
	if (k->key == STORE_SK_KEYWORD || k->key == STORE_SK_FROM || k->key == STORE_SK_TEXT)
		CHECK(k->u.str != NULL);
	return nodes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const struct imap_command *cmd = fuzz_parse_command(a, "SEARCH", data, size);
	if (cmd == NULL)
		goto out;
	struct imap_search_env env = { .resolve_set = resolve };
	struct imap_search_args q;
	const char *err = NULL;
	int rc = imap_search_args_parse(a, cmd->args, cmd->nargs, &env, &q, &err);
	if (rc != IMAP_SEARCH_OK) {
		CHECK(err != NULL);
		CHECK(rc == IMAP_SEARCH_E_SYNTAX || rc == IMAP_SEARCH_E_BADCHARSET);
		goto out;
	}
	CHECK(q.query != NULL);
	CHECK(walk(q.query, 0) <= 2 * IMAP_SEARCH_MAX_KEYS + 1);
	CHECK(!q.esearch || q.ret != 0);
out:
	arena_free(&a);
	return 0;
}
