/*
 * fuzz_lib_xtext: the RFC 3461 xtext codec and the ENVID/ORCPT checks.
 * Checks: xtext_valid agrees with xtext_decode; what decodes encodes back
 * to valid xtext that decodes to the same bytes; any bytes encode to valid
 * xtext that decodes back; the ENVID/ORCPT checks accept only valid xtext
 * whose decoded text is printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xtext.h"

#define MAXIN 1024

static void check(int cond)
{
	if (!cond)
		abort();
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAXIN)
		return 0;
	const char *s = (const char *)data;
	static char dec[MAXIN + 1], enc[3 * MAXIN + 1], dec2[MAXIN + 1];

	/* as xtext */
	int n = xtext_decode(s, size, dec, sizeof(dec));
	check(xtext_valid(s, size) == (n >= 0));
	if (n >= 0) {
		check((size_t)n <= size);
		int m = xtext_encode(dec, (size_t)n, enc, sizeof(enc));
		check(m >= 0 && xtext_valid(enc, (size_t)m));
		check(xtext_decode(enc, (size_t)m, dec2, sizeof(dec2)) == n);
		check(memcmp(dec, dec2, (size_t)n) == 0);
	}
	check(xtext_envid_valid(s, size, MAXIN) ==
	      (n > 0 && printable(dec, (size_t)n)));

	/* as ORCPT */
	const char *semi = memchr(s, ';', size);
	if (xtext_orcpt_valid(s, size, MAXIN)) {
		check(semi != NULL && semi > s);
		size_t an = size - (size_t)(semi + 1 - s);
		int k = xtext_decode(semi + 1, an, dec2, sizeof(dec2));
		check(k > 0 && printable(dec2, (size_t)k));
	}

	/* as raw bytes */
	int m = xtext_encode(s, size, enc, sizeof(enc));
	check(m >= 0 && (size_t)m <= 3 * size && xtext_valid(enc, (size_t)m));
	check(xtext_decode(enc, (size_t)m, dec2, sizeof(dec2)) == (int)size);
	check(memcmp(dec2, s, size) == 0);
	return 0;
}
