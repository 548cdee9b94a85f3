/*
 * privdrop: started as root with `user` set, the server binds its ports and
 * reads its TLS key, then becomes that user for good. The command-line tools
 * do the same, so every file in the data directory belongs to that user.
 */
#ifndef MK_SERVER_PRIVDROP_H
#define MK_SERVER_PRIVDROP_H

/* No-op (0) unless running as root and user is non-empty. Makes data_dir
 * (and its top-level files) owned by the user, then setgroups/setgid/setuid
 * and checks root cannot be regained. 0, or -1 with *error_r (heap). */
int privdrop_to_user(const char *user, const char *data_dir, char **error_r);

#endif
