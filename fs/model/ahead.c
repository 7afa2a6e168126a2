/*
 * fs/model/ahead.c - read-ahead of the next conversations of a traversal,
 * in listing order or in the order of their names.
 */
#include "ahead.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* The two orders a traversal goes in. */
enum order {
	ORDER_NONE,
	ORDER_LISTING, /* find, grep -r: as readdir gives them */
	ORDER_NAMES,   /* tree, ls -R: sorted by name (strcoll) */
	ORDERS
};

struct ahead {
	struct root *root;
	pthread_t threads[AHEAD_DEPTH];
	int n_threads;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t work;  /* queued, or stop */
	unsigned queue[AHEAD_DEPTH];
	int n_queued;
	long last;	   /* the position a reader listed last; -1: none */
	enum order order;  /* the order the reader follows, as last seen */
	long upto[ORDERS]; /* per order, the highest place listed or queued */
	unsigned *by_name; /* positions sorted by name */
	unsigned *rank;	   /* a position's place in by_name */
	size_t n_sorted;   /* positions the two arrays cover */
	uint64_t walks;	   /* started */
	bool stop;
};

/* The place of position i in order o. Caller holds lock. */
static long place_of(const struct ahead *a, enum order o, unsigned i)
{
	if (o == ORDER_NAMES)
		return i < a->n_sorted ? (long)a->rank[i] : -1;
	return i;
}

/* The position at place p of order o. Caller holds lock. */
static unsigned at_place(const struct ahead *a, enum order o, size_t p)
{
	return o == ORDER_NAMES ? a->by_name[p] : (unsigned)p;
}

/* The conversations listed now (root.h: the root only grows). */
static size_t listed(struct root *root)
{
	struct root_stats rs;

	root_get_stats(root, &rs);
	return rs.conversations;
}

/* How many places order o has. Caller holds lock. */
static size_t places(const struct ahead *a, enum order o)
{
	return o == ORDER_NAMES ? a->n_sorted : listed(a->root);
}

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
		/* the reader did not get there yet */
		if (a->last < 0 ||
		    place_of(a, a->order, i) >
			    place_of(a, a->order, (unsigned)a->last))
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
	a->last = -1;
	for (int o = 0; o < ORDERS; o++)
		a->upto[o] = -1;
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
	free(a->by_name);
	free(a->rank);
	free(a);
}

/* qsort_r's comparison: two positions by their names. */
static int by_name(const void *x, const void *y, void *arg)
{
	struct root *root = arg;
	bool end;
	struct conv *cx = root_at(root, *(const unsigned *)x, &end);
	struct conv *cy = root_at(root, *(const unsigned *)y, &end);

	return strcoll(conv_name(cx), conv_name(cy));
}

/* The name order of the positions listed now (the root only grows), as
 * the user's tools sort them (LC_COLLATE). Caller holds lock. */
static void sort_names(struct ahead *a)
{
	size_t n = listed(a->root);
	unsigned *order, *rank;

	if (n == a->n_sorted)
		return;
	order = malloc(n * sizeof(*order));
	rank = malloc(n * sizeof(*rank));
	if (!order || !rank) {
		free(order);
		free(rank);
		return; /* no name order this time */
	}
	for (size_t i = 0; i < n; i++)
		order[i] = (unsigned)i;
	qsort_r(order, n, sizeof(*order), by_name, a->root);
	for (size_t p = 0; p < n; p++)
		rank[order[p]] = (unsigned)p;
	a->upto[ORDER_NAMES] = -1; /* places moved */
	free(a->by_name);
	free(a->rank);
	a->by_name = order;
	a->rank = rank;
	a->n_sorted = n;
}

/* Whether i comes right after from in order o. Caller holds lock. */
static bool next_in(struct ahead *a, enum order o, long from, unsigned i)
{
	long at = place_of(a, o, i);

	return at >= 0 && at == place_of(a, o, (unsigned)from) + 1;
}

/* The order in which the reader went from its last position to i: the
 * one it followed so far when i is next in both. Caller holds lock. */
static enum order order_of(struct ahead *a, unsigned i)
{
	long from = a->last;
	bool listing, names;

	if (from < 0)
		return ORDER_NONE;
	sort_names(a);
	listing = next_in(a, ORDER_LISTING, from, i);
	names = next_in(a, ORDER_NAMES, from, i);
	if (names && (a->order == ORDER_NAMES || !listing))
		return ORDER_NAMES;
	return listing ? ORDER_LISTING : ORDER_NONE;
}

void ahead_note(struct ahead *a, unsigned i)
{
	enum order o;
	long at;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if ((long)i == a->last) { /* the same listing again: no news */
		pthread_mutex_unlock(&a->lock);
		return;
	}
	o = order_of(a, i);
	a->last = i;
	if (o != ORDER_NONE)
		a->order = o;
	for (int k = ORDER_LISTING; k < ORDERS; k++) {
		at = place_of(a, k, i);
		if (a->upto[k] < at)
			a->upto[k] = at;
	}
	at = place_of(a, o, i);
	/* the next AHEAD_DEPTH places, each once, while the line holds */
	while (o != ORDER_NONE && a->upto[o] < at + AHEAD_DEPTH &&
	       a->n_queued < AHEAD_DEPTH &&
	       (size_t)a->upto[o] + 1 < places(a, o)) {
		a->queue[a->n_queued++] = at_place(a, o, (size_t)++a->upto[o]);
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
