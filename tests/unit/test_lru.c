/*
 * tests/unit/test_lru.c - the LRU cache, one thread at a time: eviction
 * order, byte budget, reference lifetime, failed fills, removal. The
 * threads' side is in test_lru_threads.c.
 */
#include "lru_check.h"
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

int main(void)
{
	test_eviction_order();
	test_missing_without_fill();
	test_budget_every_insertion();
	test_oversized();
	test_destroy_once();
	test_ref_outlives_eviction();
	test_failed_fill();
	test_remove_prefix();
	test_set_budget();
	test_many_keys();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
