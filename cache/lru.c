/*
 * cache/lru.c - byte-bounded LRU cache with single-flight fills.
 *
 * A chained hash table (power-of-two buckets, FNV-1a) finds entries by key;
 * a doubly linked list orders the READY entries from most to least recently
 * used. An entry is also the reference handed to callers (struct lru_ref):
 * its atomic refcount counts the table's reference (while the entry is in
 * the table) plus one per caller, so an entry that leaves the table stays
 * valid until its last holder releases it. The refcount is atomic rather
 * than lock-guarded because references may outlive the cache (lru_free).
 *
 * Eviction does not wait for holders: an evicted entry leaves the table and
 * the byte count at once, and its value lives on until the last release.
 * Destructors run after the lock is dropped, never under it.
 */
#include "lru.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* First table size; power of two so that a mask picks the bucket. */
#define LRU_MIN_BUCKETS 64

/* Evicted values leave holes that malloc keeps resident, so a process
 * whose cache turns over holds more than the budget: after evicting this
 * part of the budget (one eighth: often enough to matter, rarely enough to
 * cost nothing measurable), give malloc's free pages back to the system. */
#define LRU_TRIM_PART 8

/* Not under ASan or TSan: their malloc is not glibc's, so glibc's arenas are
 * set up by malloc_trim's own first call, and two threads trimming at once
 * race in that set-up (test_lru_threads crashed one run in eight in mtrim or
 * in glibc's thread exit). Valgrind makes malloc_trim a no-op itself. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LRU_TRIM false
#else
#define LRU_TRIM true
#endif

enum lru_state {
	LRU_FILLING, /* a fill is running; lookups wait on lru->filled */
	LRU_READY,   /* value, cost and destroy are set */
	LRU_FAILED,  /* the fill failed with err; never in the table */
};

struct lru_ref {
	struct lru_ref *chain; /* next in bucket, or next on a dead list */
	struct lru_ref *prev;  /* LRU list neighbours (READY, in table) */
	struct lru_ref *next;
	atomic_uint refs; /* table's reference + one per holder */
	/* Under lru->lock: */
	enum lru_state state;
	int err; /* negative errno once FAILED */
	bool in_table;
	/* Set by the filler under lru->lock, read-only once READY: */
	void *value;
	size_t cost;
	void (*destroy)(void *value);
	/* Immutable: */
	uint32_t hash;
	char key[];
};

struct lru {
	/*
	 * Guards everything below: the table and its chains, the LRU list,
	 * every entry's state/err/in_table/prev/next, the counters and the
	 * budget. Never held while a fill or a destructor runs.
	 */
	pthread_mutex_t lock;
	/* Broadcast whenever any fill finishes; waiters re-check their entry.
	 */
	pthread_cond_t filled;
	struct lru_ref **buckets;
	size_t nbuckets;      /* power of two */
	size_t count;	      /* entries in the table, FILLING included */
	struct lru_ref *head; /* most recently used READY entry */
	struct lru_ref *tail; /* least recently used: evicted first */
	size_t budget;
	size_t evicted; /* bytes evicted since the last trim */
	struct lru_stats stats;
};

static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a offset basis */

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 16777619u; /* FNV-1a prime */
	}
	return h;
}

struct lru *lru_new(size_t budget)
{
	struct lru *lru = calloc(1, sizeof(*lru));

	if (!lru)
		return NULL;
	lru->buckets = calloc(LRU_MIN_BUCKETS, sizeof(*lru->buckets));
	if (!lru->buckets)
		goto fail;
	lru->nbuckets = LRU_MIN_BUCKETS;
	lru->budget = budget;
	if (pthread_mutex_init(&lru->lock, NULL))
		goto fail;
	if (pthread_cond_init(&lru->filled, NULL)) {
		pthread_mutex_destroy(&lru->lock);
		goto fail;
	}
	return lru;
fail:
	free(lru->buckets);
	free(lru);
	return NULL;
}

void lru_release(struct lru_ref *ref)
{
	if (!ref)
		return;
	if (atomic_fetch_sub(&ref->refs, 1) != 1)
		return;
	if (ref->destroy)
		ref->destroy(ref->value);
	free(ref);
}

/* Release every entry of a dead list built under the lock. */
static void release_list(struct lru_ref *dead)
{
	while (dead) {
		struct lru_ref *next = dead->chain;

		lru_release(dead);
		dead = next;
	}
}

/* The link that points at key's entry, or at the NULL ending its chain. */
static struct lru_ref **table_slot(struct lru *lru, const char *key,
				   uint32_t hash)
{
	struct lru_ref **slot = &lru->buckets[hash & (lru->nbuckets - 1)];

	while (*slot && ((*slot)->hash != hash || strcmp((*slot)->key, key)))
		slot = &(*slot)->chain;
	return slot;
}

/* Double the bucket array. On allocation failure keep the old one: longer
 * chains are slower, not wrong. */
static void table_grow(struct lru *lru)
{
	size_t n = lru->nbuckets * 2;
	struct lru_ref **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < lru->nbuckets; i++) {
		struct lru_ref *e = lru->buckets[i];

		while (e) {
			struct lru_ref *next = e->chain;

			e->chain = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(lru->buckets);
	lru->buckets = b;
	lru->nbuckets = n;
}

static void list_unlink(struct lru *lru, struct lru_ref *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		lru->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		lru->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push_front(struct lru *lru, struct lru_ref *e)
{
	e->prev = NULL;
	e->next = lru->head;
	if (lru->head)
		lru->head->prev = e;
	else
		lru->tail = e;
	lru->head = e;
}

/*
 * Take e out of the table (and the LRU list and byte count if READY) and put
 * the table's reference on *dead, to be released once the lock is dropped.
 */
static void table_remove(struct lru *lru, struct lru_ref *e,
			 struct lru_ref **dead)
{
	struct lru_ref **slot = &lru->buckets[e->hash & (lru->nbuckets - 1)];

	while (*slot != e)
		slot = &(*slot)->chain;
	*slot = e->chain;
	lru->count--;
	if (e->state == LRU_READY) {
		list_unlink(lru, e);
		lru->stats.entries--;
		lru->stats.bytes -= e->cost;
	}
	e->in_table = false;
	e->chain = *dead;
	*dead = e;
}

/* Evict from the cold end until the bytes held are at most limit. */
static void evict_to(struct lru *lru, size_t limit, struct lru_ref **dead)
{
	while (lru->stats.bytes > limit && lru->tail) {
		lru->evicted += lru->tail->cost;
		table_remove(lru, lru->tail, dead);
		lru->stats.evictions++;
	}
}

/* A FILLING entry for key with two references: the table's and the filler's. */
static struct lru_ref *entry_new(const char *key, uint32_t hash)
{
	size_t len = strlen(key);
	struct lru_ref *e = calloc(1, sizeof(*e) + len + 1);

	if (!e)
		return NULL;
	memcpy(e->key, key, len + 1);
	e->hash = hash;
	e->state = LRU_FILLING;
	atomic_init(&e->refs, 2);
	return e;
}

/*
 * Publish the outcome of e's fill, under the lock. A success is kept only if
 * the entry is still in the table (not removed meanwhile) and fits the
 * budget; a failure never is. Waiters are woken either way.
 */
static void publish(struct lru *lru, struct lru_ref *e, int err,
		    struct lru_ref **dead)
{
	if (err) {
		if (e->in_table)
			table_remove(lru, e, dead);
		e->state = LRU_FAILED;
		e->err = err;
		goto out;
	}
	if (!e->in_table)
		goto ready;
	if (e->cost > lru->budget) {
		table_remove(lru, e, dead);
		goto ready;
	}
	/* Make room first: bytes + cost could overflow a huge budget. */
	evict_to(lru, lru->budget - e->cost, dead);
	list_push_front(lru, e);
	lru->stats.entries++;
	lru->stats.bytes += e->cost;
ready:
	/* READY only now, so table_remove above did not touch list or bytes. */
	e->state = LRU_READY;
out:
	pthread_cond_broadcast(&lru->filled);
}

/* Run fill for e, which the caller inserted FILLING; called without the lock.
 * Returns 0 with the filler's reference in *ref, or the fill's error. */
static int run_fill(struct lru *lru, struct lru_ref *e, lru_fill_fn fill,
		    void *arg, struct lru_ref **ref)
{
	struct lru_ref *dead = NULL;
	void *value = NULL;
	size_t cost = 0;
	void (*destroy)(void *) = NULL;
	int err = fill(arg, e->key, &value, &cost, &destroy);
	bool trim;

	pthread_mutex_lock(&lru->lock);
	if (!err) {
		e->value = value;
		e->cost = cost;
		e->destroy = destroy;
	} else if (err > 0) {
		err = -EIO; /* errors are negative; do not pass a stray positive
			       on */
	}
	publish(lru, e, err, &dead);
	trim = LRU_TRIM && lru->evicted > lru->budget / LRU_TRIM_PART;
	if (trim)
		lru->evicted = 0;
	pthread_mutex_unlock(&lru->lock);
	release_list(dead);
	if (trim)
		malloc_trim(0);
	if (err) {
		lru_release(e);
		return err;
	}
	*ref = e;
	return 0;
}

/* Wait, under the lock, for e's fill; we hold a reference on e. */
static int wait_fill(struct lru *lru, struct lru_ref *e)
{
	while (e->state == LRU_FILLING)
		pthread_cond_wait(&lru->filled, &lru->lock);
	return e->state == LRU_READY ? 0 : e->err;
}

/* One lookup; *waited says whether an error came from another's fill. */
static int get_once(struct lru *lru, const char *key, lru_fill_fn fill,
		    void *arg, struct lru_ref **ref, bool *waited)
{
	uint32_t hash = key_hash(key);
	struct lru_ref *drop = NULL; /* a failed fill's entry we waited on */
	struct lru_ref *e;
	int err = 0;

	*ref = NULL;
	pthread_mutex_lock(&lru->lock);
	e = *table_slot(lru, key, hash);
	if (e && e->state == LRU_READY) {
		atomic_fetch_add(&e->refs, 1);
		list_unlink(lru, e);
		list_push_front(lru, e);
		lru->stats.hits++;
		goto out;
	}
	if (e) {
		atomic_fetch_add(&e->refs, 1);
		lru->stats.misses++;
		err = wait_fill(lru, e);
		if (err)
			drop = e;
		*waited = true;
		goto out;
	}
	if (!fill) {
		err = -ENOENT; /* counted neither as hit nor as miss */
		goto out;
	}
	e = entry_new(key, hash);
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	*table_slot(lru, key, hash) = e;
	e->in_table = true;
	if (++lru->count > lru->nbuckets)
		table_grow(lru);
	lru->stats.misses++;
	lru->stats.fills++;
	pthread_mutex_unlock(&lru->lock);
	return run_fill(lru, e, fill, arg, ref);
out:
	pthread_mutex_unlock(&lru->lock);
	lru_release(drop); /* no value, so no destructor runs */
	if (!err)
		*ref = e;
	return err;
}

int lru_get(struct lru *lru, const char *key, lru_fill_fn fill, void *arg,
	    struct lru_ref **ref)
{
	bool waited;
	int r;

	/* -EINTR belongs to the filler whose caller was interrupted: those
	 * who only waited for it try again, and one of them fills. */
	do {
		waited = false;
		r = get_once(lru, key, fill, arg, ref, &waited);
	} while (r == -EINTR && waited);
	return r;
}

void *lru_value(const struct lru_ref *ref)
{
	return ref->value;
}

size_t lru_cost(const struct lru_ref *ref)
{
	return ref->cost;
}

void lru_remove(struct lru *lru, const char *key)
{
	uint32_t hash = key_hash(key);
	struct lru_ref *dead = NULL;
	struct lru_ref *e;

	pthread_mutex_lock(&lru->lock);
	e = *table_slot(lru, key, hash);
	if (e)
		table_remove(lru, e, &dead);
	pthread_mutex_unlock(&lru->lock);
	release_list(dead);
}

/* Remove every entry whose key starts with prefix; "" removes all. */
static void remove_matching(struct lru *lru, const char *prefix,
			    struct lru_ref **dead)
{
	size_t len = strlen(prefix);

	for (size_t i = 0; i < lru->nbuckets; i++) {
		struct lru_ref *e = lru->buckets[i];

		while (e) {
			struct lru_ref *next = e->chain;

			if (!strncmp(e->key, prefix, len))
				table_remove(lru, e, dead);
			e = next;
		}
	}
}

void lru_remove_prefix(struct lru *lru, const char *prefix)
{
	struct lru_ref *dead = NULL;

	pthread_mutex_lock(&lru->lock);
	remove_matching(lru, prefix, &dead);
	pthread_mutex_unlock(&lru->lock);
	release_list(dead);
}

void lru_set_budget(struct lru *lru, size_t budget)
{
	struct lru_ref *dead = NULL;

	pthread_mutex_lock(&lru->lock);
	lru->budget = budget;
	evict_to(lru, budget, &dead);
	pthread_mutex_unlock(&lru->lock);
	release_list(dead);
}

void lru_get_stats(struct lru *lru, struct lru_stats *out)
{
	pthread_mutex_lock(&lru->lock);
	*out = lru->stats;
	out->budget = lru->budget;
	pthread_mutex_unlock(&lru->lock);
}

void lru_free(struct lru *lru)
{
	struct lru_ref *dead = NULL;

	if (!lru)
		return;
	pthread_mutex_lock(&lru->lock);
	remove_matching(lru, "", &dead);
	pthread_mutex_unlock(&lru->lock);
	release_list(dead);
	pthread_cond_destroy(&lru->filled);
	pthread_mutex_destroy(&lru->lock);
	free(lru->buckets);
	free(lru);
}
