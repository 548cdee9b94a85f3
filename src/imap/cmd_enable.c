/*
 * ENABLE (RFC 5161) and what it turns on:
 *   IMAP4rev2   RFC 9051 semantics (Appendix E): no \Recent / RECENT, no
 *               [UNSEEN] at SELECT, a LIST response at SELECT, ESEARCH
 *               answers SEARCH, UTF-8 mailbox names, LSUB gone.
 *   UTF8=ACCEPT RFC 6855: UTF-8 in quoted strings and mailbox names.
 *   CONDSTORE   RFC 7162: MODSEQ in FETCH responses of flag changes.
 *   QRESYNC     RFC 7162: implies CONDSTORE; VANISHED instead of EXPUNGE.
 * The ENABLED response lists what this command newly turned on.
 */
#include "imap/imap_internal.h"

#include <string.h>

static const struct {
	const char *name;
	unsigned bits;
} extensions[] = {
	{ "IMAP4rev2", IMAP_ENABLED_REV2 },
	{ "UTF8=ACCEPT", IMAP_ENABLED_UTF8 },
	{ "CONDSTORE", IMAP_ENABLED_CONDSTORE },
	{ "QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE },
};

enum imap_cmd_result imap_cmd_enable(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs == 0) {
		imap_tagged(s, cmd->tag, "BAD", NULL, "Usage: ENABLE capability...");
		return IMAP_CMD_DONE;
	}
	char line[128] = "ENABLED";
	for (size_t i = 0; i < cmd->nargs; i++) {
		const char *a;
		if (!imap_arg_get_atom(&cmd->args[i], &a)) {
			imap_tagged(s, cmd->tag, "BAD", NULL, "ENABLE takes capability names");
			return IMAP_CMD_DONE;
		}
		for (size_t k = 0; k < sizeof(extensions) / sizeof(extensions[0]); k++) {
			if (strcasecmp(a, extensions[k].name) != 0 ||
			    (s->enabled & extensions[k].bits) == extensions[k].bits)
				continue;
			s->enabled |= extensions[k].bits;
			if (strlen(line) + strlen(extensions[k].name) + 2 < sizeof(line)) {
				strcat(line, " ");
				strcat(line, extensions[k].name);
			}
		}
	}
	if (s->enabled & (IMAP_ENABLED_REV2 | IMAP_ENABLED_UTF8))
		imap_parser_set_utf8(s->parser, true);
	imap_untagged(s, line);
	if (s->enabled & IMAP_ENABLED_CONDSTORE)
		imap_sel_enable_condstore(s);
	imap_tagged(s, cmd->tag, "OK", NULL, "ENABLE completed");
	return IMAP_CMD_DONE;
}
