/*
 * imap_seqset: IMAP sequence sets (RFC 9051 sequence-set, RFC 5182 "$"),
 * for message sequence numbers and UIDs alike.
 *
 *   parse    "1:3,5,7:*"  ->  ranges as written, '*' kept symbolic
 *   resolve  with the value '*' stands for -> sorted, merged, 0-free ranges
 *   query    contains / count / iterate over a resolved set
 *   write    a resolved set, or a list of numbers, back as "1:3,5"
 *
 * Syntax is strict: numbers are nz-number (1..4294967295, no leading
 * zeros), "$" only as the whole set (the caller substitutes the saved
 * SEARCHRES result), no spaces, no empty elements.
 */
#ifndef MK_IMAP_SEQSET_H
#define MK_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;

/* '*' in a parsed (unresolved) range. 0 is never a valid number. */
#define IMAP_SEQ_STAR 0u

struct imap_seq_range {
	uint32_t lo, hi;  /* parsed: as written (either may be STAR, lo > hi
	                     allowed); resolved: 1 <= lo <= hi */
};

struct imap_seqset {
	struct imap_seq_range *ranges;
	size_t count;
	bool saved;      /* the set was "$" (count is 0) */
	bool has_star;   /* some range used '*' */
};

/* Parse s[0..len). At most max_ranges elements (0: no limit). Returns 0,
 * or -1 with *error_r set to static text for a BAD response. Ranges are
 * allocated in `a`. */
int imap_seqset_parse(struct arena *a, const char *s, size_t len, size_t max_ranges,
                      struct imap_seqset *set_r, const char **error_r);

/* Replace '*' by `star` (the highest sequence number or UID in use; 0 for
 * an empty mailbox), order each range, sort and merge. Ranges that end up
 * empty (all 0) are dropped: with star 0, "1:*" becomes "1" and "*" becomes
 * nothing. Callers doing sequence numbers must refuse numbers above the
 * message count themselves (RFC 9051: BAD). `out` may equal `in`; new
 * ranges are allocated in `a`. */
void imap_seqset_resolve(struct arena *a, const struct imap_seqset *in, uint32_t star,
                         struct imap_seqset *out);

/* On resolved sets. */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
uint64_t imap_seqset_count(const struct imap_seqset *set);
/* Largest number in the set, 0 if empty. */
uint32_t imap_seqset_max(const struct imap_seqset *set);

struct imap_seqset_iter {
	const struct imap_seqset *set;
	size_t range;
	uint64_t next;
};
void imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *set);
/* Next number in ascending order; false when done. */
bool imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_r);

/* Write a set: "1:3,5", '*' as "*", "$" as "$", ranges as stored (a
 * parsed set round-trips to equivalent text). 0, or -1 if the buffer's
 * ceiling was hit (the buffer may then end in a partial set). An empty set
 * writes nothing. */
int imap_seqset_write(struct buf *b, const struct imap_seqset *set);
/* Write numbers in the order given, joining runs of consecutive ascending
 * numbers ("1,2,3,5" -> "1:3,5"). Order is kept because COPYUID pairs
 * source and destination UIDs by position. Zeros are skipped. 0 or -1, as
 * imap_seqset_write(). */
int imap_seqset_write_list(struct buf *b, const uint32_t *nums, size_t n);

#endif
