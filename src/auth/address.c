#include "auth/address.h"

#include <string.h>

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-=?^_`{|}~", c) != NULL;
}

static bool is_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static int check_domain(const char *d, size_t len, const char **error_r)
{
	if (len == 0) {
		*error_r = "empty domain";
		return -1;
	}
	if (len > ADDRESS_DOMAIN_MAX) {
		*error_r = "domain longer than 253 characters";
		return -1;
	}
	size_t labels = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && d[i] != '.') {
			if (!is_label_char((unsigned char)d[i])) {
				*error_r = "domain may only contain letters, digits, '-' and '.'";
				return -1;
			}
			continue;
		}
		size_t label_len = i - start;
		if (label_len == 0) {
			*error_r = "empty label in domain (leading, trailing or doubled '.')";
			return -1;
		}
		if (label_len > 63) {
			*error_r = "domain label longer than 63 characters";
			return -1;
		}
		if (d[start] == '-' || d[i - 1] == '-') {
			*error_r = "domain label starts or ends with '-'";
			return -1;
		}
		labels++;
		start = i + 1;
	}
	if (labels < 2) {
		*error_r = "domain needs at least two labels (example.com)";
		return -1;
	}
	return 0;
}

static void lower_copy(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
	}
	dst[len] = '\0';
}

int address_domain_normalize(const char *domain, char out[ADDRESS_DOMAIN_MAX + 1],
                             const char **error_r)
{
	size_t len = strlen(domain);
	if (check_domain(domain, len, error_r) < 0)
		return -1;
	lower_copy(out, domain, len);
	return 0;
}

static int check_local(const char *l, size_t len, const char **error_r)
{
	if (len == 0) {
		*error_r = "empty local part (nothing before '@')";
		return -1;
	}
	if (len > ADDRESS_LOCAL_MAX) {
		*error_r = "local part longer than 64 characters";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c == '.') {
			if (i == 0 || i == len - 1 || l[i - 1] == '.') {
				*error_r = "local part has a leading, trailing or doubled '.'";
				return -1;
			}
		} else if (!is_atext(c)) {
			*error_r = c <= ' ' || c >= 0x7f
			               ? "address contains a space, control or non-ASCII character"
			               : "local part contains a character not allowed in an address";
			return -1;
		}
	}
	return 0;
}

int address_normalize(const char *address, char out[ADDRESS_MAX + 1], const char **error_r)
{
	size_t len = strlen(address);
	if (len > ADDRESS_MAX) {
		*error_r = "address longer than 254 characters";
		return -1;
	}
	const char *at = strrchr(address, '@');
	if (at == NULL) {
		*error_r = "not an address (no '@domain')";
		return -1;
	}
	size_t local_len = (size_t)(at - address);
	if (check_local(address, local_len, error_r) < 0 ||
	    check_domain(at + 1, len - local_len - 1, error_r) < 0)
		return -1;
	memcpy(out, address, local_len + 1);
	lower_copy(out + local_len + 1, at + 1, len - local_len - 1);
	return 0;
}

const char *address_domain(const char *normalized)
{
	const char *at = strrchr(normalized, '@');
	return at != NULL ? at + 1 : normalized;
}
