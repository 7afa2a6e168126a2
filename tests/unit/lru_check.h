/*
 * tests/unit/lru_check.h - what the tests of cache/lru share: values that
 * catch a second destroy, a fill that counts its calls, and touch/cached.
 * Static helpers, included once by each test program.
 */
#ifndef LINKUPFS_LRU_CHECK_H
#define LINKUPFS_LRU_CHECK_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../cache/lru.h"

#include "check.h"

/* How long a test waits for another thread before declaring a failure. */
#define WAIT_LIMIT_MS 5000

/* Every value ever destroyed; each destroy must happen exactly once. */
static atomic_int destroyed;

#define VALUE_MAGIC 0x1badcafeu

struct value {
	unsigned magic; /* cleared on destroy: a second destroy is caught */
	char key[64];
};

static inline void value_destroy(void *p)
{
	struct value *v = p;

	if (v->magic != VALUE_MAGIC) {
		fprintf(stderr, "value destroyed twice or corrupt\n");
		abort();
	}
	v->magic = 0;
	atomic_fetch_add(&destroyed, 1);
	free(v);
}

static inline struct value *value_new(const char *key)
{
	struct value *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->magic = VALUE_MAGIC;
	snprintf(v->key, sizeof(v->key), "%s", key);
	return v;
}

/* Fill arguments: a fixed cost, and a count of calls. */
struct fill_arg {
	size_t cost;
	atomic_int calls;
	int fail; /* negative errno to return instead of a value */
};

static inline int fill_value(void *arg, const char *key, void **value,
			     size_t *cost, void (**destroy)(void *))
{
	struct fill_arg *fa = arg;

	atomic_fetch_add(&fa->calls, 1);
	if (fa->fail)
		return fa->fail;
	*value = value_new(key);
	if (!*value)
		return -ENOMEM;
	*cost = fa->cost;
	*destroy = value_destroy;
	return 0;
}

/* Get key through fa (or only from the cache if fa is NULL), check the
 * value and release it. Returns lru_get's result, -EINVAL on a wrong value. */
static inline int touch(struct lru *lru, const char *key, struct fill_arg *fa)
{
	struct lru_ref *ref;
	int err = lru_get(lru, key, fa ? fill_value : NULL, fa, &ref);

	if (!err) {
		struct value *v = lru_value(ref);

		if (v->magic != VALUE_MAGIC || strcmp(v->key, key))
			err = -EINVAL;
		lru_release(ref);
	}
	return err;
}

static inline int cached(struct lru *lru, const char *key)
{
	return touch(lru, key, NULL) == 0;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

#endif
