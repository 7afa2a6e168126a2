/*
 * fs/fuse/fs.h - the FUSE side: the callback table, and the mount-wide
 * context it serves.
 *
 * struct lfs is the one mount-wide context, reached in callbacks through
 * fuse_req_userdata(). fs/main.c fills it and owns it.
 */
#ifndef LINKUPFS_FS_H
#define LINKUPFS_FS_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "../model/ahead.h"
#include "../model/check.h"
#include "../model/conv.h"
#include "../model/root.h"

/* An answer of user.linkup.check, kept for the value read that follows
 * the size probe of the same question (xattr.c). */
struct fs_answer {
	fuse_ino_t ino; /* 0: none */
	pid_t pid;
	long long at_ms; /* monotonic */
	bool changed;
};

#define FS_ANSWERS 8

struct stats_snap; /* an open of .stats (stats.c) */

struct lfs {
	struct fuse_session *se; /* set by main: told what changed (inval.h) */
	struct api *api;
	struct lru *cache; /* chunks */
	struct root *root;
	struct store *store;	 /* NULL: none (-o store) */
	struct link *link;	 /* whether the API may be asked (link.h) */
	char account[40];	 /* names the account in the store's keys */
	struct checker *checker; /* the checks for news (check.h) */
	struct ahead *ahead;	 /* read-ahead of listings, or NULL */
	long ttl;	   /* seconds the kernel may trust names and sizes */
	long credit_limit; /* 0: none */
	uid_t uid;
	gid_t gid;
	/* set up by the init callback; guards the list of .stats' snapshots
	 * and the answers (stats.c, xattr.c) */
	pthread_mutex_t lock;
	struct stats_snap *stats_snaps; /* of the .stats opens, newest first */
	struct fs_answer answers[FS_ANSWERS];
};

/* The hook that tells the kernel what the checks found (check.h), for
 * check_new: fs is the mount's context. */
struct check_announce fs_announce(struct lfs *fs);

/* The callback table (static storage). */
const struct fuse_lowlevel_ops *fs_operations(void);

/* Whether the kernel interrupted the request the calling thread serves
 * (the reader got Ctrl-C). False outside a callback. */
bool fs_interrupted(void);

#endif
