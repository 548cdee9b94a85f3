#include "imap/imap_seqset.h"

#include "lib/arena.h"
#include "lib/buf.h"

#include <stdlib.h>
#include <string.h>

/* seq-number at s[*i]: nz-number or '*'. */
static int parse_number(const char *s, size_t len, size_t *i, uint32_t *n_r, bool *star)
{
	if (*i < len && s[*i] == '*') {
		(*i)++;
		*n_r = IMAP_SEQ_STAR;
		*star = true;
		return 0;
	}
	if (*i >= len || s[*i] < '1' || s[*i] > '9')
		return -1;
	uint64_t v = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v > UINT32_MAX)
			return -1;
		(*i)++;
	}
	*n_r = (uint32_t)v;
	return 0;
}

int imap_seqset_parse(struct arena *a, const char *s, size_t len, size_t max_ranges,
                      struct imap_seqset *set_r, const char **error_r)
{
	memset(set_r, 0, sizeof(*set_r));
	if (len == 1 && s[0] == '$') {
		set_r->saved = true;
		return 0;
	}
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',')
			n++;
	if (max_ranges > 0 && n > max_ranges) {
		*error_r = "Too many ranges in sequence set";
		return -1;
	}
	struct imap_seq_range *r = arena_alloc(a, n * sizeof(*r));
	size_t i = 0, k = 0;
	bool star = false;
	for (;;) {
		if (parse_number(s, len, &i, &r[k].lo, &star) < 0)
			goto bad;
		r[k].hi = r[k].lo;
		if (i < len && s[i] == ':') {
			i++;
			if (parse_number(s, len, &i, &r[k].hi, &star) < 0)
				goto bad;
		}
		k++;
		if (i == len)
			break;
		if (s[i] != ',')
			goto bad;
		i++;
	}
	set_r->ranges = r;
	set_r->count = k;
	set_r->has_star = star;
	return 0;
bad:
	*error_r = "Invalid sequence set";
	return -1;
}

static int cmp_range(const void *x, const void *y)
{
	const struct imap_seq_range *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

void imap_seqset_resolve(struct arena *a, const struct imap_seqset *in, uint32_t star,
                         struct imap_seqset *out)
{
	struct imap_seq_range *r = arena_alloc(a, (in->count ? in->count : 1) * sizeof(*r));
	size_t n = 0;
	for (size_t i = 0; i < in->count; i++) {
		uint32_t lo = in->ranges[i].lo == IMAP_SEQ_STAR ? star : in->ranges[i].lo;
		uint32_t hi = in->ranges[i].hi == IMAP_SEQ_STAR ? star : in->ranges[i].hi;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (hi == 0)
			continue;
		r[n].lo = lo == 0 ? 1 : lo;
		r[n].hi = hi;
		n++;
	}
	qsort(r, n, sizeof(*r), cmp_range);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		/* merge overlapping and adjacent ranges (hi + 1 as 64-bit) */
		if (m > 0 && (uint64_t)r[m - 1].hi + 1 >= r[i].lo) {
			if (r[i].hi > r[m - 1].hi)
				r[m - 1].hi = r[i].hi;
		} else {
			r[m++] = r[i];
		}
	}
	bool has_star = in->has_star, saved = in->saved;
	out->ranges = r;
	out->count = m;
	out->has_star = has_star;
	out->saved = saved;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (n < set->ranges[mid].lo)
			hi = mid;
		else if (n > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t total = 0;
	for (size_t i = 0; i < set->count; i++)
		total += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
	return total;
}

uint32_t imap_seqset_max(const struct imap_seqset *set)
{
	return set->count > 0 ? set->ranges[set->count - 1].hi : 0;
}

void imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *set)
{
	it->set = set;
	it->range = 0;
	it->next = set->count > 0 ? set->ranges[0].lo : 0;
}

bool imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_r)
{
	while (it->range < it->set->count) {
		const struct imap_seq_range *r = &it->set->ranges[it->range];
		if (it->next <= r->hi) {
			*n_r = (uint32_t)it->next++;
			return true;
		}
		if (++it->range < it->set->count)
			it->next = it->set->ranges[it->range].lo;
	}
	return false;
}

static int write_number(struct buf *b, uint32_t n)
{
	return n == IMAP_SEQ_STAR ? buf_append(b, "*", 1) : buf_printf(b, "%u", n);
}

int imap_seqset_write(struct buf *b, const struct imap_seqset *set)
{
	if (set->saved)
		return buf_append(b, "$", 1);
	for (size_t i = 0; i < set->count; i++) {
		const struct imap_seq_range *r = &set->ranges[i];
		if ((i > 0 && buf_append(b, ",", 1) < 0) || write_number(b, r->lo) < 0)
			return -1;
		if (r->hi != r->lo && (buf_append(b, ":", 1) < 0 || write_number(b, r->hi) < 0))
			return -1;
	}
	return 0;
}

static int write_run(struct buf *b, bool first, uint32_t lo, uint32_t hi)
{
	if ((!first && buf_append(b, ",", 1) < 0) || buf_printf(b, "%u", lo) < 0)
		return -1;
	if (hi != lo && buf_printf(b, ":%u", hi) < 0)
		return -1;
	return 0;
}

int imap_seqset_write_list(struct buf *b, const uint32_t *nums, size_t n)
{
	bool open = false, first = true;
	uint32_t lo = 0, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (nums[i] == 0)
			continue;
		if (open && hi != UINT32_MAX && nums[i] == hi + 1) {
			hi = nums[i];
			continue;
		}
		if (open) {
			if (write_run(b, first, lo, hi) < 0)
				return -1;
			first = false;
		}
		lo = hi = nums[i];
		open = true;
	}
	return open ? write_run(b, first, lo, hi) : 0;
}
