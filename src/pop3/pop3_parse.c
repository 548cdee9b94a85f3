#include "pop3/pop3_parse.h"

#include <string.h>

enum pop3_parse_status pop3_parse_line(char *line, size_t len, struct pop3_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	if (len == 0)
		return POP3_PARSE_EMPTY;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch < 0x20 && ch != '\t')
			return POP3_PARSE_BAD_CHAR;
		if (ch == 0x7f)
			return POP3_PARSE_BAD_CHAR;
	}
	size_t k = 0;
	while (k < len && line[k] != ' ') {
		char ch = line[k];
		if (k >= 4 || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		                (ch >= '0' && ch <= '9')))
			return POP3_PARSE_BAD_KEYWORD;
		cmd->keyword[k] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
		k++;
	}
	if (k < 3)
		return POP3_PARSE_BAD_KEYWORD;
	line[len] = '\0';
	if (k == len || k + 1 == len)
		return POP3_PARSE_OK;
	cmd->rest = line + k + 1;
	size_t rlen = len - k - 1;
	if (rlen >= sizeof(cmd->argbuf))
		return POP3_PARSE_OK;
	memcpy(cmd->argbuf, cmd->rest, rlen + 1);
	char *p = cmd->argbuf;
	for (;;) {
		char *end = strchr(p, ' ');
		if (end != NULL)
			*end = '\0';
		if (cmd->nargs < POP3_MAX_ARGS)
			cmd->args[cmd->nargs] = p;
		cmd->nargs++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return POP3_PARSE_OK;
}
