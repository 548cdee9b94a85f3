#include "smtp/smtp_data.h"

#include <string.h>

/* States. BOL: at the start of a line; DOT: a "." at the start of a line;
 * DOT_CR: "." then CR at the start of a line; MID: inside a line; CR: a CR
 * inside a line (or after an unstuffed dot), waiting for its LF. */
enum { S_BOL, S_DOT, S_DOT_CR, S_MID, S_CR };

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode, uint64_t max)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->max = max;
	d->state = mode == SMTP_DATA_DOT ? S_BOL : S_MID;
}

static void fail(struct smtp_data *d, enum smtp_data_err e)
{
	if (d->err == SMTP_DATA_OK)
		d->err = e;
}

/* One message byte. */
static void emit(struct smtp_data *d, char c, char *out, size_t *o)
{
	d->size++;
	if (d->max != 0 && d->size > d->max)
		fail(d, SMTP_DATA_TOO_BIG);
	if (d->err == SMTP_DATA_OK)
		out[(*o)++] = c;
}

/* After a bare LF, an LF "." LF or LF "." CRLF is how an LF-only client
 * ends its message: note it (lf_run counts the bytes of that pattern). */
static bool bare_lf_end(struct smtp_data *d, char c)
{
	if (d->err != SMTP_DATA_BARE_LF)
		return false;
	switch (d->lf_run) {
	case 1:
		d->lf_run = c == '.' ? 2 : (c == '\n' ? 1 : 0);
		return false;
	case 2:
		if (c == '\n')
			return true;
		d->lf_run = c == '\r' ? 3 : 0;
		return false;
	case 3:
		if (c == '\n')
			return true;
		d->lf_run = 0;
		return false;
	default:
		return false;
	}
}

size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t n, char *out, size_t *out_n)
{
	size_t o = 0, i = 0;
	bool dot = d->mode == SMTP_DATA_DOT;
	size_t seen = 0;  /* bytes already given to bare_lf_end */
	while (i < n && !d->done) {
		char c = in[i++];
		bool fresh = i > seen;
		if (fresh)
			seen = i;
		if (dot && fresh && bare_lf_end(d, c)) {
			d->done = true;
			d->must_close = true;
			break;
		}
		switch (d->state) {
		case S_BOL:
			if (dot && c == '.') {
				d->state = S_DOT;
				break;
			}
			/* fall through */
		case S_MID:
			if (c == '\r') {
				d->state = S_CR;
			} else if (c == '\n') {
				fail(d, SMTP_DATA_BARE_LF);
				d->lf_run = 1;
				d->state = S_BOL;
			} else {
				emit(d, c, out, &o);
				d->state = S_MID;
			}
			break;
		case S_DOT:
			/* The stuffed dot is dropped; c is the line's first byte. */
			if (c == '\r') {
				d->state = S_DOT_CR;
			} else if (c == '\n') {
				fail(d, SMTP_DATA_BARE_LF);
				d->lf_run = 1;
				d->state = S_BOL;
			} else {
				emit(d, c, out, &o);
				d->state = S_MID;
			}
			break;
		case S_DOT_CR:
			if (c == '\n') {
				d->done = true;
			} else {
				fail(d, SMTP_DATA_BARE_CR);
				i--;  /* look at c again, inside a line */
				d->state = S_MID;
			}
			break;
		case S_CR:
			if (c == '\n') {
				emit(d, '\r', out, &o);
				emit(d, '\n', out, &o);
				d->state = S_BOL;
				if (!dot)
					d->state = S_MID;
			} else {
				fail(d, SMTP_DATA_BARE_CR);
				i--;
				d->state = S_MID;
			}
			break;
		}
	}
	*out_n = o;
	return i;
}

void smtp_data_finish_chunks(struct smtp_data *d)
{
	if (d->state == S_CR)
		fail(d, SMTP_DATA_BARE_CR);
	d->state = S_MID;
	d->done = true;
}

const char *smtp_data_err_reply(enum smtp_data_err err)
{
	switch (err) {
	case SMTP_DATA_OK:
		return NULL;
	case SMTP_DATA_BARE_LF:
		return "554 5.6.0 Message refused: bare LF (line ends must be CRLF, RFC 5321 4.1.1.4)";
	case SMTP_DATA_BARE_CR:
		return "554 5.6.0 Message refused: bare CR (line ends must be CRLF, RFC 5321 4.1.1.4)";
	case SMTP_DATA_TOO_BIG:
	default:
		return "552 5.3.4 Message too big for system";
	}
}

size_t smtp_data_stuff(const char *msg, size_t n, char *out)
{
	size_t o = 0;
	bool bol = true;
	for (size_t i = 0; i < n; i++) {
		if (bol && msg[i] == '.')
			out[o++] = '.';
		out[o++] = msg[i];
		bol = msg[i] == '\n';
	}
	if (n > 0 && !(n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n')) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}
