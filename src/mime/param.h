/*
 * param: Content-Type / Content-Disposition values (RFC 2045, RFC 2183)
 * with their parameters, RFC 2231 continuations merged.
 *
 * Lenient: comments are skipped, an unquoted value runs to the next ';'
 * (broken mailers put spaces in file names), an unterminated quoted string
 * runs to the end, junk between parameters is skipped. At most
 * MIME_MAX_PARAMS parameters per field are kept. Pure, thread-safe.
 */
#ifndef MK_MIME_PARAM_H
#define MK_MIME_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "mime/mime.h"

#define MIME_MAX_PARAMS 100

struct mime_ctype {
	const char *type;      /* NULL if the value has no usable type */
	const char *subtype;   /* NULL for a disposition, or if missing */
	struct mime_param *params;
	size_t nparams;
};

/* Parse the raw (possibly folded) value v[0..n). with_subtype: expect
 * "type/subtype" (Content-Type) rather than a single token. */
void mime_ctype_parse(struct arena *a, const char *v, size_t n, bool with_subtype,
                      struct mime_ctype *out);

/* Decode an RFC 2231 extended value "charset'lang'%XX..." to UTF-8. */
char *mime_rfc2231_decode(struct arena *a, const char *v);

#endif
