/*
 * imap_session: an IMAP connection (RFC 9051 IMAP4rev2 and RFC 3501
 * IMAP4rev1) from greeting to LOGOUT.
 *
 * The session feeds client bytes to imap_parser, runs each complete command
 * through the command table (imap_commands.c; one command family per
 * cmd_*.c file) and answers in order. Commands run one at a time: a command
 * that must wait (LOGIN verifying a password, a long FETCH waiting for the
 * client to read) suspends the session, and parsing resumes when it ends.
 */
#ifndef MK_IMAP_SESSION_H
#define MK_IMAP_SESSION_H

#include "lib/conn.h"

extern const struct proto imap_proto;

#endif
