/*
 * fuzz_mime_address: any bytes as an address list header value. The IMAP
 * form must be valid syntax, groups balanced, and every mailbox entry must
 * have non-NULL mailbox and host.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/address.h"
#include "fuzz_mime_syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct mime_address *list = mime_address_parse(a, (const char *)data, size);
	int open = 0;
	for (struct mime_address *ad = list; ad != NULL; ad = ad->next) {
		if (ad->host == NULL) {
			if (ad->mailbox != NULL) {
				assert(open == 0);
				open = 1;
			} else {
				assert(open == 1);
				open = 0;
			}
			assert(ad->name == NULL && ad->route == NULL);
		} else {
			assert(ad->mailbox != NULL);
		}
	}
	assert(open == 0);
	struct buf b;
	buf_init(&b, size * 64 + 4096);
	buf_reserve(&b, 1);
	assert(mime_address_write_imap(&b, list) == 0);
	if (list != NULL)
		assert(imap_syntax_ok(buf_ptr(&b), buf_len(&b)));
	else
		assert(strcmp(buf_ptr(&b), "NIL") == 0);
	buf_deinit(&b);
	arena_free(&a);
	return 0;
}
