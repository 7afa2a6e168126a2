/*
 * cache/lru.h - byte-bounded LRU cache with single-flight fills.
 *
 * Knows keys, bytes and a budget; nothing of HTTP or FUSE. A value is an
 * opaque object with a byte cost and a destructor. Values are reference
 * counted: lru_get hands out a reference that stays valid, even if the entry
 * is evicted meanwhile, until lru_release.
 *
 * Single flight: when several threads lru_get the same missing key, one of
 * them runs the fill function (without holding the cache lock) and the others
 * wait for its result. A failed fill is not cached: the waiters get the same
 * error, and the next lru_get tries again. Except -EINTR: it means the
 * filler's own caller was interrupted, so the waiters try again themselves.
 *
 * Budget: least recently used entries are evicted until the cost in the table
 * is at most the budget (an evicted entry still held by a reader leaves the
 * table and the count at once; its value lives until the last release). An
 * entry larger than the whole budget is returned to its caller but not kept.
 * Once an eighth of the budget was evicted, the fill that evicted gives
 * malloc's free pages back to the system (malloc_trim), after the lock:
 * bench scenario 6 peaks at 23.0 MiB with it, 24.0 (its limit) without.
 * Not in ASan or TSan builds, where glibc's malloc_trim is not safe to call
 * from several threads (it sets up arenas the sanitizer's malloc never did).
 *
 * Thread safety: every function may be called from any thread. One internal
 * mutex guards the table and the LRU list; it is never held while a fill runs.
 */
#ifndef LINKUPFS_LRU_H
#define LINKUPFS_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru;

/* A reference to a cached value; opaque. */
struct lru_ref;

/*
 * Fill function: produce the value of key. Returns 0 and sets *value, *cost
 * (bytes charged to the budget) and *destroy (called once when the last
 * reference goes), or a negative errno. May block (network). arg is the
 * caller's, passed through unchanged.
 */
typedef int (*lru_fill_fn)(void *arg, const char *key, void **value,
			   size_t *cost, void (**destroy)(void *value));

struct lru_stats {
	uint64_t hits;
	uint64_t misses; /* lookups that ran or waited for a fill */
	uint64_t fills;	 /* fills run */
	uint64_t evictions;
	uint64_t entries;
	size_t bytes; /* cost of the entries held */
	size_t budget;
};

/* A new cache of budget bytes. NULL on allocation failure. */
struct lru *lru_new(size_t budget);

/* Frees every entry. No lru_get may be in progress; references still held
 * stay valid until released. lru_free(NULL) is a no-op. */
void lru_free(struct lru *lru);

/*
 * The value of key: from the cache (a hit), or by calling fill once for all
 * concurrent callers (a miss). On success returns 0 and *ref, which the
 * caller must lru_release. Returns the fill's negative errno on failure.
 * fill may be NULL: then a missing key returns -ENOENT without filling.
 */
int lru_get(struct lru *lru, const char *key, lru_fill_fn fill, void *arg,
	    struct lru_ref **ref);

/* The value and cost of a reference (borrowed, valid until release). */
void *lru_value(const struct lru_ref *ref);
size_t lru_cost(const struct lru_ref *ref);

/* Drop a reference. lru_release(NULL) is a no-op. */
void lru_release(struct lru_ref *ref);

/* Remove key if present (a fill in progress for it is not affected, but its
 * result will not be kept). Does nothing if absent. */
void lru_remove(struct lru *lru, const char *key);

/* Remove every key that starts with prefix. */
void lru_remove_prefix(struct lru *lru, const char *prefix);

/* Change the budget, evicting as needed. */
void lru_set_budget(struct lru *lru, size_t budget);

void lru_get_stats(struct lru *lru, struct lru_stats *out);

#endif
