#include "lib/netaddr.h"
#include "lib/strutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void set_v4(struct netaddr *out, const void *four)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->bytes, four, 4);
}

/* IPv6 bytes to a netaddr, unwrapping ::ffff:a.b.c.d. */
static void set_v6(struct netaddr *out, const uint8_t *sixteen)
{
	if (memcmp(sixteen, v4mapped_prefix, 12) == 0) {
		set_v4(out, sixteen + 12);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->family = AF_INET6;
	memcpy(out->bytes, sixteen, 16);
}

int netaddr_parse(const char *s, struct netaddr *out)
{
	uint8_t b[16];
	if (inet_pton(AF_INET, s, b) == 1) {
		set_v4(out, b);
		return 0;
	}
	if (strchr(s, ':') != NULL && inet_pton(AF_INET6, s, b) == 1) {
		set_v6(out, b);
		return 0;
	}
	return -1;
}

static unsigned addr_bits(const struct netaddr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

/* Does a have any bit set at positions >= prefix? */
static bool host_bits_set(const struct netaddr *a, unsigned prefix)
{
	unsigned bits = addr_bits(a);
	for (unsigned i = prefix; i < bits; i++)
		if (a->bytes[i / 8] & (0x80u >> (i % 8)))
			return true;
	return false;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a[full] & mask) == (b[full] & mask);
}

int netaddr_parse_cidr(const char *s, struct netaddr_cidr *out, const char **error_r)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hostlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hostlen == 0 || hostlen >= sizeof(host)) {
		*error_r = "expected a network like 192.168.0.0/16 or 2001:db8::/32";
		return -1;
	}
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';

	/* Parse without unwrapping first: the prefix of a mapped address
	 * counts IPv6 bits. */
	uint8_t b[16];
	struct netaddr a;
	bool mapped = false;
	if (inet_pton(AF_INET, host, b) == 1) {
		set_v4(&a, b);
	} else if (strchr(host, ':') != NULL && inet_pton(AF_INET6, host, b) == 1) {
		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		memcpy(a.bytes, b, 16);
		mapped = memcmp(b, v4mapped_prefix, 12) == 0;
	} else {
		*error_r = "expected a network like 192.168.0.0/16 or 2001:db8::/32";
		return -1;
	}

	uint64_t prefix = addr_bits(&a);
	/* No sign, no spaces, no leading zeros ("/08"). */
	if (slash != NULL && (str_parse_u64(slash + 1, &prefix) < 0 || prefix > addr_bits(&a) ||
	                      (slash[1] == '0' && slash[2] != '\0'))) {
		*error_r = a.family == AF_INET ? "prefix length must be 0 to 32"
		                               : "prefix length must be 0 to 128";
		return -1;
	}
	if (host_bits_set(&a, (unsigned)prefix)) {
		*error_r = "address has bits set past the prefix length (e.g. write 10.0.0.0/8, not 10.0.0.1/8)";
		return -1;
	}
	if (mapped && prefix >= 96) {
		set_v4(&out->addr, b + 12);
		out->prefix = (unsigned)prefix - 96;
	} else {
		out->addr = a;
		out->prefix = (unsigned)prefix;
	}
	return 0;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, size_t salen, struct netaddr *out)
{
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		set_v4(out, &sin->sin_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		set_v6(out, sin6->sin6_addr.s6_addr);
		return 0;
	}
	return -1;
}

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

bool netaddr_cidr_match(const struct netaddr_cidr *net, const struct netaddr *a)
{
	return net->addr.family == a->family && prefix_equal(net->addr.bytes, a->bytes, net->prefix);
}

bool netaddr_cidr_match_sockaddr(const struct netaddr_cidr *net, const struct sockaddr *sa,
                                 size_t salen)
{
	struct netaddr a;
	return netaddr_from_sockaddr(sa, salen, &a) == 0 && netaddr_cidr_match(net, &a);
}

char *netaddr_format(const struct netaddr *a, char *dst, size_t dstlen)
{
	char tmp[INET6_ADDRSTRLEN];
	if (inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->bytes, tmp, sizeof(tmp)) == NULL)
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(dst, dstlen, "%s", tmp);
	return dst;
}

char *netaddr_format_sockaddr(const struct sockaddr *sa, size_t salen, char *dst, size_t dstlen)
{
	struct netaddr a;
	char host[INET6_ADDRSTRLEN];
	if (netaddr_from_sockaddr(sa, salen, &a) == 0) {
		netaddr_format(&a, host, sizeof(host));
		/* sin_port and sin6_port sit at the same offset. */
		unsigned port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		if (a.family == AF_INET)
			snprintf(dst, dstlen, "%s:%u", host, port);
		else
			snprintf(dst, dstlen, "[%s]:%u", host, port);
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *sau = (const struct sockaddr_un *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t n = salen > off ? salen - off : 0;
		if (n > sizeof(sau->sun_path))
			n = sizeof(sau->sun_path);
		/* Abstract sockets (leading NUL) and unnamed ones print as "unix:". */
		n = n > 0 && sau->sun_path[0] != '\0' ? strnlen(sau->sun_path, n) : 0;
		snprintf(dst, dstlen, "unix:%.*s", (int)n, sau->sun_path);
	} else {
		snprintf(dst, dstlen, "?");
	}
	return dst;
}

char *netaddr_format_cidr(const struct netaddr_cidr *net, char *dst, size_t dstlen)
{
	char host[INET6_ADDRSTRLEN];
	netaddr_format(&net->addr, host, sizeof(host));
	snprintf(dst, dstlen, "%s/%u", host, net->prefix);
	return dst;
}

static int parse_port(const char *s, uint16_t *out)
{
	uint64_t v;
	if (str_parse_u64(s, &v) < 0 || v < 1 || v > 65535 || s[0] == '0')
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static void set_sockaddr(struct sockaddr_storage *ss, size_t *len, const struct netaddr *a,
                         uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		*len = sizeof(*sin6);
	}
}

static int parse_unix_listen(const char *path, struct netaddr_listen *out, const char **error_r)
{
	size_t n = strlen(path);
	if (path[0] != '/') {
		*error_r = "a unix socket needs an absolute path, like unix:/run/mailkeep/lmtp";
		return -1;
	}
	if (n >= sizeof(out->path)) {
		*error_r = "unix socket path too long (at most 107 bytes)";
		return -1;
	}
	out->is_unix = true;
	memcpy(out->path, path, n + 1);
	struct sockaddr_un *sau = (struct sockaddr_un *)&out->addr;
	sau->sun_family = AF_UNIX;
	memcpy(sau->sun_path, path, n + 1);
	out->addrlen = offsetof(struct sockaddr_un, sun_path) + n + 1;
	return 0;
}

int netaddr_parse_listen(const char *s, bool allow_unix, struct netaddr_listen *out,
                         const char **error_r)
{
	static const char *const expected = "expected address:port, [IPv6]:port or *:port";
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "unix:", 5) == 0) {
		if (!allow_unix) {
			*error_r = "unix sockets are only allowed for lmtp_listen";
			return -1;
		}
		return parse_unix_listen(s + 5, out, error_r);
	}

	char host[64];
	const char *portstr;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host)) {
			*error_r = expected;
			return -1;
		}
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		portstr = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host)) {
			*error_r = expected;
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*error_r = "write IPv6 addresses in brackets, like [::1]:143";
			return -1;
		}
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		portstr = colon + 1;
	}
	if (parse_port(portstr, &out->port) < 0) {
		*error_r = "port must be a number from 1 to 65535";
		return -1;
	}

	struct netaddr a;
	if (strcmp(host, "*") == 0 && s[0] != '[') {
		out->wildcard = true;
		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		set_sockaddr(&out->addr, &out->addrlen, &a, out->port);
		a.family = AF_INET;
		set_sockaddr(&out->fallback, &out->fallbacklen, &a, out->port);
		return 0;
	}
	uint8_t b[16];
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, b) != 1) {
			*error_r = "not a numeric IPv6 address inside [ ]";
			return -1;
		}
		/* Keep the address as written: [::ffff:1.2.3.4] binds on IPv6. */
		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		memcpy(a.bytes, b, 16);
	} else if (inet_pton(AF_INET, host, b) == 1) {
		set_v4(&a, b);
	} else {
		*error_r = "not a numeric IPv4 address (host names are not resolved; use * for all)";
		return -1;
	}
	set_sockaddr(&out->addr, &out->addrlen, &a, out->port);
	return 0;
}

static bool is_any(const struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];
	if (ss->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)ss)->sin_addr, zero, 4) == 0;
	return memcmp(((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr, zero, 16) == 0;
}

bool netaddr_listen_conflict(const struct netaddr_listen *a, const struct netaddr_listen *b)
{
	if (a->is_unix || b->is_unix)
		return a->is_unix && b->is_unix && strcmp(a->path, b->path) == 0;
	if (a->port != b->port)
		return false;
	if (a->wildcard || b->wildcard)
		return true;
	/* [::] may be bound dual-stack (Linux default), so it covers IPv4
	 * too; 0.0.0.0 covers IPv4 only. */
	bool any6a = a->addr.ss_family == AF_INET6 && is_any(&a->addr);
	bool any6b = b->addr.ss_family == AF_INET6 && is_any(&b->addr);
	if (any6a || any6b)
		return true;
	if (a->addr.ss_family != b->addr.ss_family)
		return false;
	if (is_any(&a->addr) || is_any(&b->addr))
		return true;
	/* Compare the raw socket addresses so [::ffff:1.2.3.4] stays IPv6. */
	if (a->addr.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&a->addr)->sin_addr,
		              &((const struct sockaddr_in *)&b->addr)->sin_addr, 4) == 0;
	return memcmp(((const struct sockaddr_in6 *)&a->addr)->sin6_addr.s6_addr,
	              ((const struct sockaddr_in6 *)&b->addr)->sin6_addr.s6_addr, 16) == 0;
}
