#include "cli/cli.h"
#include "cli/cli_accounts.h"
#include "cli/cli_check.h"
#include "cli/cli_deliver.h"
#include "cli/cli_queue.h"
#include "lib/config.h"
#include "server/privdrop.h"
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYSTEM_CONFIG "/etc/mailkeep/mailkeep.conf"
#define MAILKEEP_VERSION "0.1.0"

static void usage(FILE *fp)
{
	fputs("usage: mailkeep [--config FILE] [--data DIR] [--set KEY=VALUE]... COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  serve                       run the mail server (IMAP, POP3, SMTP, LMTP)\n"
	      "  check-config                load the configuration and report the first error\n"
	      "  user add|passwd|del|list|disable|enable ADDRESS\n"
	      "  user admin ADDRESS on|off   may set quotas over IMAP (SETQUOTA)\n"
	      "  domain add|del|list [DOMAIN]\n"
	      "  alias add SOURCE TARGET | alias del SOURCE | alias list\n"
	      "  quota set ADDRESS SIZE [--messages N] | quota get ADDRESS\n"
	      "  deliver [--mailbox NAME] ADDRESS < message   local delivery (sysexits codes)\n"
	      "  check ADDRESS... | --all   store consistency check (repairs what is safe)\n"
	      "  queue list | flush | delete ID   the outbound queue\n"
	      "  queue add [--from ADDR] RCPT... < message   queue a message for delivery\n"
	      "  version\n"
	      "\n"
	      "Without --config, " SYSTEM_CONFIG " is used if it exists, else the\n"
	      "development defaults (data in ./var/dev, loopback ports 10143, 10993, ...).\n"
	      "Settings: docs/CONFIG.md.\n", fp);
}

struct cli_opts {
	const char *config;
	const char *data;
	const char *sets[64];
	int nsets;
};

static const char *config_path(const struct cli_opts *o)
{
	if (o->config == NULL && access(SYSTEM_CONFIG, R_OK) == 0)
		return SYSTEM_CONFIG;
	return o->config;
}

static struct config *load_config(const struct cli_opts *o)
{
	char *err = NULL;
	const char *path = config_path(o);
	struct config *cfg = config_new_defaults(path == NULL);
	if (path != NULL && config_load_file(cfg, path, &err) < 0)
		goto fail;
	for (int i = 0; i < o->nsets; i++) {
		char key[128];
		const char *eq = strchr(o->sets[i], '=');
		if (eq == NULL || (size_t)(eq - o->sets[i]) >= sizeof(key)) {
			fprintf(stderr, "mailkeep: --set %s: expected KEY=VALUE\n", o->sets[i]);
			config_free(&cfg);
			return NULL;
		}
		memcpy(key, o->sets[i], (size_t)(eq - o->sets[i]));
		key[eq - o->sets[i]] = '\0';
		if (config_set(cfg, key, eq + 1, "--set", &err) < 0)
			goto fail;
	}
	if (o->data != NULL && config_set(cfg, "data_dir", o->data, "--data", &err) < 0)
		goto fail;
	if (config_validate(cfg, &err) < 0)
		goto fail;
	return cfg;
fail:
	fprintf(stderr, "mailkeep: %s\n", err != NULL ? err : "bad configuration");
	free(err);
	config_free(&cfg);
	return NULL;
}

typedef int account_cmd_fn(const char *data_dir, int argc, char **argv);

static int run_account_cmd(struct config *cfg, account_cmd_fn *fn, int argc, char **argv)
{
	/* As root, become the server's user first so the files we create
	 * belong to it. */
	char *err = NULL;
	if (privdrop_to_user(cfg->user, cfg->data_dir, &err) < 0) {
		fprintf(stderr, "mailkeep: %s\n", err);
		free(err);
		return 1;
	}
	return fn(cfg->data_dir, argc, argv);
}

int cli_main(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) && i + 1 < argc) {
			o.config = argv[++i];
		} else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
			o.data = argv[++i];
		} else if (strcmp(a, "--set") == 0 && i + 1 < argc && o.nsets < 64) {
			o.sets[o.nsets++] = argv[++i];
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			puts("mailkeep " MAILKEEP_VERSION);
			return 0;
		} else {
			fprintf(stderr, "mailkeep: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	int cargc = argc - i;
	char **cargv = argv + i;
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0) {
		puts("mailkeep " MAILKEEP_VERSION);
		return 0;
	}
	struct config *cfg = load_config(&o);
	if (cfg == NULL)
		return 1;
	int rc;
	if (strcmp(cmd, "serve") == 0) {
		rc = server_run(cfg, config_path(&o));
	} else if (strcmp(cmd, "check-config") == 0) {
		puts("configuration OK");
		rc = 0;
	} else if (strcmp(cmd, "user") == 0) {
		rc = run_account_cmd(cfg, cli_user_main, cargc, cargv);
	} else if (strcmp(cmd, "domain") == 0) {
		rc = run_account_cmd(cfg, cli_domain_main, cargc, cargv);
	} else if (strcmp(cmd, "alias") == 0) {
		rc = run_account_cmd(cfg, cli_alias_main, cargc, cargv);
	} else if (strcmp(cmd, "quota") == 0) {
		rc = run_account_cmd(cfg, cli_quota_main, cargc, cargv);
	} else if (strcmp(cmd, "check") == 0) {
		rc = run_account_cmd(cfg, cli_check_main, cargc, cargv);
	} else if (strcmp(cmd, "deliver") == 0) {
		rc = run_account_cmd(cfg, cli_deliver_main, cargc, cargv);
	} else if (strcmp(cmd, "queue") == 0) {
		rc = run_account_cmd(cfg, cli_queue_main, cargc, cargv);
	} else {
		fprintf(stderr, "mailkeep: unknown command '%s'\n", cmd);
		usage(stderr);
		rc = 2;
	}
	config_free(&cfg);
	return rc;
}
