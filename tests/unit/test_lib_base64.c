#include "unit.h"
#include "lib/arena.h"
#include "lib/base64.h"

/* RFC 4648 section 10 test vectors. */
static const char *const vectors[][2] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void encode_rfc4648_vectors(void **state)
{
	char out[32];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t n = strlen(vectors[i][0]);
		assert_int_equal(base64_encode(vectors[i][0], n, out, sizeof(out)),
		                 strlen(vectors[i][1]));
		assert_str(out, vectors[i][1]);
		assert_int_equal(base64_encoded_len(n), strlen(vectors[i][1]));
	}
}

static void decode_rfc4648_vectors(void **state)
{
	char out[32];
	size_t len;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *enc = vectors[i][1];
		assert_int_equal(base64_decode(enc, strlen(enc), out, sizeof(out), &len), 0);
		assert_int_equal(len, strlen(vectors[i][0]));
		assert_memory_equal(out, vectors[i][0], len);
	}
}

static void encode_refuses_small_buffer(void **state)
{
	char out[5] = "xxxx";
	/* "foob" needs 8 characters plus the NUL. */
	assert_int_equal(base64_encode("foob", 4, out, sizeof(out)), (size_t)-1);
	assert_str(out, "xxxx");
	char exact[9];
	assert_int_equal(base64_encode("foob", 4, exact, sizeof(exact)), 8);
	assert_str(exact, "Zm9vYg==");
}

static void decode_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"Zg=",        /* length not a multiple of 4 */
		"Zg",         /* unpadded */
		"Zm9v\n",     /* trailing newline */
		"Zm 9v",      /* space */
		"Zm9v Zg==",  /* space between groups */
		"Z===",       /* too much padding */
		"====",       /* padding only */
		"Zg==Zm9v",   /* padding in the middle */
		"Zm=v",       /* '=' before a data character */
		"Zh==",       /* non-zero bits under the padding */
		"Zm9=",       /* non-zero bits under the padding */
		"Zm9v-_==",   /* base64url alphabet */
		"Zm9\x80",    /* 8-bit byte */
		"*",          /* SASL cancel is not base64 */
	};
	char out[32];
	size_t len = 12345;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &len) != -1)
			fail_msg("accepted bad input #%zu \"%s\"", i, bad[i]);
	}
	assert_int_equal(len, 12345);
}

static void decode_rejects_embedded_nul_in_input(void **state)
{
	char out[8];
	size_t len;
	assert_int_equal(base64_decode("Zm\0v", 4, out, sizeof(out), &len), -1);
}

static void decode_respects_destination_size(void **state)
{
	char out[5];
	size_t len;
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5, &len), -1);
	assert_int_equal(base64_decode("Zm9vYmE=", 8, out, 5, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "fooba", 5);
	assert_int_equal(base64_decoded_max(8), 6);
}

static void all_bytes_round_trip(void **state)
{
	unsigned char in[256], back[256];
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	char enc[400];
	for (size_t n = 0; n <= 256; n++) {
		size_t elen = base64_encode(in, n, enc, sizeof(enc));
		assert_int_equal(elen, base64_encoded_len(n));
		size_t len;
		assert_int_equal(base64_decode(enc, elen, back, sizeof(back), &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(back, in, n);
	}
}

static void arena_variants_nul_terminate(void **state)
{
	struct arena *a = arena_new(0);
	assert_str(base64_encode_arena(a, "\0user\0pass", 10), "AHVzZXIAcGFzcw==");
	size_t len;
	unsigned char *d = base64_decode_arena(a, "AHVzZXIAcGFzcw==", 16, &len);
	assert_non_null(d);
	assert_int_equal(len, 10);
	assert_memory_equal(d, "\0user\0pass", 10);
	assert_int_equal(d[10], 0);
	assert_null(base64_decode_arena(a, "AHVz=XIA", 8, &len));
	d = base64_decode_arena(a, "", 0, &len);
	assert_non_null(d);
	assert_int_equal(len, 0);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_rfc4648_vectors),
		cmocka_unit_test(decode_rfc4648_vectors),
		cmocka_unit_test(encode_refuses_small_buffer),
		cmocka_unit_test(decode_rejects_malformed),
		cmocka_unit_test(decode_rejects_embedded_nul_in_input),
		cmocka_unit_test(decode_respects_destination_size),
		cmocka_unit_test(all_bytes_round_trip),
		cmocka_unit_test(arena_variants_nul_terminate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
