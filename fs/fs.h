/*
 * fs/fs.h - the FUSE side: path -> node, callbacks, .stats.
 *
 * struct lfs is the one mount-wide context, reached in callbacks through
 * fuse_get_context()->private_data. fs/main.c fills it and owns it.
 */
#ifndef LINKUPFS_FS_H
#define LINKUPFS_FS_H

#include <fuse.h>
#include <pthread.h>
#include <sys/types.h>
#include <time.h>

#include "conv.h"
#include "root.h"

struct invalidator;
struct open_file;

struct lfs {
	struct invalidator *inval; /* fs.c's: tells the kernel what changed */
	struct api *api;
	struct lru *cache;
	struct root *root;
	long ttl;          /* seconds the kernel may trust names and sizes */
	long credit_limit; /* 0: none */
	uid_t uid;
	gid_t gid;
	time_t started;
	/*
	 * Guards open_files: the handles of open files, freed in release, or
	 * at destroy for those whose release the kernel dropped at unmount
	 * (it aborts requests still queued then). Set up by fs_init.
	 */
	pthread_mutex_t open_lock;
	struct open_file *open_files;
};

/* The callback table (static storage). */
const struct fuse_operations *fs_operations(void);

/* The text of .stats, malloc'd, NUL-terminated; NULL on allocation
 * failure. Never contains a secret. */
char *fs_stats_text(struct lfs *fs);

#endif
