/* mailkeep quota set|get */
#include "cli/cli_accounts.h"

#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "cli/cli_account_common.h"

#define QUOTA_USAGE \
	"quota set ADDRESS SIZE [--messages N] | quota get ADDRESS\n" \
	"  SIZE like 500M or 10G; 0 or unlimited for no limit. Without\n" \
	"  --messages the message limit is left as it is"

static int quota_get(struct accounts *acc, const char *address)
{
	uint64_t bytes, messages;
	const char *error;
	if (accounts_quota_get(acc, address, &bytes, &messages, &error) != ACCOUNTS_OK)
		return cli_account_error(error);
	char size[32];
	if (bytes == 0)
		printf("storage: unlimited\n");
	else
		printf("storage: %s (%llu bytes)\n", cli_format_size(bytes, size),
		       (unsigned long long)bytes);
	if (messages == 0)
		printf("messages: unlimited\n");
	else
		printf("messages: %llu\n", (unsigned long long)messages);
	return CLI_EXIT_OK;
}

static int quota_set(struct accounts *acc, int argc, char **argv)
{
	const char *address = NULL, *size_arg = NULL, *msgs_arg = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc && msgs_arg == NULL)
			msgs_arg = argv[++i];
		else if (address == NULL)
			address = argv[i];
		else if (size_arg == NULL)
			size_arg = argv[i];
		else
			return cli_account_usage(QUOTA_USAGE);
	}
	if (address == NULL || size_arg == NULL)
		return cli_account_usage(QUOTA_USAGE);
	uint64_t bytes, messages;
	const char *error;
	if (cli_parse_limit(size_arg, 1, &bytes) < 0)
		return CLI_EXIT_USAGE;
	if (msgs_arg != NULL) {
		if (cli_parse_limit(msgs_arg, 0, &messages) < 0)
			return CLI_EXIT_USAGE;
	} else {
		uint64_t old_bytes;
		if (accounts_quota_get(acc, address, &old_bytes, &messages, &error) != ACCOUNTS_OK)
			return cli_account_error(error);
	}
	if (accounts_quota_set(acc, address, bytes, messages, &error) != ACCOUNTS_OK)
		return cli_account_error(error);
	return quota_get(acc, address);
}

int cli_quota_main(const char *data_dir, int argc, char **argv)
{
	if (argc < 2)
		return cli_account_usage(QUOTA_USAGE);
	bool set = strcmp(argv[1], "set") == 0, get = strcmp(argv[1], "get") == 0;
	if (!set && !get) {
		fprintf(stderr, "mailkeep: unknown quota command '%s'\n", argv[1]);
		return cli_account_usage(QUOTA_USAGE);
	}
	if (get && argc != 3)
		return cli_account_usage(QUOTA_USAGE);
	struct accounts *acc = cli_accounts_open(data_dir);
	if (acc == NULL)
		return CLI_EXIT_FAIL;
	int rc = set ? quota_set(acc, argc, argv) : quota_get(acc, argv[2]);
	accounts_close(&acc);
	return rc;
}
