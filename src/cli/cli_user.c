/* mailkeep user add|passwd|del|list|disable|enable|admin */
#include "cli/cli_accounts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "cli/cli_account_common.h"
#include "lib/arena.h"

#define USER_USAGE \
	"user add|passwd|del|disable|enable ADDRESS | user admin ADDRESS on|off | user list\n" \
	"  add and passwd read the password from standard input when it is not a\n" \
	"  terminal (one line), else prompt for it twice\n" \
	"  admin: the account may change quotas of any account over IMAP (SETQUOTA)"

/* The address as stored (domain lower-cased), for messages. */
static const char *canonical_address(struct accounts *acc, int64_t id, const char *given)
{
	static char out[256];
	struct arena *a = arena_new(0);
	struct account acct;
	const char *error;
	snprintf(out, sizeof(out), "%s",
	         accounts_user_get_by_id(acc, a, id, &acct, &error) == ACCOUNTS_OK ? acct.address : given);
	arena_free(&a);
	return out;
}

static int user_set_password(struct accounts *acc, const char *address, bool add)
{
	char pw[PASSWORD_MAX_LEN + 2];
	size_t len;
	const char *error;
	int rc;
	/* Check the address first: no point asking for a password otherwise. */
	struct arena *a = arena_new(0);
	struct account existing;
	rc = accounts_user_get(acc, a, address, &existing, &error);
	if (add && rc == ACCOUNTS_OK)
		fprintf(stderr, "mailkeep: account %s exists already\n", existing.address);
	arena_free(&a);
	if (add && rc == ACCOUNTS_OK)
		return CLI_EXIT_FAIL;
	if (rc == ACCOUNTS_ERR_INVALID || rc == ACCOUNTS_ERR_INTERNAL ||
	    (!add && rc == ACCOUNTS_ERR_NOT_FOUND))
		return cli_account_error(error);
	if (cli_read_password(address, pw, sizeof(pw), &len) < 0)
		return CLI_EXIT_FAIL;
	int64_t id = 0;
	rc = add ? accounts_user_add(acc, address, pw, len, &id, &error)
	         : accounts_user_passwd(acc, address, pw, len, &error);
	explicit_bzero(pw, sizeof(pw));
	if (rc != ACCOUNTS_OK)
		return cli_account_error(error);
	if (add)
		printf("added %s (id %lld)\n", canonical_address(acc, id, address), (long long)id);
	else
		printf("password changed for %s\n", address);
	return CLI_EXIT_OK;
}

static int user_list(struct accounts *acc)
{
	struct arena *a = arena_new(0);
	struct account *list;
	size_t n;
	const char *error;
	if (accounts_user_list(acc, a, &list, &n, &error) != ACCOUNTS_OK) {
		arena_free(&a);
		return cli_account_error(error);
	}
	for (size_t i = 0; i < n; i++) {
		char day[16] = "?", size[32];
		time_t created = (time_t)list[i].created;
		struct tm tm;
		if (gmtime_r(&created, &tm) != NULL)
			strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		printf("%s\tid=%lld\tcreated=%s\t%s\tquota=%s", list[i].address,
		       (long long)list[i].id, day, list[i].disabled ? "disabled" : "enabled",
		       cli_format_size(list[i].quota_bytes, size));
		if (list[i].quota_messages != 0)
			printf(",%llu messages", (unsigned long long)list[i].quota_messages);
		if (list[i].admin)
			fputs("\tadmin", stdout);
		putchar('\n');
	}
	arena_free(&a);
	return CLI_EXIT_OK;
}

/* user admin ADDRESS on|off */
static int user_admin(struct accounts *acc, const char *address, bool on)
{
	const char *error;
	if (accounts_user_set_admin(acc, address, on, &error) != ACCOUNTS_OK)
		return cli_account_error(error);
	printf("%s is %s an administrator\n", address, on ? "now" : "no longer");
	return CLI_EXIT_OK;
}

int cli_user_main(const char *data_dir, int argc, char **argv)
{
	if (argc < 2)
		return cli_account_usage(USER_USAGE);
	const char *sub = argv[1];
	bool list = strcmp(sub, "list") == 0, admin = strcmp(sub, "admin") == 0;
	if (list ? argc != 2 : admin ? argc != 4 : argc != 3)
		return cli_account_usage(USER_USAGE);
	if (admin && strcmp(argv[3], "on") != 0 && strcmp(argv[3], "off") != 0)
		return cli_account_usage(USER_USAGE);
	if (!list && !admin && strcmp(sub, "add") != 0 && strcmp(sub, "passwd") != 0 &&
	    strcmp(sub, "del") != 0 && strcmp(sub, "disable") != 0 && strcmp(sub, "enable") != 0) {
		fprintf(stderr, "mailkeep: unknown user command '%s'\n", sub);
		return cli_account_usage(USER_USAGE);
	}
	struct accounts *acc = cli_accounts_open(data_dir);
	if (acc == NULL)
		return CLI_EXIT_FAIL;
	const char *address = argv[2], *error;
	int rc = CLI_EXIT_OK;
	if (list) {
		rc = user_list(acc);
	} else if (admin) {
		rc = user_admin(acc, address, strcmp(argv[3], "on") == 0);
	} else if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
		rc = user_set_password(acc, address, strcmp(sub, "add") == 0);
	} else if (strcmp(sub, "del") == 0) {
		unsigned aliases = 0;
		if (accounts_user_del(acc, address, &aliases, &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else if (aliases > 0)
			printf("deleted %s and %u alias(es) pointing to it\n", address, aliases);
		else
			printf("deleted %s\n", address);
	} else {
		bool disable = strcmp(sub, "disable") == 0;
		if (accounts_user_set_disabled(acc, address, disable, &error) != ACCOUNTS_OK)
			rc = cli_account_error(error);
		else
			printf("%s %s\n", disable ? "disabled" : "enabled", address);
	}
	accounts_close(&acc);
	return rc;
}
