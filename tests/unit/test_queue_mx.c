/* MX records: parsing a DNS answer (with name compression and a CNAME on
 * the way) and the delivery order (preference, shuffled ties). Also the
 * small parsers of the client: host:port and enhanced status codes. */
#include "unit.h"
#include "queue/queue_client.h"
#include "queue/queue_deliver.h"
#include "queue/queue_mx.h"

struct dns {
	unsigned char b[1024];
	size_t n;
};

static void put(struct dns *d, const void *p, size_t n)
{
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void put16(struct dns *d, unsigned v)
{
	unsigned char x[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	put(d, x, 2);
}

/* Header + question "example.net MX" (the name starts at offset 12). */
static void start(struct dns *d, unsigned ancount)
{
	d->n = 0;
	put16(d, 0x1234);
	put16(d, 0x8180);
	put16(d, 1);
	put16(d, ancount);
	put16(d, 0);
	put16(d, 0);
	put(d, "\x07" "example" "\x03" "net", 12);
	put(d, "", 1);
	put16(d, 15);
	put16(d, 1);
}

/* An answer RR for example.net (pointer to offset 12). */
static void rr(struct dns *d, unsigned type, const void *rdata, size_t rdlen)
{
	put(d, "\xc0\x0c", 2);
	put16(d, type);
	put16(d, 1);
	put(d, "\x00\x00\x0e\x10", 4);
	put16(d, (unsigned)rdlen);
	put(d, rdata, rdlen);
}

static void mx_rr(struct dns *d, unsigned pref, const char *label)
{
	unsigned char rd[64];
	size_t ll = strlen(label), n = 0;
	rd[n++] = (unsigned char)(pref >> 8);
	rd[n++] = (unsigned char)pref;
	rd[n++] = (unsigned char)ll;
	memcpy(rd + n, label, ll);
	n += ll;
	rd[n++] = 0xc0;  /* + example.net, compressed */
	rd[n++] = 0x0c;
	rr(d, 15, rd, n);
}

static void parse_answer(void **state)
{
	struct dns d;
	start(&d, 4);
	rr(&d, 5, "\x03" "www" "\xc0\x0c", 6);  /* a CNAME: skipped */
	mx_rr(&d, 20, "backup");
	mx_rr(&d, 10, "mx1");
	mx_rr(&d, 10, "mx2");
	struct queue_mx mx[QUEUE_MX_MAX];
	size_t n;
	assert_int_equal(queue_mx_parse(d.b, d.n, mx, QUEUE_MX_MAX, &n), QUEUE_MX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(mx[0].pref, 20);
	assert_str(mx[0].host, "backup.example.net");
	assert_str(mx[1].host, "mx1.example.net");
	assert_str(mx[2].host, "mx2.example.net");
	/* at most max records are kept */
	assert_int_equal(queue_mx_parse(d.b, d.n, mx, 2, &n), QUEUE_MX_OK);
	assert_int_equal(n, 2);
	/* no MX at all: the implicit MX */
	start(&d, 0);
	assert_int_equal(queue_mx_parse(d.b, d.n, mx, QUEUE_MX_MAX, &n), QUEUE_MX_NONE);
	/* a null MX (RFC 7505): preference 0, exchange "." */
	start(&d, 1);
	rr(&d, 15, "\x00\x00\x00", 3);
	assert_int_equal(queue_mx_parse(d.b, d.n, mx, QUEUE_MX_MAX, &n), QUEUE_MX_OK);
	assert_int_equal(n, 1);
	assert_str(mx[0].host, "");
	/* truncated or garbage answers are temporary trouble, never a crash */
	start(&d, 2);
	mx_rr(&d, 10, "mx1");
	mx_rr(&d, 20, "mx2");
	for (size_t cut = 0; cut < d.n; cut++) {
		enum queue_mx_result r = queue_mx_parse(d.b, cut, mx, QUEUE_MX_MAX, &n);
		assert_true(r == QUEUE_MX_TEMP || r == QUEUE_MX_OK || r == QUEUE_MX_NONE);
	}
	assert_int_equal(queue_mx_parse(d.b, 5, mx, QUEUE_MX_MAX, &n), QUEUE_MX_TEMP);
}

static void ordering(void **state)
{
	struct queue_mx in[6] = {
		{ 30, "c" }, { 10, "a1" }, { 20, "b" }, { 10, "a2" }, { 10, "a3" }, { 0, "z" },
	};
	bool first_seen[3] = { false, false, false };
	for (uint64_t seed = 0; seed < 64; seed++) {
		struct queue_mx mx[6];
		memcpy(mx, in, sizeof(in));
		queue_mx_sort(mx, 6, seed);
		assert_str(mx[0].host, "z");
		for (int i = 1; i < 4; i++)
			assert_int_equal(mx[i].pref, 10);
		assert_str(mx[4].host, "b");
		assert_str(mx[5].host, "c");
		/* every pref-10 host comes first for some seed: ties are spread */
		first_seen[mx[1].host[1] - '1'] = true;
		/* the same seed gives the same order */
		struct queue_mx again[6];
		memcpy(again, in, sizeof(in));
		queue_mx_sort(again, 6, seed);
		for (int i = 0; i < 6; i++)
			assert_str(again[i].host, mx[i].host);
	}
	assert_true(first_seen[0] && first_seen[1] && first_seen[2]);
	queue_mx_sort(in, 0, 1);  /* empty: nothing happens */
}

static void hostport(void **state)
{
	char host[256];
	uint16_t port;
	assert_int_equal(qd_parse_hostport("127.0.0.1:2525", host, sizeof(host), &port, 25), 0);
	assert_str(host, "127.0.0.1");
	assert_int_equal(port, 2525);
	assert_int_equal(qd_parse_hostport("smtp.example.com", host, sizeof(host), &port, 25), 0);
	assert_str(host, "smtp.example.com");
	assert_int_equal(port, 25);
	assert_int_equal(qd_parse_hostport("[::1]:587", host, sizeof(host), &port, 25), 0);
	assert_str(host, "::1");
	assert_int_equal(port, 587);
	assert_int_equal(qd_parse_hostport("[::1]", host, sizeof(host), &port, 25), 0);
	assert_int_equal(port, 25);
	static const char *const bad[] = { "", ":25", "h:", "h:0", "h:65536", "h:2x", "::1:25",
	                                   "[::1", "[::1]x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qd_parse_hostport(bad[i], host, sizeof(host), &port, 25) != -1)
			fail_msg("accepted '%s'", bad[i]);
}

static void enhanced_codes(void **state)
{
	char st[16];
	qc_enhanced("550 5.1.1 No such user", st);
	assert_str(st, "5.1.1");
	qc_enhanced("250 2.0.0", st);
	assert_str(st, "2.0.0");
	qc_enhanced("451 4.3.0 try later", st);
	assert_str(st, "4.3.0");
	qc_enhanced("452 4.2.22 x", st);
	assert_str(st, "4.2.22");
	static const char *const none[] = { "550 No such user", "550", "550 5.1 x", "550 6.1.1 x",
	                                    "550 5..1 x", "550 5.1.1x y", "" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		qc_enhanced(none[i], st);
		if (st[0] != '\0')
			fail_msg("'%s' gave '%s'", none[i], st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_answer),
		cmocka_unit_test(ordering),
		cmocka_unit_test(hostport),
		cmocka_unit_test(enhanced_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
