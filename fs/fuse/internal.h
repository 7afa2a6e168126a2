/*
 * fs/fuse/internal.h - shared by the files of fs/fuse/: the node a callback
 * serves, .stats and the extended attributes, which fs.c's callbacks call
 * (never the other way). Not a public header (fs.h is).
 */
#ifndef LINKUPFS_FUSE_INTERNAL_H
#define LINKUPFS_FUSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fs.h"
#include "node.h"

/* What a callback serves: what its inode names, and the conversation
 * (borrowed from the root table) for NODE_CONV and NODE_FILE. */
struct node {
	struct node_id id;
	struct conv *conv;
};

/* .stats (stats.c): each open takes a snapshot (*fh, for
 * fs_stats_slice and fs_stats_close), whose reads serve it whole. A slice
 * is the snapshot's own bytes, *len of them, held until fs_stats_unhold
 * (after the reply is written: the close may come first). Its size for a
 * getattr: the newest open's while one is open, else a new snapshot's.
 * fs_stats_drop_all, at the end, frees the snapshots of opens whose
 * RELEASE never came. The kernel keeps nothing of .stats (direct_io,
 * attributes valid 0 s). */
int fs_stats_open(struct lfs *fs, uint64_t *fh);
const char *fs_stats_slice(uint64_t fh, size_t size, off_t off, size_t *len);
void fs_stats_unhold(uint64_t fh);
void fs_stats_close(struct lfs *fs, uint64_t fh);
void fs_stats_drop_all(struct lfs *fs);
int fs_stats_size(struct lfs *fs, size_t *size);

/* The value of extended attribute name of n into out (xattr.c); -ENODATA
 * when n has none of that name. user.linkup.check checks for news: once
 * per question of process pid, whose size probe (size 0) and value read
 * are one question. */
int fs_xattr_get(struct lfs *fs, const struct node *n, const char *name,
		 pid_t pid, size_t size, char *out, size_t out_size);
/* Whether reading attribute name checks for news itself (then the
 * callback makes no check of its own first). */
bool fs_xattr_checks(const char *name);
/* The names of n's attributes, each NUL-terminated, into list; their
 * total length. */
size_t fs_xattr_list(const struct node *n, char *list, size_t size);

#endif
