/*
 * netaddr: IP addresses, CIDR networks and listener strings.
 *
 * Pure functions: no DNS, no sockets opened, no logging. Addresses are
 * numeric only (inet_pton syntax; IPv6 zone ids "%eth0" are refused).
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), as accept() reports IPv4
 * clients on a dual-stack socket, are normalised to plain IPv4 everywhere:
 * in netaddr_from_sockaddr(), in CIDRs ("::ffff:10.0.0.0/104" is 10.0.0.0/8)
 * and in netaddr_format(). So an IPv4 network matches such a client, and a
 * per-IP counter keyed by struct netaddr sees one address, not two.
 *
 * All functions are thread-safe (no shared state).
 */
#ifndef MK_NETADDR_H
#define MK_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One address, normalised. Unused bytes are zero, so two netaddrs can be
 * compared with netaddr_equal() (or memcmp) and hashed as bytes. */
struct netaddr {
	uint8_t family;     /* AF_INET or AF_INET6 */
	uint8_t bytes[16];  /* network order; IPv4 uses bytes[0..4) */
};

struct netaddr_cidr {
	struct netaddr addr;  /* host bits past the prefix are zero */
	unsigned prefix;      /* 0..32 for IPv4, 0..128 for IPv6 */
};

/* Longest text netaddr_format*() writes, with the NUL: a unix socket path
 * with its "unix:" prefix. */
#define NETADDR_STRLEN 116

/* "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (becomes IPv4).
 * 0, or -1 if s is not a numeric address. */
int netaddr_parse(const char *s, struct netaddr *out);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (= /32 or /128).
 * Host bits set past the prefix ("10.0.0.1/8") are refused: it is
 * usually a typo for a narrower network. 0, or -1 with *error_r set to a
 * static message. */
int netaddr_parse_cidr(const char *s, struct netaddr_cidr *out, const char **error_r);

/* The address of a socket (AF_INET / AF_INET6, mapped IPv4 normalised).
 * 0, or -1 for other families (AF_UNIX) or a short length. */
int netaddr_from_sockaddr(const struct sockaddr *sa, size_t salen, struct netaddr *out);

bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
bool netaddr_cidr_match(const struct netaddr_cidr *net, const struct netaddr *a);
/* Convenience: false for unix sockets and unknown families. */
bool netaddr_cidr_match_sockaddr(const struct netaddr_cidr *net,
                                 const struct sockaddr *sa, size_t salen);

/* Text for logs: "192.0.2.1", "2001:db8::1". Returns dst. */
char *netaddr_format(const struct netaddr *a, char *dst, size_t dstlen);
/* A socket address for logs: "192.0.2.1:143", "[2001:db8::1]:143",
 * "unix:/path" ("unix:" for an unnamed socket), "?" for anything else.
 * Returns dst, always NUL-terminated. */
char *netaddr_format_sockaddr(const struct sockaddr *sa, size_t salen,
                              char *dst, size_t dstlen);
/* CIDR as text, "10.0.0.0/8". Returns dst. */
char *netaddr_format_cidr(const struct netaddr_cidr *net, char *dst, size_t dstlen);

/*
 * Listener strings (config keys *_listen):
 *   "192.0.2.1:143"   one IPv4 address
 *   "[::1]:143"       one IPv6 address (brackets required)
 *   "0.0.0.0:143"     every IPv4 address
 *   "*:143"           every address: addr is [::]:port, to be bound with
 *                     IPV6_V6ONLY off (dual stack); when the host has no
 *                     IPv6 (socket() fails with EAFNOSUPPORT) bind
 *                     fallback (0.0.0.0:port) instead
 *   "unix:/abs/path"  a unix socket, only if allow_unix
 * Port 1..65535.
 */
struct netaddr_listen {
	bool is_unix;
	bool wildcard;                  /* "*:port" */
	uint16_t port;                  /* host order; 0 for unix */
	struct sockaddr_storage addr;   /* what to bind; AF_UNIX for unix */
	size_t addrlen;                 /* for bind() */
	struct sockaddr_storage fallback;  /* wildcard only: 0.0.0.0:port */
	size_t fallbacklen;
	char path[108];                 /* unix only: the path */
};

/* 0, or -1 with *error_r a static message naming what is wrong. */
int netaddr_parse_listen(const char *s, bool allow_unix, struct netaddr_listen *out,
                         const char **error_r);

/* Two listeners that cannot both be bound: same unix path, or same port
 * and: either is "*" or "[::]" (dual stack covers IPv4 too), or both are
 * IPv4 and equal or either is 0.0.0.0, or both are the same IPv6 address. */
bool netaddr_listen_conflict(const struct netaddr_listen *a, const struct netaddr_listen *b);

#endif
