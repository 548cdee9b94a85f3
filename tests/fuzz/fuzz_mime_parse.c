/*
 * fuzz_mime_parse: any bytes as a message. The summary must come out (and
 * be valid IMAP syntax), every section of every small part path must be a
 * range inside the message, and BINARY must decode to BINARY.SIZE bytes.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "mime/decode.h"
#include "mime/mime.h"
#include "mime/section.h"
#include "fuzz_mime_syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const SPECS[] = {
	"", "HEADER", "TEXT", "MIME", "HEADER.FIELDS (From Subject Content-Type)",
	"HEADER.FIELDS.NOT (From Subject)",
};

static void check_path(struct arena *a, const struct mime_message *m,
                       const unsigned *path, size_t npath)
{
	for (size_t k = 0; k < sizeof(SPECS) / sizeof(SPECS[0]); k++) {
		struct mime_section s;
		char spec[128];
		size_t o = 0;
		for (size_t i = 0; i < npath; i++)
			o += (size_t)snprintf(spec + o, sizeof(spec) - o, "%u%s", path[i],
			                      i + 1 < npath || SPECS[k][0] ? "." : "");
		snprintf(spec + o, sizeof(spec) - o, "%s", SPECS[k]);
		if (mime_section_parse(a, spec, strlen(spec), &s) < 0) {
			assert(npath == 0 && k == 3);   /* MIME needs a part */
			continue;
		}
		struct mime_extract x;
		mime_section_extract(a, m, &s, &x);
		if (x.data == NULL)
			assert(x.off <= m->len && x.len <= m->len - x.off);
		mime_extract_partial(&x, 3, 5);
		assert(x.len <= 5);
	}
	uint64_t off, len, size;
	enum mime_cte cte;
	if (mime_binary_section(m, path, npath, &off, &len, &cte) != MIME_BINARY_OK)
		return;
	assert(off <= m->len && len <= m->len - off);
	const struct mime_part *p = mime_find_part(m, path, npath);
	if (npath == 0 || mime_binary_size(m, p, &size) < 0)
		return;
	struct mime_decoder d;
	char *out = malloc(len + MIME_DECODER_SLACK);
	mime_decoder_init(&d, cte);
	uint64_t total = 0;
	/* In odd-sized pieces: streaming must not depend on the split. */
	for (uint64_t i = 0; i < len; i += 7) {
		size_t n = len - i < 7 ? (size_t)(len - i) : 7;
		total += mime_decoder_feed(&d, m->data + off + i, n, out);
	}
	total += mime_decoder_finish(&d, out);
	assert(total == size);
	free(out);
}

static void walk_paths(struct arena *a, const struct mime_message *m,
                       unsigned *path, size_t npath)
{
	check_path(a, m, path, npath);
	if (npath == 4)
		return;
	for (unsigned k = 1; k <= 3; k++) {
		path[npath] = k;
		if (mime_find_part(m, path, npath + 1) != NULL || k == 1)
			walk_paths(a, m, path, npath + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const char *msg = (const char *)data;
	struct mime_summary s;
	assert(mime_summarize(a, msg, size, &s) == 0);
	assert(imap_syntax_ok(s.envelope, strlen(s.envelope)));
	assert(imap_syntax_ok(s.body, strlen(s.body)));
	assert(imap_syntax_ok(s.bodystructure, strlen(s.bodystructure)));
	assert(strlen(s.search_text) <= MIME_SEARCH_TEXT_MAX);
	assert(s.header_size + s.body_size == size);
	struct mime_message *m = mime_parse(a, msg, size);
	unsigned path[8];
	walk_paths(a, m, path, 0);
	arena_free(&a);
	return 0;
}
