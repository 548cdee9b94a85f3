/*
 * pop3_stream: RETR and TOP output, streamed from a mapped message in
 * chunks while the client reads (never the whole message in a buffer).
 *
 * The message is sent dot-stuffed (a line starting with "." gets another),
 * with CRLF line ends, and ended by ".\r\n" (RFC 1939 section 3). A message
 * whose last line has no line end gets one before the terminator.
 */
#ifndef MK_POP3_STREAM_H
#define MK_POP3_STREAM_H

#include "lib/conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pure dot-stuffing step: copies from in[0..inlen) to out (room outcap >=
 * 2), stuffing dots at line starts; *at_line_start carries across calls.
 * Returns bytes written; *consumed_r the input bytes used. */
size_t pop3_dot_stuff(bool *at_line_start, const char *in, size_t inlen, char *out,
                      size_t outcap, size_t *consumed_r);

/* Bytes of data that TOP n sends: the header, the blank line, and n lines
 * of body. */
size_t pop3_top_length(const char *data, size_t len, uint64_t lines);

/* Room pop3_stuff_message needs for a message of len bytes: twice it
 * (every line a lone "."), plus the terminator. */
#define POP3_STUFFED_ROOM(len) (2 * (size_t)(len) + 7)

/* Pure, in place: data[0..len) is the message, in room of at least
 * POP3_STUFFED_ROOM(len); it becomes the whole answer body (top_lines <
 * 0: all of it, RETR; else TOP's part), dot-stuffed and terminated.
 * Returns its length. In place because the message is read straight
 * into the answer's buffer: most messages need no stuffing at all, and
 * then nothing is copied. */
size_t pop3_stuff_message(char *data, size_t len, int64_t top_lines);

/* Message bytes stuffed per step of a stream (from output_buffer_limit).
 * A message this small goes out in one step, so it can be sent whole. */
size_t pop3_stream_step(void);

struct pop3_stream;

/* Takes ownership of the store mapping (released with store_unmap).
 * top_lines < 0: the whole message (RETR). */
struct pop3_stream *pop3_stream_new(const char *data, size_t len, int64_t top_lines);
/* Writes while the connection takes it: 1 when the terminator has been
 * queued, 0 when the output is full (call again on `drained`), -1 when
 * the connection is gone (an overflow closes it at once, and the session
 * with it: the caller must not touch the session or the stream). */
int pop3_stream_run(struct pop3_stream *st, struct conn *c);
void pop3_stream_free(struct pop3_stream **st);

#endif
