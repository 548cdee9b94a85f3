/*
 * A small checker of IMAP response syntax for the mime tests and fuzz
 * targets: the string must be exactly one parenthesized list whose items
 * are lists, NIL, numbers, quoted strings (7-bit, no CR/LF, only \" and \\
 * escaped) or literals "{n}\r\n" + n bytes without NUL, separated by single
 * spaces (lists may also follow each other directly, as bodies of a
 * multipart do). Returns 1 if valid.
 */
#ifndef FUZZ_MIME_SYNTAX_H
#define FUZZ_MIME_SYNTAX_H

#include <stddef.h>
#include <string.h>

static int imap_item(const char *s, size_t n, size_t *i, unsigned depth);

static int imap_list(const char *s, size_t n, size_t *i, unsigned depth)
{
	if (depth > 1000 || *i >= n || s[*i] != '(')
		return 0;
	(*i)++;
	int first = 1;
	while (*i < n && s[*i] != ')') {
		if (!first) {
			if (s[*i] == ' ')
				(*i)++;
			else if (s[*i] != '(' || s[*i - 1] != ')')
				return 0;
		}
		if (!imap_item(s, n, i, depth + 1))
			return 0;
		first = 0;
	}
	if (*i >= n || first)   /* "()" is not valid in these responses */
		return 0;
	(*i)++;
	return 1;
}

static int imap_item(const char *s, size_t n, size_t *i, unsigned depth)
{
	if (*i >= n)
		return 0;
	char c = s[*i];
	if (c == '(')
		return imap_list(s, n, i, depth);
	if (c == '"') {
		for ((*i)++; *i < n && s[*i] != '"'; (*i)++) {
			unsigned char u = (unsigned char)s[*i];
			if (u == '\r' || u == '\n' || u == 0 || u >= 0x80)
				return 0;
			if (u == '\\') {
				(*i)++;
				if (*i >= n || (s[*i] != '"' && s[*i] != '\\'))
					return 0;
			}
		}
		if (*i >= n)
			return 0;
		(*i)++;
		return 1;
	}
	if (c == '{') {
		size_t len = 0, st = ++(*i);
		while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - st < 12)
			len = len * 10 + (size_t)(s[(*i)++] - '0');
		if (*i == st || n - *i < 3 || memcmp(s + *i, "}\r\n", 3) != 0)
			return 0;
		*i += 3;
		if (n - *i < len || memchr(s + *i, '\0', len) != NULL)
			return 0;
		*i += len;
		return 1;
	}
	if (n - *i >= 3 && memcmp(s + *i, "NIL", 3) == 0) {
		*i += 3;
		return 1;
	}
	size_t st = *i;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > st;
}

static inline int imap_syntax_ok(const char *s, size_t n)
{
	size_t i = 0;
	return imap_list(s, n, &i, 0) && i == n;
}

#endif
