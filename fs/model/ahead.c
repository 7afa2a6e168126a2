/*
 * fs/model/ahead.c - read-ahead of the next conversations of a traversal.
 */
#include "ahead.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "conv.h"

struct ahead {
	struct root *root;
	pthread_t threads[AHEAD_DEPTH];
	int n_threads;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t work;  /* queued, or stop */
	unsigned queue[AHEAD_DEPTH];
	int n_queued;
	long last;	/* the position a reader listed last; -1: none */
	long upto;	/* the highest position queued so far; -1: none */
	uint64_t walks; /* started */
	bool stop;
};

/* The next position to walk, or -1 to stop. Caller holds lock. */
static long next_job(struct ahead *a)
{
	for (;;) {
		unsigned i;

		while (!a->stop && a->n_queued == 0)
			pthread_cond_wait(&a->work, &a->lock);
		if (a->stop)
			return -1;
		i = a->queue[0];
		for (int k = 1; k < a->n_queued; k++)
			a->queue[k - 1] = a->queue[k];
		a->n_queued--;
		if ((long)i > a->last) /* the reader did not get there yet */
			return i;
	}
}

static void *walker(void *arg)
{
	struct ahead *a = arg;
	long i;

	pthread_mutex_lock(&a->lock);
	while ((i = next_job(a)) >= 0) {
		bool end;
		struct conv *c = root_at(a->root, (size_t)i, &end);
		unsigned pages;

		if (!c)
			continue;
		a->walks++;
		pthread_mutex_unlock(&a->lock);
		conv_page_count(c, &pages); /* a failure: the reader retries */
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct ahead *ahead_new(struct root *root)
{
	struct ahead *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->root = root;
	a->last = a->upto = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	for (int k = 0; k < AHEAD_DEPTH; k++) {
		if (pthread_create(&a->threads[k], NULL, walker, a) != 0)
			break;
		a->n_threads++;
	}
	if (a->n_threads == 0) {
		ahead_free(a);
		return NULL;
	}
	return a;
}

void ahead_free(struct ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (int k = 0; k < a->n_threads; k++)
		pthread_join(a->threads[k], NULL);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void ahead_note(struct ahead *a, unsigned i)
{
	struct root_stats rs;
	bool in_order;

	if (!a)
		return;
	root_get_stats(a->root, &rs);
	pthread_mutex_lock(&a->lock);
	in_order = (long)i == a->last + 1 && a->last >= 0;
	a->last = i;
	if (a->upto < (long)i)
		a->upto = i;
	/* the next AHEAD_DEPTH positions, each once, while the line holds */
	while (in_order && a->upto < (long)i + AHEAD_DEPTH &&
	       a->n_queued < AHEAD_DEPTH &&
	       (size_t)a->upto + 1 < rs.conversations) {
		a->queue[a->n_queued++] = (unsigned)++a->upto;
		pthread_cond_signal(&a->work);
	}
	pthread_mutex_unlock(&a->lock);
}

uint64_t ahead_walks(struct ahead *a)
{
	uint64_t n = 0;

	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	n = a->walks;
	pthread_mutex_unlock(&a->lock);
	return n;
}
