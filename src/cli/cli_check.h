/*
 * cli_check: `mailkeep check ADDRESS... | --all`: the store consistency
 * check of each account (database integrity, counts, blobs against rows,
 * UID/modseq invariants, quota totals). Repairs what is safe to repair
 * (orphan blobs collected, counters raised) and reports the rest.
 * Exit 0 when no errors were found, 1 otherwise, 2 on usage errors.
 */
#ifndef MK_CLI_CHECK_H
#define MK_CLI_CHECK_H

int cli_check_main(const char *data_dir, int argc, char **argv);

#endif
