#include "auth/throttle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "auth/siphash.h"
#include "lib/arena.h"

/* Slots examined from a key's home slot: bounds lookups and evictions. */
#define PROBE 8
/* Longest key material hashed; longer user names are cut (still unique
 * enough: they are hashed, not compared). */
#define KEY_MAX 320

enum record_kind { REC_PAIR = 'P', REC_IP = 'I', REC_ACCOUNT = 'A' };

struct record {
	uint64_t key;
	uint64_t last_ms;   /* time of the last counted failure */
	uint32_t count;     /* failures counted at last_ms */
	bool used;
};

struct throttle {
	struct throttle_params p;
	pthread_mutex_t lock;
	uint8_t hash_key[16];
	size_t mask;
	struct record *slots;
};

void throttle_params_default(struct throttle_params *p, uint32_t max_delay_s)
{
	p->base_ms = 250;
	p->max_ms = max_delay_s > UINT32_MAX / 1000 ? UINT32_MAX : max_delay_s * 1000;
	p->decay_ms = 60 * 1000;
	p->shared_free = 3;
	p->max_entries = 16384;
}

struct throttle *throttle_new(const struct throttle_params *p)
{
	struct throttle *t = xcalloc(1, sizeof(*t));
	t->p = *p;
	if (t->p.decay_ms == 0)
		t->p.decay_ms = 1;
	size_t n = PROBE;
	while (n < p->max_entries && n < ((size_t)1 << 30))
		n *= 2;
	t->mask = n - 1;
	t->slots = xcalloc(n, sizeof(*t->slots));
	pthread_mutex_init(&t->lock, NULL);
	/* Without randomness the table still works, only predictably. */
	if (getrandom(t->hash_key, sizeof(t->hash_key), GRND_NONBLOCK) != sizeof(t->hash_key)) {
		uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
		memcpy(t->hash_key, &seed, sizeof(seed));
	}
	return t;
}

void throttle_free(struct throttle **tp)
{
	struct throttle *t = *tp;
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t);
	*tp = NULL;
}

static uint64_t key_of(const struct throttle *t, enum record_kind kind, const char *ip,
                       const char *account)
{
	char buf[KEY_MAX];
	size_t n = 0;
	buf[n++] = (char)kind;
	if (kind != REC_ACCOUNT)
		for (const char *s = ip; *s != '\0' && n < KEY_MAX / 4; s++)
			buf[n++] = *s;
	buf[n++] = '\0';
	if (kind != REC_IP)
		for (const char *s = account; *s != '\0' && n < KEY_MAX; s++)
			buf[n++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
	return siphash24(t->hash_key, buf, n);
}

/* Failures still counted at now_ms. */
static uint32_t effective(const struct throttle *t, const struct record *r, uint64_t now_ms)
{
	if (!r->used)
		return 0;
	uint64_t quiet = now_ms > r->last_ms ? now_ms - r->last_ms : 0;
	uint64_t forgiven = quiet / t->p.decay_ms;
	return forgiven >= r->count ? 0 : r->count - (uint32_t)forgiven;
}

static struct record *find(struct throttle *t, uint64_t key)
{
	for (size_t i = 0; i < PROBE; i++) {
		struct record *r = &t->slots[(key + i) & t->mask];
		if (r->used && r->key == key)
			return r;
	}
	return NULL;
}

/* The record for key, taking a slot for it if needed. */
static struct record *find_or_take(struct throttle *t, uint64_t key, uint64_t now_ms)
{
	struct record *r = find(t, key);
	if (r != NULL)
		return r;
	struct record *victim = NULL;
	for (size_t i = 0; i < PROBE; i++) {
		struct record *c = &t->slots[(key + i) & t->mask];
		if (effective(t, c, now_ms) == 0) {
			victim = c;
			break;
		}
		if (victim == NULL || c->last_ms < victim->last_ms)
			victim = c;
	}
	*victim = (struct record){ .key = key, .last_ms = now_ms, .count = 0, .used = true };
	return victim;
}

static uint32_t delay_for(const struct throttle *t, uint32_t n)
{
	if (n == 0)
		return 0;
	uint64_t d = t->p.base_ms;
	for (uint32_t i = 1; i < n && d < t->p.max_ms; i++)
		d *= 2;
	return d > t->p.max_ms ? t->p.max_ms : (uint32_t)d;
}

static uint32_t shared_delay(const struct throttle *t, uint32_t n)
{
	return n > t->p.shared_free ? delay_for(t, n - t->p.shared_free) : 0;
}

uint32_t throttle_delay_ms(struct throttle *t, const char *ip, const char *account,
                           uint64_t now_ms)
{
	ip = ip != NULL ? ip : "";
	account = account != NULL ? account : "";
	pthread_mutex_lock(&t->lock);
	uint32_t d = 0, x;
	struct record *r;
	if ((r = find(t, key_of(t, REC_PAIR, ip, account))) != NULL)
		d = delay_for(t, effective(t, r, now_ms));
	if (*ip != '\0' && (r = find(t, key_of(t, REC_IP, ip, account))) != NULL &&
	    (x = shared_delay(t, effective(t, r, now_ms))) > d)
		d = x;
	if (*account != '\0' && (r = find(t, key_of(t, REC_ACCOUNT, ip, account))) != NULL &&
	    (x = shared_delay(t, effective(t, r, now_ms))) > d)
		d = x;
	pthread_mutex_unlock(&t->lock);
	return d;
}

static void count_failure(struct throttle *t, uint64_t key, uint64_t now_ms)
{
	struct record *r = find_or_take(t, key, now_ms);
	uint32_t n = effective(t, r, now_ms);
	r->count = n < UINT32_MAX ? n + 1 : n;
	r->last_ms = now_ms;
}

void throttle_failure(struct throttle *t, const char *ip, const char *account, uint64_t now_ms)
{
	ip = ip != NULL ? ip : "";
	account = account != NULL ? account : "";
	pthread_mutex_lock(&t->lock);
	count_failure(t, key_of(t, REC_PAIR, ip, account), now_ms);
	if (*ip != '\0')
		count_failure(t, key_of(t, REC_IP, ip, account), now_ms);
	if (*account != '\0')
		count_failure(t, key_of(t, REC_ACCOUNT, ip, account), now_ms);
	pthread_mutex_unlock(&t->lock);
}

void throttle_success(struct throttle *t, const char *ip, const char *account, uint64_t now_ms)
{
	ip = ip != NULL ? ip : "";
	account = account != NULL ? account : "";
	pthread_mutex_lock(&t->lock);
	struct record *r = find(t, key_of(t, REC_PAIR, ip, account));
	if (r != NULL)
		r->used = false;
	pthread_mutex_unlock(&t->lock);
}

size_t throttle_entries(struct throttle *t)
{
	size_t n = 0;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i <= t->mask; i++)
		n += t->slots[i].used;
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t throttle_capacity(const struct throttle *t)
{
	return t->mask + 1;
}
