#include "cli/cli_check.h"
#include "auth/accounts.h"
#include "lib/arena.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* Check one account's store; returns the number of errors found. */
static int check_account(const char *data_dir, const struct account *a, struct arena *ar)
{
	char id[32];
	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	struct store_quota q = { a->quota_bytes, a->quota_messages };
	struct store_user *user;
	const char *err;
	if (store_user_open(data_dir, id, &q, &user, &err) != STORE_OK) {
		printf("%s: cannot open the store: %s\n", a->address, err);
		return 1;
	}
	struct store_finding *f;
	size_t n;
	int errors = 0;
	if (store_check(user, ar, &f, &n) != STORE_OK) {
		printf("%s: check failed: %s\n", a->address, store_error(user));
		errors = 1;
	} else {
		for (size_t i = 0; i < n; i++) {
			bool is_err = f[i].kind == STORE_FINDING_ERROR;
			errors += is_err;
			printf("%s: %s: %s\n", a->address, is_err ? "error" : "repaired", f[i].text);
		}
		if (n == 0)
			printf("%s: ok\n", a->address);
	}
	store_user_close(&user);
	return errors;
}

int cli_check_main(const char *data_dir, int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: mailkeep check ADDRESS... | --all\n", stderr);
		return 2;
	}
	struct accounts *acc;
	const char *err;
	if (accounts_open(data_dir, &acc, &err) != ACCOUNTS_OK) {
		fprintf(stderr, "mailkeep check: %s\n", err);
		return 1;
	}
	struct arena *ar = arena_new(4096);
	int errors = 0;
	if (strcmp(argv[1], "--all") == 0) {
		struct account *list;
		size_t n;
		if (accounts_user_list(acc, ar, &list, &n, &err) != ACCOUNTS_OK) {
			fprintf(stderr, "mailkeep check: %s\n", err);
			errors = 1;
		} else {
			for (size_t i = 0; i < n; i++)
				errors += check_account(data_dir, &list[i], ar);
		}
	} else {
		for (int i = 1; i < argc; i++) {
			struct account a;
			if (accounts_user_get(acc, ar, argv[i], &a, &err) != ACCOUNTS_OK) {
				fprintf(stderr, "mailkeep check: %s: %s\n", argv[i], err);
				errors++;
				continue;
			}
			errors += check_account(data_dir, &a, ar);
		}
	}
	arena_free(&ar);
	accounts_close(&acc);
	return errors == 0 ? 0 : 1;
}
