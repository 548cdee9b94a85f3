#include "mime/imapstr.h"

#include <stdbool.h>
#include <string.h>

#include "lib/buf.h"

static bool quotable(const char *s, size_t n)
{
	if (n > IMAPSTR_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return false;
	}
	return true;
}

int imapstr_append(struct buf *b, const char *s, size_t n)
{
	if (quotable(s, n)) {
		if (buf_append(b, "\"", 1) < 0)
			return -1;
		size_t run = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\') {
				if (buf_append(b, s + run, i - run) < 0 ||
				    buf_append(b, "\\", 1) < 0)
					return -1;
				run = i;
			}
		}
		if (buf_append(b, s + run, n - run) < 0)
			return -1;
		return buf_append(b, "\"", 1);
	}
	size_t nul = 0;
	for (size_t i = 0; i < n; i++)
		nul += s[i] == '\0';
	if (buf_printf(b, "{%zu}\r\n", n - nul) < 0)
		return -1;
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0') {
			if (buf_append(b, s + run, i - run) < 0)
				return -1;
			run = i + 1;
		}
	}
	return buf_append(b, s + run, n - run);
}

int imapstr_append_nstring(struct buf *b, const char *s)
{
	if (s == NULL)
		return buf_append(b, "NIL", 3);
	return imapstr_append(b, s, strlen(s));
}
