/*
 * cli_account_common: what the account commands (cli_user.c, cli_domain.c,
 * cli_alias.c, cli_quota.c) share. Printing is fine here: these are tools.
 */
#ifndef MK_CLI_ACCOUNT_COMMON_H
#define MK_CLI_ACCOUNT_COMMON_H

#include <stddef.h>
#include <stdint.h>

struct accounts;

/* Exit statuses of the account commands. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Open <data_dir>/accounts.db, or print why not and return NULL. */
struct accounts *cli_accounts_open(const char *data_dir);

/* Print "mailkeep: <error>" and return CLI_EXIT_FAIL. */
int cli_account_error(const char *error);

/* Print "usage: mailkeep <usage>" to stderr, return CLI_EXIT_USAGE. */
int cli_account_usage(const char *usage);

/* Read a new password: one line from stdin when it is not a terminal
 * (trailing "\n" or "\r\n" removed), else prompted twice on the terminal
 * with echo off, both entries must match. 0, or -1 after printing why.
 * out has `size` bytes and is NUL-terminated; the caller wipes it. */
int cli_read_password(const char *address, char *out, size_t size, size_t *len_r);

/* "unlimited" for 0, "10G"/"512M"/"3K" when exact, else the byte count. */
const char *cli_format_size(uint64_t bytes, char buf[32]);

/* SIZE/COUNT arguments: "unlimited" or "0" = 0, else str_parse_size /
 * str_parse_u64. 0, or -1 after printing why. */
int cli_parse_limit(const char *arg, int is_size, uint64_t *out);

#endif
