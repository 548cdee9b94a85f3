/*
 * text: the readable text of a message, for the full-text index and the
 * preview: transfer encoding and charset decoded to UTF-8, HTML reduced to
 * its text. Pure, thread-safe.
 */
#ifndef MK_MIME_TEXT_H
#define MK_MIME_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "mime/mime.h"

struct buf;

/* Append the UTF-8 text of leaf part p (text/html stripped of markup) to
 * b, decoding at most max_in bytes of its body. 0, or -1 when b's ceiling
 * is reached (b then ends at a character boundary). */
int mime_part_text(struct buf *b, struct arena *a, const struct mime_message *m,
                   const struct mime_part *p, size_t max_in);

/* Append the text of HTML s[0..n) (UTF-8): tags, comments, script and
 * style dropped, the common entities and numeric references decoded. */
int mime_html_to_text(struct buf *b, const char *s, size_t n);

/* The main text part of the message for the preview: the first text/plain
 * part that is not an attachment, else the first such text/html; NULL. */
const struct mime_part *mime_main_text_part(const struct mime_message *m);

/* Whitespace collapsed to single spaces, trimmed, cut after max_chars
 * characters. */
char *mime_preview_of(struct arena *a, const char *text, size_t n, size_t max_chars);

#endif
