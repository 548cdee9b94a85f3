/*
 * cli_deliver: `mailkeep deliver [--mailbox NAME] ADDRESS < message`, a
 * local delivery agent: the message on standard input goes into the
 * mailbox (default INBOX) of the account that receives mail for ADDRESS
 * (account, alias, or catch-all), durably, as SMTP delivery would.
 *
 * Exit codes follow sysexits(3), as MTAs expect from a delivery command:
 * 0 delivered, 64 usage, 67 no such user, 73 mailbox cannot be created,
 * 75 temporary (over quota, database busy), 70 internal error.
 */
#ifndef MK_CLI_DELIVER_H
#define MK_CLI_DELIVER_H

int cli_deliver_main(const char *data_dir, int argc, char **argv);

#endif
