/*
 * fuzz_mime_encword: any bytes as a header value with RFC 2047 words, and
 * as an RFC 2231 value. The output must be valid UTF-8 and bounded.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "mime/charset.h"
#include "mime/encword.h"
#include "mime/param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_utf8(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
		assert(l > 0);
		i += l;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const char *s = (const char *)data;
	char *out = encword_decode_arena(a, s, size);
	assert_utf8(out);
	assert(strlen(out) <= size * 4 + 16);
	char *z = arena_strndup(a, s, size);
	assert_utf8(mime_rfc2231_decode(a, z));
	struct mime_ctype ct;
	mime_ctype_parse(a, s, size, true, &ct);
	assert(ct.nparams <= MIME_MAX_PARAMS);
	for (size_t i = 0; i < ct.nparams; i++)
		assert(ct.params[i].name != NULL && ct.params[i].value != NULL);
	arena_free(&a);
	return 0;
}
