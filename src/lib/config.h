/*
 * config: the server's settings, from a `key = value` file.
 *
 * File syntax: one `key = value` per line; `#` starts a comment (outside a
 * value's quotes); blank lines are ignored; a value may be wrapped in double
 * quotes (inside them \" and \\ stand for " and \). Lists take comma- or
 * space-separated items, each optionally quoted; a key given twice appends
 * to a list and replaces a scalar, but the first setting of a list replaces
 * its built-in default, and an empty value (`smtp_listen =`) empties it.
 * Sizes take K/M/G suffixes (powers of 1024); durations take s/m/h/d (plain
 * number = seconds); booleans are yes/no/true/false/on/off/1/0.
 *
 * Unknown keys and bad values are errors: config_load_file() fails with a
 * message "FILE:LINE: key 'name': what is wrong" (a line with no key to
 * name: "FILE:LINE: what is wrong").
 *
 * A struct config is plain data: read it from any thread once loaded; the
 * functions here are not meant to run concurrently on the same config.
 *
 * Every key, its type, default and meaning is documented in docs/CONFIG.md;
 * the table in config.c is the single source of both.
 */
#ifndef MK_CONFIG_H
#define MK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct str_list {
	size_t n;
	char **v;  /* n entries, heap strings, owned by the config */
	bool is_default;  /* still the built-in default (the next set replaces it) */
};

enum pop3_delete_mode { POP3_DELETE_EXPUNGE, POP3_DELETE_TRASH, POP3_DELETE_FLAG };

struct config {
	char *data_dir;
	char *hostname;
	struct str_list domains;
	char *tls_cert;           /* "" = self-signed in <data_dir>/tls/ */
	char *tls_key;

	/* Listeners: "address:port", "[v6]:port", or for lmtp "unix:/path". */
	struct str_list imap_listen, imaps_listen;
	struct str_list pop3_listen, pop3s_listen;
	struct str_list submission_listen, submissions_listen;
	struct str_list smtp_listen, lmtp_listen;

	unsigned workers;         /* 0 = two per core; at most 256 */
	char *user;               /* run-as user when started as root; "" = none */
	struct str_list plaintext_auth_networks;  /* CIDRs */

	char *log_file;           /* "" = stderr */
	char *log_level;          /* debug | info | warn | error */

	/* Limits (DESIGN.md principle 3). */
	uint64_t max_line;            /* bytes in one command line, after login */
	uint64_t max_line_preauth;    /* before login */
	uint64_t max_message_size;    /* APPEND literal / SMTP message */
	uint64_t max_connections;     /* whole server; 0 = no limit */
	uint64_t max_connections_per_ip;  /* 0 = no limit */
	uint64_t output_buffer_limit; /* per connection: pause above this */
	uint64_t auth_fail_delay_max; /* seconds, cap of the failed-login slow-down */
	uint64_t auth_cache_ttl;      /* seconds a verified password is remembered; 0 = off */

	/* Timeouts, seconds. */
	uint64_t imap_idle_timeout;   /* autologout after login (RFC: >= 30 min) */
	uint64_t preauth_timeout;     /* before login, all protocols */
	uint64_t pop3_idle_timeout;
	uint64_t smtp_timeout;
	uint64_t shutdown_timeout;    /* SIGTERM: time given to in-flight commands */

	/* POP3 */
	enum pop3_delete_mode pop3_delete;
	bool pop3_enable_apop;

	/* SMTP / queue */
	bool submission_save_sent;
	uint64_t queue_lifetime;      /* seconds */
	uint64_t queue_retry_min;     /* seconds: first retry delay, doubling */
	uint64_t queue_retry_max;     /* seconds: longest retry delay */
	uint64_t queue_delay_notice;  /* seconds before the one "delayed" DSN; 0 = none */
	unsigned queue_workers;       /* delivery threads */
	unsigned queue_domain_concurrency;  /* connections at once per destination */
	struct str_list queue_route;  /* "domain=host:port" */
	char *relay_host;             /* "" = deliver direct by MX */
	char *relay_user;             /* "" = no AUTH to the relay */
	char *relay_password_file;    /* first line: the relay password */
};

/* Defaults for a real site; with `dev`, the development defaults used by
 * `mailkeep serve` without a config file: data dir ./var/dev, loopback
 * listeners on unprivileged ports (see docs/CONFIG.md). Never fails. */
struct config *config_new_defaults(bool dev);
void config_free(struct config **cfg);

/* Apply a file over cfg. 0, or -1 with *error_r (heap string the caller
 * frees) saying "FILE:LINE: key 'name': problem". */
int config_load_file(struct config *cfg, const char *path, char **error_r);
/* The same over text in memory (at most len bytes; NUL bytes are an error),
 * with `name` in place of FILE. */
int config_load_text(struct config *cfg, const char *text, size_t len, const char *name,
                     char **error_r);

/* Apply one `key = value` (for --set style overrides and tests); same errors
 * with origin used in place of FILE:LINE. */
int config_set(struct config *cfg, const char *key, const char *value,
               const char *origin, char **error_r);

/* Cross-key checks after loading: tls_cert and tls_key both set or both
 * empty, data_dir and hostname set, max_line_preauth <= max_line, at least
 * one listener, no two listeners on the same address and port. 0, or -1
 * with *error_r (heap) "key 'name': problem". */
int config_validate(const struct config *cfg, char **error_r);

/* Write every key of cfg as config file lines ("key = value\n", in table
 * order); loading that text over config_new_defaults() gives back an equal
 * config. 0, or -1 if out's ceiling was hit. */
int config_dump(const struct config *cfg, struct buf *out);

/* The key table, for docs and `mailkeep config`: fills *out for key i
 * (0, 1, ...) and returns 0, or -1 past the last key. Strings are static. */
struct config_key_doc {
	const char *name;
	const char *type;          /* "string", "path", "list", "size", ... */
	const char *site_default;  /* as written in a file; NULL = computed */
	const char *dev_default;
	const char *help;          /* one line */
};
int config_key_doc(size_t i, struct config_key_doc *out);

#endif
