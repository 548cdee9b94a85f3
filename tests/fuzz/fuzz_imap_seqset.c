/*
 * fuzz_imap_seqset: the input is a sequence-set string. Checked: parse ->
 * write -> parse gives the same text; a resolved set is sorted, merged and
 * 0-free, agrees with contains/count/iteration, and written back as a list
 * of numbers it parses and resolves to the same ranges.
 */
#include "imap/imap_seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* first byte: the value of '*' (small, so ranges around it happen) */
	uint32_t star = data[0] == 255 ? UINT32_MAX : data[0];
	const char *s = (const char *)data + 1;
	size_t len = size - 1;
	struct arena *a = arena_new(0);
	struct imap_seqset set, again, res, res2;
	const char *err = NULL;
	struct buf b1, b2;
	buf_init(&b1, 1 << 20);
	buf_init(&b2, 1 << 20);

	if (imap_seqset_parse(a, s, len, 64, &set, &err) < 0) {
		CHECK(err != NULL);
		goto out;
	}
	CHECK(imap_seqset_write(&b1, &set) == 0);
	CHECK(imap_seqset_parse(a, buf_ptr(&b1), buf_len(&b1), 64, &again, &err) == 0);
	CHECK(imap_seqset_write(&b2, &again) == 0);
	CHECK(strcmp(buf_ptr(&b1), buf_ptr(&b2)) == 0);
	if (set.saved)
		goto out;

	imap_seqset_resolve(a, &set, star, &res);
	uint64_t total = 0;
	for (size_t i = 0; i < res.count; i++) {
		CHECK(res.ranges[i].lo >= 1 && res.ranges[i].lo <= res.ranges[i].hi);
		if (i > 0)
			CHECK((uint64_t)res.ranges[i - 1].hi + 1 < res.ranges[i].lo);
		CHECK(imap_seqset_contains(&res, res.ranges[i].lo));
		CHECK(imap_seqset_contains(&res, res.ranges[i].hi));
		CHECK(!imap_seqset_contains(&res, res.ranges[i].lo - 1));
		total += (uint64_t)res.ranges[i].hi - res.ranges[i].lo + 1;
	}
	CHECK(total == imap_seqset_count(&res));
	CHECK(!imap_seqset_contains(&res, 0));

	/* iterate (bounded) and write back as a list */
	if (total <= 100000) {
		uint32_t *nums = malloc((size_t)total * sizeof(*nums) + 1);
		struct imap_seqset_iter it;
		uint32_t v, prev = 0;
		size_t n = 0;
		imap_seqset_iter_init(&it, &res);
		while (imap_seqset_iter_next(&it, &v)) {
			CHECK(n < total && v > prev);
			prev = v;
			nums[n++] = v;
		}
		CHECK(n == total);
		buf_reset(&b1, 0);
		CHECK(imap_seqset_write_list(&b1, nums, n) == 0);
		free(nums);
		if (n > 0) {
			CHECK(imap_seqset_parse(a, buf_ptr(&b1), buf_len(&b1), 0, &again, &err) == 0);
			imap_seqset_resolve(a, &again, 0, &res2);
			CHECK(res2.count == res.count);
			CHECK(memcmp(res2.ranges, res.ranges, res.count * sizeof(*res.ranges)) == 0);
		}
	}
out:
	buf_deinit(&b1);
	buf_deinit(&b2);
	arena_free(&a);
	return 0;
}
