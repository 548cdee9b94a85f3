#include "auth/login_cache.h"
#include "lib/arena.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MAC_LEN 32

struct slot {
	int64_t account_id;    /* 0 = empty */
	uint64_t expires_ms;
	unsigned char mac[MAC_LEN];
};

struct login_cache {
	pthread_mutex_t lock;
	uint64_t ttl_ms;
	size_t mask;
	unsigned char key[32];
	struct slot *slots;
};

struct login_cache *login_cache_new(uint64_t ttl_ms, size_t slots)
{
	size_t n = 1;
	while (n < slots && n < ((size_t)1 << 24))
		n <<= 1;
	struct login_cache *lc = xcalloc(1, sizeof(*lc));
	if (getrandom(lc->key, sizeof(lc->key), 0) != (ssize_t)sizeof(lc->key)) {
		free(lc);
		return NULL;
	}
	pthread_mutex_init(&lc->lock, NULL);
	lc->ttl_ms = ttl_ms;
	lc->mask = n - 1;
	lc->slots = xcalloc(n, sizeof(*lc->slots));
	return lc;
}

void login_cache_free(struct login_cache **lcp)
{
	struct login_cache *lc = *lcp;
	if (lc == NULL)
		return;
	OPENSSL_cleanse(lc->key, sizeof(lc->key));
	OPENSSL_cleanse(lc->slots, (lc->mask + 1) * sizeof(*lc->slots));
	free(lc->slots);
	pthread_mutex_destroy(&lc->lock);
	free(lc);
	*lcp = NULL;
}

static bool mac_of(const struct login_cache *lc, const char *stored_hash, const char *password,
                   size_t password_len, unsigned char out[MAC_LEN])
{
	/* The NUL after the stored hash separates the two fields. */
	size_t hlen = strlen(stored_hash) + 1;
	unsigned int len = 0;
	unsigned char *msg = xmalloc(hlen + password_len + 1);
	memcpy(msg, stored_hash, hlen);
	memcpy(msg + hlen, password, password_len);
	bool ok = HMAC(EVP_sha256(), lc->key, sizeof(lc->key), msg, hlen + password_len, out,
	               &len) != NULL && len == MAC_LEN;
	OPENSSL_cleanse(msg, hlen + password_len);
	free(msg);
	return ok;
}

static struct slot *slot_for(struct login_cache *lc, int64_t account_id)
{
	uint64_t h = (uint64_t)account_id * 0x9e3779b97f4a7c15ull;
	return &lc->slots[(h >> 32) & lc->mask];
}

bool login_cache_check(struct login_cache *lc, int64_t account_id, const char *stored_hash,
                       const char *password, size_t password_len, uint64_t now_ms)
{
	if (lc == NULL || lc->ttl_ms == 0 || account_id <= 0)
		return false;
	unsigned char mac[MAC_LEN];
	if (!mac_of(lc, stored_hash, password, password_len, mac))
		return false;
	pthread_mutex_lock(&lc->lock);
	struct slot *s = slot_for(lc, account_id);
	bool hit = s->account_id == account_id && now_ms < s->expires_ms &&
	           CRYPTO_memcmp(s->mac, mac, MAC_LEN) == 0;
	pthread_mutex_unlock(&lc->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
	return hit;
}

void login_cache_store(struct login_cache *lc, int64_t account_id, const char *stored_hash,
                       const char *password, size_t password_len, uint64_t now_ms)
{
	if (lc == NULL || lc->ttl_ms == 0 || account_id <= 0)
		return;
	unsigned char mac[MAC_LEN];
	if (!mac_of(lc, stored_hash, password, password_len, mac))
		return;
	pthread_mutex_lock(&lc->lock);
	struct slot *s = slot_for(lc, account_id);
	s->account_id = account_id;
	s->expires_ms = now_ms + lc->ttl_ms;
	memcpy(s->mac, mac, MAC_LEN);
	pthread_mutex_unlock(&lc->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
}
