/*
 * fs/fuse/check.c - the checks for news, beside the callbacks that ask for
 * them: one worker thread runs them from a queue; a callback waits for its
 * check at most CHECK_WAIT_MS, then answers from what is cached. A check
 * that fails for the network (EIO, ETIMEDOUT) starts a back-off of the
 * whole mount: for CHECK_BACKOFF_S no check is made, and accesses never
 * wait for one; the first answer the API gives (to a check or to any other
 * request) ends it.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../model/clock.h"

/* Pending checks at most; past that an access does not queue one (a later
 * access will). */
#define CHECK_QUEUE 256

struct check_item {
	struct conv *conv; /* NULL: the inbox's head */
	unsigned long seq;
};

struct checker {
	struct lfs *fs;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t work;  /* an item was queued, or stop */
	pthread_cond_t done;  /* done_seq moved */
	struct check_item q[CHECK_QUEUE];
	size_t head, n;
	struct check_item running; /* the item the worker runs (seq 0: none) */
	unsigned long queued_seq, done_seq;
	bool stop;
	/* a caller's wait ran out before the running check ended: until it
	 * does, callers do not wait (one wait, not one per access) */
	bool stalled;
	/* back-off: unreachable since down_since (wall clock), no check
	 * before until (monotonic); ends when the API's successes pass ok */
	time_t down_since;
	time_t until;
	uint64_t ok;
};

/* Caller holds lock. The queued item for conv, or NULL. */
static struct check_item *find_item(struct checker *ck, struct conv *conv)
{
	for (size_t i = 0; i < ck->n; i++) {
		struct check_item *it = &ck->q[(ck->head + i) % CHECK_QUEUE];

		if (it->conv == conv)
			return it;
	}
	return NULL;
}

/* Queue a check (once); its sequence number to wait for, 0 when there is
 * none: the queue is full, or the same check runs already (its first
 * caller waited for it: a check that takes long is not waited for again).
 * Caller holds lock. */
static unsigned long enqueue(struct checker *ck, struct conv *conv)
{
	struct check_item *it = find_item(ck, conv);

	if (it)
		return it->seq;
	if (ck->running.seq && ck->running.conv == conv)
		return 0;
	if (ck->n == CHECK_QUEUE)
		return 0;
	it = &ck->q[(ck->head + ck->n++) % CHECK_QUEUE];
	it->conv = conv;
	it->seq = ++ck->queued_seq;
	pthread_cond_signal(&ck->work);
	return it->seq;
}

static uint64_t api_successes(struct checker *ck)
{
	struct api_stats a;

	api_get_stats(ck->fs->api, &a);
	return a.successes;
}

/* Whether the mount is in back-off now; ends it when the API answered
 * since. Caller holds lock. */
static bool backing_off(struct checker *ck)
{
	if (!ck->down_since)
		return false;
	if (api_successes(ck) > ck->ok) {
		log_info("the API answers again");
		ck->down_since = 0;
		return false;
	}
	return clock_now() < ck->until;
}

/* Record the result r of a check. Caller holds lock. */
static void record(struct checker *ck, int r)
{
	if (r == -EIO || r == -ETIMEDOUT) {
		if (!ck->down_since) {
			ck->down_since = time(NULL);
			log_error("the API is unreachable; serving what is "
				  "cached, no check for %d s",
				  CHECK_BACKOFF_S);
		}
		ck->until = clock_now() + CHECK_BACKOFF_S;
		ck->ok = api_successes(ck);
	} else if (r == 0 && ck->down_since) {
		backing_off(ck); /* the check's answer ends it */
	}
}

static int run_item(struct checker *ck, struct conv *conv)
{
	bool changed;

	if (!conv)
		return fs_check_root(ck->fs);
	return fs_refresh_conv(ck->fs, conv, false, &changed);
}

static void *worker(void *arg)
{
	struct checker *ck = arg;

	pthread_mutex_lock(&ck->lock);
	for (;;) {
		struct check_item it;
		int r = 0;

		while (!ck->stop && ck->n == 0)
			pthread_cond_wait(&ck->work, &ck->lock);
		if (ck->stop)
			break;
		it = ck->q[ck->head];
		ck->head = (ck->head + 1) % CHECK_QUEUE;
		ck->n--;
		if (!backing_off(ck)) {
			ck->running = it;
			pthread_mutex_unlock(&ck->lock);
			r = run_item(ck, it.conv);
			pthread_mutex_lock(&ck->lock);
			ck->running.seq = 0;
			ck->stalled = false;
			record(ck, r);
		}
		ck->done_seq = it.seq;
		pthread_cond_broadcast(&ck->done);
	}
	pthread_mutex_unlock(&ck->lock);
	return NULL;
}

struct checker *checker_new(struct lfs *fs)
{
	struct checker *ck = calloc(1, sizeof(*ck));
	pthread_condattr_t ca;

	if (!ck)
		return NULL;
	ck->fs = fs;
	pthread_mutex_init(&ck->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ck->done, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&ck->work, NULL);
	ck->started = pthread_create(&ck->thread, NULL, worker, ck) == 0;
	if (!ck->started)
		log_error("no thread for the checks: checks run in the "
			  "callbacks");
	return ck;
}

void checker_free(struct checker *ck)
{
	if (!ck)
		return;
	pthread_mutex_lock(&ck->lock);
	ck->stop = true;
	pthread_cond_broadcast(&ck->work);
	pthread_mutex_unlock(&ck->lock);
	if (ck->started) {
		api_cancel(ck->fs->api); /* a check in flight ends at once */
		pthread_join(ck->thread, NULL);
	}
	pthread_cond_destroy(&ck->work);
	pthread_cond_destroy(&ck->done);
	pthread_mutex_destroy(&ck->lock);
	free(ck);
}

/* Until done_seq reaches seq or the deadline. Caller holds lock. */
static void wait_done(struct checker *ck, unsigned long seq)
{
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += (long)CHECK_WAIT_MS * 1000000L;
	dl.tv_sec += dl.tv_nsec / 1000000000L;
	dl.tv_nsec %= 1000000000L;
	while (!ck->stop && ck->done_seq < seq)
		if (pthread_cond_timedwait(&ck->done, &ck->lock, &dl) ==
		    ETIMEDOUT) {
			ck->stalled = ck->running.seq != 0;
			break;
		}
}

void checker_freshen(struct checker *ck, struct conv *conv)
{
	bool root_due = root_check_due(ck->fs->root);
	unsigned long seq = 0;

	if (!root_due && !(conv && conv_check_due(conv)))
		return;	    /* the warm path: nothing to wait for */
	if (!ck->started) { /* no worker: as before, in the callback */
		run_item(ck, NULL);
		if (conv)
			run_item(ck, conv);
		return;
	}
	pthread_mutex_lock(&ck->lock);
	if (!backing_off(ck)) {
		unsigned long s;

		if (root_due)
			seq = enqueue(ck, NULL);
		/* after the inbox's head: it may mark conv due */
		if (conv && (s = enqueue(ck, conv)) > seq)
			seq = s;
		if (seq && !ck->stalled)
			wait_done(ck, seq);
	}
	pthread_mutex_unlock(&ck->lock);
}

void checker_health(struct checker *ck, time_t *down_since)
{
	pthread_mutex_lock(&ck->lock);
	backing_off(ck);
	*down_since = ck->down_since;
	pthread_mutex_unlock(&ck->lock);
}

void checker_record(struct checker *ck, int r)
{
	pthread_mutex_lock(&ck->lock);
	record(ck, r);
	pthread_mutex_unlock(&ck->lock);
}
