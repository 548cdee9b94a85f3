#include "lib/base64.h"

#include <stdbool.h>
#include <stdint.h>

#include "lib/arena.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3;
}

size_t base64_encode(const void *src, size_t n, char *dst, size_t dst_size)
{
	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		return (size_t)-1;
	size_t out_len = base64_encoded_len(n);
	if (dst_size < out_len + 1)
		return (size_t)-1;
	const unsigned char *s = src;
	char *d = dst;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*d++ = alphabet[v >> 18];
		*d++ = alphabet[(v >> 12) & 63];
		*d++ = alphabet[(v >> 6) & 63];
		*d++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*d++ = alphabet[v >> 18];
		*d++ = alphabet[(v >> 12) & 63];
		*d++ = '=';
		*d++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*d++ = alphabet[v >> 18];
		*d++ = alphabet[(v >> 12) & 63];
		*d++ = alphabet[(v >> 6) & 63];
		*d++ = '=';
	}
	*d = '\0';
	return out_len;
}

char *base64_encode_arena(struct arena *a, const void *src, size_t n)
{
	size_t size = base64_encoded_len(n) + 1;
	char *dst = arena_alloc(a, size);
	base64_encode(src, n, dst, size);
	return dst;
}

int base64_decode(const char *src, size_t n, void *dst, size_t dst_size, size_t *len_r)
{
	if (n % 4 != 0)
		return -1;
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *d = dst;
	size_t out = 0;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int v0 = base64_value(s[i]), v1 = base64_value(s[i + 1]);
		int v2 = base64_value(s[i + 2]), v3 = base64_value(s[i + 3]);
		if (v0 < 0 || v1 < 0)
			return -1;
		size_t produce = 3;
		if (v3 < 0) {
			/* Only "xx==" or "xxx=" at the very end. */
			if (!last || s[i + 3] != '=')
				return -1;
			if (v2 < 0) {
				if (s[i + 2] != '=' || (v1 & 0x0f) != 0)
					return -1;
				produce = 1;
			} else {
				if ((v2 & 0x03) != 0)
					return -1;
				produce = 2;
			}
		} else if (v2 < 0) {
			return -1;
		}
		if (dst_size - out < produce)
			return -1;
		uint32_t v = (uint32_t)v0 << 18 | (uint32_t)v1 << 12 |
		             (uint32_t)(v2 < 0 ? 0 : v2) << 6 | (uint32_t)(v3 < 0 ? 0 : v3);
		d[out++] = (unsigned char)(v >> 16);
		if (produce > 1)
			d[out++] = (unsigned char)(v >> 8);
		if (produce > 2)
			d[out++] = (unsigned char)v;
	}
	*len_r = out;
	return 0;
}

unsigned char *base64_decode_arena(struct arena *a, const char *src, size_t n, size_t *len_r)
{
	size_t max = base64_decoded_max(n);
	unsigned char *dst = arena_alloc(a, max + 1);
	size_t len;
	if (base64_decode(src, n, dst, max, &len) < 0)
		return NULL;
	dst[len] = '\0';
	*len_r = len;
	return dst;
}
