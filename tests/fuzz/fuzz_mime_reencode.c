/*
 * fuzz_mime_reencode: any bytes as a binary APPEND. A refusal must point at
 * a NUL; otherwise the output is exactly plan.out_size bytes in bounded
 * pieces, holds no NUL, has the same part tree, every re-encoded part
 * decodes to its original bytes and every other leaf is byte-exact, and
 * re-encoding the output (also after the store's bare LF -> CRLF) finds
 * nothing more to do.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "mime/decode.h"
#include "mime/mime.h"
#include "mime/reencode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	char *d;
	size_t n, cap;
};

static int sink_write(void *ctx, const char *p, size_t len)
{
	struct sink *s = ctx;
	assert(len > 0 && len <= MIME_REENCODE_CHUNK);
	if (s->n + len > s->cap) {
		s->cap = (s->n + len) * 2;
		s->d = realloc(s->d, s->cap);
	}
	memcpy(s->d + s->n, p, len);
	s->n += len;
	return 0;
}

static const struct mime_part *next_part(const struct mime_part *p)
{
	if (p->children != NULL)
		return p->children;
	for (; p != NULL; p = p->parent)
		if (p->next != NULL)
			return p->next;
	return NULL;
}

/* What the store does at append: bare LF becomes CRLF. */
static char *crlf(const char *d, size_t n, size_t *len)
{
	char *o = malloc(2 * n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r'))
			o[k++] = '\r';
		o[k++] = d[i];
	}
	*len = k;
	return o;
}

static void check_output(struct arena *a, const struct mime_message *m, const char *out,
                         size_t n)
{
	struct mime_message *m2 = mime_parse(a, out, n);
	assert(m2->nparts == m->nparts);
	const struct mime_part *p = m->root, *q = m2->root;
	for (; p != NULL && q != NULL; p = next_part(p), q = next_part(q)) {
		assert((p->children == NULL) == (q->children == NULL));
		if (mime_reencode_part(m, p)) {
			assert(mime_part_cte(q) == MIME_CTE_BASE64);
			size_t len;
			char *dec = mime_decode_body(a, m2, q, SIZE_MAX, &len);
			assert(len == p->body_end - p->body_start);
			assert(memcmp(dec, m->data + p->body_start, len) == 0);
		} else if (p->children == NULL) {
			assert(q->body_end - q->body_start == p->body_end - p->body_start);
			assert(memcmp(m2->data + q->body_start, m->data + p->body_start,
			              p->body_end - p->body_start) == 0);
		}
	}
	assert(p == NULL && q == NULL);
	struct mime_reencode_plan again;
	assert(mime_reencode_check(m2, &again) == MIME_REENCODE_UNCHANGED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const char *msg = (const char *)data;
	struct mime_message *m = mime_parse(a, msg, size);
	struct mime_reencode_plan plan;
	enum mime_reencode_status st = mime_reencode_check(m, &plan);
	if (st == MIME_REENCODE_REFUSED) {
		assert(plan.nul_at < size && msg[plan.nul_at] == '\0');
		arena_free(&a);
		return 0;
	}
	struct sink out = { 0 };
	assert(mime_reencode_write(m, sink_write, &out) == 0);
	assert(out.n == plan.out_size);
	if (st == MIME_REENCODE_UNCHANGED) {
		assert(out.n == size && (size == 0 || memcmp(out.d, msg, size) == 0));
	} else {
		assert(plan.parts > 0);
		assert(memchr(out.d, '\0', out.n) == NULL);
		check_output(a, m, out.d, out.n);
		size_t n;
		char *stored = crlf(out.d, out.n, &n);
		struct mime_message *m3 = mime_parse(a, stored, n);
		struct mime_reencode_plan again;
		assert(m3->nparts == m->nparts);
		assert(mime_reencode_check(m3, &again) == MIME_REENCODE_UNCHANGED);
		free(stored);
	}
	free(out.d);
	arena_free(&a);
	return 0;
}
