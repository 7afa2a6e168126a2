/*
 * fs/fuse/internal.h - shared by the files of fs/fuse/: the node a callback
 * serves, the checks for news, .stats and the extended attributes. Not a
 * public header (fs.h is).
 */
#ifndef LINKUPFS_FUSE_INTERNAL_H
#define LINKUPFS_FUSE_INTERNAL_H

#include <stddef.h>
#include <sys/stat.h>

#include "fs.h"
#include "node.h"

/* What a callback serves: what its inode names, and the conversation
 * (borrowed from the root table) for NODE_CONV and NODE_FILE. */
struct node {
	struct node_id id;
	struct conv *conv;
};

/* Check a conversation for news (after the ttl, or now with force) and
 * tell the kernel what changed; *changed says whether anything did. */
int fs_refresh_conv(struct lfs *fs, struct conv *c, bool force, bool *changed);

/* Re-read the inbox when due (now, with force) and tell the kernel; 0 when
 * a listing read before still serves (a failed re-read is logged), the
 * error when there is none or force asked. *read: it was read. */
int fs_refresh_root(struct lfs *fs, bool force, bool *read);

/* Check the inbox's head when due and tell the kernel what changed. */
int fs_check_root(struct lfs *fs);

/* check.c: the checks due for conversation conv (NULL: the inbox only),
 * the inbox's head first, run by the checker's thread; the caller waits
 * for them at most CHECK_WAIT_MS (not at all for a check that runs
 * already, nor while a check outlasts a wait), then answers from what is
 * cached. Returns at once when nothing
 * is due, or while the mount backs off: a check that failed for the
 * network (EIO, ETIMEDOUT) stops the checks for CHECK_BACKOFF_S, until the
 * API answers a request again. */
#define CHECK_WAIT_MS 1000
#define CHECK_BACKOFF_S 30
void checker_freshen(struct checker *ck, struct conv *conv);
/* Since when (wall clock) the API has been unreachable, 0 when it is not. */
void checker_health(struct checker *ck, time_t *down_since);

/* .stats (stats.c): a getattr takes a snapshot whose size the kernel then
 * holds (*size), reads serve that snapshot (every byte asked up to its
 * end), and fs_stats_settle ends every other callback: once the kernel may
 * hold .stats, it is told to forget it. */
int fs_stats_snapshot(struct lfs *fs, size_t *size);
size_t fs_stats_read(struct lfs *fs, char *buf, size_t size, off_t off);
void fs_stats_settle(struct lfs *fs, const struct node *n);

/* The value of extended attribute name of n into out (xattr.c); -ENODATA
 * when n has none of that name. May check for news (user.linkup.check). */
int fs_xattr_get(struct lfs *fs, const struct node *n, const char *name,
		 char *out, size_t size);
/* The names of n's attributes, each NUL-terminated, into list; their
 * total length. */
size_t fs_xattr_list(const struct node *n, char *list, size_t size);

#endif
