/*
 * config: the key table and typed values. File syntax (lines, quotes,
 * comments) is in config_file.c; both meet in config_int.h.
 */
#include "lib/config.h"
#include "lib/arena.h"
#include "lib/config_int.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/strutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K 1024ull
#define M (1024ull * 1024)
#define G (1024ull * 1024 * 1024)
#define OFF(field) offsetof(struct config, field)

/* The single source of keys, types, defaults (real site, development) and
 * the one-line help; docs/CONFIG.md is written from it, and
 * test_lib_config checks that every key is documented there. */
static const struct key_def keys[] = {
	{ "data_dir", T_PATH, OFF(data_dir), "/var/lib/mailkeep", "./var/dev", 0, 0,
	  "Directory of accounts.db, mail stores, the queue and the self-signed certificate." },
	{ "hostname", T_HOSTNAME, OFF(hostname), NULL, "localhost", 0, 0,
	  "This server's name in greetings, Received: headers and HELO." },
	{ "domains", T_DOMAINS, OFF(domains), "", "example.com", 0, 0,
	  "Mail domains delivered locally (more can be added with `mailkeep domain add`)." },
	{ "tls_cert", T_PATH, OFF(tls_cert), "", "", 0, 0,
	  "PEM certificate chain; empty = a self-signed one in <data_dir>/tls/." },
	{ "tls_key", T_PATH, OFF(tls_key), "", "", 0, 0,
	  "PEM private key of tls_cert." },
	{ "imap_listen", T_LISTEN, OFF(imap_listen), "*:143", "127.0.0.1:10143", 0, 0,
	  "IMAP with STARTTLS." },
	{ "imaps_listen", T_LISTEN, OFF(imaps_listen), "*:993", "127.0.0.1:10993", 0, 0,
	  "IMAP over implicit TLS." },
	{ "pop3_listen", T_LISTEN, OFF(pop3_listen), "*:110", "127.0.0.1:10110", 0, 0,
	  "POP3 with STLS." },
	{ "pop3s_listen", T_LISTEN, OFF(pop3s_listen), "*:995", "127.0.0.1:10995", 0, 0,
	  "POP3 over implicit TLS." },
	{ "submission_listen", T_LISTEN, OFF(submission_listen), "*:587", "127.0.0.1:10587", 0, 0,
	  "Mail submission with STARTTLS and AUTH." },
	{ "submissions_listen", T_LISTEN, OFF(submissions_listen), "*:465", "127.0.0.1:10465", 0, 0,
	  "Mail submission over implicit TLS." },
	{ "smtp_listen", T_LISTEN, OFF(smtp_listen), "*:25", "127.0.0.1:10025", 0, 0,
	  "Inbound SMTP (MX) for the local domains." },
	{ "lmtp_listen", T_LISTEN_UNIX, OFF(lmtp_listen), "", "127.0.0.1:10024", 0, 0,
	  "LMTP, for an MTA delivering into mailkeep; also unix:/path." },
	{ "workers", T_UINT, OFF(workers), "0", "0", 0, 256,
	  "Event-loop threads; 0 = two per CPU core." },
	{ "user", T_STRING, OFF(user), "mailkeep", "", 0, 0,
	  "Run as this user after binding the ports, when started as root; empty = stay." },
	{ "plaintext_auth_networks", T_NETWORKS, OFF(plaintext_auth_networks), "", "", 0, 0,
	  "Networks (CIDR) where passwords may be sent without TLS." },
	{ "log_file", T_PATH, OFF(log_file), "", "", 0, 0,
	  "Log file; empty = standard error." },
	{ "log_level", T_LOGLEVEL, OFF(log_level), "info", "info", 0, 0,
	  "Least severe level logged: debug, info, warn or error." },
	{ "max_line", T_SIZE, OFF(max_line), "64K", "64K", 1 * K, 1 * G,
	  "Longest command line after login." },
	{ "max_line_preauth", T_SIZE, OFF(max_line_preauth), "8K", "8K", 512, 1 * G,
	  "Longest command line before login." },
	{ "max_message_size", T_SIZE, OFF(max_message_size), "50M", "50M", 1 * K, 2 * G,
	  "Largest message accepted by APPEND, SMTP and LMTP." },
	{ "max_connections", T_COUNT, OFF(max_connections), "20000", "20000", 0, 10000000,
	  "Connections open at once, whole server; 0 = no limit." },
	{ "max_connections_per_ip", T_COUNT, OFF(max_connections_per_ip), "500", "500", 0, 10000000,
	  "Connections open at once from one client address; 0 = no limit." },
	{ "output_buffer_limit", T_SIZE, OFF(output_buffer_limit), "256K", "256K", 4 * K, 1 * G,
	  "Unsent output per connection above which the session pauses." },
	{ "auth_fail_delay_max", T_DURATION, OFF(auth_fail_delay_max), "15s", "15s", 0, 3600,
	  "Cap of the delay that grows with failed logins per address and account." },
	{ "auth_cache_ttl", T_DURATION, OFF(auth_cache_ttl), "1h", "1h", 0, 86400,
	  "How long a successful password check is remembered; 0 = verify every login." },
	{ "imap_idle_timeout", T_DURATION, OFF(imap_idle_timeout), "30m", "30m", 1, 7 * 86400,
	  "IMAP inactivity logout after login (RFC 9051: at least 30 minutes)." },
	{ "preauth_timeout", T_DURATION, OFF(preauth_timeout), "60s", "60s", 1, 3600,
	  "Inactivity limit before login (IMAP, POP3, submission)." },
	{ "pop3_idle_timeout", T_DURATION, OFF(pop3_idle_timeout), "10m", "10m", 1, 86400,
	  "POP3 inactivity logout after login (RFC 1939: at least 10 minutes)." },
	{ "smtp_timeout", T_DURATION, OFF(smtp_timeout), "5m", "5m", 1, 86400,
	  "SMTP/LMTP inactivity limit per command (RFC 5321: 5 minutes)." },
	{ "shutdown_timeout", T_DURATION, OFF(shutdown_timeout), "5s", "5s", 0, 600,
	  "On SIGTERM, time given to commands in progress before connections close." },
	{ "pop3_delete", T_POP3_DELETE, OFF(pop3_delete), "expunge", "expunge", 0, 0,
	  "What POP3 DELE does at QUIT: expunge, trash (move to Trash) or flag (\\Deleted)." },
	{ "pop3_enable_apop", T_BOOL, OFF(pop3_enable_apop), "no", "no", 0, 0,
	  "APOP (MD5 challenge): refused, passwords are kept as argon2id hashes only." },
	{ "submission_save_sent", T_BOOL, OFF(submission_save_sent), "no", "no", 0, 0,
	  "Store a copy of each submitted message in the sender's Sent mailbox." },
	{ "queue_lifetime", T_DURATION, OFF(queue_lifetime), "5d", "5d", 1, 30 * 86400,
	  "How long undeliverable outbound mail is retried before it bounces." },
	{ "queue_retry_min", T_DURATION, OFF(queue_retry_min), "5m", "5m", 1, 86400,
	  "Wait before the first retry of outbound mail; doubles after each failure." },
	{ "queue_retry_max", T_DURATION, OFF(queue_retry_max), "4h", "4h", 1, 7 * 86400,
	  "Longest wait between two retries of outbound mail." },
	{ "queue_delay_notice", T_DURATION, OFF(queue_delay_notice), "4h", "4h", 0, 30 * 86400,
	  "Tell the sender once that outbound mail is still queued after this long; 0 = never." },
	{ "queue_workers", T_UINT, OFF(queue_workers), "8", "8", 1, 256,
	  "Outbound delivery threads: connections to other servers at once." },
	{ "queue_domain_concurrency", T_UINT, OFF(queue_domain_concurrency), "4", "4", 1, 256,
	  "Outbound connections at once to one destination (domain, route or relay)." },
	{ "queue_route", T_ROUTES, OFF(queue_route), "", "", 0, 0,
	  "Deliver mail for a domain to a fixed host: domain=host:port (several allowed)." },
	{ "relay_host", T_STRING, OFF(relay_host), "", "", 0, 0,
	  "Send all outbound mail through host[:port]; empty = direct by MX." },
	{ "relay_user", T_STRING, OFF(relay_user), "", "", 0, 0,
	  "User name for AUTH at relay_host (only over TLS); empty = no AUTH." },
	{ "relay_password_file", T_PATH, OFF(relay_password_file), "", "", 0, 0,
	  "File whose first line is the password for relay_user." },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const type_names[] = {
	[T_STRING] = "string", [T_PATH] = "path", [T_HOSTNAME] = "host name",
	[T_DOMAINS] = "list of domains", [T_LISTEN] = "list of listeners",
	[T_LISTEN_UNIX] = "list of listeners", [T_NETWORKS] = "list of networks",
	[T_ROUTES] = "list of routes",
	[T_UINT] = "number", [T_COUNT] = "number", [T_SIZE] = "size",
	[T_DURATION] = "duration", [T_BOOL] = "boolean", [T_POP3_DELETE] = "enum",
	[T_LOGLEVEL] = "log level",
};

static const char *const pop3_delete_names[] = { "expunge", "trash", "flag" };

const struct key_def *config_find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

/* Edit distance, for "did you mean": key names are short. */
static size_t distance(const char *a, size_t na, const char *b)
{
	size_t nb = strlen(b), row[64];
	if (na >= 63 || nb >= 63)
		return 99;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

const char *config_suggest_key(const char *name, size_t len)
{
	const char *best = NULL;
	size_t bestd = 3;  /* suggest only close misspellings */
	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = distance(name, len, keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	return best;
}

static struct str_list *list_at(struct config *cfg, const struct key_def *k)
{
	return (struct str_list *)((char *)cfg + k->off);
}

static void list_clear(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool is_list(enum key_type t)
{
	return t == T_DOMAINS || t == T_LISTEN || t == T_LISTEN_UNIX || t == T_NETWORKS ||
	       t == T_ROUTES;
}

/* "10M"-style text of a size, for messages. */
static void size_text(uint64_t v, char *out, size_t n)
{
	if (v >= G && v % G == 0)
		snprintf(out, n, "%lluG", (unsigned long long)(v / G));
	else if (v >= M && v % M == 0)
		snprintf(out, n, "%lluM", (unsigned long long)(v / M));
	else if (v >= K && v % K == 0)
		snprintf(out, n, "%lluK", (unsigned long long)(v / K));
	else
		snprintf(out, n, "%llu", (unsigned long long)v);
}

static void duration_text(uint64_t v, char *out, size_t n)
{
	if (v >= 86400 && v % 86400 == 0)
		snprintf(out, n, "%llud", (unsigned long long)(v / 86400));
	else if (v >= 3600 && v % 3600 == 0)
		snprintf(out, n, "%lluh", (unsigned long long)(v / 3600));
	else if (v >= 60 && v % 60 == 0)
		snprintf(out, n, "%llum", (unsigned long long)(v / 60));
	else
		snprintf(out, n, "%llus", (unsigned long long)v);
}

/* A host or domain name: dot-separated labels of letters, digits and
 * inner hyphens (IDNs as xn-- A-labels). */
static bool valid_hostname(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		           (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* "domain=host:port": NULL if good, else the problem (static). The host
 * is a name, an IPv4 address or a bracketed IPv6 address. */
static const char *check_route(const char *item)
{
	const char *eq = strchr(item, '=');
	char domain[256], host[256];
	if (eq == NULL || (size_t)(eq - item) >= sizeof(domain))
		return "expected domain=host:port";
	memcpy(domain, item, (size_t)(eq - item));
	domain[eq - item] = '\0';
	if (!valid_hostname(domain))
		return "not a valid domain name before '='";
	const char *hp = eq + 1, *colon = strrchr(hp, ':');
	if (colon == NULL || colon == hp)
		return "expected host:port after '='";
	size_t hl = (size_t)(colon - hp);
	if (hp[0] == '[') {
		if (hl < 3 || hp[hl - 1] != ']')
			return "an IPv6 host needs brackets: [2001:db8::1]:25";
		hp++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return "host name too long";
	memcpy(host, hp, hl);
	host[hl] = '\0';
	struct netaddr na;
	if (!valid_hostname(host) && netaddr_parse(host, &na) < 0)
		return "not a valid host name or address";
	uint64_t port;
	if (str_parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return "port must be from 1 to 65535";
	return NULL;
}

/* Check one list item; NULL if good, else the problem (static). */
static const char *check_item(const struct key_def *k, const char *item)
{
	const char *err = NULL;
	if (k->type == T_DOMAINS) {
		if (!valid_hostname(item))
			err = "not a valid domain name";
	} else if (k->type == T_LISTEN || k->type == T_LISTEN_UNIX) {
		struct netaddr_listen nl;
		if (netaddr_parse_listen(item, k->type == T_LISTEN_UNIX, &nl, &err) == 0)
			err = NULL;
	} else if (k->type == T_ROUTES) {
		err = check_route(item);
	} else if (k->type == T_NETWORKS) {
		struct netaddr_cidr net;
		if (netaddr_parse_cidr(item, &net, &err) == 0)
			err = NULL;
	}
	return err;
}

static int fail(char **error_r, const char *origin, const struct key_def *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char **error_r, const char *origin, const struct key_def *k, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	struct buf b;
	buf_init(&b, 2048);
	if (origin != NULL && origin[0] != '\0')
		buf_printf(&b, "%s: ", origin);
	buf_printf(&b, "key '%s': %s", k->name, what);
	*error_r = xstrdup(buf_ptr(&b));
	buf_deinit(&b);
	return -1;
}

static int set_scalar(struct config *cfg, const struct key_def *k, const char *v,
                      const char *origin, char **error_r)
{
	void *field = (char *)cfg + k->off;
	uint64_t n;
	char lo[32], hi[32];
	switch (k->type) {
	case T_STRING:
	case T_PATH:
	case T_HOSTNAME:
		if (k->type == T_HOSTNAME && v[0] != '\0' && !valid_hostname(v))
			return fail(error_r, origin, k, "'%s' is not a valid host name", v);
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return 0;
	case T_UINT:
	case T_COUNT:
		if (str_parse_u64(v, &n) < 0 || n < k->min || n > k->max)
			return fail(error_r, origin, k, "expected a whole number from %llu to %llu",
			            (unsigned long long)k->min, (unsigned long long)k->max);
		if (k->type == T_UINT)
			*(unsigned *)field = (unsigned)n;
		else
			*(uint64_t *)field = n;
		return 0;
	case T_SIZE:
		if (str_parse_size(v, &n) < 0)
			return fail(error_r, origin, k, "expected a size like 10M (suffix K, M or G)");
		if (n < k->min || n > k->max) {
			size_text(k->min, lo, sizeof(lo));
			size_text(k->max, hi, sizeof(hi));
			return fail(error_r, origin, k, "size must be from %s to %s", lo, hi);
		}
		*(uint64_t *)field = n;
		return 0;
	case T_DURATION:
		if (str_parse_duration(v, &n) < 0)
			return fail(error_r, origin, k,
			            "expected a duration like 30s, 10m, 2h or 5d");
		if (n < k->min || n > k->max) {
			duration_text(k->min, lo, sizeof(lo));
			duration_text(k->max, hi, sizeof(hi));
			return fail(error_r, origin, k, "duration must be from %s to %s", lo, hi);
		}
		*(uint64_t *)field = n;
		return 0;
	case T_BOOL:
		if (str_parse_bool(v, (bool *)field) < 0)
			return fail(error_r, origin, k, "expected yes or no");
		return 0;
	case T_POP3_DELETE:
		for (int i = 0; i < 3; i++) {
			if (strcmp(v, pop3_delete_names[i]) == 0) {
				*(enum pop3_delete_mode *)field = (enum pop3_delete_mode)i;
				return 0;
			}
		}
		return fail(error_r, origin, k, "expected expunge, trash or flag");
	case T_LOGLEVEL:
		if (log_level_parse(v) < 0)
			return fail(error_r, origin, k, "expected debug, info, warn or error");
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return 0;
	default:
		return fail(error_r, origin, k, "internal: not a scalar");
	}
}

int config_apply(struct config *cfg, const struct key_def *k, char *const *items, size_t n,
                 const char *origin, char **error_r)
{
	if (!is_list(k->type)) {
		if (n > 1)
			return fail(error_r, origin, k,
			            "expected one value (quote it if it contains spaces or commas)");
		return set_scalar(cfg, k, n == 1 ? items[0] : "", origin, error_r);
	}
	for (size_t i = 0; i < n; i++) {
		const char *err = items[i][0] != '\0' ? check_item(k, items[i]) : NULL;
		if (err != NULL)
			return fail(error_r, origin, k, "'%s': %s", items[i], err);
	}
	struct str_list *l = list_at(cfg, k);
	if (l->is_default || n == 0)
		list_clear(l);
	l->is_default = false;
	for (size_t i = 0; i < n; i++) {
		if (items[i][0] == '\0')
			continue;  /* `key = ""` empties like `key =` */
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = xstrdup(items[i]);
	}
	return 0;
}

int config_set(struct config *cfg, const char *key, const char *value, const char *origin,
               char **error_r)
{
	const struct key_def *k = config_find_key(key, strlen(key));
	if (k == NULL)
		return config_unknown_key(key, strlen(key), origin, error_r);
	return config_apply_text(cfg, k, value, origin, error_r);
}

struct config *config_new_defaults(bool dev)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_def *k = &keys[i];
		const char *def = dev ? k->dev : k->site;
		char *err = NULL;
		if (def == NULL)
			def = "";
		if (config_apply_text(cfg, k, def, "default", &err) < 0)
			abort();  /* a bad table entry: caught by the unit tests */
		if (is_list(k->type))
			list_at(cfg, k)->is_default = true;
	}
	if (!dev) {
		/* gethostname() may leave a cut name unterminated. */
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) < 0 || !valid_hostname(host))
			strcpy(host, "localhost");
		free(cfg->hostname);
		cfg->hostname = xstrdup(host);
	}
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_def *k = &keys[i];
		if (is_list(k->type))
			list_clear(list_at(cfg, k));
		else if (k->type == T_STRING || k->type == T_PATH || k->type == T_HOSTNAME ||
		         k->type == T_LOGLEVEL)
			free(*(char **)((char *)cfg + k->off));
	}
	free(cfg);
	*cfgp = NULL;
}

int config_key_doc(size_t i, struct config_key_doc *out)
{
	if (i >= NKEYS)
		return -1;
	out->name = keys[i].name;
	out->type = type_names[keys[i].type];
	out->site_default = keys[i].site;
	out->dev_default = keys[i].dev;
	out->help = keys[i].help;
	return 0;
}

/* The text of one value as it would be written in a file. */
static int dump_value(const struct config *cfg, const struct key_def *k, struct buf *out)
{
	const void *field = (const char *)cfg + k->off;
	char tmp[32];
	switch (k->type) {
	case T_STRING:
	case T_PATH:
	case T_HOSTNAME:
	case T_LOGLEVEL:
		return config_quote(*(char *const *)field, out);
	case T_UINT:
		return buf_printf(out, "%u", *(const unsigned *)field);
	case T_COUNT:
		return buf_printf(out, "%llu", (unsigned long long)*(const uint64_t *)field);
	case T_SIZE:
		size_text(*(const uint64_t *)field, tmp, sizeof(tmp));
		return buf_append_str(out, tmp);
	case T_DURATION:
		duration_text(*(const uint64_t *)field, tmp, sizeof(tmp));
		return buf_append_str(out, tmp);
	case T_BOOL:
		return buf_append_str(out, *(const bool *)field ? "yes" : "no");
	case T_POP3_DELETE:
		return buf_append_str(out, pop3_delete_names[*(const enum pop3_delete_mode *)field]);
	default: {
		const struct str_list *l = field;
		for (size_t i = 0; i < l->n; i++)
			if ((i > 0 && buf_append_str(out, ", ") < 0) || config_quote(l->v[i], out) < 0)
				return -1;
		return 0;
	}
	}
}

int config_dump(const struct config *cfg, struct buf *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (buf_printf(out, "%s = ", keys[i].name) < 0 || dump_value(cfg, &keys[i], out) < 0 ||
		    buf_append_str(out, "\n") < 0)
			return -1;
	}
	return 0;
}

const struct key_def *config_keys(size_t *n)
{
	*n = NKEYS;
	return keys;
}
