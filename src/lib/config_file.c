/*
 * config_file: the file syntax (lines, `key = value`, quotes, comments,
 * list splitting) and the cross-key checks. The keys themselves are in
 * config.c.
 */
#include "lib/arena.h"
#include "lib/config_int.h"
#include "lib/log.h"
#include "lib/netaddr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_FILE_MAX (1024 * 1024)  /* a config file is small: refuse junk */
#define MAX_ITEMS 1024

static char *msg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg_printf(const char *fmt, ...)
{
	char m[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return xstrdup(m);
}

static const char *prefix(const char *origin)
{
	return origin != NULL && origin[0] != '\0' ? origin : NULL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Split a value into items: bare words, or "quoted strings" (\" and \\
 * inside). Separators are spaces and tabs, and for lists also commas; '#'
 * outside quotes ends the value. Items are allocated in a.
 * 0, or -1 with *err (static).
 */
static int split(struct arena *a, const char *s, size_t len, bool list, char **items,
                 size_t *n, const char **err)
{
	size_t i = 0;
	*n = 0;
	for (;;) {
		while (i < len && (is_space(s[i]) || (list && s[i] == ',')))
			i++;
		if (i == len || s[i] == '#')
			return 0;
		if (*n == MAX_ITEMS) {
			*err = "too many items";
			return -1;
		}
		char *item = arena_alloc(a, len - i + 1);
		size_t k = 0;
		if (s[i] == '"') {
			for (i++;; i++) {
				if (i == len) {
					*err = "unterminated quote";
					return -1;
				}
				if (s[i] == '"')
					break;
				if (s[i] == '\\') {
					if (i + 1 == len || (s[i + 1] != '"' && s[i + 1] != '\\')) {
						*err = "bad escape in quotes (only \\\" and \\\\)";
						return -1;
					}
					i++;
				}
				item[k++] = s[i];
			}
			i++;
			if (i < len && !is_space(s[i]) && s[i] != '#' && !(list && s[i] == ',')) {
				*err = "unexpected text after the closing quote";
				return -1;
			}
		} else {
			while (i < len && !is_space(s[i]) && s[i] != '#' && !(list && s[i] == ',')) {
				if (s[i] == '"') {
					*err = "quote in the middle of a value";
					return -1;
				}
				item[k++] = s[i++];
			}
		}
		for (size_t j = 0; j < k; j++) {
			unsigned char c = (unsigned char)item[j];
			if (c < 0x20 || c == 0x7f) {
				*err = "control character in value";
				return -1;
			}
		}
		item[k] = '\0';
		items[(*n)++] = item;
	}
}

static bool is_list_type(enum key_type t)
{
	return t == T_DOMAINS || t == T_LISTEN || t == T_LISTEN_UNIX || t == T_NETWORKS ||
	       t == T_ROUTES;
}

int config_apply_text(struct config *cfg, const struct key_def *k, const char *text,
                      const char *origin, char **error_r)
{
	struct arena *a = arena_new(1024);
	char **items = arena_alloc(a, MAX_ITEMS * sizeof(*items));
	size_t n;
	const char *err;
	int r;
	if (split(a, text, strlen(text), is_list_type(k->type), items, &n, &err) < 0) {
		*error_r = prefix(origin) ? msg_printf("%s: key '%s': %s", origin, k->name, err)
		                          : msg_printf("key '%s': %s", k->name, err);
		r = -1;
	} else {
		r = config_apply(cfg, k, items, n, origin, error_r);
	}
	arena_free(&a);
	return r;
}

int config_unknown_key(const char *name, size_t len, const char *origin, char **error_r)
{
	char shown[128], hint[96] = "";
	log_escape(shown, sizeof(shown), name, len);
	const char *near = config_suggest_key(name, len);
	if (near != NULL)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", near);
	*error_r = prefix(origin) ? msg_printf("%s: key '%s': unknown key%s", origin, shown, hint)
	                          : msg_printf("key '%s': unknown key%s", shown, hint);
	return -1;
}

int config_quote(const char *s, struct buf *out)
{
	if (s[0] != '\0' && strpbrk(s, " \t,#\"\\") == NULL)
		return buf_append_str(out, s);
	if (buf_append(out, "\"", 1) < 0)
		return -1;
	for (; *s != '\0'; s++) {
		if ((*s == '"' || *s == '\\') && buf_append(out, "\\", 1) < 0)
			return -1;
		if (buf_append(out, s, 1) < 0)
			return -1;
	}
	return buf_append(out, "\"", 1);
}

/* One line (no newline). 0, or -1 with *error_r. */
static int load_line(struct config *cfg, const char *line, size_t len, const char *origin,
                     char **error_r)
{
	size_t i = 0;
	while (i < len && is_space(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	size_t key0 = i;
	while (i < len && !is_space(line[i]) && line[i] != '=')
		i++;
	size_t keylen = i - key0;
	while (i < len && is_space(line[i]))
		i++;
	if (keylen == 0) {
		*error_r = msg_printf("%s: missing key before '='", origin);
		return -1;
	}
	const struct key_def *k = config_find_key(line + key0, keylen);
	if (i == len || line[i] != '=') {
		char shown[128];
		log_escape(shown, sizeof(shown), line + key0, keylen);
		*error_r = msg_printf("%s: key '%s': missing '=' (expected 'key = value')", origin,
		                      shown);
		return -1;
	}
	if (k == NULL)
		return config_unknown_key(line + key0, keylen, origin, error_r);
	char *value = xmalloc(len - i);
	memcpy(value, line + i + 1, len - i - 1);
	value[len - i - 1] = '\0';
	int r = config_apply_text(cfg, k, value, origin, error_r);
	free(value);
	return r;
}

int config_load_file(struct config *cfg, const char *path, char **error_r)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		*error_r = msg_printf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	char *text = xmalloc(CONFIG_FILE_MAX + 1);
	size_t len = fread(text, 1, CONFIG_FILE_MAX + 1, fp);
	bool bad = ferror(fp) != 0;
	fclose(fp);
	int r = 0;
	if (bad) {
		*error_r = msg_printf("%s: cannot read", path);
		r = -1;
	} else if (len > CONFIG_FILE_MAX) {
		*error_r = msg_printf("%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		r = -1;
	} else {
		r = config_load_text(cfg, text, len, path, error_r);
	}
	free(text);
	return r;
}

int config_load_text(struct config *cfg, const char *text, size_t len, const char *name,
                     char **error_r)
{
	size_t lineno = 0, pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t linelen = end - pos;
		char origin[512];
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%zu", name, lineno);
		if (linelen > 0 && text[pos + linelen - 1] == '\r')
			linelen--;
		if (memchr(text + pos, '\0', linelen) != NULL) {
			*error_r = msg_printf("%s: NUL byte in line", origin);
			return -1;
		}
		if (load_line(cfg, text + pos, linelen, origin, error_r) < 0)
			return -1;
		pos = end + 1;
	}
	return 0;
}

/* Listener keys in the order config_validate() reports conflicts. */
static const char *const listen_keys[] = {
	"imap_listen", "imaps_listen", "pop3_listen", "pop3s_listen",
	"submission_listen", "submissions_listen", "smtp_listen", "lmtp_listen",
};
#define NLISTEN (sizeof(listen_keys) / sizeof(listen_keys[0]))

static const struct str_list *list_of(const struct config *cfg, const char *key)
{
	const struct key_def *k = config_find_key(key, strlen(key));
	return (const struct str_list *)((const char *)cfg + k->off);
}

static int check_listeners(const struct config *cfg, char **error_r)
{
	struct { const char *key, *spec; struct netaddr_listen nl; } *all = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	for (size_t i = 0; i < NLISTEN && r == 0; i++) {
		const struct str_list *l = list_of(cfg, listen_keys[i]);
		for (size_t j = 0; j < l->n && r == 0; j++) {
			const char *err;
			if (n == cap)
				all = xrealloc(all, (cap = cap ? cap * 2 : 16) * sizeof(*all));
			all[n].key = listen_keys[i];
			all[n].spec = l->v[j];
			if (netaddr_parse_listen(l->v[j], strcmp(listen_keys[i], "lmtp_listen") == 0,
			                         &all[n].nl, &err) < 0) {
				*error_r = msg_printf("key '%s': '%s': %s", listen_keys[i], l->v[j], err);
				r = -1;
				break;
			}
			for (size_t p = 0; p < n; p++) {
				if (netaddr_listen_conflict(&all[p].nl, &all[n].nl)) {
					*error_r = msg_printf("key '%s': '%s' conflicts with %s '%s'",
					                      listen_keys[i], l->v[j], all[p].key,
					                      all[p].spec);
					r = -1;
					break;
				}
			}
			n++;
		}
	}
	if (r == 0 && n == 0) {
		*error_r = msg_printf("no listeners: every *_listen key is empty");
		r = -1;
	}
	free(all);
	return r;
}

int config_validate(const struct config *cfg, char **error_r)
{
	if (cfg->data_dir[0] == '\0') {
		*error_r = msg_printf("key 'data_dir': must not be empty");
		return -1;
	}
	if (cfg->hostname[0] == '\0') {
		*error_r = msg_printf("key 'hostname': must not be empty");
		return -1;
	}
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		*error_r = cfg->tls_key[0] == '\0'
		               ? msg_printf("key 'tls_key': empty, but tls_cert is set (set both or neither)")
		               : msg_printf("key 'tls_cert': empty, but tls_key is set (set both or neither)");
		return -1;
	}
	if (cfg->max_line_preauth > cfg->max_line) {
		*error_r = msg_printf("key 'max_line_preauth': larger than max_line");
		return -1;
	}
	if (cfg->pop3_enable_apop) {
		*error_r = msg_printf("key 'pop3_enable_apop': APOP needs each password in clear on "
		                      "the server; mailkeep keeps only argon2id hashes, so it cannot "
		                      "offer APOP");
		return -1;
	}
	return check_listeners(cfg, error_r);
}
