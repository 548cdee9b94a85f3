/*
 * base64: RFC 4648 section 4 (standard alphabet, '=' padding).
 *
 * Decoding is strict, as SASL needs it (RFC 4422: a malformed response is an
 * error, not something to guess at): the length must be a multiple of 4,
 * only alphabet characters, '=' only as the last one or two characters, and
 * the unused bits before the padding must be zero. No whitespace is skipped.
 * Every input string has exactly one accepted encoding, so a decode followed
 * by an encode gives back the same text.
 *
 * All functions are pure and thread-safe.
 */
#ifndef MK_BASE64_H
#define MK_BASE64_H

#include <stddef.h>

struct arena;

/* Characters base64_encode() writes for n input bytes (padding included,
 * NUL excluded). */
/* The value 0..63 of a character of the standard alphabet (RFC 4648
 * section 4), -1 for any other ('=' included). For decoders with their own
 * framing: RFC 2047 B words, IMAP's modified UTF-7 (which uses ',' for 63). */
int base64_value(unsigned char c);

size_t base64_encoded_len(size_t n);
/* Upper bound of the bytes base64_decode() writes for n characters. */
size_t base64_decoded_max(size_t n);

/* Encode src[0..n) into dst, NUL-terminated. dst_size must be at least
 * base64_encoded_len(n) + 1. Returns the encoded length, or (size_t)-1 if
 * dst is too small (dst is then left untouched). */
size_t base64_encode(const void *src, size_t n, char *dst, size_t dst_size);
/* The same into a NUL-terminated arena string. */
char *base64_encode_arena(struct arena *a, const void *src, size_t n);

/* Decode src[0..n) into dst (dst_size bytes). Returns 0 and sets *len_r, or
 * -1 if the input is not strict base64 or does not fit. dst is not
 * NUL-terminated; on -1 its contents are unspecified. */
int base64_decode(const char *src, size_t n, void *dst, size_t dst_size, size_t *len_r);
/* The same into arena memory, NUL-terminated after the last byte (decoded
 * data may itself contain NULs: use *len_r). Returns NULL if invalid. */
unsigned char *base64_decode_arena(struct arena *a, const char *src, size_t n, size_t *len_r);

#endif
