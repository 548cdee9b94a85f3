#include "auth/password.h"

#include <argon2.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* OWASP Password Storage Cheat Sheet, argon2id option 2. */
#define PW_T_COST 2
#define PW_M_COST 19456  /* KiB */
#define PW_LANES 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

static int fill_random(void *p, size_t n)
{
	unsigned char *b = p;
	while (n > 0) {
		ssize_t got = getrandom(b, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += got;
		n -= (size_t)got;
	}
	return 0;
}

static int hash_with_salt(const char *password, size_t len, const unsigned char *salt,
                          char out[PASSWORD_HASH_MAX], const char **error_r)
{
	int rc = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_LANES, password, len,
	                               salt, PW_SALT_LEN, PW_HASH_LEN, out, PASSWORD_HASH_MAX);
	if (rc != ARGON2_OK) {
		*error_r = argon2_error_message(rc);
		return -1;
	}
	return 0;
}

int password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX],
                  const char **error_r)
{
	if (len == 0) {
		*error_r = "empty password";
		return -1;
	}
	if (len > PASSWORD_MAX_LEN) {
		*error_r = "password too long";
		return -1;
	}
	unsigned char salt[PW_SALT_LEN];
	if (fill_random(salt, sizeof(salt)) < 0) {
		*error_r = "no random bytes for the salt (getrandom failed)";
		return -1;
	}
	return hash_with_salt(password, len, salt, out, error_r);
}

int password_verify(const char *encoded, const char *password, size_t len)
{
	if (len > PASSWORD_MAX_LEN) {
		password_verify_dummy("", 0);
		return PASSWORD_MISMATCH;
	}
	argon2_type type;
	if (strncmp(encoded, "$argon2id$", 10) == 0)
		type = Argon2_id;
	else if (strncmp(encoded, "$argon2i$", 9) == 0)
		type = Argon2_i;
	else if (strncmp(encoded, "$argon2d$", 9) == 0)
		type = Argon2_d;
	else
		return PASSWORD_BAD_HASH;
	/* libargon2 wants a non-NULL pointer even for an empty password. */
	int rc = argon2_verify(encoded, password != NULL ? password : "", len, type);
	if (rc == ARGON2_OK)
		return PASSWORD_OK;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return PASSWORD_MISMATCH;
	return PASSWORD_BAD_HASH;
}

static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	/* Built with the live parameters so its cost always matches a real
	 * account's. The salt need not be secret: nobody can log in with it. */
	static const unsigned char salt[PW_SALT_LEN] = "mailkeep-dummy!";
	const char *error;
	if (hash_with_salt("dummy password", 14, salt, dummy_hash, &error) < 0)
		dummy_hash[0] = '\0';
}

void password_verify_dummy(const char *password, size_t len)
{
	pthread_once(&dummy_once, dummy_init);
	if (dummy_hash[0] == '\0')
		return;
	if (len > PASSWORD_MAX_LEN)
		len = PASSWORD_MAX_LEN;
	(void)argon2_verify(dummy_hash, password != NULL ? password : "", len, Argon2_id);
}

bool password_needs_rehash(const char *encoded)
{
	char want[64];
	snprintf(want, sizeof(want), "$argon2id$v=%d$m=%d,t=%d,p=%d$",
	         ARGON2_VERSION_NUMBER, PW_M_COST, PW_T_COST, PW_LANES);
	if (strncmp(encoded, want, strlen(want)) != 0)
		return true;
	/* Salt and hash lengths: base64 without padding of 16 and 32 bytes. */
	const char *salt = encoded + strlen(want);
	const char *sep = strchr(salt, '$');
	if (sep == NULL)
		return true;
	size_t salt_len = (size_t)(sep - salt), hash_len = strlen(sep + 1);
	return salt_len != (PW_SALT_LEN * 4 + 2) / 3 || hash_len != (PW_HASH_LEN * 4 + 2) / 3;
}
