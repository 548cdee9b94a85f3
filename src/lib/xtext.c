/* xtext: RFC 3461 section 4 (see xtext.h). */
#include "lib/xtext.h"

#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;  /* RFC 3461 asks for upper case */
}

static bool is_xchar(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '+' && c != '=';
}

bool xtext_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			if (i + 2 >= n || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
				return false;
			i += 2;
		} else if (!is_xchar((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

int xtext_decode(const char *s, size_t n, char *out, size_t outn)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c;
		if (s[i] == '+') {
			if (i + 2 >= n)
				return -1;
			int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (is_xchar((unsigned char)s[i])) {
			c = s[i];
		} else {
			return -1;
		}
		if (o + 1 >= outn)
			return -1;
		out[o++] = c;
	}
	if (outn == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int xtext_encode(const char *s, size_t n, char *out, size_t outn)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_xchar(c)) {
			if (o + 1 >= outn)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outn)
				return -1;
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outn == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* Valid xtext whose decoded bytes are printable ASCII (32..126). */
static bool printable_xtext(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			if (i + 2 >= n || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
				return false;
			int c = hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]);
			if (c < 32 || c > 126)
				return false;
			i += 2;
		} else if (!is_xchar((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool xtext_envid_valid(const char *s, size_t n, size_t max)
{
	return n > 0 && n <= max && printable_xtext(s, n);
}

bool xtext_orcpt_valid(const char *s, size_t n, size_t max)
{
	const char *semi = memchr(s, ';', n);
	if (semi == NULL || semi == s || n > max || (size_t)(semi - s) + 1 == n)
		return false;
	for (const char *p = s; p < semi; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return printable_xtext(semi + 1, n - (size_t)(semi + 1 - s));
}
