/*
 * cli_queue: `mailkeep queue ...`, the outbound queue from the shell.
 *
 *   queue list              one block per message: id, age, attempts, next
 *                           try, sender, then each recipient with its state
 *                           and the last reply, and the last error
 *   queue flush             every message is due now (the running server is
 *                           told over the control socket; with no server
 *                           running, the envelopes are changed so the next
 *                           start tries them at once)
 *   queue delete ID         remove a message (no bounce)
 *   queue add [--from ADDR] RCPT... < message
 *                           queue a message (sendmail-style, for scripts and
 *                           tests); ADDR "" is the null sender. A sender
 *                           that is a local account gets its bounces in its
 *                           INBOX.
 *
 * Exit status 0, 1 on failure (unknown id, I/O), 2 on usage errors.
 */
#ifndef MK_CLI_QUEUE_H
#define MK_CLI_QUEUE_H

int cli_queue_main(const char *data_dir, int argc, char **argv);

#endif
