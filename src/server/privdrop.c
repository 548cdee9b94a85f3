#include "server/privdrop.h"
#include "lib/arena.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *error_fmt(const char *what, const char *arg)
{
	char msg[600];
	snprintf(msg, sizeof(msg), "%s %s: %s", what, arg, strerror(errno));
	return xstrdup(msg);
}

/* Hand the data dir and what sits directly in it (accounts.db, tls/, its
 * WAL files) to the user; deeper trees were created by that user already. */
static void chown_top(const char *dir, uid_t uid, gid_t gid)
{
	if (chown(dir, uid, gid) < 0)
		return;
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && st.st_uid == 0 && !S_ISLNK(st.st_mode)) {
			if (chown(p, uid, gid) == 0 && S_ISDIR(st.st_mode))
				chown_top(p, uid, gid);
		}
	}
	closedir(d);
}

int privdrop_to_user(const char *user, const char *data_dir, char **error_r)
{
	if (geteuid() != 0 || user == NULL || user[0] == '\0')
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		char msg[300];
		snprintf(msg, sizeof(msg), "user = %s: no such system user (create it, e.g. "
		         "'useradd --system --home %s mailkeep', or set user to empty)", user, data_dir);
		*error_r = xstrdup(msg);
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	chown_top(data_dir, pw->pw_uid, pw->pw_gid);
	if (setgroups(0, NULL) < 0)
		return *error_r = error_fmt("setgroups for", user), -1;
	if (setgid(pw->pw_gid) < 0)
		return *error_r = error_fmt("setgid to", user), -1;
	if (setuid(pw->pw_uid) < 0)
		return *error_r = error_fmt("setuid to", user), -1;
	if (setuid(0) == 0) {
		*error_r = xstrdup("privilege drop failed: root could be regained");
		return -1;
	}
	return 0;
}
