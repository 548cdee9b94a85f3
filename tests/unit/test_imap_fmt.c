#include "unit.h"
#include "imap/imap_fmt.h"

#include <stdio.h>

static char *end_str(char *p)
{
	*p = '\0';
	return p;
}

static void numbers(void **state)
{
	char b[64];
	end_str(imap_fmt_u32(b, 0));
	assert_str(b, "0");
	end_str(imap_fmt_u32(b, 4294967295u));
	assert_str(b, "4294967295");
	end_str(imap_fmt_u64(b, UINT64_MAX));
	assert_str(b, "18446744073709551615");
	assert_int_equal(strlen(b), IMAP_FMT_U64_MAX);
	end_str(imap_fmt_u64(b, 1000000));
	assert_str(b, "1000000");
}

/* Every system flag combination against the list written by hand, in the
 * server's order. */
static void system_flags_in_order(void **state)
{
	static const struct { uint32_t bit; const char *name; } sys[] = {
		{ STORE_ANSWERED, "\\Answered" }, { STORE_FLAGGED, "\\Flagged" },
		{ STORE_DELETED, "\\Deleted" }, { STORE_SEEN, "\\Seen" }, { STORE_DRAFT, "\\Draft" },
	};
	struct imap_fmt_kw kw = { 0 };
	for (uint32_t f = 0; f < 32; f++) {
		char want[128] = "(", got[128];
		for (size_t i = 0; i < 5; i++) {
			if (!(f & sys[i].bit))
				continue;
			if (want[1] != '\0')
				strcat(want, " ");
			strcat(want, sys[i].name);
		}
		strcat(want, ")");
		assert_true(imap_fmt_flags_room(&kw, 0) >= strlen(want));
		end_str(imap_fmt_flags(got, &kw, f, 0, false));
		assert_str(got, want);
	}
}

static void keywords_and_recent(void **state)
{
	static const char *const names[STORE_KEYWORDS_MAX] = { [0] = "$Work", [3] = "Later", [63] = "x" };
	struct imap_fmt_kw kw = { .name = names };
	for (size_t i = 0; i < STORE_KEYWORDS_MAX; i++) {
		kw.len[i] = (uint16_t)(names[i] != NULL ? strlen(names[i]) : 0);
		kw.total += kw.len[i] + 1u;
	}
	char got[256];
	uint64_t mask = 1 | (1u << 3) | (UINT64_C(1) << 63) | (1u << 5);   /* bit 5 unnamed */
	end_str(imap_fmt_flags(got, &kw, STORE_SEEN, mask, true));
	assert_str(got, "(\\Seen $Work Later x \\Recent)");
	assert_true(imap_fmt_flags_room(&kw, mask) >= strlen(got));
	end_str(imap_fmt_flags(got, &kw, 0, 0, true));
	assert_str(got, "(\\Recent)");
	end_str(imap_fmt_flags(got, &kw, 0, 1u << 3, false));
	assert_str(got, "(Later)");
	end_str(imap_fmt_flags(got, &kw, 0, 0, false));
	assert_str(got, "()");
	/* Bits above the system flags are not flags. */
	end_str(imap_fmt_flags(got, &kw, 0xffffffe0u | STORE_DRAFT, 0, false));
	assert_str(got, "(\\Draft)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers),
		cmocka_unit_test(system_flags_in_order),
		cmocka_unit_test(keywords_and_recent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
