/*
 * cli_accounts: the account commands of `mailkeep`, called by cli.c after
 * the global options are parsed and the configuration loaded.
 *
 *   mailkeep user add|passwd ADDRESS      password from stdin when it is not
 *                                         a terminal (one line), else
 *                                         prompted twice without echo
 *   mailkeep user del|disable|enable ADDRESS
 *   mailkeep user admin ADDRESS on|off    an administrator may GETQUOTA and
 *                                         SETQUOTA any account over IMAP
 *   mailkeep user list                    ("admin" marks administrators)
 *   mailkeep domain add|del DOMAIN | domain list
 *   mailkeep alias add SOURCE TARGET | alias del SOURCE | alias list
 *                                         (SOURCE "@domain" = catch-all)
 *   mailkeep quota set ADDRESS SIZE [--messages N] | quota get ADDRESS
 *                                         (SIZE like 500M or 10G; 0 or
 *                                         "unlimited" = no limit)
 *
 * Each takes the data directory (created 0700 if missing) and argv with
 * argv[0] = the command name ("user", ...). Returns the exit status: 0 on
 * success, 1 when the operation failed (unknown user, duplicate, bad
 * address, database error), 2 for a usage error. Results go to stdout,
 * errors to stderr as "mailkeep: ...".
 */
#ifndef MK_CLI_ACCOUNTS_H
#define MK_CLI_ACCOUNTS_H

int cli_user_main(const char *data_dir, int argc, char **argv);
int cli_domain_main(const char *data_dir, int argc, char **argv);
int cli_alias_main(const char *data_dir, int argc, char **argv);
int cli_quota_main(const char *data_dir, int argc, char **argv);

#endif
