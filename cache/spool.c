/*
 * cache/spool.c - blobs on their way to the disk (spool.h): a queue, the
 * batch being written, and the thread that writes it.
 */
#include "spool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct list {
	struct spool_item *v;
	size_t n, cap;
};

struct spool {
	spool_write_fn write;
	void *arg;
	pthread_t thread;
	bool started;		/* the thread runs (spool_start) */
	pthread_mutex_t lock;	/* guards everything below */
	pthread_cond_t work;	/* queued, hurried or stopped */
	pthread_cond_t drained; /* a batch was written */
	struct list queue;	/* waiting, oldest first, one per key */
	struct list batch;	/* being written */
	size_t bytes;		/* of both */
	size_t queued;		/* bytes of the queue */
	struct timespec first;	/* when the queue's oldest came */
	uint64_t put_no;	/* puts so far */
	uint64_t done_no;	/* every put up to this one is written */
	bool hurry;		/* write the queue now (a sync, a full spool) */
	bool stop;
};

static void item_free(struct spool_item *it)
{
	free(it->key);
	free(it->bytes);
	memset(it, 0, sizeof(*it));
}

static void list_clear(struct list *l, size_t *bytes)
{
	for (size_t i = 0; i < l->n; i++) {
		*bytes -= l->v[i].len;
		item_free(&l->v[i]);
	}
	l->n = 0;
}

static struct timespec deadline_of(struct timespec t)
{
	t.tv_sec += SPOOL_DELAY_MS / 1000;
	t.tv_nsec += (long)(SPOOL_DELAY_MS % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Wait until the queue is due: full enough, old enough, hurried or
 * stopped. Caller holds lock; the queue is not empty. */
static void wait_due(struct spool *sp)
{
	struct timespec due = deadline_of(sp->first), now;

	for (;;) {
		if (sp->stop || sp->hurry || sp->queued >= SPOOL_BATCH)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!before(&now, &due))
			return;
		pthread_cond_timedwait(&sp->work, &sp->lock, &due);
	}
}

/* Write the queue as one batch. Caller holds lock; drops it meanwhile. */
static void write_queue(struct spool *sp)
{
	struct list l = sp->batch; /* empty: its array becomes the queue's */
	uint64_t upto = sp->put_no;

	sp->batch = sp->queue;
	sp->queue = l;
	sp->queued = 0;
	pthread_mutex_unlock(&sp->lock);
	sp->write(sp->arg, sp->batch.v, sp->batch.n);
	pthread_mutex_lock(&sp->lock);
	list_clear(&sp->batch, &sp->bytes);
	sp->done_no = upto;
	sp->hurry = sp->hurry && sp->queue.n > 0;
	pthread_cond_broadcast(&sp->drained);
}

static void *writer(void *arg)
{
	struct spool *sp = arg;

	pthread_mutex_lock(&sp->lock);
	for (;;) {
		while (!sp->stop && sp->queue.n == 0)
			pthread_cond_wait(&sp->work, &sp->lock);
		if (sp->queue.n == 0)
			break; /* stopped, nothing left */
		wait_due(sp);
		write_queue(sp);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

struct spool *spool_new(spool_write_fn write, void *arg)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	pthread_condattr_t ca;

	if (!sp)
		return NULL;
	sp->write = write;
	sp->arg = arg;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&sp->drained, NULL);
	return sp;
}

int spool_start(struct spool *sp)
{
	int r = 0;

	pthread_mutex_lock(&sp->lock);
	if (!sp->started)
		r = pthread_create(&sp->thread, NULL, writer, sp);
	sp->started = r == 0;
	pthread_mutex_unlock(&sp->lock);
	return -r;
}

void spool_free(struct spool *sp)
{
	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->stop = true;
	pthread_cond_signal(&sp->work);
	if (!sp->started && sp->queue.n) /* no thread: written here */
		write_queue(sp);
	pthread_mutex_unlock(&sp->lock);
	if (sp->started)
		pthread_join(sp->thread, NULL); /* it writes what waits first */
	list_clear(&sp->queue, &sp->bytes);	/* put after the stop: lost */
	free(sp->queue.v);
	free(sp->batch.v);
	pthread_cond_destroy(&sp->work);
	pthread_cond_destroy(&sp->drained);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

static long find_in(const struct list *l, const char *key)
{
	for (size_t i = l->n; i-- > 0;)
		if (strcmp(l->v[i].key, key) == 0)
			return (long)i;
	return -1;
}

/* Append to the queue. Caller holds lock. */
static int append(struct spool *sp, struct spool_item *it)
{
	struct list *q = &sp->queue;

	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 32;
		struct spool_item *v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	if (q->n == 0)
		clock_gettime(CLOCK_MONOTONIC, &sp->first);
	q->v[q->n++] = *it;
	return 0;
}

void spool_put(struct spool *sp, struct spool_item *item)
{
	long i;

	pthread_mutex_lock(&sp->lock);
	while (sp->bytes >= SPOOL_MAX && !sp->stop && sp->started) {
		sp->hurry = true;
		pthread_cond_signal(&sp->work);
		pthread_cond_wait(&sp->drained, &sp->lock);
	}
	if (sp->bytes >= SPOOL_MAX) { /* no thread yet: lost, a later miss */
		item_free(item);
		pthread_mutex_unlock(&sp->lock);
		return;
	}
	i = find_in(&sp->queue, item->key);
	if (i >= 0) { /* the newer bytes replace the older, in place */
		sp->bytes -= sp->queue.v[i].len;
		sp->queued -= sp->queue.v[i].len;
		item_free(&sp->queue.v[i]);
		sp->queue.v[i] = *item;
	} else if (append(sp, item) < 0) {
		item_free(item); /* lost: a later get misses, no more */
		pthread_mutex_unlock(&sp->lock);
		return;
	}
	sp->bytes += item->len;
	sp->queued += item->len;
	sp->put_no++;
	memset(item, 0, sizeof(*item));
	pthread_cond_signal(&sp->work);
	pthread_mutex_unlock(&sp->lock);
}

int spool_find(struct spool *sp, const char *key,
	       int (*fn)(void *arg, const struct spool_item *item), void *arg)
{
	long i;
	int r = -ENOENT;

	pthread_mutex_lock(&sp->lock);
	if ((i = find_in(&sp->queue, key)) >= 0)
		r = fn(arg, &sp->queue.v[i]);
	else if ((i = find_in(&sp->batch, key)) >= 0)
		r = fn(arg, &sp->batch.v[i]);
	pthread_mutex_unlock(&sp->lock);
	return r;
}

void spool_forget(struct spool *sp, const char *key)
{
	long i;

	pthread_mutex_lock(&sp->lock);
	i = find_in(&sp->queue, key);
	if (i >= 0) {
		struct list *q = &sp->queue;

		sp->bytes -= q->v[i].len;
		sp->queued -= q->v[i].len;
		item_free(&q->v[i]);
		memmove(&q->v[i], &q->v[i + 1],
			(q->n - (size_t)i - 1) * sizeof(*q->v));
		q->n--;
	}
	pthread_mutex_unlock(&sp->lock);
}

void spool_sync(struct spool *sp)
{
	uint64_t upto;

	pthread_mutex_lock(&sp->lock);
	upto = sp->put_no;
	if (!sp->started && sp->queue.n) /* no thread: written here */
		write_queue(sp);
	while (sp->done_no < upto && (sp->queue.n || sp->batch.n)) {
		sp->hurry = true;
		pthread_cond_signal(&sp->work);
		pthread_cond_wait(&sp->drained, &sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
}

size_t spool_pending(struct spool *sp)
{
	size_t n;

	pthread_mutex_lock(&sp->lock);
	n = sp->bytes;
	pthread_mutex_unlock(&sp->lock);
	return n;
}
