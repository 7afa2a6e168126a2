/*
 * api/pace.c - the request limiter: a sliding window of slots and a FIFO
 * line of waiters (see pace.h).
 */
#include "pace.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* A slot whose request is still in flight: not free before it ends. */
#define SLOT_IN_FLIGHT INT64_MAX
/* A slot never used: free whatever the clock says (far from overflow). */
#define SLOT_NEVER (INT64_MIN / 4)

/* One waiting pace_take, on its caller's stack. */
struct waiter {
	struct waiter *prev, *next;
};

struct pace {
	long limit, seconds;
	int64_t window_ms;
	/* lock guards everything below; cond is broadcast whenever a turn may
	 * have become possible (a slot ended, the head of the line changed)
	 * and by pace_wake */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t *ends; /* limit slots: when each one's request ended,
			  SLOT_NEVER or SLOT_IN_FLIGHT */
	struct waiter *head, *tail; /* the line, head served first */
	uint64_t waiting, wait_ms;
};

int64_t pace_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

struct pace *pace_new(long limit, long seconds)
{
	struct pace *p = calloc(1, sizeof(*p));
	pthread_condattr_t attr;

	if (!p)
		return NULL;
	if (limit > 0 && seconds > 0) {
		p->limit = limit;
		p->seconds = seconds;
		p->window_ms = (int64_t)seconds * 1000 + PACE_MARGIN_MS;
		p->ends = calloc((size_t)limit, sizeof(*p->ends));
		if (!p->ends)
			goto fail;
		for (long i = 0; i < limit; i++)
			p->ends[i] = SLOT_NEVER;
	}
	if (pthread_condattr_init(&attr))
		goto fail;
	/* turns and deadlines are on the monotonic clock */
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&p->cond, &attr)) {
		pthread_condattr_destroy(&attr);
		goto fail;
	}
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&p->lock, NULL);
	return p;
fail:
	free(p->ends);
	free(p);
	return NULL;
}

void pace_free(struct pace *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->ends);
	free(p);
}

/* A free slot at now, or -1 and *ready: when the first one frees
 * (SLOT_IN_FLIGHT when every slot is in flight). Caller holds lock. */
static int free_slot(struct pace *p, int64_t now, int64_t *ready)
{
	int64_t first = SLOT_IN_FLIGHT;

	for (long i = 0; i < p->limit; i++) {
		int64_t e = p->ends[i];

		if (e == SLOT_IN_FLIGHT)
			continue;
		if (e + p->window_ms <= now)
			return (int)i;
		if (e + p->window_ms < first)
			first = e + p->window_ms;
	}
	*ready = first;
	return -1;
}

static void line_join(struct pace *p, struct waiter *w, bool front)
{
	w->prev = w->next = NULL;
	if (!p->head) {
		p->head = p->tail = w;
	} else if (front) {
		w->next = p->head;
		p->head->prev = w;
		p->head = w;
	} else {
		w->prev = p->tail;
		p->tail->next = w;
		p->tail = w;
	}
}

static void line_leave(struct pace *p, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		p->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		p->tail = w->prev;
}

static void wait_until(struct pace *p, int64_t until_ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(until_ms / 1000),
		.tv_nsec = (long)(until_ms % 1000) * 1000000L,
	};

	pthread_cond_timedwait(&p->cond, &p->lock, &ts);
}

/* One look at the line for w: 0 and *slot taken, -EAGAIN to wait until
 * *until, or -ETIMEDOUT. Caller holds lock. */
static int try_turn(struct pace *p, struct waiter *w, int64_t deadline_ms,
		    int *slot, int64_t *until)
{
	int64_t now = pace_now_ms(), ready = SLOT_IN_FLIGHT;
	int i;

	if (deadline_ms && now > deadline_ms)
		return -ETIMEDOUT;
	*until = now + PACE_SLICE_MS;
	if (p->head != w)
		return -EAGAIN;
	i = free_slot(p, now, &ready);
	if (i >= 0) {
		p->ends[i] = SLOT_IN_FLIGHT;
		*slot = i;
		return 0;
	}
	if (deadline_ms && ready != SLOT_IN_FLIGHT && ready > deadline_ms)
		return -ETIMEDOUT;
	if (ready < *until)
		*until = ready;
	return -EAGAIN;
}

int pace_take(struct pace *p, bool front, int64_t deadline_ms,
	      bool (*stop)(void *), void *arg, int *slot, int64_t *waited_ms)
{
	struct waiter w;
	int64_t t0 = pace_now_ms(), until = 0, waited;
	int rc;

	*slot = -1;
	*waited_ms = 0;
	if (!p->limit)
		return 0;
	pthread_mutex_lock(&p->lock);
	line_join(p, &w, front);
	p->waiting++;
	for (;;) {
		if (stop && stop(arg)) {
			rc = -EINTR;
			break;
		}
		rc = try_turn(p, &w, deadline_ms, slot, &until);
		if (rc != -EAGAIN)
			break;
		wait_until(p, until);
	}
	line_leave(p, &w);
	p->waiting--;
	waited = pace_now_ms() - t0;
	p->wait_ms += (uint64_t)waited;
	pthread_cond_broadcast(&p->cond); /* a new head, or a slot left */
	pthread_mutex_unlock(&p->lock);
	*waited_ms = waited;
	return rc;
}

void pace_done(struct pace *p, int slot, bool full)
{
	int64_t now;

	if (!p->limit || slot < 0 || slot >= p->limit)
		return;
	now = pace_now_ms();
	pthread_mutex_lock(&p->lock);
	p->ends[slot] = now;
	if (full)
		for (long i = 0; i < p->limit; i++)
			if (p->ends[i] != SLOT_IN_FLIGHT &&
			    p->ends[i] <= now - p->window_ms)
				p->ends[i] = now; /* free: taken by others */
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pace_wake(struct pace *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pace_get_stats(struct pace *p, struct pace_stats *out)
{
	pthread_mutex_lock(&p->lock);
	out->limit = p->limit;
	out->seconds = p->seconds;
	out->waiting = p->waiting;
	out->wait_ms = p->wait_ms;
	pthread_mutex_unlock(&p->lock);
}
