/*
 * fuzz_smtp_addr: arbitrary bytes into the RFC 5321 path parser, with the
 * flags taken from the first byte. Whatever is accepted must stay within
 * the limits, take no more bytes than given, hold no control bytes, and
 * parsing "<" normal-form ">" again must give the same normal form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 2048)
		return 0;
	unsigned flags = data[0] & 7;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	struct smtp_path p;
	size_t used = 0;
	const char *err = NULL;
	if (smtp_path_parse(s, n, flags, &p, &used, &err) < 0) {
		if (err == NULL)
			abort();
		return 0;
	}
	size_t len = strlen(p.addr);
	if (used > n || used < 2 || len > SMTP_PATH_MAX || s[used - 1] != '>')
		abort();
	if (p.is_null) {
		if (len != 0 || !(flags & SMTP_PATH_ALLOW_NULL))
			abort();
		return 0;
	}
	if (p.is_postmaster)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p.addr[i] < 32 || p.addr[i] == 127)
			abort();
	if (p.has_utf8 && !(flags & SMTP_PATH_UTF8))
		abort();
	if (p.addr[p.local_len] != '@' || p.local_len == 0)
		abort();
	char again[SMTP_PATH_MAX + 3];
	again[0] = '<';
	memcpy(again + 1, p.addr, len);
	again[len + 1] = '>';
	struct smtp_path q;
	size_t used2;
	if (smtp_path_parse(again, len + 2, flags, &q, &used2, &err) < 0 || used2 != len + 2 ||
	    strcmp(q.addr, p.addr) != 0)
		abort();
	return 0;
}
