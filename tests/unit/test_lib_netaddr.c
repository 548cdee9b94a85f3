#include "unit.h"
#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

static struct sockaddr_storage sa4(const char *ip, unsigned port, size_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	*len = sizeof(*sin);
	return ss;
}

static struct sockaddr_storage sa6(const char *ip, unsigned port, size_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	*len = sizeof(*sin6);
	return ss;
}

static void parse_addresses(void **state)
{
	struct netaddr a, b;
	char out[NETADDR_STRLEN];
	assert_int_equal(netaddr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_str(netaddr_format(&a, out, sizeof(out)), "192.0.2.1");
	assert_int_equal(netaddr_parse("2001:DB8::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_str(netaddr_format(&a, out, sizeof(out)), "2001:db8::1");
	/* mapped IPv4 becomes IPv4 and equals the plain form */
	assert_int_equal(netaddr_parse("::ffff:127.0.0.1", &a), 0);
	assert_int_equal(netaddr_parse("127.0.0.1", &b), 0);
	assert_true(netaddr_equal(&a, &b));
	assert_str(netaddr_format(&a, out, sizeof(out)), "127.0.0.1");

	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", " 1.2.3.4", "1.2.3.4 ",
		"localhost", "fe80::1%eth0", "::g", "1.2.3.4/8", ":::",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(netaddr_parse(bad[i], &a), -1);
}

static void cidr_parse_and_match(void **state)
{
	static const struct {
		const char *net, *addr;
		bool match;
	} cases[] = {
		{ "127.0.0.0/8", "127.1.2.3", true },
		{ "127.0.0.0/8", "128.0.0.1", false },
		{ "10.0.0.1", "10.0.0.1", true },
		{ "10.0.0.1", "10.0.0.2", false },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "0.0.0.0/0", "::1", false },
		{ "192.168.1.128/25", "192.168.1.200", true },
		{ "192.168.1.128/25", "192.168.1.127", false },
		{ "::1/128", "::1", true },
		{ "::1", "::2", false },
		{ "2001:db8::/32", "2001:db8:ffff::1", true },
		{ "2001:db8::/33", "2001:db8:8000::1", false },
		{ "::/0", "2001:db8::1", true },
		/* IPv4 network matches an IPv4-mapped client and vice versa */
		{ "127.0.0.0/8", "::ffff:127.0.0.1", true },
		{ "::ffff:10.0.0.0/104", "10.9.9.9", true },
		{ "::ffff:10.0.0.0/104", "11.0.0.1", false },
		{ "10.0.0.0/8", "::a00:1", false },  /* IPv4-compatible is not mapped */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netaddr_cidr net;
		struct netaddr a;
		const char *err = NULL;
		assert_int_equal(netaddr_parse_cidr(cases[i].net, &net, &err), 0);
		assert_int_equal(netaddr_parse(cases[i].addr, &a), 0);
		if (netaddr_cidr_match(&net, &a) != cases[i].match)
			fail_msg("%s vs %s: expected %d", cases[i].net, cases[i].addr, cases[i].match);
	}
	struct netaddr_cidr net;
	char out[NETADDR_STRLEN];
	const char *err;
	assert_int_equal(netaddr_parse_cidr("::ffff:10.0.0.0/104", &net, &err), 0);
	assert_str(netaddr_format_cidr(&net, out, sizeof(out)), "10.0.0.0/8");
	assert_int_equal(netaddr_parse_cidr("2001:DB8::/32", &net, &err), 0);
	assert_str(netaddr_format_cidr(&net, out, sizeof(out)), "2001:db8::/32");
	assert_int_equal(netaddr_parse_cidr("10.0.0.1", &net, &err), 0);
	assert_str(netaddr_format_cidr(&net, out, sizeof(out)), "10.0.0.1/32");

	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/08",
		"10.0.0.0/ 8", "::/129", "10.0.0.1/8", "2001:db8::1/32", "example.com/8",
		"10.0.0.0/8/8", "10.0.0.0/99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (netaddr_parse_cidr(bad[i], &net, &err) != -1)
			fail_msg("accepted bad CIDR '%s'", bad[i]);
		assert_non_null(err);
	}
	assert_int_equal(netaddr_parse_cidr("10.0.0.1/8", &net, &err), -1);
	assert_non_null(strstr(err, "10.0.0.0/8"));
}

static void sockaddr_match_and_format(void **state)
{
	size_t len;
	char out[NETADDR_STRLEN];
	struct netaddr_cidr lo;
	const char *err;
	assert_int_equal(netaddr_parse_cidr("127.0.0.0/8", &lo, &err), 0);

	struct sockaddr_storage s = sa4("127.0.0.5", 143, &len);
	assert_true(netaddr_cidr_match_sockaddr(&lo, (struct sockaddr *)&s, len));
	assert_false(netaddr_cidr_match_sockaddr(&lo, (struct sockaddr *)&s, len - 1));
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&s, len, out, sizeof(out)),
	           "127.0.0.5:143");

	s = sa6("::ffff:127.0.0.1", 993, &len);
	assert_true(netaddr_cidr_match_sockaddr(&lo, (struct sockaddr *)&s, len));
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&s, len, out, sizeof(out)),
	           "127.0.0.1:993");
	struct netaddr a;
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&s, len, &a), 0);
	assert_int_equal(a.family, AF_INET);

	s = sa6("2001:db8::7", 25, &len);
	assert_false(netaddr_cidr_match_sockaddr(&lo, (struct sockaddr *)&s, len));
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&s, len, out, sizeof(out)),
	           "[2001:db8::7]:25");

	struct sockaddr_un un;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	strcpy(un.sun_path, "/run/lmtp");
	len = offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1;
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&un, len, &a), -1);
	assert_false(netaddr_cidr_match_sockaddr(&lo, (struct sockaddr *)&un, len));
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&un, len, out, sizeof(out)),
	           "unix:/run/lmtp");
	/* unnamed (as accept() reports a unix client) */
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&un, sizeof(sa_family_t), out,
	                                   sizeof(out)),
	           "unix:");
	/* small destination: cut, still terminated */
	char small[6];
	s = sa4("192.0.2.1", 1, &len);
	netaddr_format_sockaddr((struct sockaddr *)&s, len, small, sizeof(small));
	assert_str(small, "192.0");
}

static void listen_strings(void **state)
{
	struct netaddr_listen l;
	const char *err;
	char out[NETADDR_STRLEN];

	assert_int_equal(netaddr_parse_listen("127.0.0.1:10143", false, &l, &err), 0);
	assert_false(l.is_unix);
	assert_false(l.wildcard);
	assert_int_equal(l.port, 10143);
	assert_int_equal(l.addr.ss_family, AF_INET);
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&l.addr, l.addrlen, out, sizeof(out)),
	           "127.0.0.1:10143");

	assert_int_equal(netaddr_parse_listen("[::1]:993", false, &l, &err), 0);
	assert_int_equal(l.addr.ss_family, AF_INET6);
	assert_int_equal(l.addrlen, sizeof(struct sockaddr_in6));
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&l.addr, l.addrlen, out, sizeof(out)),
	           "[::1]:993");

	assert_int_equal(netaddr_parse_listen("*:25", false, &l, &err), 0);
	assert_true(l.wildcard);
	assert_int_equal(l.addr.ss_family, AF_INET6);
	assert_int_equal(l.fallback.ss_family, AF_INET);
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&l.addr, l.addrlen, out, sizeof(out)),
	           "[::]:25");
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&l.fallback, l.fallbacklen, out,
	                                   sizeof(out)),
	           "0.0.0.0:25");

	assert_int_equal(netaddr_parse_listen("unix:/run/mailkeep/lmtp", true, &l, &err), 0);
	assert_true(l.is_unix);
	assert_str(l.path, "/run/mailkeep/lmtp");
	assert_int_equal(l.addr.ss_family, AF_UNIX);
	assert_str(netaddr_format_sockaddr((struct sockaddr *)&l.addr, l.addrlen, out, sizeof(out)),
	           "unix:/run/mailkeep/lmtp");

	static const struct {
		const char *s;
		const char *why;  /* a word the error must contain */
	} bad[] = {
		{ "143", "address:port" },
		{ ":143", "address:port" },
		{ "*", "address:port" },
		{ "*:0", "port" },
		{ "*:65536", "port" },
		{ "*:0143", "port" },
		{ "*:", "port" },
		{ "*:14a", "port" },
		{ "127.0.0.1:-1", "port" },
		{ "::1:143", "brackets" },
		{ "[::1]143", "address:port" },
		{ "[::1", "address:port" },
		{ "[127.0.0.1]:143", "IPv6" },
		{ "[*]:143", "IPv6" },
		{ "localhost:143", "not resolved" },
		{ "256.0.0.1:143", "IPv4" },
		{ "unix:/run/lmtp", "lmtp_listen" },  /* allow_unix false */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (netaddr_parse_listen(bad[i].s, false, &l, &err) != -1)
			fail_msg("accepted bad listener '%s'", bad[i].s);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", bad[i].s, err, bad[i].why);
	}
	assert_int_equal(netaddr_parse_listen("unix:run/lmtp", true, &l, &err), -1);
	assert_non_null(strstr(err, "absolute"));
	char longpath[200] = "unix:/";
	memset(longpath + 6, 'x', 150);
	longpath[156] = '\0';
	assert_int_equal(netaddr_parse_listen(longpath, true, &l, &err), -1);
	assert_non_null(strstr(err, "too long"));
}

static bool conflict(const char *a, const char *b)
{
	struct netaddr_listen x, y;
	const char *err;
	assert_int_equal(netaddr_parse_listen(a, true, &x, &err), 0);
	assert_int_equal(netaddr_parse_listen(b, true, &y, &err), 0);
	bool r = netaddr_listen_conflict(&x, &y);
	assert_int_equal(netaddr_listen_conflict(&y, &x), r);
	return r;
}

static void listen_conflicts(void **state)
{
	assert_true(conflict("*:143", "*:143"));
	assert_true(conflict("*:143", "127.0.0.1:143"));
	assert_true(conflict("*:143", "[::1]:143"));
	assert_false(conflict("*:143", "*:993"));
	assert_true(conflict("0.0.0.0:143", "127.0.0.1:143"));
	assert_false(conflict("0.0.0.0:143", "[::1]:143"));
	assert_true(conflict("[::]:143", "127.0.0.1:143"));
	assert_true(conflict("127.0.0.1:143", "127.0.0.1:143"));
	assert_false(conflict("127.0.0.1:143", "127.0.0.2:143"));
	assert_true(conflict("[::1]:143", "[::1]:143"));
	assert_false(conflict("[::1]:143", "127.0.0.1:143"));
	assert_true(conflict("unix:/a", "unix:/a"));
	assert_false(conflict("unix:/a", "unix:/b"));
	assert_false(conflict("unix:/a", "*:24"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_addresses),
		cmocka_unit_test(cidr_parse_and_match),
		cmocka_unit_test(sockaddr_match_and_format),
		cmocka_unit_test(listen_strings),
		cmocka_unit_test(listen_conflicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
