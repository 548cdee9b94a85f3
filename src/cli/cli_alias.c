/* mailkeep alias add|del|list */
#include "cli/cli_accounts.h"

#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "cli/cli_account_common.h"
#include "lib/arena.h"

#define ALIAS_USAGE \
	"alias add SOURCE TARGET | alias del SOURCE | alias list\n" \
	"  SOURCE is an address, or @domain for the domain's catch-all;\n" \
	"  TARGET is an existing account"

int cli_alias_main(const char *data_dir, int argc, char **argv)
{
	if (argc < 2)
		return cli_account_usage(ALIAS_USAGE);
	const char *sub = argv[1];
	int want;
	if (strcmp(sub, "add") == 0)
		want = 4;
	else if (strcmp(sub, "del") == 0)
		want = 3;
	else if (strcmp(sub, "list") == 0)
		want = 2;
	else {
		fprintf(stderr, "mailkeep: unknown alias command '%s'\n", sub);
		return cli_account_usage(ALIAS_USAGE);
	}
	if (argc != want)
		return cli_account_usage(ALIAS_USAGE);
	struct accounts *acc = cli_accounts_open(data_dir);
	if (acc == NULL)
		return CLI_EXIT_FAIL;
	const char *error;
	int rc = CLI_EXIT_OK;
	if (want == 2) {
		struct arena *a = arena_new(0);
		struct alias *list;
		size_t n;
		if (accounts_alias_list(acc, a, &list, &n, &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\n", list[i].source, list[i].target);
		arena_free(&a);
	} else if (want == 4) {
		if (accounts_alias_add(acc, argv[2], argv[3], &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			printf("added alias %s -> %s\n", argv[2], argv[3]);
	} else {
		if (accounts_alias_del(acc, argv[2], &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			printf("deleted alias %s\n", argv[2]);
	}
	accounts_close(&acc);
	return rc;
}
