#include "unit.h"
#include "smtp/smtp_addr.h"

#include <stdio.h>

static int parse(const char *s, unsigned flags, struct smtp_path *p, size_t *used)
{
	const char *err = NULL;
	int rc = smtp_path_parse(s, strlen(s), flags, p, used, &err);
	if (rc < 0)
		assert_non_null(err);
	return rc;
}

static void plain_addresses(void **state)
{
	struct smtp_path p;
	size_t used;
	assert_int_equal(parse("<alice@Example.COM>", 0, &p, &used), 0);
	assert_str(p.addr, "alice@example.com");
	assert_int_equal(used, 19);
	assert_int_equal(p.local_len, 5);
	assert_str(smtp_path_domain(&p), "example.com");
	assert_false(p.is_null);

	assert_int_equal(parse("<first.last+tag@a-b.example.org> SIZE=1", 0, &p, &used), 0);
	assert_str(p.addr, "first.last+tag@a-b.example.org");
	assert_int_equal(used, 32);

	assert_int_equal(parse("<x@localhost>", 0, &p, &used), 0);
	assert_str(p.addr, "x@localhost");
}

static void null_and_postmaster(void **state)
{
	struct smtp_path p;
	size_t used;
	assert_int_equal(parse("<>", SMTP_PATH_ALLOW_NULL, &p, &used), 0);
	assert_true(p.is_null);
	assert_str(p.addr, "");
	assert_int_equal(used, 2);
	assert_int_equal(parse("<>", 0, &p, &used), -1);

	assert_int_equal(parse("<Postmaster>", SMTP_PATH_ALLOW_POSTMASTER, &p, &used), 0);
	assert_true(p.is_postmaster);
	assert_int_equal(parse("<postMASTER>", SMTP_PATH_ALLOW_POSTMASTER, &p, &used), 0);
	assert_int_equal(parse("<Postmaster>", 0, &p, &used), -1);
}

static void quoted_local_parts(void **state)
{
	struct smtp_path p;
	size_t used;
	/* Quotes around a dot-string are dropped. */
	assert_int_equal(parse("<\"john.doe\"@example.com>", 0, &p, &used), 0);
	assert_str(p.addr, "john.doe@example.com");
	/* Needed quotes are kept. */
	assert_int_equal(parse("<\"john doe\"@example.com>", 0, &p, &used), 0);
	assert_str(p.addr, "\"john doe\"@example.com");
	assert_int_equal(parse("<\"a\\\"b\"@example.com>", 0, &p, &used), 0);
	assert_str(p.addr, "\"a\\\"b\"@example.com");
	assert_int_equal(parse("<\"unterminated@example.com>", 0, &p, &used), -1);
}

static void source_route_and_literals(void **state)
{
	struct smtp_path p;
	size_t used;
	assert_int_equal(parse("<@relay.example,@b.example:user@example.com>", 0, &p, &used), 0);
	assert_str(p.addr, "user@example.com");
	assert_int_equal(parse("<user@[192.0.2.1]>", 0, &p, &used), 0);
	assert_true(p.domain_literal);
	assert_str(p.addr, "user@[192.0.2.1]");
	assert_int_equal(parse("<user@[IPv6:2001:db8::1]>", 0, &p, &used), 0);
	assert_int_equal(parse("<user@[]>", 0, &p, &used), -1);
}

static void refused(void **state)
{
	static const char *const bad[] = {
		"", "alice@example.com", "<alice@example.com", "<alice>", "<@example.com>",
		"<alice@>", "<.alice@example.com>", "<alice.@example.com>", "<al..ice@example.com>",
		"<alice@-example.com>", "<alice@example-.com>", "<alice@exa mple.com>",
		"<alice@example..com>", "<alice@example.com.>", "<a lice@example.com>",
		"<alice@example.com\x01>", "<al\x01ice@example.com>", "<@a:>", "<@a,b:x@y>",
	};
	struct smtp_path p;
	size_t used;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], SMTP_PATH_UTF8 | SMTP_PATH_ALLOW_NULL, &p, &used) == 0)
			fail_msg("accepted %s", bad[i]);
	}
}

static void limits(void **state)
{
	char buf[600];
	struct smtp_path p;
	size_t used;
	char local[70];
	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(buf, sizeof(buf), "<%s@example.com>", local);
	assert_int_equal(parse(buf, 0, &p, &used), 0);
	local[64] = 'a';
	local[65] = '\0';
	snprintf(buf, sizeof(buf), "<%s@example.com>", local);
	assert_int_equal(parse(buf, 0, &p, &used), -1);
	/* A whole path over 256 octets. */
	char dom[400];
	size_t o = 0;
	for (int i = 0; i < 5; i++) {
		memset(dom + o, 'd', 60);
		o += 60;
		dom[o++] = '.';
	}
	memcpy(dom + o, "com", 4);
	snprintf(buf, sizeof(buf), "<%s@%s>", local + 1, dom);
	assert_int_equal(parse(buf, 0, &p, &used), -1);
}

static void utf8(void **state)
{
	struct smtp_path p;
	size_t used;
	const char *s = "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>";
	assert_int_equal(parse(s, 0, &p, &used), -1);
	assert_int_equal(parse(s, SMTP_PATH_UTF8, &p, &used), 0);
	assert_true(p.has_utf8);
	assert_str(p.addr, "j\xc3\xb6rg@b\xc3\xbc" "cher.example");
	/* Malformed UTF-8: an overlong, a lone continuation, a surrogate. */
	assert_int_equal(parse("<\xc0\xafx@example.com>", SMTP_PATH_UTF8, &p, &used), -1);
	assert_int_equal(parse("<\x80x@example.com>", SMTP_PATH_UTF8, &p, &used), -1);
	assert_int_equal(parse("<\xed\xa0\x80x@example.com>", SMTP_PATH_UTF8, &p, &used), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_addresses),
		cmocka_unit_test(null_and_postmaster),
		cmocka_unit_test(quoted_local_parts),
		cmocka_unit_test(source_route_and_literals),
		cmocka_unit_test(refused),
		cmocka_unit_test(limits),
		cmocka_unit_test(utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
