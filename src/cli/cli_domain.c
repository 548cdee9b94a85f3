/* mailkeep domain add|del|list */
#include "cli/cli_accounts.h"

#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "cli/cli_account_common.h"
#include "lib/arena.h"

#define DOMAIN_USAGE "domain add|del DOMAIN | domain list"

int cli_domain_main(const char *data_dir, int argc, char **argv)
{
	if (argc < 2)
		return cli_account_usage(DOMAIN_USAGE);
	const char *sub = argv[1];
	bool list = strcmp(sub, "list") == 0;
	bool add = strcmp(sub, "add") == 0, del = strcmp(sub, "del") == 0;
	if (!list && !add && !del) {
		fprintf(stderr, "mailkeep: unknown domain command '%s'\n", sub);
		return cli_account_usage(DOMAIN_USAGE);
	}
	if (list ? argc != 2 : argc != 3)
		return cli_account_usage(DOMAIN_USAGE);
	struct accounts *acc = cli_accounts_open(data_dir);
	if (acc == NULL)
		return CLI_EXIT_FAIL;
	const char *error;
	int rc = CLI_EXIT_OK;
	if (list) {
		struct arena *a = arena_new(0);
		const char **names;
		size_t n;
		if (accounts_domain_list(acc, a, &names, &n, &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			for (size_t i = 0; i < n; i++)
				puts(names[i]);
		arena_free(&a);
	} else if (add) {
		if (accounts_domain_add(acc, argv[2], &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			printf("added domain %s\n", argv[2]);
	} else {
		if (accounts_domain_del(acc, argv[2], &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			printf("deleted domain %s\n", argv[2]);
	}
	accounts_close(&acc);
	return rc;
}
