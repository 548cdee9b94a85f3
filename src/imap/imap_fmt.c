/* imap_fmt.c: numbers and flag lists written in place (see imap_fmt.h). */
#include "imap/imap_fmt.h"

#include <string.h>

/* Indexed by the STORE_* bits: SEEN 1, ANSWERED 2, FLAGGED 4, DELETED 8,
 * DRAFT 16; written in the order \Answered \Flagged \Deleted \Seen
 * \Draft (the order every flag list of the server uses). */
static const char *const system_flags[32] = {
	"",
	"\\Seen",
	"\\Answered",
	"\\Answered \\Seen",
	"\\Flagged",
	"\\Flagged \\Seen",
	"\\Answered \\Flagged",
	"\\Answered \\Flagged \\Seen",
	"\\Deleted",
	"\\Deleted \\Seen",
	"\\Answered \\Deleted",
	"\\Answered \\Deleted \\Seen",
	"\\Flagged \\Deleted",
	"\\Flagged \\Deleted \\Seen",
	"\\Answered \\Flagged \\Deleted",
	"\\Answered \\Flagged \\Deleted \\Seen",
	"\\Draft",
	"\\Seen \\Draft",
	"\\Answered \\Draft",
	"\\Answered \\Seen \\Draft",
	"\\Flagged \\Draft",
	"\\Flagged \\Seen \\Draft",
	"\\Answered \\Flagged \\Draft",
	"\\Answered \\Flagged \\Seen \\Draft",
	"\\Deleted \\Draft",
	"\\Deleted \\Seen \\Draft",
	"\\Answered \\Deleted \\Draft",
	"\\Answered \\Deleted \\Seen \\Draft",
	"\\Flagged \\Deleted \\Draft",
	"\\Flagged \\Deleted \\Seen \\Draft",
	"\\Answered \\Flagged \\Deleted \\Draft",
	"\\Answered \\Flagged \\Deleted \\Seen \\Draft",
};
/* strlen of each entry above. */
static const uint8_t system_len[32] = {
	0, 5, 9, 15, 8, 14, 18, 24, 8, 14, 18, 24, 17, 23, 27, 33,
	6, 12, 16, 22, 15, 21, 25, 31, 15, 21, 25, 31, 24, 30, 34, 40,
};
#define LONGEST_SYSTEM 40

char *imap_fmt_u64(char *p, uint64_t v)
{
	char tmp[IMAP_FMT_U64_MAX];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

char *imap_fmt_u32(char *p, uint32_t v)
{
	return imap_fmt_u64(p, v);
}

char *imap_fmt_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

void imap_fmt_kw_load(struct imap_session *s, struct imap_fmt_kw *kw)
{
	size_t n;
	kw->name = store_mailbox_keywords(s->sel->mb, &n);
	kw->total = 0;
	for (size_t i = 0; i < STORE_KEYWORDS_MAX; i++) {
		kw->len[i] = (uint16_t)(i < n && kw->name[i] != NULL ? strlen(kw->name[i]) : 0);
		kw->total += kw->len[i] + 1u;
	}
}

size_t imap_fmt_flags_room(const struct imap_fmt_kw *kw, uint64_t keywords)
{
	/* "(" system " \Recent" ")", and every keyword with a space. */
	return 2 + LONGEST_SYSTEM + 8 + (keywords != 0 ? kw->total : 0);
}

char *imap_fmt_flags(char *p, const struct imap_fmt_kw *kw, uint32_t flags, uint64_t keywords,
                     bool recent)
{
	char *start = p;
	*p++ = '(';
	flags &= STORE_FLAGS_ALL;
	p = imap_fmt_mem(p, system_flags[flags], system_len[flags]);
	for (unsigned i = 0; keywords != 0 && i < STORE_KEYWORDS_MAX; i++) {
		if ((keywords & (UINT64_C(1) << i)) == 0 || kw->len[i] == 0)
			continue;
		if (p != start + 1)
			*p++ = ' ';
		p = imap_fmt_mem(p, kw->name[i], kw->len[i]);
	}
	if (recent) {
		if (p != start + 1)
			*p++ = ' ';
		p = imap_fmt_mem(p, "\\Recent", 7);
	}
	*p++ = ')';
	return p;
}

bool imap_fmt_recent(struct imap_session *s, uint32_t uid)
{
	return !(s->enabled & IMAP_ENABLED_REV2) && s->sel != NULL &&
	       store_msg_recent(s->sel->mb, uid);
}

char *imap_fmt_fetch_head(char *p, struct imap_session *s, const struct imap_fmt_kw *kw,
                          uint32_t seq, uint32_t uid, bool with_uid, bool flags,
                          uint32_t msg_flags, uint64_t keywords, const char **sep_r)
{
	p = imap_fmt_mem(p, "* ", 2);
	p = imap_fmt_u32(p, seq);
	p = imap_fmt_mem(p, " FETCH (", 8);
	const char *sep = "";
	if (with_uid) {
		p = imap_fmt_mem(p, "UID ", 4);
		p = imap_fmt_u32(p, uid);
		sep = " ";
	}
	if (flags) {
		p = imap_fmt_mem(p, sep, strlen(sep));
		p = imap_fmt_mem(p, "FLAGS ", 6);
		p = imap_fmt_flags(p, kw, msg_flags, keywords, imap_fmt_recent(s, uid));
		sep = " ";
	}
	*sep_r = sep;
	return p;
}
