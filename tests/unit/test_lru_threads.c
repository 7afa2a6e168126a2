/*
 * tests/unit/test_lru_threads.c - the LRU cache under threads: single
 * flight, overlapping fills, removal during a fill, a stress run.
 */
#include "lru_check.h"

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
	test_single_flight();
	test_fills_overlap();
	test_remove_while_filling();
	test_stress();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
