/*
 * fuzz_lib_config: the config file parser.
 * Checks: no crash or leak on any input; an error is always a message with
 * the file name; a config that loads dumps to text that loads again and
 * dumps to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/config.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = config_new_defaults(size > 0 && (data[0] & 1));
	char *err = NULL;
	if (config_load_text(cfg, (const char *)data, size, "f", &err) < 0) {
		check(err != NULL && strncmp(err, "f:", 2) == 0);
		free(err);
		config_free(&cfg);
		return 0;
	}
	if (config_validate(cfg, &err) < 0) {
		check(err != NULL);
		free(err);
	}
	struct buf a, b;
	buf_init(&a, 64 * 1024 * 1024);
	buf_init(&b, 64 * 1024 * 1024);
	check(config_dump(cfg, &a) == 0);
	struct config *again = config_new_defaults(false);
	check(config_load_text(again, buf_ptr(&a), buf_len(&a), "dump", &err) == 0);
	check(config_dump(again, &b) == 0);
	check(buf_len(&a) == buf_len(&b) && memcmp(buf_ptr(&a), buf_ptr(&b), buf_len(&a)) == 0);
	buf_deinit(&a);
	buf_deinit(&b);
	config_free(&again);
	config_free(&cfg);
	return 0;
}
