/*
 * cache/store.h - the persistent store: blobs by key in one SQLite file,
 * kept across mounts, under a byte budget.
 *
 * Knows keys, bytes and a budget; nothing of HTTP, FUSE or conversations
 * (the model decides what to keep and how to name it). The store lives in
 * a directory of its own (created 0700; refused when group or others may
 * enter it or it is not the user's), holding store.db (0600) and
 * store.lock. Several mounts may use one store at once (each holds a
 * shared flock of store.lock; SQLite's locks order their writes); one
 * that must set the file aside needs it alone.
 *
 * A put returns at once: the blob is compressed (zstd, cache/pack.h) and
 * waits in memory (cache/spool.h, where gets find it) until a thread
 * (store_start) writes a batch of them in one transaction (a rollback journal:
 * a kill -9 at any moment leaves the last committed state; the pages of a new
 * blob are written once). Every blob carries a checksum of its key and
 * bytes (XXH3), checked on each get: a damaged blob is dropped and
 * reported as absent, never handed out. Writes beyond the budget evict
 * the least recently used blobs (a get counts as a use; it is written
 * down once the blob is older than a quarter of the others).
 *
 * When a write fails (disk full, read-only file system, I/O error), writes
 * are turned off for the life of the store: the failure is told once
 * (store_on_failure), later puts return -ECANCELED; gets go on. (Another
 * mount holding the file longer than the busy timeout only loses that
 * batch.)
 *
 * Thread safety: every function may be called from any thread; one mutex
 * guards the database connection (the spool has its own). Gets block for
 * the disk, puts only when SPOOL_MAX bytes wait; never for the network.
 */
#ifndef LINKUPFS_STORE_H
#define LINKUPFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_stats {
	uint64_t bytes;	  /* bytes of the blobs held */
	uint64_t entries; /* blobs held */
	uint64_t hits;	  /* gets answered */
	uint64_t misses;  /* gets of an absent (or damaged) key */
	uint64_t damaged; /* blobs dropped because their checksum failed */
	uint64_t evicted; /* blobs evicted for the budget */
	uint64_t budget;
	uint64_t pending; /* bytes put, not yet on disk */
	bool writable;	  /* false once a write failed */
};

/*
 * Open (creating it if missing) the store in directory dir with a budget
 * of budget bytes. 0 and *out, or a negative errno with why (size bytes)
 * saying in one line what is wrong and what to do: -EPERM for a directory
 * or file others may read, -EBUSY for a store an older linkupfs keeps to
 * itself or one to set aside that another mount uses, else the error met.
 * On success why may still hold a line to log: a damaged file, or one of
 * an older layout, set aside (store.db.damaged, store.db.old).
 */
int store_open(const char *dir, uint64_t budget, struct store **out, char *why,
	       size_t why_size);

/* Start the thread that writes the blobs put: once the process is the
 * one that stays (a thread does not cross fuse_daemonize's fork). Until
 * then they wait in memory (store_sync and store_close write them). 0 or
 * a negative errno. */
int store_start(struct store *s);

/* Write what waits, close and free. store_close(NULL) is a no-op. */
void store_close(struct store *s);

/* The blob of key: 0 with *value (malloc'd, the caller's; a NUL follows
 * its len bytes) and *len, or -ENOENT (absent, or damaged and dropped),
 * or another negative errno. */
int store_get(struct store *s, const char *key, void **value, size_t *len);

/* The same, into a buffer of the caller's: fn(arg, len) returns room
 * for the blob's len bytes (NULL: -ENOMEM), called at most once, under a
 * lock of the store's (it must not call the store). The bytes are checked
 * and read (or expanded) straight into it; 0, or -ENOENT (absent, or
 * damaged and dropped) or another negative errno: then the buffer, if fn
 * gave one, holds nothing of use and is still the caller's to free. */
typedef void *(*store_buffer_fn)(void *arg, size_t len);
int store_read(struct store *s, const char *key, store_buffer_fn fn, void *arg);

/* Keep len bytes under key (replacing any), evicting for the budget when
 * written. 0, -ECANCELED (writes are off), -EFBIG (larger than the budget
 * once compressed) or -ENOMEM: a blob not kept is only a later miss. */
int store_put(struct store *s, const char *key, const void *value, size_t len);

/* Forget key if present. */
void store_delete(struct store *s, const char *key);

/* Who is told, once, that writes failed and were turned off: fn(arg,
 * -errno) runs on the store's writing thread, without its locks (it must
 * not call the store). Set before the first put. */
void store_on_failure(struct store *s, void (*fn)(void *arg, int err),
		      void *arg);

/* Return once every blob put before is written (or failed). */
void store_sync(struct store *s);

void store_get_stats(struct store *s, struct store_stats *out);

/* A name for secret bytes (an account's credentials) that does not give
 * them back: the hex of their SHA-256, size - 1 characters. 0 or -EIO. */
int store_name(const void *secret, size_t len, char *hex, size_t size);

#endif
