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
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include "../model/ahead.h"
#include "../model/conv.h"
#include "../model/root.h"

struct lfs {
	struct fuse_session *se; /* set by main: told what changed (inval.h) */
	struct api *api;
	struct lru *cache; /* chunks */
	struct root *root;
	struct store *store;	 /* NULL: none (-o store) */
	struct net *net;	 /* NULL without a store or -o offline */
	char account[40];	 /* names the account in the store's keys */
	struct checker *checker; /* the checks for news (check.c) */
	struct ahead *ahead;	 /* read-ahead of listings, or NULL */
	long ttl;	   /* seconds the kernel may trust names and sizes */
	long credit_limit; /* 0: none */
	uid_t uid;
	gid_t gid;
	/* .stats as its last getattr saw it (fs.c, stats_stat) */
	pthread_mutex_t
		stats_lock; /* set up by the init callback; guards the two */
	char *stats;
	size_t stats_len;
	atomic_bool stats_in_kernel;
};

/* The checks for news run beside the callbacks in a thread of their own:
 * start it before the FUSE loop (NULL on allocation failure), stop it
 * after (a check in flight is cancelled: calls api_cancel). */
struct checker;
struct checker *checker_new(struct lfs *fs);
void checker_free(struct checker *ck);

/* The callback table (static storage). */
const struct fuse_lowlevel_ops *fs_operations(void);

/* Whether the kernel interrupted the request the calling thread serves
 * (the reader got Ctrl-C). False outside a callback. */
bool fs_interrupted(void);

/* The text of .stats, malloc'd, NUL-terminated; NULL on allocation
 * failure. Never contains a secret. */
char *fs_stats_text(struct lfs *fs);

#endif
