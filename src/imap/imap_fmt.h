/*
 * imap_fmt: the hot parts of FETCH, STORE and untagged FETCH lines
 * ("* 12 FETCH (UID 345 FLAGS (\Seen $Label1))") formatted straight into
 * caller memory, usually the connection's output buffer (conn_reserve):
 * no printf, no intermediate strings. The system flag lists are a table
 * of the 32 combinations, in the order the server always writes them.
 *
 * Each writer takes p, writes, and returns the end of what it wrote; the
 * caller reserves room first (IMAP_FMT_U64_MAX per number,
 * imap_fmt_flags_room() for a flag list).
 */
#ifndef MK_IMAP_FMT_H
#define MK_IMAP_FMT_H

#include "imap/imap_internal.h"

#include <stddef.h>
#include <stdint.h>

#define IMAP_FMT_U64_MAX 20   /* digits of UINT64_MAX */

char *imap_fmt_u32(char *p, uint32_t v);
char *imap_fmt_u64(char *p, uint64_t v);
/* The n bytes of s. */
char *imap_fmt_mem(char *p, const char *s, size_t n);

/* The keyword names of the session's selected mailbox with their lengths,
 * taken once per command (or after a suspension: the names belong to the
 * store's view and stay valid only until the next store call). */
struct imap_fmt_kw {
	const char *const *name;   /* index = keyword bit, NULL = unused */
	uint16_t len[STORE_KEYWORDS_MAX];
	size_t total;              /* sum of len + separators */
};
void imap_fmt_kw_load(struct imap_session *s, struct imap_fmt_kw *kw);

/* Bytes imap_fmt_flags() may write for a message with these keywords. */
size_t imap_fmt_flags_room(const struct imap_fmt_kw *kw, uint64_t keywords);
/* "(\Answered \Seen $Label1 \Recent)": system flags, keywords by name,
 * and \Recent when `recent` (IMAP4rev1 sessions). */
char *imap_fmt_flags(char *p, const struct imap_fmt_kw *kw, uint32_t flags, uint64_t keywords,
                     bool recent);
/* Whether the session shows \Recent on this message (IMAP4rev1 only). */
bool imap_fmt_recent(struct imap_session *s, uint32_t uid);
/* "* seq FETCH (" then "UID u" when with_uid and "FLAGS (...)" when
 * flags, space-separated: the head both FETCH and unsolicited flag
 * answers start with. Room: IMAP_FMT_FETCH_HEAD_ROOM, plus
 * imap_fmt_flags_room() with flags. *sep_r: what the next item needs
 * before it ("" or " "). */
#define IMAP_FMT_FETCH_HEAD_ROOM (32 + 2 * IMAP_FMT_U64_MAX)
char *imap_fmt_fetch_head(char *p, struct imap_session *s, const struct imap_fmt_kw *kw,
                          uint32_t seq, uint32_t uid, bool with_uid, bool flags,
                          uint32_t msg_flags, uint64_t keywords, const char **sep_r);

#endif
