/*
 * tests/unit/test_pace.c - the request limiter (api/pace.h): at most N
 * turns in any window, first come first served with retries at the head,
 * a 429 marks the window full, deadlines, and a stop that ends a wait.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../../api/pace.h"

#include "check.h"

static int take(struct pace *p, bool front, int64_t deadline, int *slot,
		int64_t *waited)
{
	return pace_take(p, front, deadline, NULL, NULL, slot, waited);
}

/* Poll (not sleep) until n requests wait in p's line. */
static void until_waiting(struct pace *p, uint64_t n)
{
	struct timespec tick = {0, 1000000L};
	struct pace_stats st;

	for (int i = 0; i < 5000; i++) {
		pace_get_stats(p, &st);
		if (st.waiting == n)
			return;
		nanosleep(&tick, NULL);
	}
	CHECK(!"waiters never came");
}

static void test_no_limit(void)
{
	struct pace *p = pace_new(0, 0);
	struct pace_stats st;
	int64_t waited = -1;
	int slot = 7;

	CHECK(take(p, false, 0, &slot, &waited) == 0);
	CHECK(slot == -1 && waited == 0);
	pace_done(p, slot, true);
	pace_get_stats(p, &st);
	CHECK(st.limit == 0 && st.seconds == 0 && st.wait_ms == 0);
	pace_free(p);
	pace_free(NULL);
}

/* Three turns at once, the fourth one window after the first ended. */
static void test_window(void)
{
	struct pace *p = pace_new(3, 1);
	int slot[4];
	int64_t waited, t0;

	for (int i = 0; i < 3; i++) {
		CHECK(take(p, false, 0, &slot[i], &waited) == 0);
		CHECK(waited < 50);
	}
	CHECK(slot[0] != slot[1] && slot[1] != slot[2] && slot[0] != slot[2]);
	t0 = pace_now_ms();
	for (int i = 0; i < 3; i++)
		pace_done(p, slot[i], false);
	/* a known wait past the deadline fails now, without waiting */
	CHECK(take(p, false, t0 + 300, &slot[3], &waited) == -ETIMEDOUT);
	CHECK(waited < 100);
	CHECK(take(p, false, 0, &slot[3], &waited) == 0);
	CHECK(pace_now_ms() - t0 >= 990 && waited >= 900 && waited < 1500);
	pace_done(p, slot[3], false);
	pace_free(p);
}

/* A 429: the free slots are taken for one window; turns come again as our
 * own earlier requests slide out. */
static void test_full(void)
{
	struct pace *p = pace_new(3, 1);
	int a, b, c;
	int64_t waited, t0;

	CHECK(take(p, false, 0, &a, &waited) == 0);
	t0 = pace_now_ms();
	pace_done(p, a, false);
	CHECK(take(p, false, 0, &b, &waited) == 0 && waited < 50);
	pace_done(p, b, true); /* the 429 */
	CHECK(take(p, false, 0, &c, &waited) == 0);
	CHECK(pace_now_ms() - t0 >= 990 && waited < 1500);
	pace_done(p, c, false);
	pace_free(p);
}

struct waiter_arg {
	struct pace *p;
	bool front;
	atomic_bool stop;
	atomic_int order; /* 1, 2...: when this one got its turn */
	int slot, rc;
};

static atomic_int granted;

static bool stop_cb(void *arg)
{
	struct waiter_arg *w = arg;

	return atomic_load(&w->stop);
}

static void *waiter(void *arg)
{
	struct waiter_arg *w = arg;
	int64_t waited;

	w->rc = pace_take(w->p, w->front, 0, stop_cb, w, &w->slot, &waited);
	if (!w->rc)
		atomic_store(&w->order, atomic_fetch_add(&granted, 1) + 1);
	return NULL;
}

/* A, then B wait; C is a retry and goes first; then A; B is stopped. */
static void test_fifo_front_and_stop(void)
{
	struct pace *p = pace_new(1, 1);
	struct waiter_arg w[3] = {
		{.p = p},
		{.p = p},
		{.p = p, .front = true},
	};
	pthread_t t[3];
	struct pace_stats st;
	int64_t waited, t0;
	int held;

	CHECK(take(p, false, 0, &held, &waited) == 0);
	for (int i = 0; i < 3; i++) {
		pthread_create(&t[i], NULL, waiter, &w[i]);
		until_waiting(p, (uint64_t)i + 1);
	}
	pace_done(p, held, false);
	pthread_join(t[2], NULL);
	CHECK(w[2].rc == 0 && atomic_load(&w[2].order) == 1);
	CHECK(atomic_load(&w[0].order) == 0 && atomic_load(&w[1].order) == 0);
	pace_done(p, w[2].slot, false);
	pthread_join(t[0], NULL);
	CHECK(w[0].rc == 0 && atomic_load(&w[0].order) == 2);
	until_waiting(p, 1);
	t0 = pace_now_ms();
	atomic_store(&w[1].stop, true);
	pace_wake(p);
	pthread_join(t[1], NULL);
	CHECK(w[1].rc == -EINTR && pace_now_ms() - t0 < 100);
	pace_get_stats(p, &st);
	CHECK(st.waiting == 0 && st.limit == 1 && st.seconds == 1);
	CHECK(st.wait_ms >= 2000);
	pace_done(p, w[0].slot, false);
	pace_free(p);
}

int main(void)
{
	test_no_limit();
	test_window();
	test_full();
	test_fifo_front_and_stop();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
