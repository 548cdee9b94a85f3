#include "auth/sasl.h"

#include <string.h>
#include <strings.h>

#include "lib/base64.h"

/* Room for any response of at most SASL_LINE_MAX characters; the fields
 * are checked against their own limits after decoding. */
#define RESPONSE_MAX (SASL_LINE_MAX / 4 * 3)

enum sasl_mech sasl_mech_by_name(const char *name)
{
	if (strcasecmp(name, "PLAIN") == 0)
		return SASL_MECH_PLAIN;
	if (strcasecmp(name, "LOGIN") == 0)
		return SASL_MECH_LOGIN;
	return SASL_MECH_NONE;
}

void sasl_reset(struct sasl *s)
{
	explicit_bzero(s, sizeof(*s));
}

static enum sasl_status fail(struct sasl *s, const char *why, const char **text_r)
{
	explicit_bzero(s->password, sizeof(s->password));
	s->password_len = 0;
	s->mech = SASL_MECH_NONE;
	*text_r = why;
	return SASL_FAIL;
}

static enum sasl_status challenge(struct sasl *s, const char *text, const char **text_r)
{
	base64_encode(text, strlen(text), s->challenge, sizeof(s->challenge));
	*text_r = s->challenge;
	return SASL_CONTINUE;
}

/* Decode a response into out; -1 with *why_r on bad base64 or size. */
static int decode(const char *line, size_t len, unsigned char *out, size_t *out_len,
                  const char **why_r)
{
	if (len > SASL_LINE_MAX) {
		*why_r = "response too long";
		return -1;
	}
	if (base64_decode(line, len, out, RESPONSE_MAX, out_len) < 0) {
		*why_r = "response is not valid base64";
		return -1;
	}
	return 0;
}

static enum sasl_status plain_message(struct sasl *s, const unsigned char *m, size_t len,
                                      const char **text_r)
{
	const unsigned char *nul1 = memchr(m, '\0', len);
	if (nul1 == NULL)
		return fail(s, "PLAIN message has no NUL separators", text_r);
	const unsigned char *authcid = nul1 + 1;
	const unsigned char *nul2 = memchr(authcid, '\0', len - (size_t)(authcid - m));
	if (nul2 == NULL)
		return fail(s, "PLAIN message has one NUL separator, needs two", text_r);
	const unsigned char *pw = nul2 + 1;
	size_t authzid_len = (size_t)(nul1 - m), authcid_len = (size_t)(nul2 - authcid);
	size_t pw_len = len - (size_t)(pw - m);
	if (memchr(pw, '\0', pw_len) != NULL)
		return fail(s, "PLAIN message has more than two NUL separators", text_r);
	if (authcid_len == 0)
		return fail(s, "empty user name", text_r);
	if (pw_len == 0)
		return fail(s, "empty password", text_r);
	if (authcid_len > SASL_USERNAME_MAX)
		return fail(s, "user name too long", text_r);
	if (pw_len > SASL_PASSWORD_MAX)
		return fail(s, "password too long", text_r);
	if (authzid_len != 0 &&
	    (authzid_len != authcid_len || memcmp(m, authcid, authcid_len) != 0))
		return fail(s, "authorization identity differs from the user name", text_r);
	memcpy(s->username, authcid, authcid_len);
	s->username[authcid_len] = '\0';
	memcpy(s->password, pw, pw_len);
	s->password[pw_len] = '\0';
	s->password_len = pw_len;
	s->step = 2;
	*text_r = "";
	return SASL_DONE;
}

static enum sasl_status login_field(struct sasl *s, const unsigned char *m, size_t len,
                                    const char **text_r)
{
	if (memchr(m, '\0', len) != NULL)
		return fail(s, "NUL byte in LOGIN response", text_r);
	if (s->step == 0) {
		if (len == 0)
			return fail(s, "empty user name", text_r);
		if (len > SASL_USERNAME_MAX)
			return fail(s, "user name too long", text_r);
		memcpy(s->username, m, len);
		s->username[len] = '\0';
		s->step = 1;
		return challenge(s, "Password:", text_r);
	}
	if (len == 0)
		return fail(s, "empty password", text_r);
	if (len > SASL_PASSWORD_MAX)
		return fail(s, "password too long", text_r);
	memcpy(s->password, m, len);
	s->password[len] = '\0';
	s->password_len = len;
	s->step = 2;
	*text_r = "";
	return SASL_DONE;
}

static enum sasl_status feed(struct sasl *s, const unsigned char *m, size_t len,
                             const char **text_r)
{
	if (s->mech == SASL_MECH_PLAIN)
		return plain_message(s, m, len, text_r);
	return login_field(s, m, len, text_r);
}

enum sasl_status sasl_start(struct sasl *s, const char *mech, const char *initial,
                            const char **text_r)
{
	sasl_reset(s);
	s->mech = sasl_mech_by_name(mech);
	if (s->mech == SASL_MECH_NONE)
		return fail(s, "unsupported mechanism", text_r);
	if (initial == NULL) {
		/* PLAIN's first challenge is empty; LOGIN asks for the user. */
		if (s->mech == SASL_MECH_PLAIN) {
			*text_r = "";
			return SASL_CONTINUE;
		}
		return challenge(s, "Username:", text_r);
	}
	unsigned char m[RESPONSE_MAX];
	size_t len = 0;
	const char *why;
	if (strcmp(initial, "=") != 0 && decode(initial, strlen(initial), m, &len, &why) < 0)
		return fail(s, why, text_r);
	enum sasl_status st = feed(s, m, len, text_r);
	explicit_bzero(m, sizeof(m));
	return st;
}

enum sasl_status sasl_step(struct sasl *s, const char *line, size_t len, const char **text_r)
{
	if (s->mech == SASL_MECH_NONE || s->step >= 2)
		return fail(s, "no exchange in progress", text_r);
	if (len == 1 && line[0] == '*') {
		sasl_reset(s);
		*text_r = "cancelled by the client";
		return SASL_CANCEL;
	}
	unsigned char m[RESPONSE_MAX];
	size_t n;
	const char *why;
	if (decode(line, len, m, &n, &why) < 0)
		return fail(s, why, text_r);
	enum sasl_status st = feed(s, m, n, text_r);
	explicit_bzero(m, sizeof(m));
	return st;
}
