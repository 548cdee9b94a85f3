#include "cli/cli_deliver.h"
#include "auth/accounts.h"
#include "lib/arena.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { EX_OK_ = 0, EX_USAGE_ = 64, EX_NOUSER_ = 67, EX_SOFTWARE_ = 70,
       EX_CANTCREAT_ = 73, EX_TEMPFAIL_ = 75 };

static int usage(void)
{
	fputs("usage: mailkeep deliver [--mailbox NAME] ADDRESS < message\n", stderr);
	return EX_USAGE_;
}

int cli_deliver_main(const char *data_dir, int argc, char **argv)
{
	const char *mailbox = "INBOX", *address = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mailbox") == 0 && i + 1 < argc)
			mailbox = argv[++i];
		else if (argv[i][0] == '-' || address != NULL)
			return usage();
		else
			address = argv[i];
	}
	if (address == NULL)
		return usage();

	struct accounts *acc;
	const char *err;
	if (accounts_open(data_dir, &acc, &err) != ACCOUNTS_OK) {
		fprintf(stderr, "mailkeep deliver: %s\n", err);
		return EX_TEMPFAIL_;
	}
	int64_t id;
	int rc = accounts_resolve_recipient(acc, address, &id, &err);
	if (rc == ACCOUNTS_ERR_NOT_FOUND || rc == ACCOUNTS_ERR_INVALID) {
		fprintf(stderr, "mailkeep deliver: %s: no such user here\n", address);
		accounts_close(&acc);
		return EX_NOUSER_;
	}
	struct arena *a = arena_new(1024);
	struct account acct;
	if (rc != ACCOUNTS_OK || accounts_user_get_by_id(acc, a, id, &acct, &err) != ACCOUNTS_OK) {
		fprintf(stderr, "mailkeep deliver: %s\n", err);
		accounts_close(&acc);
		arena_free(&a);
		return EX_TEMPFAIL_;
	}
	struct store_quota q = { acct.quota_bytes, acct.quota_messages };
	accounts_close(&acc);
	arena_free(&a);

	char idstr[32];
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	struct store_user *user;
	if (store_user_open(data_dir, idstr, &q, &user, &err) != STORE_OK) {
		fprintf(stderr, "mailkeep deliver: %s\n", err);
		return EX_TEMPFAIL_;
	}
	struct store_append *ap;
	rc = strcmp(mailbox, "INBOX") == 0 ? store_deliver_begin(user, 0, &ap)
	                                   : store_append_begin(user, mailbox, 0, &ap);
	if (rc == STORE_E_NOTFOUND || rc == STORE_E_BADNAME || rc == STORE_E_NOSELECT) {
		fprintf(stderr, "mailkeep deliver: mailbox %s: %s\n", mailbox, store_error(user));
		store_user_close(&user);
		return EX_CANTCREAT_;
	}
	char buf[65536];
	ssize_t n;
	while (rc == STORE_OK && (n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			store_append_abort(ap);
			store_user_close(&user);
			perror("mailkeep deliver: reading the message");
			return EX_TEMPFAIL_;
		}
		rc = store_append_write(ap, buf, (size_t)n);
		if (rc != STORE_OK)
			store_append_abort(ap);
	}
	uint32_t uid = 0;
	if (rc == STORE_OK)
		rc = store_append_commit(ap, &(struct store_append_opts){ 0 }, NULL, &uid);
	int ex = EX_OK_;
	if (rc == STORE_E_NOTFOUND || rc == STORE_E_BADNAME || rc == STORE_E_NOSELECT) {
		fprintf(stderr, "mailkeep deliver: mailbox %s: %s\n", mailbox, store_error(user));
		ex = EX_CANTCREAT_;
	} else if (rc == STORE_E_OVERQUOTA) {
		fprintf(stderr, "mailkeep deliver: %s is over quota\n", address);
		ex = EX_TEMPFAIL_;
	} else if (rc != STORE_OK) {
		fprintf(stderr, "mailkeep deliver: %s\n", store_error(user));
		ex = rc == STORE_E_INTERNAL ? EX_TEMPFAIL_ : EX_SOFTWARE_;
	}
	store_user_close(&user);
	return ex;
}
