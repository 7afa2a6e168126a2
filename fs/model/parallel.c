/*
 * fs/model/parallel.c - walk a long conversation in several stretches at once.
 *
 * The cursor is a time, so the chain can be entered anywhere. After the
 * newest chunk, probes at growing distances back in time (one round of
 * `parallel` requests at once, more rounds only for a very long
 * conversation) find where the conversation starts; the time between is
 * cut into `parallel` equal stretches, each walked by its own thread from
 * its start down to the next stretch's start (a floor: what is at or
 * below it belongs to the next stretch). The chunks are then put in order
 * in the index. Page files are positions counted from the newest, so they
 * are exactly what the one-after-the-other walk gives; the price is the
 * probes and one partly used request per stretch.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "link.h"

/* Rounds of probes at most, each probe twice as far back in time as the
 * one before. */
#define PROBE_ROUNDS 4

static void *stretch_thread(void *arg)
{
	stretch_walk(arg);
	return NULL;
}

/* One look back in time: does the conversation reach past `at`? */
struct probe {
	struct conv *c;
	int64_t at;
	bool ends;	/* the conversation starts within this answer */
	int64_t oldest; /* its oldest message (at, when it has none) */
	int err;
	pthread_t thread;
};

static void *probe_run(void *arg)
{
	struct probe *p = arg;
	struct api_conv_ref ref = conv_ref(p->c);
	struct api_error err = {0};
	struct api_page *page = NULL;
	char *cursor = chunk_cursor_of(p->at);
	bool probe;

	p->err = -ENOMEM;
	if (!cursor)
		return NULL;
	p->err = link_ask(p->c->env.link, &probe, &err);
	if (p->err == 0) {
		p->err = api_get_conversation(p->c->env.api, &ref,
					      p->c->env.page_size, cursor,
					      &page, &err);
		link_note(p->c->env.link, probe, p->err, &err);
	}
	free(cursor);
	if (p->err < 0) {
		log_error("conversation %s: %s", p->c->name, err.message);
		return NULL;
	}
	p->ends = !page->has_next_page;
	p->oldest = p->at;
	for (size_t i = 0; i < page->n_messages; i++)
		if (page->messages[i].timestamp_ms < p->oldest)
			p->oldest = page->messages[i].timestamp_ms;
	api_page_free(page);
	return NULL;
}

/* Run n jobs on threads of their own and wait for them all. */
static int run_all(void *jobs, size_t n, size_t size, size_t thread_off,
		   void *(*fn)(void *))
{
	size_t started = 0;

	for (; started < n; started++) {
		char *job = (char *)jobs + started * size;

		if (pthread_create((pthread_t *)(job + thread_off), NULL, fn,
				   job) != 0)
			break;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(
			*(pthread_t *)((char *)jobs + i * size + thread_off),
			NULL);
	return started == n ? 0 : -EAGAIN;
}

/*
 * Where the conversation starts, probing back from top in rounds of k
 * requests at distances span * 2, 4, 8... *start is the oldest time seen;
 * *found says whether the start itself was seen (else the last stretch
 * walks on to it).
 */
static int find_start(struct conv *c, int k, int64_t top, int64_t span,
		      int64_t *start, bool *found)
{
	struct probe probes[CONV_PARALLEL_MAX];
	int64_t dist = span * 2;

	*start = top;
	*found = false;
	for (int round = 0; round < PROBE_ROUNDS && !*found; round++) {
		int n = 0, r;

		for (; n < k && dist < top; n++, dist *= 2)
			probes[n] = (struct probe){.c = c, .at = top - dist};
		if (n == 0)
			break;
		r = run_all(probes, (size_t)n, sizeof(*probes),
			    offsetof(struct probe, thread), probe_run);
		for (int i = 0; r == 0 && i < n && !*found; i++) {
			if (probes[i].err < 0)
				return probes[i].err;
			*found = probes[i].ends;
			if (probes[i].oldest < probes[i].at)
				*start = probes[i].oldest; /* a message seen */
			else if (*found)
				/* nothing that old: the start lies between this
				 * probe and the oldest message seen before */
				*start -= (*start - probes[i].at) / 2;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Where the parallel walk starts, copied under the lock; 1: not at all. */
struct start {
	unsigned uid; /* the unknown last chunk it replaces */
	char *cursor; /* its cursor (a time) */
	int64_t top;
	int64_t span; /* time one page covers, about */
	char **prev;
	size_t n_prev;
};

static int start_of(struct conv *c, struct start *st)
{
	const struct chunk *last, *before;
	int64_t top;
	int r = -EAGAIN;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->lock);
	last = &c->chunks[c->n_chunks - 1];
	before = c->n_chunks > 1 ? &c->chunks[c->n_chunks - 2] : NULL;
	if (last->known || !last->cursor || !c->n_pos ||
	    !chunk_time_of(last->cursor, &top) || top <= 0)
		goto out; /* done, or a cursor that is not a time */
	st->uid = last->uid;
	st->top = top;
	st->span = (index_newest_ms(c) - index_oldest_ms(c)) *
		   c->env.page_size / (int64_t)c->n_pos;
	if (st->span < 1000)
		st->span = 1000;
	st->cursor = strdup(last->cursor);
	st->prev = calloc(before && before->n_edge ? before->n_edge : 1,
			  sizeof(char *));
	r = st->cursor && st->prev ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && before && i < before->n_edge; i++) {
		if (!(st->prev[i] = strdup(before->edge_urns[i])))
			break;
		st->n_prev = i + 1;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void start_free(struct start *st)
{
	free(st->cursor);
	for (size_t i = 0; i < st->n_prev; i++)
		free(st->prev[i]);
	free(st->prev);
}

/* Cut [start, top] into k stretches and walk them all at once. */
static int walk_stretches(struct conv *c, const struct start *st, int k,
			  int64_t start, struct stretch *s)
{
	int64_t width = (st->top - start) / k;

	for (int j = 0; j < k; j++) {
		s[j] = (struct stretch){.c = c, .floor = INT64_MIN, .what = ""};
		if (j == 0) {
			s[j].cursor = strdup(st->cursor);
			s[j].prev = st->prev;
			s[j].n_prev = st->n_prev;
		} else {
			s[j].cursor = chunk_cursor_of(st->top - j * width);
		}
		if (j + 1 < k)
			s[j].floor = st->top - (j + 1) * width - 1;
		if (!s[j].cursor)
			return -ENOMEM;
	}
	return run_all(s, (size_t)k, sizeof(*s),
		       offsetof(struct stretch, thread), stretch_thread);
}

/* All the stretches' chunks, in order, into the index. */
static int splice_all(struct conv *c, unsigned uid, struct stretch *s, int k)
{
	size_t n = 0, at = 0;
	struct chunk *chunks;
	struct chunk_body **bodies;
	int r = -ENOMEM;

	for (int j = 0; j < k; j++)
		n += s[j].n;
	chunks = calloc(n ? n : 1, sizeof(*chunks));
	bodies = calloc(n ? n : 1, sizeof(*bodies));
	if (chunks && bodies) {
		for (int j = 0; j < k; j++)
			for (size_t i = 0; i < s[j].n; i++, at++) {
				chunks[at] = s[j].chunks[i];
				bodies[at] = s[j].bodies[i];
			}
		r = n ? conv_splice(c, uid, chunks, bodies, n) : -EIO;
		/* on success the index took them: the stretches hold none */
		for (int j = 0; r == 0 && j < k; j++)
			s[j].n = 0;
	}
	free(chunks);
	free(bodies);
	return r;
}

int conv_walk_parallel(struct conv *c, bool *walked)
{
	struct stretch s[CONV_PARALLEL_MAX];
	struct start st;
	int64_t start;
	bool found;
	int k = c->env.parallel, r;

	*walked = false;
	if (k > CONV_PARALLEL_MAX)
		k = CONV_PARALLEL_MAX;
	r = start_of(c, &st);
	if (r < 0)
		return r == -EAGAIN ? 0 : r;
	r = find_start(c, k, st.top, st.span, &start, &found);
	if (r == 0 && (st.top - start) / st.span < k)
		k = (int)((st.top - start) /
			  st.span); /* short: fewer stretches */
	if (r == 0 && k < 2)
		r = -EAGAIN; /* too short to cut */
	memset(s, 0, sizeof(s));
	if (r == 0)
		r = walk_stretches(c, &st, k, start, s);
	for (int j = 0; r == 0 && j < k; j++)
		if (s[j].err < 0)
			r = s[j].err;
	if (r == 0)
		r = splice_all(c, st.uid, s, k);
	for (int j = 0; j < CONV_PARALLEL_MAX; j++)
		stretch_free(&s[j]);
	start_free(&st);
	(void)found;
	*walked = r == 0;
	/* -EAGAIN: too short, or the chain moved meanwhile */
	return r == -EAGAIN ? 0 : r;
}
