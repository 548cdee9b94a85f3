/*
 * fuzz_auth_sasl: arbitrary client lines into the PLAIN and LOGIN state
 * machines. Input: first byte picks the mechanism (even = PLAIN, odd =
 * LOGIN) and whether the first line is the initial response (bit 1); the
 * rest is split into lines at '\n'. Checks the invariants a protocol relies
 * on: results are terminal or CONTINUE, DONE gives non-empty bounded
 * credentials, and nothing is accepted after a terminal status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_done(const struct sasl *s)
{
	size_t ulen = strlen(s->username);
	if (ulen == 0 || ulen > SASL_USERNAME_MAX)
		abort();
	if (s->password_len == 0 || s->password_len > SASL_PASSWORD_MAX ||
	    strlen(s->password) != s->password_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *mech = (data[0] & 1) ? "LOGIN" : "PLAIN";
	int use_initial = (data[0] & 2) != 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;

	struct sasl s;
	const char *text;
	enum sasl_status st;
	if (use_initial) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *initial = malloc(len + 1);
		memcpy(initial, p, len);
		initial[len] = '\0';
		st = sasl_start(&s, mech, initial, &text);
		free(initial);
		p += len + (nl != NULL);
	} else {
		st = sasl_start(&s, mech, NULL, &text);
	}
	while (st == SASL_CONTINUE && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		st = sasl_step(&s, p, len, &text);
		p += len + (nl != NULL);
	}
	if (text == NULL)
		abort();
	if (st == SASL_DONE)
		check_done(&s);
	if (st != SASL_CONTINUE && sasl_step(&s, "AGEAYg==", 8, &text) != SASL_FAIL)
		abort();
	sasl_reset(&s);
	return 0;
}
