/*
 * fs/cmdline.h - the command line as given, before libfuse reads it: which
 * form it is (--import-token, --help), mount(8)'s source, the one mount
 * point and what it needs (an empty directory, a /dev/fuse the user may
 * open); and the help of the parts libfuse does not describe.
 * argv is the process's own (main's); functions that take something out of
 * it move what follows, NULL included, and lower *argc.
 */
#ifndef LINKUPFS_CMDLINE_H
#define LINKUPFS_CMDLINE_H

#include <stdbool.h>
#include <stdio.h>

/* Whether argv holds flag (e.g. "--import-token"); it is taken out. */
bool cmdline_take_flag(int *argc, char *argv[], const char *flag);

/* Whether argv asks for help or the version (then no mount point). */
bool cmdline_wants_help(int argc, char *argv[]);

/*
 * One mount point. mount(8) runs a FUSE helper through mount.fuse3 as
 * "linkupfs SOURCE MOUNTPOINT -o OPTIONS": in that order, and always with
 * -o (mount.fuse3 adds dev and suid). In that shape alone, and when it is
 * the source our fstab line gives ("linkupfs", or nothing), the first of
 * two plain arguments is the source, which means nothing to linkupfs (the
 * account comes from the credentials): it is taken out. Any other second
 * plain argument is an error, as "linkupfs ~/my linkedin" must not mount
 * at ./linkedin: -1 after a line saying so; else 0.
 */
int cmdline_take_source(int *argc, char *argv[]);

/* The mount point: the first plain argument (neither an option nor the
 * value of -o), or NULL. */
const char *cmdline_mountpoint(int argc, char *argv[]);

/* The mount point must be an empty directory, not already mounted (nor
 * left dead by a filesystem that died there): 0, or -1 after one line
 * saying what to do. */
int cmdline_check_mountpoint(const char *mp);

/* A user mount needs /dev/fuse readable and writable by the user: 0 when
 * it may be opened (or fails for another reason, which libfuse says), else
 * -1 after one line naming the cause and the fix. */
int cmdline_check_fuse_device(void);

/* Where the credentials come from (never the command line), and what
 * --import-token does: the help's part after the options. */
void cmdline_credentials_usage(FILE *out, const char *prog);

/* The options fuse_parse_cmdline takes, with their defaults in linkupfs
 * (max_threads: libfuse's own help says its default, 10). */
void cmdline_fuse_usage(FILE *out, unsigned max_threads);

#endif
