/* imap_fetch_write.c: one message's FETCH response, as pieces streamed in
 * bounded chunks (see imap_fetch.h). */
#include "imap/imap_fetch.h"

#include "imap/imap_fmt.h"
#include "imap/imap_resp.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/date.h"
#include "mime/section.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void add_piece(struct fetch_ctx *f, const struct fetch_piece *p)
{
	if (f->npieces == f->cap_pieces) {
		size_t cap = f->cap_pieces ? f->cap_pieces * 2 : 32;
		struct fetch_piece *np = arena_alloc(f->msg, cap * sizeof(*np));
		if (f->npieces > 0)
			memcpy(np, f->pieces, f->npieces * sizeof(*np));
		f->pieces = np;
		f->cap_pieces = cap;
	}
	f->pieces[f->npieces++] = *p;
}

static void add_mem(struct fetch_ctx *f, const char *data, uint64_t len)
{
	if (len > 0)
		add_piece(f, &(struct fetch_piece){ .kind = PIECE_MEM, .data = data, .len = len });
}

static void add_text(struct fetch_ctx *f, const char *s)
{
	add_mem(f, s, strlen(s));
}

/* Copy what b holds into the message arena as a piece, and empty b. */
static void add_buf(struct fetch_ctx *f, struct buf *b)
{
	add_mem(f, arena_memdup(f->msg, buf_ptr(b), buf_len(b)), buf_len(b));
	buf_reset(b, FETCH_TEXT_MAX);
}

/* Decode data[0..len) once: the decoded size, and whether a NUL falls in
 * the output range [start, start + count). */
static uint64_t decoded_size(struct fetch_ctx *f, const char *data, uint64_t len,
                             enum mime_cte cte, uint64_t start, uint64_t count, bool *nul)
{
	struct mime_decoder d;
	char *out = arena_alloc(f->msg, 16384 + MIME_DECODER_SLACK);
	uint64_t total = 0, end = count > UINT64_MAX - start ? UINT64_MAX : start + count;
	mime_decoder_init(&d, cte);
	*nul = false;
	for (uint64_t off = 0;; off += 16384) {
		size_t n = off < len ? (size_t)(len - off < 16384 ? len - off : 16384) : 0;
		size_t k = n > 0 ? mime_decoder_feed(&d, data + off, n, out) : mime_decoder_finish(&d, out);
		for (size_t i = 0; i < k && !*nul; i++)
			*nul = out[i] == '\0' && total + i >= start && total + i < end;
		total += k;
		if (n == 0)
			return total;
	}
}

static int add_binary(struct fetch_ctx *f, const struct mime_message *m,
                      const struct imap_fetch_sect *sect, struct buf *b)
{
	uint64_t off, len;
	enum mime_cte cte;
	enum mime_binary_status st = mime_binary_section(m, sect->sec.path, sect->sec.npath,
	                                                 &off, &len, &cte);
	if (st == MIME_BINARY_UNKNOWN_CTE)
		return -2;
	if (st == MIME_BINARY_NO_PART)
		return buf_printf(b, sect->kind == IMAP_SECT_BINARY_SIZE ? "0" : "NIL");
	uint64_t start = sect->partial ? sect->start : 0;
	uint64_t count = sect->partial ? sect->count : UINT64_MAX;
	bool nul;
	uint64_t size = decoded_size(f, m->data + off, len, cte, start, count, &nul);
	if (sect->kind == IMAP_SECT_BINARY_SIZE)
		return buf_printf(b, "%" PRIu64, size);
	uint64_t out = start >= size ? 0 : size - start < count ? size - start : count;
	if (imap_resp_write_literal_head(b, out, nul) < 0)
		return -1;
	add_buf(f, b);
	if (out > 0)
		add_piece(f, &(struct fetch_piece){ .kind = PIECE_DECODE, .data = m->data + off,
		                                    .len = len, .cte = cte, .skip = start,
		                                    .out_len = out });
	return 0;
}

static int add_section(struct fetch_ctx *f, const struct mime_message *m,
                       const struct imap_fetch_sect *sect, struct buf *b)
{
	if (buf_printf(b, "%s ", sect->name) < 0)
		return -1;
	if (sect->kind == IMAP_SECT_BINARY || sect->kind == IMAP_SECT_BINARY_SIZE)
		return add_binary(f, m, sect, b);
	if (sect->sec.npath > 0 && mime_find_part(m, sect->sec.path, sect->sec.npath) == NULL)
		return buf_append_str(b, "NIL");
	struct mime_extract x;
	mime_section_extract(f->msg, m, &sect->sec, &x);
	if (sect->partial)
		mime_extract_partial(&x, sect->start, sect->count);
	if (imap_resp_write_literal_head(b, x.len, false) < 0)
		return -1;
	add_buf(f, b);
	add_mem(f, mime_extract_ptr(m, &x), x.len);
	return 0;
}

/* A cached IMAP string, or the one computed from the parsed message when
 * the cache has none. */
static const char *cached(struct fetch_ctx *f, const char *s, const struct mime_message *m,
                          int which)
{
	if (s != NULL && s[0] != '\0')
		return s;
	if (m == NULL)
		return "NIL";
	return which == 0 ? mime_envelope(f->msg, m, m->root) :
	       mime_bodystructure(f->msg, m, m->root, which == 2);
}

static bool cache_missing(const struct store_msg_info *in, unsigned items)
{
	return ((items & IMAP_FETCH_ENVELOPE) && in->envelope[0] == '\0') ||
	       ((items & IMAP_FETCH_BODY) && in->body[0] == '\0') ||
	       ((items & IMAP_FETCH_BODYSTRUCTURE) && in->bodystructure[0] == '\0');
}

static int build(struct fetch_ctx *f, const struct mime_message *m, struct buf *b)
{
	const struct store_msg_info *in = &f->infos[f->info_i];
	struct imap_session *s = f->s;
	unsigned items = f->args.items;
	bool changed = f->flags_changed[f->info_i];
	bool flags = (items & IMAP_FETCH_FLAGS) || changed;
	struct imap_fmt_kw kw;
	if (flags)
		imap_fmt_kw_load(s, &kw);
	/* "* n FETCH (UID u FLAGS (...)" formatted in place. */
	size_t room = IMAP_FMT_FETCH_HEAD_ROOM + (flags ? imap_fmt_flags_room(&kw, in->keywords) : 0);
	char *p0 = buf_reserve(b, room), *p = p0;
	if (p == NULL)
		return -1;
	const char *sp;
	p = imap_fmt_fetch_head(p, s, &kw, f->seqs[f->info_i], in->uid,
	                        (items & IMAP_FETCH_UID) || f->uid_cmd, flags, in->flags,
	                        in->keywords, &sp);
	buf_commit(b, (size_t)(p - p0));
	int rc = 0;
	if (items & IMAP_FETCH_INTERNALDATE) {
		char d[DATE_IMAP_DATETIME_SIZE];
		date_format_imap_datetime((time_t)in->internal_date, in->internal_tz, d);
		rc |= buf_printf(b, "%sINTERNALDATE \"%s\"", sp, d);
		sp = " ";
	}
	if (items & IMAP_FETCH_RFC822_SIZE) {
		rc |= buf_printf(b, "%sRFC822.SIZE %" PRIu64, sp, in->size);
		sp = " ";
	}
	if ((items & IMAP_FETCH_MODSEQ) || (changed && s->sel->condstore)) {
		rc |= buf_printf(b, "%sMODSEQ (%" PRIu64 ")", sp, in->modseq);
		sp = " ";
	}
	static const struct { unsigned item; const char *name; int which; } strs[] = {
		{ IMAP_FETCH_ENVELOPE, "ENVELOPE", 0 }, { IMAP_FETCH_BODY, "BODY", 1 },
		{ IMAP_FETCH_BODYSTRUCTURE, "BODYSTRUCTURE", 2 },
	};
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		if (!(items & strs[i].item))
			continue;
		rc |= buf_printf(b, "%s%s ", sp, strs[i].name);
		add_buf(f, b);
		add_text(f, cached(f, i == 0 ? in->envelope : i == 1 ? in->body : in->bodystructure,
		                   m, strs[i].which));
		sp = " ";
	}
	if ((items & IMAP_FETCH_PREVIEW) && rc == 0) {
		unsigned fl = (s->enabled & (IMAP_ENABLED_REV2 | IMAP_ENABLED_UTF8)) ? IMAP_RESP_UTF8 : 0;
		rc |= buf_printf(b, "%sPREVIEW ", sp);
		rc |= imap_resp_write_string(b, in->preview, strlen(in->preview), fl);
		sp = " ";
	}
	for (size_t i = 0; i < f->args.nsects && rc == 0; i++) {
		rc = buf_append_str(b, sp);
		if (rc == 0)
			rc = add_section(f, m, &f->args.sects[i], b);
		sp = " ";
	}
	if (rc == 0)
		rc = buf_append_str(b, ")\r\n");
	if (rc == 0)
		add_buf(f, b);
	return rc;
}

int fetch_build_message(struct fetch_ctx *f)
{
	const struct store_msg_info *in = &f->infos[f->info_i];
	arena_reset(f->msg);
	f->pieces = NULL;
	f->npieces = f->cap_pieces = f->piece_i = 0;
	f->piece_off = f->piece_emitted = 0;
	const struct mime_message *m = NULL;
	if (f->args.need_message || cache_missing(in, f->args.items)) {
		int rc = store_message_map(f->s->sel->mb, in->uid, &f->map, &f->map_len);
		if (rc == STORE_E_EXPUNGED || rc == STORE_E_NOTFOUND)
			return 1;
		if (rc != STORE_OK) {
			conn_log(f->s->c, LOGL_ERROR, "fetch: map uid=%u: %s", in->uid,
			         store_error(f->s->store));
			return -1;
		}
		m = mime_parse(f->msg, f->map, f->map_len);
	}
	buf_reset(&f->text, FETCH_TEXT_MAX);
	int rc = build(f, m, &f->text);
	if (rc == -2)
		return -2;
	if (rc < 0) {
		conn_log(f->s->c, LOGL_ERROR, "fetch: response too large uid=%u", in->uid);
		return -1;
	}
	f->in_message = true;
	return 0;
}

/* The next chunk of a PIECE_DECODE: decode, keep what falls in
 * [skip, skip + out_len). Returns true when the piece is done. */
static bool write_decoded(struct fetch_ctx *f, struct fetch_piece *p, char *out)
{
	uint64_t end = p->skip + p->out_len;
	size_t n = f->piece_off < p->len ?
	           (size_t)(p->len - f->piece_off < f->chunk ? p->len - f->piece_off : f->chunk) : 0;
	size_t k = n > 0 ? mime_decoder_feed(&f->dec, p->data + f->piece_off, n, out) :
	           mime_decoder_finish(&f->dec, out);
	f->piece_off += n;
	uint64_t lo = f->piece_emitted, hi = lo + k;
	uint64_t a = lo > p->skip ? lo : p->skip, z = hi < end ? hi : end;
	if (a < z)
		conn_write(f->s->c, out + (a - lo), (size_t)(z - a));
	f->piece_emitted = hi;
	return n == 0 || hi >= end;
}

int fetch_write_pieces(struct fetch_ctx *f)
{
	while (f->piece_i < f->npieces) {
		if (conn_output_full(f->s->c))
			return 0;
		struct fetch_piece *p = &f->pieces[f->piece_i];
		bool done;
		if (p->kind == PIECE_MEM) {
			uint64_t n = p->len - f->piece_off < f->chunk ? p->len - f->piece_off : f->chunk;
			conn_write(f->s->c, p->data + f->piece_off, (size_t)n);
			f->piece_off += n;
			done = f->piece_off == p->len;
		} else {
			if (f->piece_off == 0 && f->piece_emitted == 0)
				mime_decoder_init(&f->dec, p->cte);
			if (f->scratch == NULL)
				f->scratch = arena_alloc(f->s->cmd_arena, f->chunk + MIME_DECODER_SLACK);
			done = write_decoded(f, p, f->scratch);
		}
		if (done) {
			f->piece_i++;
			f->piece_off = f->piece_emitted = 0;
		}
	}
	return 1;
}

void fetch_message_done(struct fetch_ctx *f)
{
	if (f->map != NULL)
		store_unmap(f->map, f->map_len);
	f->map = NULL;
	f->map_len = 0;
	f->in_message = false;
	f->npieces = f->piece_i = 0;
}
