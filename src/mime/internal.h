/*
 * internal: functions shared between the files of src/mime, not part of
 * its API.
 */
#ifndef MK_MIME_INTERNAL_H
#define MK_MIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct buf;
struct mime_message;
struct mime_part;

/* Append the ENVELOPE of the header data[hdr_start, hdr_end). */
int mime_envelope_write(struct buf *b, struct arena *a, const char *data,
                        size_t hdr_start, size_t hdr_end);
/* Append BODY (extended false) or BODYSTRUCTURE of part p. */
int mime_body_write(struct buf *b, struct arena *a, const struct mime_message *m,
                    const struct mime_part *p, bool extended);

/* buf_init() that also allocates, so that appending 0 bytes to a fresh
 * buffer is safe (lib/buf writes the NUL through a NULL data pointer). */
void mime_buf_init(struct buf *b, size_t max);

/* Output ceiling for IMAP strings built from input of n bytes: generous,
 * the output is linear in the input. */
static inline size_t mime_out_max(size_t n)
{
	return n * 32 + (1u << 20);
}

#endif
