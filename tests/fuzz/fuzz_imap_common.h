/*
 * fuzz_imap_common.h: shared by the FETCH/SEARCH argument fuzz targets.
 * Runs "t CMD <input>\r\n" through the real command parser (literals kept
 * in memory) and returns the parsed command, or NULL if the parser did not
 * produce one.
 */
#ifndef MK_FUZZ_IMAP_COMMON_H
#define MK_FUZZ_IMAP_COMMON_H

#include "imap/imap_parser.h"
#include "lib/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

static inline const struct imap_command *fuzz_parse_command(struct arena *a, const char *cmd,
                                                            const uint8_t *data, size_t size)
{
	size_t n = strlen(cmd) + size + 8;
	char *line = arena_alloc(a, n);
	int k = snprintf(line, n, "t %s ", cmd);
	memcpy(line + k, data, size);
	memcpy(line + k + size, "\r\n", 2);
	size_t len = (size_t)k + size + 2, off = 0;
	struct imap_parser *p = imap_parser_new(NULL, a);
	imap_parser_set_utf8(p, true);
	const struct imap_command *out = NULL;
	while (off < len) {
		struct imap_parse_result res;
		enum imap_parse_status st = imap_parser_feed(p, line + off, len - off, &res);
		off += res.consumed;
		if (st == IMAP_PARSE_LITERAL) {
			if (imap_parser_literal_keep(p) < 0)
				break;
			continue;
		}
		if (st == IMAP_PARSE_DONE)
			out = res.cmd;
		if (st != IMAP_PARSE_MORE)
			break;
	}
	imap_parser_free(&p);
	return out;
}

#endif
