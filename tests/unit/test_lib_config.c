#include "unit.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/netaddr.h"

#include <stdio.h>
#include <stdlib.h>

static int load(struct config *cfg, const char *text, char **err)
{
	*err = NULL;
	return config_load_text(cfg, text, strlen(text), "t.conf", err);
}

static void all_listeners(const struct config *cfg, void (*fn)(const char *key, const char *spec))
{
	const struct { const char *key; const struct str_list *l; } ls[] = {
		{ "imap_listen", &cfg->imap_listen }, { "imaps_listen", &cfg->imaps_listen },
		{ "pop3_listen", &cfg->pop3_listen }, { "pop3s_listen", &cfg->pop3s_listen },
		{ "submission_listen", &cfg->submission_listen },
		{ "submissions_listen", &cfg->submissions_listen },
		{ "smtp_listen", &cfg->smtp_listen }, { "lmtp_listen", &cfg->lmtp_listen },
	};
	for (size_t i = 0; i < 8; i++)
		for (size_t j = 0; j < ls[i].l->n; j++)
			fn(ls[i].key, ls[i].l->v[j]);
}

static void assert_one(const struct str_list *l, const char *v)
{
	assert_int_equal(l->n, 1);
	assert_str(l->v[0], v);
}

static void site_defaults_sane(void **state)
{
	struct config *cfg = config_new_defaults(false);
	char *err = NULL;
	assert_str(cfg->data_dir, "/var/lib/mailkeep");
	assert_true(cfg->hostname[0] != '\0');
	assert_str(cfg->user, "mailkeep");
	assert_one(&cfg->imap_listen, "*:143");
	assert_one(&cfg->imaps_listen, "*:993");
	assert_one(&cfg->pop3_listen, "*:110");
	assert_one(&cfg->pop3s_listen, "*:995");
	assert_one(&cfg->submission_listen, "*:587");
	assert_one(&cfg->submissions_listen, "*:465");
	assert_one(&cfg->smtp_listen, "*:25");
	assert_int_equal(cfg->lmtp_listen.n, 0);
	assert_int_equal(cfg->plaintext_auth_networks.n, 0);
	assert_int_equal(cfg->workers, 0);
	/* an office behind one NAT address: hundreds of connections, one IP */
	assert_true(cfg->max_connections_per_ip >= 300);
	assert_true(cfg->max_connections >= 10000);
	assert_int_equal(cfg->max_line, 64 * 1024);
	assert_int_equal(cfg->max_line_preauth, 8 * 1024);
	assert_int_equal(cfg->max_message_size, 50 * 1024 * 1024);
	assert_int_equal(cfg->output_buffer_limit, 256 * 1024);
	assert_int_equal(cfg->auth_fail_delay_max, 15);
	assert_true(cfg->imap_idle_timeout >= 30 * 60);  /* RFC 9051 5.4 */
	assert_true(cfg->pop3_idle_timeout >= 10 * 60);  /* RFC 1939 3 */
	assert_int_equal(cfg->smtp_timeout, 300);
	assert_true(cfg->preauth_timeout > 0 && cfg->preauth_timeout <= cfg->imap_idle_timeout);
	assert_int_equal(cfg->shutdown_timeout, 5);
	assert_int_equal(cfg->pop3_delete, POP3_DELETE_EXPUNGE);
	assert_false(cfg->pop3_enable_apop);
	assert_int_equal(cfg->queue_lifetime, 5 * 86400);
	assert_str(cfg->log_level, "info");
	assert_str(cfg->log_file, "");
	assert_str(cfg->tls_cert, "");
	assert_str(cfg->relay_host, "");
	assert_int_equal(config_validate(cfg, &err), 0);
	config_free(&cfg);
	assert_null(cfg);
}

static void expect_loopback(const char *key, const char *spec)
{
	struct netaddr_listen l;
	const char *err;
	assert_int_equal(netaddr_parse_listen(spec, true, &l, &err), 0);
	assert_false(l.wildcard);
	assert_true(l.port >= 1024);
	assert_int_equal(strncmp(spec, "127.0.0.1:", 10), 0);
}

static void dev_defaults_on_loopback(void **state)
{
	struct config *cfg = config_new_defaults(true);
	char *err = NULL;
	assert_str(cfg->data_dir, "./var/dev");
	assert_str(cfg->hostname, "localhost");
	assert_str(cfg->user, "");
	assert_one(&cfg->domains, "example.com");
	assert_one(&cfg->imap_listen, "127.0.0.1:10143");
	assert_one(&cfg->imaps_listen, "127.0.0.1:10993");
	assert_one(&cfg->pop3_listen, "127.0.0.1:10110");
	assert_one(&cfg->pop3s_listen, "127.0.0.1:10995");
	assert_one(&cfg->submission_listen, "127.0.0.1:10587");
	assert_one(&cfg->submissions_listen, "127.0.0.1:10465");
	assert_one(&cfg->smtp_listen, "127.0.0.1:10025");
	assert_one(&cfg->lmtp_listen, "127.0.0.1:10024");
	all_listeners(cfg, expect_loopback);
	assert_int_equal(config_validate(cfg, &err), 0);
	config_free(&cfg);
}

static void good_file(void **state)
{
	const char *text =
		"# mailkeep.conf\n"
		"\n"
		"data_dir = /srv/mail   # trailing comment\n"
		"hostname=mail.example.org\r\n"
		"  domains = example.org, example.net\texample.com\n"
		"domains = \"xn--bcher-kva.example\"\n"
		"tls_cert = \"/etc/ssl/my cert.pem\"\n"
		"tls_key = /etc/ssl/key.pem\n"
		"imap_listen = 192.0.2.1:143, [2001:db8::1]:143\n"
		"imaps_listen = *:993\n"
		"pop3_listen =\n"
		"pop3s_listen = \"\"\n"
		"lmtp_listen = \"unix:/run/mailkeep/lmtp\", 127.0.0.1:24\n"
		"workers = 8\n"
		"user = \"\"\n"
		"plaintext_auth_networks = 127.0.0.0/8 ::1 192.168.0.0/16\n"
		"log_level = debug\n"
		"max_line = 100K\n"
		"max_line_preauth = 4096\n"
		"max_message_size = 25MB\n"
		"max_connections = 0\n"
		"max_connections_per_ip = 1000\n"
		"output_buffer_limit = 1M\n"
		"auth_fail_delay_max = 1m\n"
		"imap_idle_timeout = 2h\n"
		"preauth_timeout = 30\n"
		"pop3_delete = trash\n"
		"pop3_enable_apop = no\n"
		"submission_save_sent = on\n"
		"queue_lifetime = 3d\n"
		"relay_host = \"smtp.isp.example:587\"\n"
		"relay_host = smarthost.example\n"
		"log_file = \"/var/log/a \\\"quoted\\\" \\\\ name\"\n";
	struct config *cfg = config_new_defaults(false);
	char *err;
	if (load(cfg, text, &err) != 0)
		fail_msg("%s", err);
	assert_str(cfg->data_dir, "/srv/mail");
	assert_str(cfg->hostname, "mail.example.org");
	assert_int_equal(cfg->domains.n, 4);
	assert_str(cfg->domains.v[0], "example.org");
	assert_str(cfg->domains.v[2], "example.com");
	assert_str(cfg->domains.v[3], "xn--bcher-kva.example");
	assert_str(cfg->tls_cert, "/etc/ssl/my cert.pem");
	assert_int_equal(cfg->imap_listen.n, 2);
	assert_str(cfg->imap_listen.v[1], "[2001:db8::1]:143");
	assert_int_equal(cfg->pop3_listen.n, 0);
	assert_int_equal(cfg->pop3s_listen.n, 0);
	assert_int_equal(cfg->lmtp_listen.n, 2);
	assert_str(cfg->lmtp_listen.v[0], "unix:/run/mailkeep/lmtp");
	assert_one(&cfg->smtp_listen, "*:25");  /* untouched default */
	assert_int_equal(cfg->workers, 8);
	assert_str(cfg->user, "");
	assert_int_equal(cfg->plaintext_auth_networks.n, 3);
	assert_str(cfg->log_level, "debug");
	assert_int_equal(cfg->max_line, 100 * 1024);
	assert_int_equal(cfg->max_line_preauth, 4096);
	assert_int_equal(cfg->max_message_size, 25 * 1024 * 1024);
	assert_int_equal(cfg->max_connections, 0);
	assert_int_equal(cfg->max_connections_per_ip, 1000);
	assert_int_equal(cfg->output_buffer_limit, 1024 * 1024);
	assert_int_equal(cfg->auth_fail_delay_max, 60);
	assert_int_equal(cfg->imap_idle_timeout, 7200);
	assert_int_equal(cfg->preauth_timeout, 30);
	assert_int_equal(cfg->pop3_delete, POP3_DELETE_TRASH);
	assert_false(cfg->pop3_enable_apop);
	assert_true(cfg->submission_save_sent);
	assert_int_equal(cfg->queue_lifetime, 3 * 86400);
	assert_str(cfg->relay_host, "smarthost.example");  /* scalar: last wins */
	assert_str(cfg->log_file, "/var/log/a \"quoted\" \\ name");
	assert_int_equal(config_validate(cfg, &err), 0);
	config_free(&cfg);
}

static void list_semantics(void **state)
{
	struct config *cfg = config_new_defaults(false);
	char *err;
	/* the first setting replaces the default, the next ones append */
	assert_int_equal(config_set(cfg, "imap_listen", "127.0.0.1:143", "--set", &err), 0);
	assert_one(&cfg->imap_listen, "127.0.0.1:143");
	assert_int_equal(config_set(cfg, "imap_listen", "[::1]:143", "--set", &err), 0);
	assert_int_equal(cfg->imap_listen.n, 2);
	/* empty value empties */
	assert_int_equal(config_set(cfg, "imap_listen", "", NULL, &err), 0);
	assert_int_equal(cfg->imap_listen.n, 0);
	assert_int_equal(config_set(cfg, "imap_listen", "*:1143", NULL, &err), 0);
	assert_one(&cfg->imap_listen, "*:1143");
	/* a file: `smtp_listen =` turns the listener off, comment after it too */
	assert_int_equal(load(cfg, "smtp_listen = # off\nsubmission_listen=\"\"\n", &err), 0);
	assert_int_equal(cfg->smtp_listen.n, 0);
	assert_int_equal(cfg->submission_listen.n, 0);
	/* scalar strings may be set empty */
	assert_int_equal(load(cfg, "user =\n", &err), 0);
	assert_str(cfg->user, "");
	config_free(&cfg);
}

static void error_messages(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "bogus = 1\n", "t.conf:1: key 'bogus': unknown key" },
		{ "\n# c\nimap_lisen = *:143\n",
		  "t.conf:3: key 'imap_lisen': unknown key (did you mean 'imap_listen'?)" },
		{ "workers 4\n", "t.conf:1: key 'workers': missing '=' (expected 'key = value')" },
		{ "workers\n", "t.conf:1: key 'workers': missing '=' (expected 'key = value')" },
		{ "= 4\n", "t.conf:1: missing key before '='" },
		{ "hostname = \"mail\n", "t.conf:1: key 'hostname': unterminated quote" },
		{ "hostname = \"a\"b\n", "t.conf:1: key 'hostname': unexpected text after the closing quote" },
		{ "hostname = a\"b\"\n", "t.conf:1: key 'hostname': quote in the middle of a value" },
		{ "log_file = \"a\\n\"\n", "t.conf:1: key 'log_file': bad escape in quotes (only \\\" and \\\\)" },
		{ "hostname = a b\n",
		  "t.conf:1: key 'hostname': expected one value (quote it if it contains spaces or commas)" },
		{ "hostname = -bad-\n", "t.conf:1: key 'hostname': '-bad-' is not a valid host name" },
		{ "domains = ok.example, bad_domain\n",
		  "t.conf:1: key 'domains': 'bad_domain': not a valid domain name" },
		{ "max_line = lots\n", "t.conf:1: key 'max_line': expected a size like 10M (suffix K, M or G)" },
		{ "max_line = 10\n", "t.conf:1: key 'max_line': size must be from 1K to 1G" },
		{ "max_line =\n", "t.conf:1: key 'max_line': expected a size like 10M (suffix K, M or G)" },
		{ "smtp_timeout = 5x\n",
		  "t.conf:1: key 'smtp_timeout': expected a duration like 30s, 10m, 2h or 5d" },
		{ "smtp_timeout = 0\n", "t.conf:1: key 'smtp_timeout': duration must be from 1s to 1d" },
		{ "workers = 257\n", "t.conf:1: key 'workers': expected a whole number from 0 to 256" },
		{ "workers = -1\n", "t.conf:1: key 'workers': expected a whole number from 0 to 256" },
		{ "max_connections = 1e6\n",
		  "t.conf:1: key 'max_connections': expected a whole number from 0 to 10000000" },
		{ "pop3_enable_apop = maybe\n", "t.conf:1: key 'pop3_enable_apop': expected yes or no" },
		{ "pop3_delete = delete\n", "t.conf:1: key 'pop3_delete': expected expunge, trash or flag" },
		{ "log_level = loud\n", "t.conf:1: key 'log_level': expected debug, info, warn or error" },
		{ "imap_listen = 143\n",
		  "t.conf:1: key 'imap_listen': '143': expected address:port, [IPv6]:port or *:port" },
		{ "imap_listen = *:70000\n",
		  "t.conf:1: key 'imap_listen': '*:70000': port must be a number from 1 to 65535" },
		{ "imap_listen = ::1:143\n",
		  "t.conf:1: key 'imap_listen': '::1:143': write IPv6 addresses in brackets, like [::1]:143" },
		{ "imap_listen = unix:/run/x\n",
		  "t.conf:1: key 'imap_listen': 'unix:/run/x': unix sockets are only allowed for lmtp_listen" },
		{ "lmtp_listen = unix:run/x\n",
		  "t.conf:1: key 'lmtp_listen': 'unix:run/x': a unix socket needs an absolute path, like unix:/run/mailkeep/lmtp" },
		{ "plaintext_auth_networks = 10.0.0.0/33\n",
		  "t.conf:1: key 'plaintext_auth_networks': '10.0.0.0/33': prefix length must be 0 to 32" },
		{ "plaintext_auth_networks = intranet\n",
		  "t.conf:1: key 'plaintext_auth_networks': 'intranet': expected a network like 192.168.0.0/16 or 2001:db8::/32" },
		{ "user = a\x01z\n", "t.conf:1: key 'user': control character in value" },
		{ "ok_line_then = x\n", "t.conf:1: key 'ok_line_then': unknown key" },
		{ "workers = 1\nworkers = 2\nworkers = x\n",
		  "t.conf:3: key 'workers': expected a whole number from 0 to 256" },
		{ "wor\x01kers = 1\n", "t.conf:1: key 'wor\\x01kers': unknown key (did you mean 'workers'?)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = config_new_defaults(false);
		char *err = NULL;
		if (load(cfg, cases[i].text, &err) != -1)
			fail_msg("accepted: %s", cases[i].text);
		assert_non_null(err);
		assert_str(err, cases[i].msg);
		free(err);
		config_free(&cfg);
	}
	/* NUL in the file */
	struct config *cfg = config_new_defaults(false);
	char *err = NULL;
	assert_int_equal(config_load_text(cfg, "workers = 1\0\n", 13, "t.conf", &err), -1);
	assert_str(err, "t.conf:1: NUL byte in line");
	free(err);
	/* config_set: origin instead of FILE:LINE, or nothing */
	assert_int_equal(config_set(cfg, "workers", "x", "--set", &err), -1);
	assert_str(err, "--set: key 'workers': expected a whole number from 0 to 256");
	free(err);
	assert_int_equal(config_set(cfg, "nope", "1", NULL, &err), -1);
	assert_str(err, "key 'nope': unknown key");
	free(err);
	config_free(&cfg);
}

static void file_errors(void **state)
{
	const char *dir = unit_tmpdir();
	char path[512];
	struct config *cfg = config_new_defaults(true);
	char *err = NULL;
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(config_load_file(cfg, path, &err), -1);
	assert_non_null(strstr(err, "missing.conf: cannot open: "));
	free(err);

	snprintf(path, sizeof(path), "%s/m.conf", dir);
	const char *text = "# dev overrides\nworkers = 2\n\nmax_line = 1x\n";
	unit_write_file(path, text, strlen(text));
	assert_int_equal(config_load_file(cfg, path, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s:4: key 'max_line': expected a size like 10M (suffix K, M or G)",
	         path);
	assert_str(err, want);
	free(err);
	assert_int_equal(cfg->workers, 2);  /* lines before the error were applied */

	text = "workers = 3\nimap_listen = 127.0.0.1:1143";  /* no final newline */
	unit_write_file(path, text, strlen(text));
	assert_int_equal(config_load_file(cfg, path, &err), 0);
	assert_int_equal(cfg->workers, 3);
	assert_one(&cfg->imap_listen, "127.0.0.1:1143");
	config_free(&cfg);
	unit_rmtree(dir);
}

static void validate_cross_checks(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "tls_cert = /c.pem\n", "key 'tls_key': empty, but tls_cert is set (set both or neither)" },
		{ "tls_key = /k.pem\n", "key 'tls_cert': empty, but tls_key is set (set both or neither)" },
		{ "data_dir =\n", "key 'data_dir': must not be empty" },
		{ "hostname =\n", "key 'hostname': must not be empty" },
		{ "max_line = 4K\nmax_line_preauth = 8K\n", "key 'max_line_preauth': larger than max_line" },
		{ "pop3_listen = *:143\n", "key 'pop3_listen': '*:143' conflicts with imap_listen '*:143'" },
		{ "imap_listen = 127.0.0.1:143, 127.0.0.1:143\n",
		  "key 'imap_listen': '127.0.0.1:143' conflicts with imap_listen '127.0.0.1:143'" },
		{ "lmtp_listen = 127.0.0.1:25\n",
		  "key 'lmtp_listen': '127.0.0.1:25' conflicts with smtp_listen '*:25'" },
		{ "pop3_enable_apop = yes\n",
		  "key 'pop3_enable_apop': APOP needs each password in clear on the server; "
		  "mailkeep keeps only argon2id hashes, so it cannot offer APOP" },
		{ "imap_listen=\nimaps_listen=\npop3_listen=\npop3s_listen=\nsubmission_listen=\n"
		  "submissions_listen=\nsmtp_listen=\nlmtp_listen=\n",
		  "no listeners: every *_listen key is empty" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = config_new_defaults(false);
		char *err = NULL;
		if (load(cfg, cases[i].text, &err) != 0)
			fail_msg("%s", err);
		assert_int_equal(config_validate(cfg, &err), -1);
		assert_str(err, cases[i].msg);
		free(err);
		config_free(&cfg);
	}
	struct config *cfg = config_new_defaults(false);
	char *err = NULL;
	/* a valid mix: IPv4 and IPv6 on one port, a unix socket, cert + key */
	assert_int_equal(load(cfg, "tls_cert = /c\ntls_key = /k\nlmtp_listen = unix:/run/l\n"
	                           "pop3_listen=127.0.0.1:143\nimap_listen = [::1]:143\n", &err), 0);
	if (config_validate(cfg, &err) != 0)
		fail_msg("%s", err);
	config_free(&cfg);
}

static bool same_list(const struct str_list *a, const struct str_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static void dump_reloads_to_equal_config(void **state)
{
	struct config *a = config_new_defaults(false);
	char *err;
	assert_int_equal(load(a, "domains = a.example b.example\nlog_file = \"/tmp/x y#z\"\n"
	                         "user = \"\"\nmax_line = 12345\nsmtp_timeout = 90\n"
	                         "pop3_delete = flag\nlmtp_listen = \"unix:/run/a b\"\n"
	                         "relay_host = \"has,comma\"\n", &err), 0);
	struct buf b;
	buf_init(&b, 64 * 1024);
	assert_int_equal(config_dump(a, &b), 0);
	struct config *c = config_new_defaults(true);  /* start from other defaults */
	if (config_load_text(c, buf_ptr(&b), buf_len(&b), "dump", &err) != 0)
		fail_msg("%s\n%s", err, buf_ptr(&b));
	assert_str(c->log_file, "/tmp/x y#z");
	assert_str(c->hostname, a->hostname);
	assert_str(c->relay_host, "has,comma");
	assert_true(same_list(&c->domains, &a->domains));
	assert_true(same_list(&c->lmtp_listen, &a->lmtp_listen));
	assert_true(same_list(&c->imap_listen, &a->imap_listen));
	assert_int_equal(c->max_line, 12345);
	assert_int_equal(c->smtp_timeout, 90);
	assert_int_equal(c->pop3_delete, POP3_DELETE_FLAG);
	assert_str(c->user, "");
	/* and dumping it again gives the same text */
	struct buf b2;
	buf_init(&b2, 64 * 1024);
	assert_int_equal(config_dump(c, &b2), 0);
	assert_str(buf_ptr(&b2), buf_ptr(&b));
	buf_deinit(&b);
	buf_deinit(&b2);
	config_free(&a);
	config_free(&c);
}

/* docs/CONFIG.md is written from the key table: every key must have its
 * heading there, and every heading must be a key. */
static void every_key_documented(void **state)
{
	FILE *fp = fopen("docs/CONFIG.md", "r");
	if (fp == NULL)
		fail_msg("docs/CONFIG.md not found (run from the repository root)");
	static char doc[256 * 1024];
	size_t n = fread(doc, 1, sizeof(doc) - 1, fp);
	doc[n] = '\0';
	fclose(fp);
	struct config_key_doc d;
	size_t count = 0;
	for (size_t i = 0; config_key_doc(i, &d) == 0; i++, count++) {
		char heading[128];
		snprintf(heading, sizeof(heading), "\n### `%s`\n", d.name);
		if (strstr(doc, heading) == NULL)
			fail_msg("docs/CONFIG.md has no heading for key '%s'", d.name);
		assert_non_null(d.type);
		assert_non_null(d.help);
	}
	size_t headings = 0;
	for (const char *p = doc; (p = strstr(p, "\n### `")) != NULL; p++)
		headings++;
	assert_int_equal(headings, count);
	assert_true(count >= 35);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(site_defaults_sane),
		cmocka_unit_test(dev_defaults_on_loopback),
		cmocka_unit_test(good_file),
		cmocka_unit_test(list_semantics),
		cmocka_unit_test(error_messages),
		cmocka_unit_test(file_errors),
		cmocka_unit_test(validate_cross_checks),
		cmocka_unit_test(dump_reloads_to_equal_config),
		cmocka_unit_test(every_key_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
