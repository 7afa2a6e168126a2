/*
 * fs/model/refresh.c - news of a conversation: after the ttl (or when asked)
 * its newest page is checked; new messages become chunks of their own in
 * front of the old ones, so files only grow at their end and no old chunk
 * is fetched again.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "clock.h"
#include "keep.h"
#include "link.h"

/* Chunks of new messages one refresh takes in; past that (a conversation
 * that grew by more than 64 pages) it starts over with a fresh walk. */
#define CONV_MAX_FRESH 64
/* Messages the first request of a check asks for: 1 credit (v1 charges
 * per 10 results), enough for the usual few new messages. */
#define CONV_PROBE 10

/* Fetch what is newer than floor into s: first CONV_PROBE messages, which
 * hold it all when it is fewer; else the newest page, then on along the
 * chain while every message of an answer was new. -E2BIG when there is
 * more than CONV_MAX_FRESH chunks of it. A kept probe holds fewer messages
 * than a page, all of them above the floor, so fetching it again with a
 * page's total_results gives the same ones. */
static int fetch_fresh(struct conv *c, int64_t floor, struct stretch *s)
{
	if (c->env.page_size > CONV_PROBE) {
		*s = (struct stretch){.c = c,
				      .floor = floor,
				      .max = 1,
				      .size = CONV_PROBE,
				      .what = "refresh: "};
		stretch_walk(s);
		if (s->err || !s->more_left)
			return s->err;
		stretch_free(s); /* more news than it holds: by pages */
	}
	*s = (struct stretch){.c = c,
			      .floor = floor,
			      .max = CONV_MAX_FRESH,
			      .what = "refresh: "};
	stretch_walk(s);
	return s->err == 0 && s->more_left ? -E2BIG : s->err;
}

/* Put the fresh chunks in front. Caller holds lock. */
static int prepend_fresh(struct conv *c, struct stretch *f, unsigned *uids)
{
	size_t nc = f->n + c->n_chunks, n_old = c->n_chunks,
	       n_old_pos = c->n_pos;
	struct chunk *chunks = calloc(nc, sizeof(*chunks)), *old = c->chunks;
	size_t bytes[CONV_TRACKS];

	if (!chunks ||
	    index_shift(c, (const struct chunk_body *const *)f->bodies, f->n) <
		    0) {
		free(chunks);
		return -ENOMEM;
	}
	c->chunks = chunks;
	c->n_pos = 0;
	for (size_t i = 0; i < f->n; i++) {
		chunks[i] = f->chunks[i];
		chunks[i].uid = uids[i] = c->next_uid++;
		memset(&f->chunks[i], 0, sizeof(f->chunks[i]));
		index_append(c, i, f->bodies[i]);
	}
	index_bytes_to_chunk(c, f->n, bytes);
	for (size_t i = 0; i < n_old; i++) {
		chunks[f->n + i] = old[i];
		chunks[f->n + i].first += f->n_msgs;
		for (int t = 0; t < CONV_TRACKS; t++)
			chunks[f->n + i].before[t] += bytes[t];
	}
	c->n_chunks = nc;
	c->n_pos = f->n_msgs + n_old_pos;
	free(old);
	return 0;
}

/* Forget every chunk: the next access walks the chain anew. */
static void restart_chain(struct conv *c)
{
	for (size_t i = 0; i < c->n_chunks; i++)
		chunk_clear(&c->chunks[i]);
	c->n_chunks = 1;
	c->chunks[0].uid = c->next_uid++;
	c->chunks[0].floor_ms = INT64_MIN;
	c->n_pos = 0;
}

/* Drop the cached bodies of a chain read anew: no uid names them any
 * more, so they would only wait for the budget to push them out. */
static void forget_chunks(struct conv *c)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "c%u:k", c->index);
	lru_remove_prefix(c->env.cache, prefix);
}

/* Cache the fresh bodies under their new uids. */
static void publish_fresh(struct conv *c, struct stretch *f,
			  const unsigned *uids)
{
	for (size_t i = 0; i < f->n; i++) {
		conv_publish(c, uids[i], f->bodies[i]);
		f->bodies[i] = NULL;
	}
}

/* The page count and the sizes a refresh may grow. Caller holds lock. */
static void measure(const struct conv *c, struct conv_growth *g)
{
	size_t per = (size_t)c->env.page_size;
	size_t pages = (c->n_pos + per - 1) / per;

	g->pages = (unsigned)pages;
	for (int t = 0; t < CONV_TRACKS; t++) {
		g->all[t] = index_bytes_before(c, t, c->n_pos);
		/* the last page: the newest positions, from 0 */
		g->last[t] = pages ? index_bytes_before(
					     c, t, c->n_pos - (pages - 1) * per)
				   : 0;
	}
}

/* Take in what fetch_fresh found (r its result). */
static int apply_fresh(struct conv *c, struct stretch *f, int r,
		       const struct conv_announce *to, bool *changed)
{
	unsigned uids[CONV_MAX_FRESH], old_gen;
	bool prepended = false;
	struct conv_growth grown = {0}, after;

	/* sizes stay hidden from conv_file_attr until the kernel holds the
	 * new bytes (see attr_lock) */
	pthread_rwlock_wrlock(&c->attr_lock);
	pthread_mutex_lock(&c->lock);
	old_gen = c->gen;
	measure(c, &grown);
	/* a failure is retried after the ttl */
	c->last_check_ms = clock_now_ms();
	if (r == -E2BIG) {
		log_info("conversation %s: more than %d new pages; reading it "
			 "anew",
			 c->name, CONV_MAX_FRESH);
		restart_chain(c);
		grown.anew = true;
		c->gen++;
		r = 0;
	} else if (r == 0 && f->n_msgs) {
		r = prepend_fresh(c, f, uids);
		prepended = r == 0;
		c->gen += prepended;
	}
	if (r == 0 && f->first)
		conv_record_meta(c, f->first);
	c->chain_dirty |= prepended; /* kept by conv_refresh, after */
	*changed = c->gen != old_gen;
	measure(c, &after);
	grown.now = after.pages;
	pthread_mutex_unlock(&c->lock);
	if (prepended) /* before the announcement reads them */
		publish_fresh(c, f, uids);
	if (grown.anew)
		forget_chunks(c);
	if (*changed && to)
		to->fn(to->arg, c, &grown);
	pthread_rwlock_unlock(&c->attr_lock);
	return r;
}

/* Whether a check is due (see conv_refresh). Caller holds lock. */
static bool due_locked(const struct conv *c, bool force)
{
	if (!c->chunks[0].known)
		return false;
	if (force)
		return true;
	if (c->in_inbox)
		return c->stale;
	return clock_now_ms() - c->last_check_ms >=
	       (long long)c->env.ttl * 1000;
}

/* Whether a check is due, and from which time on. */
static bool refresh_due(struct conv *c, bool force, int64_t *floor)
{
	bool due;

	pthread_mutex_lock(&c->lock);
	/* not while the link backs off; a forced check asks, and says why
	 * it cannot */
	due = due_locked(c, force) &&
	      (force || link_open(c->env.link, NULL) == 0);
	*floor = index_newest_ms(c);
	pthread_mutex_unlock(&c->lock);
	return due;
}

bool conv_check_due(struct conv *c)
{
	bool due;

	pthread_mutex_lock(&c->lock);
	due = due_locked(c, false);
	pthread_mutex_unlock(&c->lock);
	return due;
}

/* The inbox's news is taken up (or, on failure, still due). */
static void set_stale(struct conv *c, bool stale)
{
	pthread_mutex_lock(&c->lock);
	c->stale = stale && c->in_inbox;
	pthread_mutex_unlock(&c->lock);
}

int conv_refresh(struct conv *c, bool force, const struct conv_announce *to,
		 bool *changed)
{
	struct stretch f;
	int64_t floor;
	int r = 0;

	*changed = false;
	/* every access asks: answer "not due" without waiting for a refresh
	 * or a parallel walk that holds refresh_lock over the network */
	if (!refresh_due(c, force, &floor))
		return 0;
	memset(&f, 0, sizeof(f));
	pthread_mutex_lock(&c->refresh_lock);
	if (refresh_due(c, force,
			&floor)) {   /* still: no one did it meanwhile */
		set_stale(c, false); /* news after this point marks it anew */
		r = fetch_fresh(c, floor, &f);
		r = apply_fresh(c, &f, r, to, changed);
		if (r < 0)
			set_stale(c, true);
	}
	stretch_free(&f);
	pthread_mutex_unlock(&c->refresh_lock);
	keep_chain_sync(c);
	return r;
}
