/* imap_fetch_args.c: FETCH data items and modifiers -> struct imap_fetch_args. */
#include "imap/imap_fetch_args.h"

#include "imap/imap_resp.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/strutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest response item name we build (section text is bounded by the
 * command line anyway). */
#define NAME_MAX_BYTES (64 * 1024)

struct simple_item {
	const char *name;
	unsigned item;
};

static const struct simple_item simple_items[] = {
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "UID", IMAP_FETCH_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "PREVIEW", IMAP_FETCH_PREVIEW },
};

static const struct {
	const char *name;
	unsigned items;
} macros[] = {
	{ "ALL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE },
	{ "FAST", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE },
	{ "FULL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
	          IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY },
};

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

static bool eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static struct imap_fetch_sect *new_sect(struct arena *a, struct imap_fetch_args *out)
{
	if (out->sects == NULL)
		out->sects = arena_alloc(a, IMAP_FETCH_MAX_ITEMS * sizeof(*out->sects));
	if (out->nsects >= IMAP_FETCH_MAX_ITEMS)
		return NULL;
	struct imap_fetch_sect *f = &out->sects[out->nsects++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* A header field name (RFC 5322 ftext) written upper case: as an atom if
 * it is one, else as a quoted string. */
static int write_field(struct buf *b, const char *name)
{
	size_t n = strlen(name);
	bool atom = n > 0;
	char up[256];
	if (n == 0 || n >= sizeof(up))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 33 || c > 126 || c == ':')
			return -1;
		if (strchr("(){%*\"\\]", c) != NULL)
			atom = false;
		up[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	up[n] = '\0';
	return atom ? buf_append(b, up, n) : imap_resp_write_string(b, up, n, 0);
}

/* The canonical section text between the brackets. */
static int write_section(struct buf *b, const struct mime_section *s)
{
	static const char *const kw[] = {
		[MIME_SECTION_BODY] = "",
		[MIME_SECTION_HEADER] = "HEADER",
		[MIME_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[MIME_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[MIME_SECTION_TEXT] = "TEXT",
		[MIME_SECTION_MIME] = "MIME",
	};
	for (size_t i = 0; i < s->npath; i++)
		if (buf_printf(b, i > 0 ? ".%u" : "%u", s->path[i]) < 0)
			return -1;
	if (s->kind == MIME_SECTION_BODY)
		return 0;
	if (buf_printf(b, "%s%s", s->npath > 0 ? "." : "", kw[s->kind]) < 0)
		return -1;
	if (s->kind != MIME_SECTION_HEADER_FIELDS && s->kind != MIME_SECTION_HEADER_FIELDS_NOT)
		return 0;
	if (buf_append(b, " (", 2) < 0)
		return -1;
	for (size_t i = 0; i < s->nfields; i++)
		if ((i > 0 && buf_append(b, " ", 1) < 0) || write_field(b, s->fields[i]) < 0)
			return -1;
	return buf_append(b, ")", 1);
}

/* "<start.count>" at s[0..n) (the whole rest of the item). */
static int parse_partial(const char *s, size_t n, struct imap_fetch_sect *f)
{
	if (n < 3 || s[0] != '<' || s[n - 1] != '>')
		return -1;
	const char *dot = memchr(s, '.', n);
	size_t end = dot != NULL ? (size_t)(dot - s) : n - 1;
	uint64_t start, count = UINT64_MAX;
	if (end < 2 || str_parse_u64n(s + 1, end - 1, &start) < 0 || start > UINT32_MAX)
		return -1;
	if (dot != NULL && (str_parse_u64n(dot + 1, n - 2 - end, &count) < 0 ||
	                    count == 0 || count > UINT32_MAX))
		return -1;
	f->partial = true;
	f->start = start;
	f->count = count;
	return 0;
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...] */
static int parse_section_item(struct arena *a, const char *s, size_t n, size_t open,
                              struct imap_fetch_args *out, const char **error_r)
{
	enum imap_fetch_sect_kind kind;
	bool peek = false;
	if (eq(s, open, "BODY"))
		kind = IMAP_SECT_BODY;
	else if (eq(s, open, "BODY.PEEK"))
		kind = IMAP_SECT_BODY, peek = true;
	else if (eq(s, open, "BINARY"))
		kind = IMAP_SECT_BINARY;
	else if (eq(s, open, "BINARY.PEEK"))
		kind = IMAP_SECT_BINARY, peek = true;
	else if (eq(s, open, "BINARY.SIZE"))
		kind = IMAP_SECT_BINARY_SIZE, peek = true;
	else
		return fail(error_r, "Unknown FETCH item");
	/* The first ']' outside a quoted string closes the section. */
	size_t close = open + 1;
	bool quoted = false;
	for (; close < n; close++) {
		if (quoted && s[close] == '\\' && close + 1 < n)
			close++;
		else if (s[close] == '"')
			quoted = !quoted;
		else if (!quoted && s[close] == ']')
			break;
	}
	if (close >= n)
		return fail(error_r, "Missing ] in FETCH section");
	struct imap_fetch_sect *f = new_sect(a, out);
	if (f == NULL)
		return fail(error_r, "Too many FETCH items");
	f->kind = kind;
	f->peek = peek;
	if (mime_section_parse(a, s + open + 1, close - open - 1, &f->sec) < 0)
		return fail(error_r, "Invalid FETCH section");
	if (kind != IMAP_SECT_BODY && f->sec.kind != MIME_SECTION_BODY)
		return fail(error_r, "BINARY takes part numbers only");
	if (close + 1 < n) {
		if (kind == IMAP_SECT_BINARY_SIZE || parse_partial(s + close + 1, n - close - 1, f) < 0)
			return fail(error_r, "Invalid partial range in FETCH item");
	}
	struct buf b;
	buf_init(&b, NAME_MAX_BYTES);
	int rc = buf_append_str(&b, kind == IMAP_SECT_BODY ? "BODY[" :
	                            kind == IMAP_SECT_BINARY ? "BINARY[" : "BINARY.SIZE[");
	if (rc == 0)
		rc = write_section(&b, &f->sec);
	if (rc == 0)
		rc = buf_append(&b, "]", 1);
	if (rc == 0 && f->partial)
		rc = buf_printf(&b, "<%" PRIu64 ">", f->start);
	if (rc == 0)
		f->name = arena_strndup(a, buf_ptr(&b), buf_len(&b));
	buf_deinit(&b);
	if (rc < 0)
		return fail(error_r, "Invalid header field name in FETCH section");
	out->need_message = true;
	if (!peek)
		out->sets_seen = true;
	return 0;
}

static int rfc822_item(struct arena *a, enum imap_fetch_sect_kind kind,
                       struct imap_fetch_args *out, const char **error_r)
{
	struct imap_fetch_sect *f = new_sect(a, out);
	if (f == NULL)
		return fail(error_r, "Too many FETCH items");
	f->kind = kind;
	f->peek = kind == IMAP_SECT_RFC822_HEADER;
	f->sec.kind = kind == IMAP_SECT_RFC822 ? MIME_SECTION_BODY :
	              kind == IMAP_SECT_RFC822_HEADER ? MIME_SECTION_HEADER : MIME_SECTION_TEXT;
	f->name = kind == IMAP_SECT_RFC822 ? "RFC822" :
	          kind == IMAP_SECT_RFC822_HEADER ? "RFC822.HEADER" : "RFC822.TEXT";
	out->need_message = true;
	if (!f->peek)
		out->sets_seen = true;
	return 0;
}

int imap_fetch_item_parse(struct arena *a, const char *s, size_t n,
                          struct imap_fetch_args *out, const char **error_r)
{
	const char *open = memchr(s, '[', n);
	if (open != NULL)
		return parse_section_item(a, s, n, (size_t)(open - s), out, error_r);
	for (size_t i = 0; i < sizeof(simple_items) / sizeof(simple_items[0]); i++) {
		if (eq(s, n, simple_items[i].name)) {
			out->items |= simple_items[i].item;
			return 0;
		}
	}
	if (eq(s, n, "RFC822"))
		return rfc822_item(a, IMAP_SECT_RFC822, out, error_r);
	if (eq(s, n, "RFC822.HEADER"))
		return rfc822_item(a, IMAP_SECT_RFC822_HEADER, out, error_r);
	if (eq(s, n, "RFC822.TEXT"))
		return rfc822_item(a, IMAP_SECT_RFC822_TEXT, out, error_r);
	return fail(error_r, "Unknown FETCH item");
}

/* PREVIEW's own modifiers (RFC 8970): "(LAZY)". */
static int preview_mods(const struct imap_arg *list, struct imap_fetch_args *out,
                        const char **error_r)
{
	if (list->count != 1 || !imap_arg_atom_equals(&list->list[0], "LAZY"))
		return fail(error_r, "Unknown PREVIEW modifier");
	out->preview_lazy = true;
	return 0;
}

static int parse_modifiers(const struct imap_arg *list, struct imap_fetch_args *out,
                           const char **error_r)
{
	const struct imap_arg *m;
	size_t n;
	if (!imap_arg_get_list(list, &m, &n) || n == 0)
		return fail(error_r, "Invalid FETCH modifiers");
	for (size_t i = 0; i < n; i++) {
		if (imap_arg_atom_equals(&m[i], "CHANGEDSINCE")) {
			if (out->changedsince || i + 1 >= n ||
			    !imap_arg_get_number(&m[i + 1], &out->changedsince_modseq))
				return fail(error_r, "CHANGEDSINCE takes one mod-sequence");
			out->changedsince = true;
			i++;
		} else if (imap_arg_atom_equals(&m[i], "VANISHED")) {
			if (out->vanished)
				return fail(error_r, "VANISHED given twice");
			out->vanished = true;
		} else {
			return fail(error_r, "Unknown FETCH modifier");
		}
	}
	if (out->vanished && !out->changedsince)
		return fail(error_r, "VANISHED needs CHANGEDSINCE");
	return 0;
}

int imap_fetch_args_parse(struct arena *a, const struct imap_arg *args, size_t n,
                          struct imap_fetch_args *out, const char **error_r)
{
	memset(out, 0, sizeof(*out));
	if (n < 1 || n > 2)
		return fail(error_r, "Usage: FETCH sequence-set items [(modifiers)]");
	const char *s;
	if (imap_arg_get_atom(&args[0], &s)) {
		size_t len = (size_t)args[0].len;
		bool macro = false;
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
			if (eq(s, len, macros[i].name)) {
				out->items = macros[i].items;
				macro = true;
			}
		}
		if (!macro && imap_fetch_item_parse(a, s, len, out, error_r) < 0)
			return -1;
		/* "FETCH 1 PREVIEW (LAZY)": the list is PREVIEW's, not modifiers. */
		if (n == 2 && eq(s, len, "PREVIEW") && args[1].type == IMAP_ARG_LIST &&
		    args[1].count == 1 && imap_arg_atom_equals(&args[1].list[0], "LAZY")) {
			out->preview_lazy = true;
			n = 1;
		}
	} else if (args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *l = args[0].list;
		if (args[0].count == 0)
			return fail(error_r, "Empty FETCH item list");
		if (args[0].count > IMAP_FETCH_MAX_ITEMS)
			return fail(error_r, "Too many FETCH items");
		for (size_t i = 0; i < args[0].count; i++) {
			if (!imap_arg_get_atom(&l[i], &s))
				return fail(error_r, "FETCH items are atoms");
			if (imap_fetch_item_parse(a, s, (size_t)l[i].len, out, error_r) < 0)
				return -1;
			if (imap_arg_atom_equals(&l[i], "PREVIEW") && l[i + 1].type == IMAP_ARG_LIST) {
				if (preview_mods(&l[i + 1], out, error_r) < 0)
					return -1;
				i++;
			}
		}
	} else {
		return fail(error_r, "Invalid FETCH items");
	}
	if (n == 2 && parse_modifiers(&args[1], out, error_r) < 0)
		return -1;
	if (out->changedsince)
		out->items |= IMAP_FETCH_MODSEQ;
	return 0;
}
