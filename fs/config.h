/*
 * fs/config.h - the config file: ${XDG_CONFIG_HOME:-$HOME/.config}/
 * linkupfs/config, lines of "key = value", # comments. It holds
 * credentials, so it must be a regular file of ours that nobody else may
 * read (as ssh insists for keys); its bytes are wiped after use.
 */
#ifndef LINKUPFS_CONFIG_H
#define LINKUPFS_CONFIG_H

#include <stdbool.h>

/* Called for each "key = value" line (both trimmed); non-zero stops the
 * reading with that error, after the callback said why. */
typedef int (*config_line_fn)(void *arg, const char *path, int lineno,
			      const char *key, const char *value);

/* Read path, calling line for each setting. A missing file is fine (0)
 * unless must_exist. 0, or -1 after one "linkupfs: ..." line on stderr
 * saying what is wrong. */
int config_read(const char *path, bool must_exist, config_line_fn line,
		void *arg);

/* The user's home: $HOME, unless mount(8) or mount.fuse3 left it unset or
 * someone else's (they do for fstab mounts), then the passwd entry.
 * Borrowed; NULL when there is none. */
const char *config_home_dir(void);

/* The default path (malloc'd), or NULL when there is no home. */
char *config_default_path(void);

#endif
