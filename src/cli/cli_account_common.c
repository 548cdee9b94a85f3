#include "cli/cli_account_common.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "lib/strutil.h"

struct accounts *cli_accounts_open(const char *data_dir)
{
	struct accounts *acc;
	const char *error;
	if (accounts_open(data_dir, &acc, &error) != ACCOUNTS_OK) {
		fprintf(stderr, "mailkeep: %s\n", error);
		return NULL;
	}
	return acc;
}

int cli_account_error(const char *error)
{
	fprintf(stderr, "mailkeep: %s\n", error);
	return CLI_EXIT_FAIL;
}

int cli_account_usage(const char *usage)
{
	fprintf(stderr, "usage: mailkeep %s\n", usage);
	return CLI_EXIT_USAGE;
}

static int read_line(FILE *fp, char *out, size_t size, size_t *len_r)
{
	if (fgets(out, (int)size, fp) == NULL)
		return -1;
	size_t len = strlen(out);
	if (len > 0 && out[len - 1] == '\n') {
		out[--len] = '\0';
		if (len > 0 && out[len - 1] == '\r')
			out[--len] = '\0';
	} else if (len == size - 1) {
		return -2;  /* no newline in a full buffer: too long */
	}
	*len_r = len;
	return 0;
}

/* The terminal's settings while echo is off, restored on a signal too. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

static void restore_tty_and_exit(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int prompt_no_echo(const char *prompt, char *out, size_t size, size_t *len_r)
{
	struct termios quiet;
	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return -1;
	quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	void (*old_int)(int) = signal(SIGINT, restore_tty_and_exit);
	void (*old_term)(int) = signal(SIGTERM, restore_tty_and_exit);
	tty_changed = 1;
	/* Echo off before the prompt appears, and without flushing, so what is
	 * typed (or pasted) right after the prompt is neither shown nor lost. */
	tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	fputs(prompt, stderr);
	fflush(stderr);
	int rc = read_line(stdin, out, size, len_r);
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_changed = 0;
	signal(SIGINT, old_int);
	signal(SIGTERM, old_term);
	return rc;
}

int cli_read_password(const char *address, char *out, size_t size, size_t *len_r)
{
	if (!isatty(STDIN_FILENO)) {
		int rc = read_line(stdin, out, size, len_r);
		if (rc == -2) {
			fprintf(stderr, "mailkeep: password longer than %d bytes\n", PASSWORD_MAX_LEN);
			return -1;
		}
		if (rc < 0 || *len_r == 0) {
			fputs("mailkeep: no password on standard input\n", stderr);
			return -1;
		}
		return 0;
	}
	char again[PASSWORD_MAX_LEN + 2];
	size_t again_len;
	char prompt[400];
	snprintf(prompt, sizeof(prompt), "New password for %s: ", address);
	if (prompt_no_echo(prompt, out, size, len_r) < 0 || *len_r == 0) {
		fputs("mailkeep: no password given\n", stderr);
		return -1;
	}
	int rc = prompt_no_echo("Repeat the password: ", again, sizeof(again), &again_len);
	bool same = rc == 0 && again_len == *len_r && memcmp(again, out, again_len) == 0;
	explicit_bzero(again, sizeof(again));
	if (!same) {
		fputs("mailkeep: the passwords do not match\n", stderr);
		return -1;
	}
	return 0;
}

const char *cli_format_size(uint64_t bytes, char buf[32])
{
	static const char units[] = "KMGT";
	if (bytes == 0)
		return "unlimited";
	int u = -1;
	uint64_t v = bytes;
	while (u < 3 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, 32, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, 32, "%llu%c", (unsigned long long)v, units[u]);
	return buf;
}

int cli_parse_limit(const char *arg, int is_size, uint64_t *out)
{
	if (strcasecmp(arg, "unlimited") == 0 || strcasecmp(arg, "none") == 0) {
		*out = 0;
		return 0;
	}
	int rc = is_size ? str_parse_size(arg, out) : str_parse_u64(arg, out);
	if (rc < 0 || *out > INT64_MAX) {
		fprintf(stderr, "mailkeep: bad %s '%s' (%s)\n", is_size ? "size" : "number", arg,
		        is_size ? "e.g. 500M, 10G, 0 or unlimited" : "a count, 0 or unlimited");
		return -1;
	}
	return 0;
}
