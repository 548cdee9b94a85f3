/*
 * cli: the `mailkeep` command line.
 *
 *   mailkeep [--config FILE] [--data DIR] [--set KEY=VALUE]... COMMAND [ARGS]
 *
 * Without --config, /etc/mailkeep/mailkeep.conf is read if it exists;
 * otherwise the development defaults apply (data in ./var/dev, loopback
 * ports; see docs/CONFIG.md). --data overrides data_dir, --set any key.
 * Commands: serve, check-config, user, domain, alias, quota, help, version.
 */
#ifndef MK_CLI_H
#define MK_CLI_H

int cli_main(int argc, char **argv);

#endif
