/*
 * fs/model/check.c - the checks for news, by a thread beside the callbacks
 * (check.h).
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"

/* Pending checks at most; past that an access does not queue one (a later
 * access will). */
#define CHECK_QUEUE 256

struct check_item {
	struct conv *conv; /* NULL: the inbox's head */
	unsigned long seq;
};

struct checker {
	struct root *root;
	struct link *link;
	struct check_announce to;
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

/* Check conv (NULL: the inbox's head) when due, or now with force (the
 * root: the whole inbox), and announce what changed. */
static int run_check(struct checker *ck, struct conv *conv, bool force,
		     bool *changed)
{
	struct conv_announce to = {ck->to.conv, ck->to.arg};
	size_t news = 0;
	bool read = false;
	int r;

	*changed = false;
	if (conv)
		return conv_refresh(conv, force, &to, changed);
	if (force)
		r = root_load(ck->root, true, &read, &news);
	else
		r = root_check(ck->root, &news);
	if (read || news)
		ck->to.root(ck->to.arg);
	*changed = news > 0;
	return r;
}

static void *worker(void *arg)
{
	struct checker *ck = arg;

	pthread_mutex_lock(&ck->lock);
	for (;;) {
		struct check_item it;
		bool changed;

		while (!ck->stop && ck->n == 0)
			pthread_cond_wait(&ck->work, &ck->lock);
		if (ck->stop)
			break;
		it = ck->q[ck->head];
		ck->head = (ck->head + 1) % CHECK_QUEUE;
		ck->n--;
		ck->running = it;
		pthread_mutex_unlock(&ck->lock);
		/* a failure leaves what is cached (it was logged); queued
		 * before the link went down, it waits for a later access */
		if (link_open(ck->link, NULL) == 0)
			run_check(ck, it.conv, false, &changed);
		pthread_mutex_lock(&ck->lock);
		ck->running.seq = 0;
		ck->stalled = false;
		ck->done_seq = it.seq;
		pthread_cond_broadcast(&ck->done);
	}
	pthread_mutex_unlock(&ck->lock);
	return NULL;
}

struct checker *check_new(struct root *root, struct link *link,
			  const struct check_announce *to)
{
	struct checker *ck = calloc(1, sizeof(*ck));
	pthread_condattr_t ca;

	if (!ck)
		return NULL;
	ck->root = root;
	ck->link = link;
	ck->to = *to;
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

void check_free(struct checker *ck)
{
	if (!ck)
		return;
	pthread_mutex_lock(&ck->lock);
	ck->stop = true;
	pthread_cond_broadcast(&ck->work);
	pthread_mutex_unlock(&ck->lock);
	if (ck->started)
		pthread_join(ck->thread, NULL);
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

void check_freshen(struct checker *ck, struct conv *conv)
{
	bool root_due = root_check_due(ck->root), changed;
	unsigned long seq = 0, s;

	if (!root_due && !(conv && conv_check_due(conv)))
		return; /* the warm path: nothing to wait for */
	if (link_open(ck->link, NULL) < 0)
		return;	    /* backing off: what is cached answers */
	if (!ck->started) { /* no worker: in the callback */
		run_check(ck, NULL, false, &changed);
		if (conv)
			run_check(ck, conv, false, &changed);
		return;
	}
	pthread_mutex_lock(&ck->lock);
	if (root_due)
		seq = enqueue(ck, NULL);
	/* after the inbox's head: it may mark conv due */
	if (conv && (s = enqueue(ck, conv)) > seq)
		seq = s;
	if (seq && !ck->stalled)
		wait_done(ck, seq);
	pthread_mutex_unlock(&ck->lock);
}

int check_now(struct checker *ck, struct conv *conv, bool *changed)
{
	struct api_error why;
	int r;

	*changed = false;
	r = link_open(ck->link, &why);
	if (r < 0) {
		log_error("check of %s: %s",
			  conv ? conv_name(conv) : "the inbox", why.message);
		return r;
	}
	return run_check(ck, conv, true, changed);
}
