/*
 * config_int.h: shared by config.c (key table, typed values) and
 * config_file.c (file syntax, validation). Not for other modules.
 */
#ifndef MK_CONFIG_INT_H
#define MK_CONFIG_INT_H

#include "lib/buf.h"
#include "lib/config.h"

enum key_type {
	T_STRING, T_PATH, T_HOSTNAME,
	T_DOMAINS, T_LISTEN, T_LISTEN_UNIX, T_NETWORKS, T_ROUTES,  /* lists */
	T_UINT, T_COUNT, T_SIZE, T_DURATION, T_BOOL, T_POP3_DELETE, T_LOGLEVEL,
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;            /* of the field in struct config */
	const char *site, *dev;  /* defaults as file text; site NULL = computed */
	uint64_t min, max;     /* numeric types */
	const char *help;
};

const struct key_def *config_keys(size_t *n);
const struct key_def *config_find_key(const char *name, size_t len);
/* The closest key name to a misspelt one, or NULL. */
const char *config_suggest_key(const char *name, size_t len);

/* Set key k from already split items (list items, or at most one scalar). */
int config_apply(struct config *cfg, const struct key_def *k, char *const *items, size_t n,
                 const char *origin, char **error_r);
/* Split a value's text (quotes, commas, spaces) and apply it. */
int config_apply_text(struct config *cfg, const struct key_def *k, const char *text,
                      const char *origin, char **error_r);
/* Error for an unknown key, with a suggestion. Returns -1. */
int config_unknown_key(const char *name, size_t len, const char *origin, char **error_r);
/* Append s, quoted when it needs to be, as the tokenizer reads it back. */
int config_quote(const char *s, struct buf *out);

#endif
