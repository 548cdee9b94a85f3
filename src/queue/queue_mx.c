/* queue_mx: MX lookup and ordering (see queue_mx.h). */
#include "queue/queue_mx.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum queue_mx_result queue_mx_parse(const unsigned char *answer, size_t len,
                                    struct queue_mx *out, size_t max, size_t *n_r)
{
	ns_msg msg;
	*n_r = 0;
	if (len > 65535 || ns_initparse(answer, (int)len, &msg) < 0)
		return QUEUE_MX_TEMP;
	int count = ns_msg_count(msg, ns_s_an);
	size_t n = 0;
	for (int i = 0; i < count; i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return QUEUE_MX_TEMP;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue;  /* CNAMEs on the way */
		if (ns_rr_rdlen(rr) < 3)
			return QUEUE_MX_TEMP;
		if (n == max)
			continue;
		const unsigned char *rd = ns_rr_rdata(rr);
		out[n].pref = ns_get16(rd);
		char name[NS_MAXDNAME];
		if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rd + 2, name,
		                       sizeof(name)) < 0)
			return QUEUE_MX_TEMP;
		size_t nl = strlen(name);
		if (nl > 0 && name[nl - 1] == '.')
			name[--nl] = '\0';
		if (nl >= sizeof(out[n].host))
			continue;
		memcpy(out[n].host, name, nl + 1);
		n++;
	}
	*n_r = n;
	return n > 0 ? QUEUE_MX_OK : QUEUE_MX_NONE;
}

static uint64_t next_rand(uint64_t *s)
{
	/* splitmix64: only for spreading load, not security. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void queue_mx_sort(struct queue_mx *mx, size_t n, uint64_t seed)
{
	/* Shuffle everything, then a stable insertion sort by preference:
	 * equal preferences keep their shuffled order. n is small. */
	uint64_t s = seed;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(next_rand(&s) % i);
		struct queue_mx t = mx[i - 1];
		mx[i - 1] = mx[j];
		mx[j] = t;
	}
	for (size_t i = 1; i < n; i++) {
		struct queue_mx t = mx[i];
		size_t j = i;
		while (j > 0 && mx[j - 1].pref > t.pref) {
			mx[j] = mx[j - 1];
			j--;
		}
		mx[j] = t;
	}
}

enum queue_mx_result queue_mx_lookup(const char *domain, struct queue_mx *out, size_t max,
                                     size_t *n_r, const char **why)
{
	unsigned char answer[8192];
	*n_r = 0;
	*why = "";
	int len = res_query(domain, ns_c_in, ns_t_mx, answer, sizeof(answer));
	if (len < 0) {
		switch (h_errno) {
		case HOST_NOT_FOUND:
			*why = "domain does not exist (NXDOMAIN)";
			return QUEUE_MX_NXDOMAIN;
		case NO_DATA:
			return QUEUE_MX_NONE;
		default:
			*why = "DNS lookup failed (MX), will retry";
			return QUEUE_MX_TEMP;
		}
	}
	enum queue_mx_result r = queue_mx_parse(answer, (size_t)len, out, max, n_r);
	if (r == QUEUE_MX_TEMP) {
		*why = "bad DNS answer (MX)";
		return r;
	}
	if (r == QUEUE_MX_OK && *n_r == 1 && out[0].host[0] == '\0') {
		*why = "domain accepts no mail (null MX, RFC 7505)";
		return QUEUE_MX_NULL;
	}
	if (r == QUEUE_MX_OK) {
		uint64_t seed = 0;
		if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
			seed = (uint64_t)(uintptr_t)out;
		/* A null MX among real ones is meaningless: drop it. */
		size_t k = 0;
		for (size_t i = 0; i < *n_r; i++)
			if (out[i].host[0] != '\0')
				out[k++] = out[i];
		*n_r = k;
		queue_mx_sort(out, k, seed);
		if (k == 0)
			return QUEUE_MX_NULL;
	}
	return r;
}
