/*
 * mime: the RFC 5322 / MIME model of one message held in memory (the store
 * mmaps the message file). Parsing is best effort: any byte string gives a
 * part tree, malformed input never fails or crashes, and the work is linear
 * in the message size with bounded nesting and part counts.
 *
 * Two levels of API:
 *
 *   mime_summarize()  everything the store caches at APPEND/delivery time:
 *                     ENVELOPE, BODY, BODYSTRUCTURE, decoded header values
 *                     for SEARCH, text for the full-text index, a preview.
 *   mime_parse()      the part tree with byte offsets, for FETCH of
 *                     sections (section.h) and BINARY (decode.h).
 *
 * Byte offsets and sizes are of the message as given. IMAP counts octets of
 * the message as sent, with CRLF line ends: the store should keep messages
 * with CRLF line ends (convert bare LF at APPEND/delivery) so that sizes,
 * line counts and byte ranges agree with what FETCH sends.
 *
 * Every returned string and struct is owned by the arena passed in. The
 * functions are thread-safe (no shared state beyond a per-thread iconv
 * cache, see charset.h).
 */
#ifndef MK_MIME_H
#define MK_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Limits: beyond them the structure degrades (deeper parts become leaves,
 * further parts are folded into their neighbour), never fails. */
#define MIME_MAX_DEPTH 100
#define MIME_MAX_PARTS 10000
#define MIME_MAX_BOUNDARY 200      /* longer boundaries are ignored */
#define MIME_SEARCH_TEXT_MAX (1024 * 1024)
#define MIME_PREVIEW_CHARS 200

struct mime_param {
	const char *name;   /* as given (RFC 2231 continuations merged: "name"
	                     * or, if any piece was extended, "name*") */
	const char *value;  /* as given, quotes removed */
};

enum mime_part_flags {
	MIME_PART_MULTIPART = 1 << 0,   /* children are the body parts */
	MIME_PART_MESSAGE = 1 << 1,     /* message/rfc822 or message/global:
	                                 * the one child is the message */
	MIME_PART_DEFAULT_TYPE = 1 << 2,/* no (usable) Content-Type field */
	MIME_PART_SYNTHETIC = 1 << 3,   /* empty part invented for a
	                                 * multipart that had none */
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	struct mime_part *last_child;   /* for appending in O(1) */
	unsigned nchildren;
	unsigned flags;
	unsigned depth;             /* root message 0 */
	/* [hdr_start, hdr_end) header fields; [hdr_end, body_start) the blank
	 * line (empty if missing); [body_start, body_end) the body. */
	size_t hdr_start, hdr_end, body_start, body_end;
	uint64_t body_lines;        /* lines in the body (last one may be
	                             * unterminated) */
	const char *type, *subtype; /* as given; default "text" "plain" (or
	                             * "message" "rfc822" in multipart/digest) */
	const struct mime_param *params;
	size_t nparams;
	/* Raw field values, unfolded and trimmed; NULL if the field is absent. */
	const char *id, *description, *encoding, *md5, *language, *location;
	const char *disposition;    /* disposition type as given, or NULL */
	const struct mime_param *disp_params;
	size_t ndisp_params;
};

struct mime_message {
	const char *data;
	size_t len;
	struct mime_part *root;     /* never NULL */
	unsigned nparts;
	bool limits_hit;            /* depth or part limit reached */
};

/* Parse msg[0..len) into a part tree. Never fails. msg must stay valid as
 * long as the result is used (parts point into it only through offsets and
 * copies; data is kept for section extraction). */
struct mime_message *mime_parse(struct arena *a, const char *msg, size_t len);

/* Case-insensitive lookups. */
bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype);
const char *mime_param_get(const struct mime_param *params, size_t n, const char *name);
/* A parameter decoded to UTF-8: RFC 2231 (name*, name*0*...) or RFC 2047
 * encoded words in a plain value. NULL if absent. */
const char *mime_param_decoded(struct arena *a, const struct mime_param *params,
                               size_t n, const char *name);
/* The part's file name (Content-Disposition filename, else Content-Type
 * name), decoded to UTF-8, or NULL. */
const char *mime_part_filename(struct arena *a, const struct mime_part *p);

/* IMAP strings, arena-owned. `extended` selects BODYSTRUCTURE (with
 * extension data) over BODY. ENVELOPE of the part's header (for the root:
 * the message; for a message/rfc822 part use its child). */
const char *mime_envelope(struct arena *a, const struct mime_message *m,
                          const struct mime_part *p);
const char *mime_bodystructure(struct arena *a, const struct mime_message *m,
                               const struct mime_part *p, bool extended);

struct mime_summary {
	/* IMAP syntax, exactly as sent after "ENVELOPE " / "BODY " /
	 * "BODYSTRUCTURE ". May contain literals ({n}CRLF...) for values with
	 * 8-bit bytes or line ends. */
	const char *envelope;
	const char *body;
	const char *bodystructure;
	/* Header values decoded to UTF-8 (RFC 2047, charsets), unfolded, for
	 * SEARCH; "" if absent. Address fields are the whole decoded field. */
	const char *subject, *from, *to, *cc, *bcc, *message_id, *in_reply_to;
	const char *date_header;    /* raw Date: value, unfolded; "" if absent */
	/* Decoded UTF-8 text of the text/plain and text/html parts (tags
	 * stripped) and attachment file names, for the full-text index. At
	 * most MIME_SEARCH_TEXT_MAX bytes, cut at a character boundary. */
	const char *search_text;
	/* RFC 8970 style: the first MIME_PREVIEW_CHARS characters of the
	 * main text, whitespace collapsed; "" if none. */
	const char *preview;
	uint64_t header_size;       /* top-level header incl. the blank line */
	uint64_t body_size;
	bool has_attachments;
};

/* Summarize a complete message. Returns 0 (always, for any input; -1 is
 * reserved for an output ceiling being hit, which input bounded by the
 * store's message size limit cannot reach). */
int mime_summarize(struct arena *a, const char *msg, size_t len, struct mime_summary *out);

/* The same from an already parsed tree. */
int mime_summarize_parsed(struct arena *a, const struct mime_message *m,
                          struct mime_summary *out);

#endif
