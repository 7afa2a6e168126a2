/*
 * cache/spool.h - blobs on their way to the disk.
 *
 * What the store is given to keep waits here, in memory, until a thread
 * of the spool's own hands it to the disk in batches: no caller waits for
 * the disk, and the disk sees one transaction per batch instead of one per
 * blob (a commit costs its journal and its syncs, whatever it holds). A
 * batch goes when it holds SPOOL_BATCH bytes, SPOOL_DELAY_MS after its
 * first blob came, or at once on spool_sync and spool_free. A blob waiting
 * or being written is found by its key (spool_find), so a reader never
 * misses what was put. Past SPOOL_MAX bytes waiting, a put waits for the
 * disk (the memory it may take is bounded).
 *
 * Knows keys and bytes only; what a write is, is the caller's (write_fn).
 *
 * The thread starts with spool_start, once the process is the one that
 * stays (a thread does not cross a fork: fuse_daemonize forks); until
 * then blobs wait (past SPOOL_MAX, a put is dropped), and spool_sync or
 * spool_free write them in the caller's thread.
 *
 * Locking: one mutex guards the queue; it is never held while a batch is
 * written. Any thread may call any function.
 */
#ifndef LINKUPFS_SPOOL_H
#define LINKUPFS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* A batch's bytes (compressed, most of a cold walk's few seconds at the
 * API's pace) and the most that may wait: what a put costs in memory on
 * top of the cache (bench scenario 6). */
#define SPOOL_BATCH (256u << 10)
#define SPOOL_MAX (512u << 10)
/* How long a blob may wait: a commit costs its journal and a few pages
 * rewritten whatever it holds, so a walk of 100 pages at 50 ms makes two
 * commits, not a hundred; a kill -9 loses at most this much reading. */
#define SPOOL_DELAY_MS 5000

/* One blob as it will lie on disk. */
struct spool_item {
	char *key;
	void *bytes; /* as kept: compressed, or as given */
	size_t len;
	size_t raw;   /* its length expanded (len: kept as given) */
	uint64_t sum; /* its checksum (cache/pack.h) */
};

/* Write n items in one go (they stay the spool's). 0 or a negative
 * errno; either way the items are done with. Runs on the spool's thread,
 * without the spool's lock. */
typedef int (*spool_write_fn)(void *arg, const struct spool_item *items,
			      size_t n);

/* A spool writing with write(arg, ...), its thread not started. NULL on
 * failure. */
struct spool *spool_new(spool_write_fn write, void *arg);

/* Start the writing thread (once). 0 or a negative errno (then the spool
 * writes only at spool_sync and spool_free). */
int spool_start(struct spool *sp);

/* Write what waits, stop the thread, free. spool_free(NULL) is a no-op. */
void spool_free(struct spool *sp);

/* Queue *item (its key and bytes are taken: the spool frees them),
 * replacing a blob of that key still waiting. May wait for the disk when
 * SPOOL_MAX bytes wait. */
void spool_put(struct spool *sp, struct spool_item *item);

/* The newest blob of key waiting or being written: fn(arg, item) runs
 * under the spool's lock (it must not call the spool) and its result is
 * returned; -ENOENT when there is none. */
int spool_find(struct spool *sp, const char *key,
	       int (*fn)(void *arg, const struct spool_item *item), void *arg);

/* Forget the waiting blob of key, if any (one being written is not
 * recalled). */
void spool_forget(struct spool *sp, const char *key);

/* Return once everything put before the call is written (or failed). */
void spool_sync(struct spool *sp);

/* Bytes waiting or being written. */
size_t spool_pending(struct spool *sp);

#endif
