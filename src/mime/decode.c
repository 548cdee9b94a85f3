#include "mime/decode.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"

enum mime_cte mime_part_cte(const struct mime_part *p)
{
	if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE) || p->encoding == NULL)
		return MIME_CTE_IDENTITY;
	const char *e = p->encoding;
	if (strcasecmp(e, "7bit") == 0 || strcasecmp(e, "8bit") == 0 ||
	    strcasecmp(e, "binary") == 0 || *e == '\0')
		return MIME_CTE_IDENTITY;
	if (strcasecmp(e, "base64") == 0)
		return MIME_CTE_BASE64;
	if (strcasecmp(e, "quoted-printable") == 0)
		return MIME_CTE_QP;
	return MIME_CTE_UNKNOWN;
}

enum { QP_NORMAL, QP_CR, QP_EQ, QP_EQ1, QP_EQ_CR, QP_EQ_WS };

void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte)
{
	memset(d, 0, sizeof(*d));
	d->cte = cte;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static size_t b64_feed(struct mime_decoder *d, const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);
		if (v < 0) {
			/* Padding ends a group: drop its leftover bits, so
			 * concatenated base64 blocks decode as senders meant. */
			if (in[i] == '=')
				d->acc = d->bits = 0;
			continue;
		}
		d->acc = (d->acc << 6) | (unsigned)v;
		d->bits += 6;
		if (d->bits >= 8) {
			d->bits -= 8;
			out[o++] = (char)(d->acc >> d->bits);
			d->acc &= (1u << d->bits) - 1;
		}
	}
	return o;
}

static size_t flush_ws(struct mime_decoder *d, char *out)
{
	memcpy(out, d->ws, d->nws);
	size_t n = d->nws;
	d->nws = 0;
	return n;
}

static size_t qp_feed(struct mime_decoder *d, const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	while (i < n) {
		unsigned char c = in[i];
		switch (d->state) {
		case QP_NORMAL:
			i++;
			if (c == ' ' || c == '\t') {
				if (d->nws == sizeof(d->ws))
					o += flush_ws(d, out + o);
				d->ws[d->nws++] = c;
			} else if (c == '\r') {
				d->state = QP_CR;
			} else if (c == '\n') {
				d->nws = 0;  /* trailing whitespace is not content */
				out[o++] = '\n';
			} else if (c == '=') {
				o += flush_ws(d, out + o);
				d->state = QP_EQ;
			} else {
				o += flush_ws(d, out + o);
				out[o++] = (char)c;
			}
			break;
		case QP_CR:
			d->state = QP_NORMAL;
			if (c == '\n') {
				i++;
				d->nws = 0;
				out[o++] = '\r';
				out[o++] = '\n';
			} else {
				o += flush_ws(d, out + o);
				out[o++] = '\r';
			}
			break;
		case QP_EQ:
			if (hex_value(c) >= 0) {
				d->hex = c;
				d->state = QP_EQ1;
				i++;
			} else if (c == '\r') {
				d->state = QP_EQ_CR;
				i++;
			} else if (c == '\n') {
				d->state = QP_NORMAL;   /* soft line break */
				i++;
			} else if (c == ' ' || c == '\t') {
				d->state = QP_EQ_WS;    /* padding before the break */
				d->ws[d->nws++] = c;
				i++;
			} else {
				out[o++] = '=';
				d->state = QP_NORMAL;
			}
			break;
		case QP_EQ1:
			d->state = QP_NORMAL;
			if (hex_value(c) >= 0) {
				out[o++] = (char)(hex_value(d->hex) << 4 | hex_value(c));
				i++;
			} else {
				out[o++] = '=';
				out[o++] = (char)d->hex;
			}
			break;
		case QP_EQ_CR:
			d->state = QP_NORMAL;
			if (c == '\n')
				i++;
			else {
				out[o++] = '=';
				out[o++] = '\r';
			}
			break;
		case QP_EQ_WS:
			if ((c == ' ' || c == '\t') && d->nws < sizeof(d->ws)) {
				d->ws[d->nws++] = c;
				i++;
			} else if (c == '\r' || c == '\n') {
				d->nws = 0;
				d->state = QP_EQ;
			} else {
				out[o++] = '=';
				o += flush_ws(d, out + o);
				d->state = QP_NORMAL;
			}
			break;
		}
	}
	return o;
}

size_t mime_decoder_feed(struct mime_decoder *d, const char *in, size_t n, char *out)
{
	const unsigned char *u = (const unsigned char *)in;
	switch (d->cte) {
	case MIME_CTE_BASE64:
		return b64_feed(d, u, n, out);
	case MIME_CTE_QP:
		return qp_feed(d, u, n, out);
	default:
		memcpy(out, in, n);
		return n;
	}
}

size_t mime_decoder_finish(struct mime_decoder *d, char *out)
{
	size_t o = 0;
	if (d->cte != MIME_CTE_QP)
		return 0;
	switch (d->state) {
	case QP_CR:
		out[o++] = '\r';
		break;
	case QP_EQ:
		out[o++] = '=';
		break;
	case QP_EQ1:
		out[o++] = '=';
		out[o++] = (char)d->hex;
		break;
	case QP_EQ_CR:
		out[o++] = '=';
		out[o++] = '\r';
		break;
	case QP_EQ_WS:
		out[o++] = '=';
		o += flush_ws(d, out + o);
		break;
	}
	d->nws = 0;  /* whitespace at the very end is trailing */
	d->state = QP_NORMAL;
	return o;
}

int mime_binary_size(const struct mime_message *m, const struct mime_part *p, uint64_t *size_r)
{
	enum mime_cte cte = mime_part_cte(p);
	if (cte == MIME_CTE_UNKNOWN)
		return -1;
	size_t len = p->body_end - p->body_start;
	if (cte == MIME_CTE_IDENTITY) {
		*size_r = len;
		return 0;
	}
	struct mime_decoder d;
	char out[16384 + MIME_DECODER_SLACK];
	uint64_t total = 0;
	mime_decoder_init(&d, cte);
	for (size_t off = 0; off < len; off += 16384) {
		size_t n = len - off < 16384 ? len - off : 16384;
		total += mime_decoder_feed(&d, m->data + p->body_start + off, n, out);
	}
	total += mime_decoder_finish(&d, out);
	*size_r = total;
	return 0;
}

char *mime_decode_body(struct arena *a, const struct mime_message *m,
                       const struct mime_part *p, size_t max_in, size_t *len_r)
{
	enum mime_cte cte = mime_part_cte(p);
	if (cte == MIME_CTE_UNKNOWN)
		return NULL;
	size_t len = p->body_end - p->body_start;
	if (len > max_in)
		len = max_in;
	char *out = arena_alloc(a, len + MIME_DECODER_SLACK + 1);
	struct mime_decoder d;
	mime_decoder_init(&d, cte);
	size_t o = mime_decoder_feed(&d, m->data + p->body_start, len, out);
	o += mime_decoder_finish(&d, out + o);
	out[o] = '\0';
	*len_r = o;
	return out;
}
