/*
 * fuzz_auth_address: arbitrary bytes into the address and domain
 * validators. Whatever is accepted must be within the documented limits,
 * free of spaces, control bytes and '/', and normalizing it again must give
 * the same text (the normal form is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *s, size_t max)
{
	size_t len = strlen(s);
	if (len == 0 || len > max)
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '/')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	char out[ADDRESS_MAX + 1], again[ADDRESS_MAX + 1];
	char dom[ADDRESS_DOMAIN_MAX + 1], dom2[ADDRESS_DOMAIN_MAX + 1];
	const char *why;
	if (address_normalize(in, out, &why) == 0) {
		check_clean(out, ADDRESS_MAX);
		const char *at = strchr(out, '@');
		if (at == NULL || at == out || strchr(at + 1, '@') != NULL)
			abort();
		if ((size_t)(at - out) > ADDRESS_LOCAL_MAX)
			abort();
		if (address_normalize(out, again, &why) != 0 || strcmp(out, again) != 0)
			abort();
		if (address_domain_normalize(address_domain(out), dom, &why) != 0 ||
		    strcmp(dom, address_domain(out)) != 0)
			abort();
	} else if (why == NULL) {
		abort();
	}
	if (address_domain_normalize(in, dom, &why) == 0) {
		check_clean(dom, ADDRESS_DOMAIN_MAX);
		if (strchr(dom, '@') != NULL)
			abort();
		if (address_domain_normalize(dom, dom2, &why) != 0 || strcmp(dom, dom2) != 0)
			abort();
	}
	free(in);
	return 0;
}
