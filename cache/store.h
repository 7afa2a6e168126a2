/*
 * cache/store.h - the persistent store: blobs by key in one SQLite file,
 * kept across mounts, under a byte budget.
 *
 * Knows keys, bytes and a budget; nothing of HTTP, FUSE or conversations
 * (the model decides what to keep and how to name it). The store lives in
 * a directory of its own (created 0700; refused when group or others may
 * enter it or it is not the user's), holding store.db (0600, WAL journal,
 * each put one transaction, so a kill -9 at any moment leaves the last
 * committed state) and store.lock (flock: a second mount of the same store
 * is refused). Every blob carries a checksum of its key and bytes, checked
 * on each get: a damaged blob is dropped and reported as absent, never
 * handed out. Puts beyond the budget evict the least recently used blobs
 * (a get counts as a use; it is written down once the blob is older than
 * a quarter of the others).
 *
 * When a write fails (disk full, read-only file system, I/O error), writes
 * are turned off for the life of the store: that put returns the error,
 * later ones -ECANCELED without trying; gets go on.
 *
 * Thread safety: every function may be called from any thread; one mutex
 * guards the database connection. Calls block for the disk, never for the
 * network.
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
	bool writable; /* false once a write failed */
};

/*
 * Open (creating it if missing) the store in directory dir with a budget
 * of budget bytes. 0 and *out, or a negative errno with why (size bytes)
 * saying in one line what is wrong and what to do: -EPERM for a directory
 * or file others may read, -EBUSY for a store another process holds, else
 * the error met.
 */
int store_open(const char *dir, uint64_t budget, struct store **out, char *why,
	       size_t why_size);

/* Close and free. store_close(NULL) is a no-op. */
void store_close(struct store *s);

/* The blob of key: 0 with *value (malloc'd, the caller's; a NUL follows
 * its len bytes) and *len, or -ENOENT (absent, or damaged and dropped),
 * or another negative errno. */
int store_get(struct store *s, const char *key, void **value, size_t *len);

/* The same, into a buffer of the caller's: fn(arg, len) returns room
 * for the blob's len bytes (NULL: -ENOMEM), called under the store's lock
 * (it must not call the store). The bytes are read straight into it and
 * checked; 0, or -ENOENT (absent, or damaged and dropped) or another
 * negative errno: then the buffer, if fn gave one, holds nothing of use
 * and is still the caller's to free. */
typedef void *(*store_buffer_fn)(void *arg, size_t len);
int store_read(struct store *s, const char *key, store_buffer_fn fn, void *arg);

/* Keep len bytes under key (replacing any), evicting for the budget. 0 or
 * a negative errno (see the top for -ECANCELED). A blob larger than the
 * budget is not kept (-EFBIG). */
int store_put(struct store *s, const char *key, const void *value, size_t len);

/* Forget key if present. */
void store_delete(struct store *s, const char *key);

void store_get_stats(struct store *s, struct store_stats *out);

/* The checksum kept with each blob (64 bits, over key then bytes; not
 * cryptographic: it detects damage, not an adversary). */
uint64_t store_checksum(const char *key, const void *value, size_t len);

#endif
