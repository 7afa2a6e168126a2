/*
 * cache/store_impl.h - the inside of the store, shared by store.c (blobs)
 * and store_file.c (opening and closing the file). Not a public header
 * (store.h is).
 */
#ifndef LINKUPFS_STORE_IMPL_H
#define LINKUPFS_STORE_IMPL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "spool.h"
#include "store.h"

/* Uses of blobs read, written down together: with the next batch, at
 * close, or once this many wait (one transaction for them all: a whole
 * remount's reads, and 16 KiB). */
#define STORE_STAMPS 1024

struct store {
	pthread_mutex_t lock; /* guards the connection and what follows */
	sqlite3 *db;
	uint64_t tick;	      /* the last use handed out */
	int64_t data_version; /* as of the last count (store_recount) */
	struct store_stats st;
	int64_t stamps[STORE_STAMPS]; /* ids read, their use not written */
	uint64_t stamp_tick[STORE_STAMPS];
	size_t n_stamps;
	struct pack_ctx *expand; /* for the bodies read back (NULL: per read) */
	/* set at open, then constant */
	int lock_fd; /* holds the shared flock of store.lock */
	uint64_t budget;
	struct spool *spool; /* NULL for a file opened read-only */
	void (*report)(void *arg, int err); /* set before the first put */
	void *report_arg;
	atomic_int write_error; /* 0, or the error that turned writes off */
};

/* store.c: helpers of both files. Caller holds lock where there is a
 * connection. */
int store_exec(sqlite3 *db, const char *sql);
int64_t store_query_int(sqlite3 *db, const char *sql);
int store_errno_of(int rc);
bool store_is_damage(int rc);
void store_recount(struct store *s);
void store_flush_stamps(struct store *s);
int store_write_batch(void *arg, const struct spool_item *items, size_t n);

#endif
