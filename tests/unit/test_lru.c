/*
 * tests/unit/test_lru.c - the LRU cache: eviction order, byte budget,
 * reference lifetime, failed fills, single flight, concurrency.
 */
#include "../../cache/lru.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void value_destroy(void *p)
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

static struct value *value_new(const char *key)
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

static int fill_value(void *arg, const char *key, void **value, size_t *cost,
		      void (**destroy)(void *))
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
static int touch(struct lru *lru, const char *key, struct fill_arg *fa)
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

static int cached(struct lru *lru, const char *key)
{
	return touch(lru, key, NULL) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void test_eviction_order(void)
{
	struct lru *lru = lru_new(30);
	struct fill_arg fa = {.cost = 10};
	struct lru_stats st;

	CHECK(touch(lru, "a", &fa) == 0);
	CHECK(touch(lru, "b", &fa) == 0);
	CHECK(touch(lru, "c", &fa) == 0);
	CHECK(touch(lru, "a", &fa) == 0); /* a hit: b is now the oldest */
	CHECK(atomic_load(&fa.calls) == 3);
	CHECK(touch(lru, "d", &fa) == 0);
	CHECK(!cached(lru, "b"));
	CHECK(cached(lru, "a") && cached(lru, "c") && cached(lru, "d"));
	CHECK(touch(lru, "e", &fa) == 0); /* a, c, d touched in that order */
	CHECK(!cached(lru, "a"));
	CHECK(cached(lru, "c") && cached(lru, "d") && cached(lru, "e"));
	lru_get_stats(lru, &st);
	CHECK(st.evictions == 2);
	CHECK(st.entries == 3 && st.bytes == 30 && st.budget == 30);
	CHECK(st.fills == 5 && st.misses == 5);
	/* 1 hit of a, then the cached() probes: a c d (3) + c d e (3). */
	CHECK(st.hits == 7);
	lru_free(lru);
}

static void test_missing_without_fill(void)
{
	struct lru *lru = lru_new(100);
	struct lru_ref *ref = (struct lru_ref *)&ref;
	struct lru_stats st;

	CHECK(lru_get(lru, "nope", NULL, NULL, &ref) == -ENOENT);
	CHECK(ref == NULL);
	lru_get_stats(lru, &st);
	CHECK(st.hits == 0 && st.misses == 0 && st.fills == 0);
	lru_free(lru);
}

static void test_budget_every_insertion(void)
{
	struct lru *lru = lru_new(1000);
	struct fill_arg fa = {0};
	unsigned seed = 7;
	int over = 0;

	for (int i = 0; i < 500; i++) {
		struct lru_stats st;
		char key[32];

		snprintf(key, sizeof(key), "k%d", rand_r(&seed) % 60);
		fa.cost = 1 + rand_r(&seed) % 300;
		if (touch(lru, key, &fa))
			over++;
		lru_get_stats(lru, &st);
		if (st.bytes > st.budget)
			over++;
	}
	CHECK(over == 0);
	lru_free(lru);
}

static void test_oversized(void)
{
	struct lru *lru = lru_new(10);
	struct fill_arg fa = {.cost = 100};
	struct lru_ref *ref;
	struct lru_stats st;
	int before = atomic_load(&destroyed);

	CHECK(lru_get(lru, "big", fill_value, &fa, &ref) == 0);
	CHECK(!strcmp(((struct value *)lru_value(ref))->key, "big"));
	CHECK(lru_cost(ref) == 100);
	lru_get_stats(lru, &st);
	CHECK(st.entries == 0 && st.bytes == 0);
	CHECK(!cached(lru, "big"));
	CHECK(atomic_load(&destroyed) == before);
	lru_release(ref);
	CHECK(atomic_load(&destroyed) == before + 1);
	lru_free(lru);
}

static void test_destroy_once(void)
{
	struct lru *lru = lru_new(50);
	struct fill_arg fa = {.cost = 10};
	int before = atomic_load(&destroyed);
	char key[16];

	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "d%d", i % 13);
		CHECK(touch(lru, key, &fa) == 0);
	}
	lru_remove(lru, "d12");
	lru_remove_prefix(lru, "d1");
	lru_free(lru);
	CHECK(atomic_load(&destroyed) - before == atomic_load(&fa.calls));
}

static void test_ref_outlives_eviction(void)
{
	struct lru *lru = lru_new(100);
	struct fill_arg fa = {.cost = 10};
	struct lru_ref *r1, *r2, *r3;
	int before = atomic_load(&destroyed);

	CHECK(lru_get(lru, "one", fill_value, &fa, &r1) == 0);
	CHECK(lru_get(lru, "two", fill_value, &fa, &r2) == 0);
	CHECK(lru_get(lru, "two", fill_value, &fa, &r3) == 0);
	CHECK(r2 == r3);
	lru_remove(lru, "two");
	lru_set_budget(lru, 0); /* evicts "one" */
	CHECK(!cached(lru, "one") && !cached(lru, "two"));
	CHECK(atomic_load(&destroyed) == before);
	CHECK(!strcmp(((struct value *)lru_value(r1))->key, "one"));
	CHECK(!strcmp(((struct value *)lru_value(r2))->key, "two"));
	lru_release(r1);
	CHECK(atomic_load(&destroyed) == before + 1);
	lru_release(r2);
	CHECK(atomic_load(&destroyed) == before + 1);
	CHECK(!strcmp(((struct value *)lru_value(r3))->key, "two"));
	lru_free(lru); /* r3 survives the cache itself */
	CHECK(!strcmp(((struct value *)lru_value(r3))->key, "two"));
	lru_release(r3);
	CHECK(atomic_load(&destroyed) == before + 2);
	lru_release(NULL);
}

static void test_failed_fill(void)
{
	struct lru *lru = lru_new(100);
	struct fill_arg fa = {.cost = 10, .fail = -EIO};
	struct lru_stats st;

	CHECK(touch(lru, "f", &fa) == -EIO);
	CHECK(!cached(lru, "f"));
	lru_get_stats(lru, &st);
	CHECK(st.entries == 0 && st.bytes == 0);
	fa.fail = 0;
	CHECK(touch(lru, "f", &fa) == 0);
	CHECK(atomic_load(&fa.calls) == 2);
	CHECK(cached(lru, "f"));
	lru_free(lru);
}

/* Single flight: many getters of one missing key share one fill. */
#define FLIGHT_THREADS 16

struct flight {
	struct lru *lru;
	atomic_int calls;
	int saw_all; /* the fill saw every getter waiting */
	struct lru_ref *refs[FLIGHT_THREADS];
	int errs[FLIGHT_THREADS];
	int idx;
};

/* Waits until every getter is counted as a miss (waiting on this fill),
 * then a little more so the fill is visibly slow. */
static int fill_slow(void *arg, const char *key, void **value, size_t *cost,
		     void (**destroy)(void *))
{
	struct flight *fl = arg;
	struct lru_stats st;

	atomic_fetch_add(&fl->calls, 1);
	for (int ms = 0; ms < WAIT_LIMIT_MS; ms++) {
		lru_get_stats(fl->lru, &st);
		if (st.misses == FLIGHT_THREADS) {
			fl->saw_all = 1;
			break;
		}
		sleep_ms(1);
	}
	sleep_ms(50);
	*value = value_new(key);
	*cost = 10;
	*destroy = value_destroy;
	return *value ? 0 : -ENOMEM;
}

struct flight_thread {
	struct flight *fl;
	int i;
};

static void *flight_main(void *p)
{
	struct flight_thread *t = p;

	t->fl->errs[t->i] = lru_get(t->fl->lru, "shared", fill_slow, t->fl,
				    &t->fl->refs[t->i]);
	return NULL;
}

static void test_single_flight(void)
{
	static struct flight fl;
	struct flight_thread t[FLIGHT_THREADS];
	pthread_t tid[FLIGHT_THREADS];
	struct lru_stats st;
	int same = 1;

	fl.lru = lru_new(1000);
	for (int i = 0; i < FLIGHT_THREADS; i++) {
		t[i] = (struct flight_thread){&fl, i};
		pthread_create(&tid[i], NULL, flight_main, &t[i]);
	}
	for (int i = 0; i < FLIGHT_THREADS; i++)
		pthread_join(tid[i], NULL);
	CHECK(atomic_load(&fl.calls) == 1);
	CHECK(fl.saw_all);
	for (int i = 0; i < FLIGHT_THREADS; i++) {
		if (fl.errs[i] || fl.refs[i] != fl.refs[0])
			same = 0;
	}
	CHECK(same);
	CHECK(!strcmp(((struct value *)lru_value(fl.refs[0]))->key, "shared"));
	lru_get_stats(fl.lru, &st);
	CHECK(st.fills == 1 && st.misses == FLIGHT_THREADS && st.hits == 0);
	for (int i = 0; i < FLIGHT_THREADS; i++)
		lru_release(fl.refs[i]);
	lru_free(fl.lru);
}

/* Two fills of different keys that each wait for the other to start. */
struct overlap {
	struct lru *lru;
	pthread_mutex_t lock; /* guards started */
	pthread_cond_t cond;
	int started;
};

static int fill_rendezvous(void *arg, const char *key, void **value,
			   size_t *cost, void (**destroy)(void *))
{
	struct overlap *ov = arg;
	struct timespec limit;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += WAIT_LIMIT_MS / 1000;
	pthread_mutex_lock(&ov->lock);
	ov->started++;
	pthread_cond_broadcast(&ov->cond);
	while (ov->started < 2 && !err)
		err = pthread_cond_timedwait(&ov->cond, &ov->lock, &limit);
	pthread_mutex_unlock(&ov->lock);
	if (err)
		return -ETIMEDOUT;
	*value = value_new(key);
	*cost = 1;
	*destroy = value_destroy;
	return *value ? 0 : -ENOMEM;
}

static void *overlap_main(void *p)
{
	struct overlap *ov = p;
	struct lru_ref *ref;
	static atomic_int n;
	const char *key = atomic_fetch_add(&n, 1) ? "y" : "x";
	intptr_t err = lru_get(ov->lru, key, fill_rendezvous, ov, &ref);

	if (!err) {
		if (strcmp(((struct value *)lru_value(ref))->key, key))
			err = -EINVAL;
		lru_release(ref);
	}
	return (void *)err;
}

static void test_fills_overlap(void)
{
	struct overlap ov = {.lru = lru_new(100)};
	pthread_t tid[2];
	void *res[2];

	pthread_mutex_init(&ov.lock, NULL);
	pthread_cond_init(&ov.cond, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&tid[i], NULL, overlap_main, &ov);
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], &res[i]);
	CHECK(res[0] == NULL && res[1] == NULL);
	CHECK(ov.started == 2);
	CHECK(cached(ov.lru, "x") && cached(ov.lru, "y"));
	lru_free(ov.lru);
	pthread_cond_destroy(&ov.cond);
	pthread_mutex_destroy(&ov.lock);
}

/* lru_remove while a fill runs: its getter gets the value, the cache drops it.
 */
struct gate {
	pthread_mutex_t lock; /* guards entered and open */
	pthread_cond_t cond;
	int entered, open;
	atomic_int calls;
};

static int fill_gated(void *arg, const char *key, void **value, size_t *cost,
		      void (**destroy)(void *))
{
	struct gate *g = arg;

	atomic_fetch_add(&g->calls, 1);
	pthread_mutex_lock(&g->lock);
	g->entered = 1;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	*value = value_new(key);
	*cost = 5;
	*destroy = value_destroy;
	return *value ? 0 : -ENOMEM;
}

struct gated_get {
	struct lru *lru;
	struct gate *g;
	struct lru_ref *ref;
	int err;
};

static void *gated_main(void *p)
{
	struct gated_get *gg = p;

	gg->err = lru_get(gg->lru, "conv/a/p1", fill_gated, gg->g, &gg->ref);
	return NULL;
}

static void test_remove_while_filling(void)
{
	struct gate g = {.entered = 0};
	struct gated_get gg = {.lru = lru_new(100), .g = &g};
	struct lru_stats st;
	pthread_t tid;

	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.cond, NULL);
	pthread_create(&tid, NULL, gated_main, &gg);
	pthread_mutex_lock(&g.lock);
	while (!g.entered)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
	lru_remove_prefix(gg.lru, "conv/a/");
	pthread_mutex_lock(&g.lock);
	g.open = 1;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	pthread_join(tid, NULL);
	CHECK(gg.err == 0);
	CHECK(!strcmp(((struct value *)lru_value(gg.ref))->key, "conv/a/p1"));
	CHECK(!cached(gg.lru, "conv/a/p1"));
	lru_get_stats(gg.lru, &st);
	CHECK(st.entries == 0 && st.bytes == 0);
	lru_release(gg.ref);
	/* A new get fills again, and this time the result is kept. */
	CHECK(touch(gg.lru, "conv/a/p1", &(struct fill_arg){.cost = 5}) == 0);
	CHECK(cached(gg.lru, "conv/a/p1"));
	CHECK(atomic_load(&g.calls) == 1);
	lru_free(gg.lru);
	pthread_cond_destroy(&g.cond);
	pthread_mutex_destroy(&g.lock);
}

static void test_remove_prefix(void)
{
	struct lru *lru = lru_new(1000);
	struct fill_arg fa = {.cost = 1};
	const char *keys[] = {"conv/a/1", "conv/a/2", "conv/b/1", "conv/ab",
			      "conv/a/"};
	struct lru_stats st;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(touch(lru, keys[i], &fa) == 0);
	lru_remove_prefix(lru, "conv/a/");
	CHECK(!cached(lru, "conv/a/1") && !cached(lru, "conv/a/2"));
	CHECK(!cached(lru, "conv/a/"));
	CHECK(cached(lru, "conv/b/1") && cached(lru, "conv/ab"));
	lru_remove(lru, "conv/ab");
	lru_remove(lru, "absent");
	CHECK(!cached(lru, "conv/ab") && cached(lru, "conv/b/1"));
	lru_get_stats(lru, &st);
	CHECK(st.entries == 1 && st.bytes == 1 && st.evictions == 0);
	lru_free(lru);
}

static void test_set_budget(void)
{
	struct lru *lru = lru_new(100);
	struct fill_arg fa = {.cost = 10};
	const char *keys[] = {"p", "q", "r", "s", "t"};
	struct lru_stats st;

	for (int i = 0; i < 5; i++)
		CHECK(touch(lru, keys[i], &fa) == 0);
	CHECK(cached(lru, "p")); /* p is now the most recent */
	lru_set_budget(lru, 25);
	lru_get_stats(lru, &st);
	CHECK(st.entries == 2 && st.bytes == 20 && st.budget == 25);
	CHECK(st.evictions == 3);
	CHECK(cached(lru, "p") && cached(lru, "t"));
	CHECK(!cached(lru, "q") && !cached(lru, "r") && !cached(lru, "s"));
	lru_free(lru);
}

/* Many keys, enough to grow the table past its first size. */
static void test_many_keys(void)
{
	struct lru *lru = lru_new(SIZE_MAX);
	struct fill_arg fa = {.cost = 1};
	struct lru_stats st;
	char key[32];
	int bad = 0;

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "many/%d", i);
		bad += touch(lru, key, &fa) != 0;
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "many/%d", i);
		bad += !cached(lru, key);
	}
	CHECK(bad == 0);
	lru_get_stats(lru, &st);
	CHECK(st.entries == 5000 && st.hits == 5000 && st.fills == 5000);
	lru_remove_prefix(lru, "many/1");
	lru_get_stats(lru, &st);
	CHECK(st.entries == 5000 - 1111);
	lru_free(lru);
}

/* Stress: threads hammer a small cache; every value must match its key. */
#define STRESS_THREADS 8
#define STRESS_GETS 20000
#define STRESS_KEYS 200

struct stress {
	struct lru *lru;
	atomic_int fills;
	atomic_int wrong;
};

static int fill_stress(void *arg, const char *key, void **value, size_t *cost,
		       void (**destroy)(void *))
{
	struct stress *s = arg;

	atomic_fetch_add(&s->fills, 1);
	*value = value_new(key);
	*cost = 1 + strlen(key) * 3;
	*destroy = value_destroy;
	return *value ? 0 : -ENOMEM;
}

static void *stress_main(void *p)
{
	struct stress *s = p;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	char key[32];

	for (int i = 0; i < STRESS_GETS; i++) {
		struct lru_ref *ref;
		int k = rand_r(&seed) % STRESS_KEYS;

		snprintf(key, sizeof(key), "s/%d", k);
		if (k == 0) {
			lru_remove(s->lru, key);
			continue;
		}
		if (lru_get(s->lru, key, fill_stress, s, &ref)) {
			atomic_fetch_add(&s->wrong, 1);
			continue;
		}
		struct value *v = lru_value(ref);

		if (v->magic != VALUE_MAGIC || strcmp(v->key, key))
			atomic_fetch_add(&s->wrong, 1);
		lru_release(ref);
	}
	return NULL;
}

static void test_stress(void)
{
	static struct stress s;
	pthread_t tid[STRESS_THREADS];
	struct lru_stats st;
	int before = atomic_load(&destroyed);

	s.lru = lru_new(300);
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_create(&tid[i], NULL, stress_main, &s);
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(tid[i], NULL);
	CHECK(atomic_load(&s.wrong) == 0);
	lru_get_stats(s.lru, &st);
	CHECK(st.bytes <= st.budget);
	CHECK(st.hits + st.misses > 0 && st.fills == (uint64_t)s.fills);
	CHECK(st.evictions > 0);
	lru_free(s.lru);
	CHECK(atomic_load(&destroyed) - before == atomic_load(&s.fills));
}

int main(void)
{
	test_eviction_order();
	test_missing_without_fill();
	test_budget_every_insertion();
	test_oversized();
	test_destroy_once();
	test_ref_outlives_eviction();
	test_failed_fill();
	test_single_flight();
	test_fills_overlap();
	test_remove_while_filling();
	test_remove_prefix();
	test_set_budget();
	test_many_keys();
	test_stress();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
