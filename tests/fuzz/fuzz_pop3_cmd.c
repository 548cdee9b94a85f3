/* POP3 command lines: never crash or overread; a parsed keyword is 3-4
 * upper-case letters or digits; args are pieces of rest. */
#include "pop3/pop3_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	struct pop3_cmd cmd;
	if (pop3_parse_line(line, size, &cmd) == POP3_PARSE_OK) {
		size_t k = strlen(cmd.keyword);
		if (k < 3 || k > 4)
			abort();
		for (size_t i = 0; i < k; i++)
			if (cmd.keyword[i] >= 'a' && cmd.keyword[i] <= 'z')
				abort();
		for (size_t i = 0; i < cmd.nargs && i < POP3_MAX_ARGS; i++)
			if (cmd.args[i] == NULL || strstr(cmd.rest, cmd.args[i]) == NULL)
				abort();
	}
	free(line);
	return 0;
}
