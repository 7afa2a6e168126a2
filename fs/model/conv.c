/*
 * fs/conv.c - the conversation model: the cursor chain, chunk fills,
 * refresh. The files seen through it are in fs/view.c.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text/buf.h"
#include "../log.h"
#include "clock.h"
#include "../text/render.h"

/* Chunks of new messages one refresh takes in; past that (a conversation
 * that grew by more than 64 pages) it starts over with a fresh walk. */
#define CONV_MAX_FRESH 64

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void replace_str(char **dst, const char *src)
{
	char *copy = dup_or_null(src);

	if (src && !copy)
		return; /* keep the old value rather than lose it */
	free(*dst);
	*dst = copy;
}

struct conv *conv_new(const struct conv_env *env, unsigned index,
		      const char *name, const char *conversation_id,
		      const char *profile_url)
{
	struct conv *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->env = *env;
	c->index = index;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->id = dup_or_null(conversation_id);
	c->profile_url = dup_or_null(profile_url);
	c->inbox_unread = -1;
	c->unread_count = -1;
	c->other_count = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->refresh_lock, NULL);
	c->chunks = calloc(1, sizeof(*c->chunks)); /* the newest: no cursor */
	if (!c->chunks || (conversation_id && !c->id) ||
	    (profile_url && !c->profile_url)) {
		conv_free(c);
		return NULL;
	}
	c->chunks[0].floor_ms = INT64_MIN;
	c->chunks[0].uid = c->next_uid++;
	c->n_chunks = 1;
	return c;
}

void conv_free(struct conv *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_chunks; i++)
		chunk_clear(&c->chunks[i]);
	free(c->chunks);
	free(c->ts);
	free(c->len[CONV_TEXT]);
	free(c->len[CONV_JSONL]);
	free(c->id);
	free(c->profile_url);
	free(c->api_profile_url);
	free(c->participant);
	free(c->headline);
	free(c->api_id);
	free(c->last_seen_message);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->refresh_lock);
	free(c);
}

void conv_set_inbox_info(struct conv *c, const struct api_inbox_entry *e)
{
	pthread_mutex_lock(&c->lock);
	replace_str(&c->participant, e->name);
	replace_str(&c->headline, e->headline);
	c->inbox_unread = e->unread;
	if (e->last_time_ms > c->inbox_last_ms)
		c->inbox_last_ms = e->last_time_ms;
	pthread_mutex_unlock(&c->lock);
}

const char *conv_name(const struct conv *c)
{
	return c->name;
}

unsigned conv_index(const struct conv *c)
{
	return c->index;
}

const char *conv_profile_url(const struct conv *c)
{
	return c->profile_url;
}

const char *conv_id(const struct conv *c)
{
	return c->id;
}

void conv_get_info(struct conv *c, struct conv_info *out)
{
	pthread_mutex_lock(&c->lock);
	out->conversation_id = dup_or_null(c->api_id ? c->api_id : c->id);
	out->profile_url = dup_or_null(conv_url_known(c));
	out->participant = dup_or_null(c->participant);
	out->unread = c->unread_count >= 0 ? c->unread_count : c->inbox_unread;
	pthread_mutex_unlock(&c->lock);
}

void conv_info_clear(struct conv_info *info)
{
	free(info->conversation_id);
	free(info->profile_url);
	free(info->participant);
	memset(info, 0, sizeof(*info));
}

time_t conv_mtime(struct conv *c)
{
	int64_t ms;

	pthread_mutex_lock(&c->lock);
	ms = c->inbox_last_ms;
	if (c->n_pos && c->ts[0] > ms)
		ms = c->ts[0];
	pthread_mutex_unlock(&c->lock);
	return ms > 0 ? (time_t)(ms / 1000) : 0;
}

bool conv_complete(const struct conv *c)
{
	const struct chunk *last = &c->chunks[c->n_chunks - 1];

	return last->known && !last->has_next;
}

/* ---- the index ------------------------------------------------------ */

/* Caller holds lock. Index of the chunk with uid, or -1. */
static long find_chunk(const struct conv *c, unsigned uid)
{
	for (size_t i = c->n_chunks; i-- > 0;)
		if (c->chunks[i].uid == uid)
			return (long)i;
	return -1;
}

static void record_meta(struct conv *c, const struct api_page *page)
{
	replace_str(&c->api_id, page->conversation_id);
	if (page->profile_url && !c->profile_url)
		replace_str(&c->api_profile_url, page->profile_url);
	c->unread_count = page->unread_count;
	c->other_count = page->total_other_member_message_count;
	replace_str(&c->last_seen_message, page->last_seen_message);
	c->last_seen_at = page->last_seen_at;
	c->have_meta = true;
}

size_t index_chunk_of(const struct conv *c, size_t p)
{
	size_t lo = 0, hi = c->n_chunks; /* chunks[lo].first <= p always */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->chunks[mid].first <= p)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Bytes of track t of the positions before p, p inside chunk k or just
 * past it. */
static size_t bytes_within(const struct conv *c, enum conv_track t,
			   const struct chunk *k, size_t p)
{
	size_t bytes = k->before[t];

	for (size_t q = k->first; q < p; q++)
		bytes += c->len[t][q];
	return bytes;
}

size_t index_bytes_before(const struct conv *c, enum conv_track t, size_t p)
{
	if (!p)
		return 0;
	return bytes_within(c, t, &c->chunks[index_chunk_of(c, p - 1)], p);
}

size_t index_pos_of_byte(const struct conv *c, enum conv_track t, size_t y,
		   size_t *at)
{
	size_t lo = 0, hi = c->n_chunks, p, end;

	while (hi - lo > 1) { /* the last chunk that starts below y */
		size_t mid = lo + (hi - lo) / 2;

		if (c->chunks[mid].before[t] < y)
			lo = mid;
		else
			hi = mid;
	}
	p = c->chunks[lo].first;
	end = p + c->chunks[lo].n;
	for (*at = c->chunks[lo].before[t];
	     p + 1 < end && *at + c->len[t][p] < y;)
		*at += c->len[t][p++];
	return p;
}

/* Bytes of the chunks before ci (all known), per track. Caller holds
 * lock. */
static void bytes_to_chunk(const struct conv *c, size_t ci,
			   size_t out[CONV_TRACKS])
{
	const struct chunk *k = ci ? &c->chunks[ci - 1] : NULL;

	for (int t = 0; t < CONV_TRACKS; t++)
		out[t] = k ? bytes_within(c, t, k, k->first + k->n) : 0;
}

/* Room for more positions: doubling while the walk goes on, exact once
 * the chain is complete (fit_positions). Caller holds lock. */
static int reserve_pos(struct conv *c, size_t more)
{
	size_t want = c->n_pos + more, cap = c->cap_pos ? c->cap_pos : 256;
	int64_t *ts;

	if (want <= c->cap_pos)
		return 0;
	while (cap < want)
		cap *= 2;
	ts = realloc(c->ts, cap * sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	c->ts = ts;
	for (int t = 0; t < CONV_TRACKS; t++) {
		uint32_t *len = realloc(c->len[t], cap * sizeof(*len));

		if (!len)
			return -ENOMEM;
		c->len[t] = len;
	}
	c->cap_pos = cap;
	return 0;
}

/* Give back the room a complete chain no longer needs. Caller holds lock. */
static void fit_positions(struct conv *c)
{
	int64_t *ts;

	if (!conv_complete(c) || c->n_pos == 0 || c->n_pos == c->cap_pos)
		return;
	ts = realloc(c->ts, c->n_pos * sizeof(*ts));
	c->ts = ts ? ts : c->ts; /* a failed shrink keeps the old block */
	for (int t = 0; t < CONV_TRACKS; t++) {
		uint32_t *len = realloc(c->len[t], c->n_pos * sizeof(*len));

		c->len[t] = len ? len : c->len[t];
	}
	c->cap_pos = c->n_pos;
}

/* Add the messages of body, as chunk index ci, after the known ones.
 * Caller holds lock and reserved room. */
static void append_positions(struct conv *c, size_t ci,
			     const struct chunk_body *b)
{
	c->chunks[ci].first = c->n_pos;
	bytes_to_chunk(c, ci, c->chunks[ci].before);
	for (size_t s = b->n; s-- > 0; c->n_pos++) { /* newest first */
		c->ts[c->n_pos] = b->ts[s];
		for (int t = 0; t < CONV_TRACKS; t++)
			c->len[t][c->n_pos] =
				(uint32_t)(b->off[t][s + 1] - b->off[t][s]);
	}
}

/* Caller holds lock. Add the chunk the chain continues with. */
static int append_chunk(struct conv *c, const char *cursor, int64_t floor)
{
	struct chunk *grown = realloc(c->chunks,
				      (c->n_chunks + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	c->chunks = grown;
	memset(&grown[c->n_chunks], 0, sizeof(*grown));
	grown[c->n_chunks].uid = c->next_uid++;
	grown[c->n_chunks].floor_ms = floor;
	grown[c->n_chunks].first = c->n_pos;
	bytes_to_chunk(c, c->n_chunks, grown[c->n_chunks].before);
	grown[c->n_chunks].cursor = strdup(cursor);
	if (!grown[c->n_chunks].cursor)
		return -ENOMEM;
	c->n_chunks++;
	return 0;
}

/* The first fetch of a chunk of the walk: what it teaches the index (the
 * chunk's description got is taken over, or cleared). */
static int record_first(struct conv *c, unsigned uid,
			const struct api_page *page, struct chunk *got,
			const struct chunk_body *b)
{
	struct chunk *k;
	long i;
	int r = -ENOMEM;

	pthread_mutex_lock(&c->lock);
	i = find_chunk(c, uid);
	if (i < 0 || c->chunks[i].known || (size_t)i != c->n_chunks - 1) {
		r = 0; /* someone else recorded it */
		goto out;
	}
	if (reserve_pos(c, b->n) < 0)
		goto out;
	k = &c->chunks[i];
	got->uid = k->uid;
	got->first = k->first;
	memcpy(got->before, k->before, sizeof(got->before));
	chunk_clear(k);
	*k = *got; /* the cursor that fetches it again included */
	memset(got, 0, sizeof(*got));
	if (i == 0) {
		record_meta(c, page);
		c->last_check = clock_now();
	}
	append_positions(c, (size_t)i, b);
	r = k->has_next ? append_chunk(c, k->next_cursor, k->floor_ms) : 0;
	fit_positions(c);
out:
	pthread_mutex_unlock(&c->lock);
	chunk_clear(got);
	return r;
}

/* What a fill needs from the index, copied under the lock. */
struct fill_in {
	char *cursor;
	int64_t floor;
	bool known;
	size_t n;
	size_t chunk_no;
	char **prev;
	size_t n_prev;
};

static int fill_inputs(struct conv *c, unsigned uid, struct fill_in *in)
{
	const struct chunk *k, *pk;
	long i;
	int r = -ENOMEM;

	memset(in, 0, sizeof(*in));
	pthread_mutex_lock(&c->lock);
	i = find_chunk(c, uid);
	if (i < 0) {
		r = -ENOENT; /* the chain changed under us */
		goto out;
	}
	k = &c->chunks[i];
	if (k->cursor && !(in->cursor = strdup(k->cursor)))
		goto out;
	in->floor = k->floor_ms;
	in->known = k->known;
	in->n = k->n;
	in->chunk_no = (size_t)i;
	pk = i > 0 ? &c->chunks[i - 1] : NULL;
	if (pk && pk->n_edge && !(in->prev = calloc(pk->n_edge, sizeof(char *))))
		goto out;
	for (size_t j = 0; pk && j < pk->n_edge; j++) {
		if (!(in->prev[j] = strdup(pk->edge_urns[j])))
			break;
		in->n_prev = j + 1;
	}
	r = 0;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void fill_in_free(struct fill_in *in)
{
	free(in->cursor);
	chunk_strv_free(in->prev, in->n_prev);
}

struct fill_arg {
	struct conv *c;
	unsigned uid;
};

static int chunk_fill(void *arg, const char *key, void **value, size_t *cost,
		      void (**destroy)(void *))
{
	struct fill_arg *a = arg;
	struct conv *c = a->c;
	struct api_page *page = NULL;
	struct chunk_body *b = NULL;
	struct chunk_ask ask;
	struct fill_in in;
	struct chunk k;
	int r;

	(void)key;
	r = fill_inputs(c, a->uid, &in);
	if (r < 0)
		goto out;
	ask = (struct chunk_ask){
		.cursor = in.cursor, .floor = in.floor, .prev = in.prev,
		.n_prev = in.n_prev, .chunk_no = in.chunk_no,
		.known_n = in.known ? in.n : SIZE_MAX, .what = "",
	};
	r = chunk_fetch(c, &ask, &k, &b, &page);
	if (r < 0)
		goto out;
	if (in.known)
		chunk_clear(&k);
	else
		r = record_first(c, a->uid, page, &k, b);
	if (r < 0)
		goto out;
	*value = b;
	*cost = chunk_body_cost(b);
	*destroy = chunk_body_free;
	b = NULL;
out:
	if (b)
		chunk_body_free(b);
	api_page_free(page);
	fill_in_free(&in);
	return r;
}

static void chunk_key(const struct conv *c, unsigned uid, char *key, size_t n)
{
	snprintf(key, n, "c%u:k%u", c->index, uid);
}

int conv_chunk_get(struct conv *c, unsigned uid, struct lru_ref **ref)
{
	struct fill_arg arg = {c, uid};
	char key[64];

	chunk_key(c, uid, key, sizeof(key));
	return lru_get(c->env.cache, key, chunk_fill, &arg, ref);
}

int conv_splice(struct conv *c, unsigned expect_uid, struct chunk *chunks,
		struct chunk_body **bodies, size_t n)
{
	size_t last, msgs = 0;
	unsigned *uids = calloc(n ? n : 1, sizeof(*uids));
	struct chunk *grown;
	int r = -EAGAIN;

	for (size_t i = 0; i < n; i++)
		msgs += bodies[i]->n;
	pthread_mutex_lock(&c->lock);
	last = c->n_chunks - 1;
	if (!uids || c->chunks[last].uid != expect_uid || c->chunks[last].known)
		goto out;
	r = -ENOMEM;
	grown = realloc(c->chunks, (last + n) * sizeof(*grown));
	if (!grown || reserve_pos(c, msgs) < 0) {
		if (grown)
			c->chunks = grown;
		goto out;
	}
	c->chunks = grown;
	chunk_clear(&c->chunks[last]);
	for (size_t i = 0; i < n; i++) {
		c->chunks[last + i] = chunks[i];
		c->chunks[last + i].uid = uids[i] = c->next_uid++;
		memset(&chunks[i], 0, sizeof(chunks[i]));
		append_positions(c, last + i, bodies[i]);
	}
	c->n_chunks = last + n;
	fit_positions(c);
	r = 0;
out:
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; r == 0 && i < n; i++) {
		conv_publish(c, uids[i], bodies[i]);
		bodies[i] = NULL;
	}
	free(uids);
	return r;
}

int conv_walk(struct conv *c, size_t need)
{
	if (need == SIZE_MAX && c->env.parallel > 1) {
		int r = conv_walk(c, 1); /* the newest chunk: where to start */
		bool done, walked;

		if (r < 0)
			return r;
		pthread_mutex_lock(&c->lock);
		done = conv_complete(c);
		pthread_mutex_unlock(&c->lock);
		if (done) /* the usual case: no need to wait for refresh_lock */
			return 0;
		pthread_mutex_lock(&c->refresh_lock);
		r = conv_walk_parallel(c, &walked);
		pthread_mutex_unlock(&c->refresh_lock);
		if (r < 0 || walked)
			return r;
	}
	for (;;) {
		struct lru_ref *ref;
		unsigned uid;
		int r;

		pthread_mutex_lock(&c->lock);
		if (c->n_pos >= need || conv_complete(c)) {
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
		uid = c->chunks[c->n_chunks - 1].uid;
		pthread_mutex_unlock(&c->lock);
		r = conv_chunk_get(c, uid, &ref);
		if (r < 0)
			return r;
		lru_release(ref);
	}
}

int conv_fetch_newest(struct conv *c)
{
	return conv_walk(c, 1);
}

/* ---- refresh -------------------------------------------------------- */

/* Fetch what is newer than floor into s: the newest page, then on along
 * the chain while every message of an answer was new. -E2BIG when there is
 * more than CONV_MAX_FRESH chunks of it. */
static int fetch_fresh(struct conv *c, int64_t floor, struct stretch *s)
{
	*s = (struct stretch){.c = c, .floor = floor, .max = CONV_MAX_FRESH,
			      .what = "refresh: "};
	stretch_walk(s);
	return s->err == 0 && s->more_left ? -E2BIG : s->err;
}

/* Room for np positions in new arrays, the old ones' np - at last
 * positions copied behind the first at. Caller holds lock. */
static int shift_positions(struct conv *c, size_t np, size_t at)
{
	int64_t *ts = malloc((np ? np : 1) * sizeof(*ts));
	uint32_t *len[CONV_TRACKS];
	int t;

	for (t = 0; t < CONV_TRACKS; t++)
		len[t] = malloc((np ? np : 1) * sizeof(*len[t]));
	if (!ts || !len[CONV_TEXT] || !len[CONV_JSONL]) {
		free(ts);
		for (t = 0; t < CONV_TRACKS; t++)
			free(len[t]);
		return -ENOMEM;
	}
	if (c->n_pos)
		memcpy(ts + at, c->ts, c->n_pos * sizeof(*ts));
	free(c->ts);
	c->ts = ts;
	for (t = 0; t < CONV_TRACKS; t++) {
		if (c->n_pos)
			memcpy(len[t] + at, c->len[t],
			       c->n_pos * sizeof(*len[t]));
		free(c->len[t]);
		c->len[t] = len[t];
	}
	c->cap_pos = np;
	return 0;
}

/* Put the fresh chunks in front. Caller holds lock. */
static int prepend_fresh(struct conv *c, struct stretch *f, unsigned *uids)
{
	size_t nc = f->n + c->n_chunks, n_old = c->n_chunks, n_old_pos = c->n_pos;
	struct chunk *chunks = calloc(nc, sizeof(*chunks)), *old = c->chunks;
	size_t bytes[CONV_TRACKS];

	if (!chunks || shift_positions(c, f->n_msgs + n_old_pos, f->n_msgs) < 0) {
		free(chunks);
		return -ENOMEM;
	}
	c->chunks = chunks;
	c->n_pos = 0;
	for (size_t i = 0; i < f->n; i++) {
		chunks[i] = f->chunks[i];
		chunks[i].uid = uids[i] = c->next_uid++;
		memset(&f->chunks[i], 0, sizeof(f->chunks[i]));
		append_positions(c, i, f->bodies[i]);
	}
	bytes_to_chunk(c, f->n, bytes);
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

/* A fill that hands over a value made elsewhere. */
static int handover_fill(void *arg, const char *key, void **value,
			 size_t *cost, void (**destroy)(void *))
{
	struct chunk_body **b = arg;

	(void)key;
	*value = *b;
	*cost = chunk_body_cost(*b);
	*destroy = chunk_body_free;
	*b = NULL;
	return 0;
}

void conv_publish(struct conv *c, unsigned uid, struct chunk_body *body)
{
	struct lru_ref *ref = NULL;
	char key[64];

	chunk_key(c, uid, key, sizeof(key));
	if (lru_get(c->env.cache, key, handover_fill, &body, &ref) == 0)
		lru_release(ref);
	if (body)
		chunk_body_free(body); /* not handed over: cached already */
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
		g->last[t] = pages ? index_bytes_before(c, t, c->n_pos -
							  (pages - 1) * per)
				   : 0;
	}
}

/* Take in what fetch_fresh found (r its result). */
static int apply_fresh(struct conv *c, struct stretch *f, int r,
		       bool *changed, struct conv_growth *grown)
{
	unsigned uids[CONV_MAX_FRESH], old_gen;
	bool prepended = false;
	struct conv_growth after;

	pthread_mutex_lock(&c->lock);
	old_gen = c->gen;
	measure(c, grown);
	c->last_check = clock_now(); /* a failure is retried after the ttl */
	if (r == -E2BIG) {
		log_info("conversation %s: more than %d new pages; reading it "
			 "anew", c->name, CONV_MAX_FRESH);
		restart_chain(c);
		grown->anew = true;
		c->gen++;
		r = 0;
	} else if (r == 0 && f->n_msgs) {
		r = prepend_fresh(c, f, uids);
		prepended = r == 0;
		c->gen += prepended;
	}
	if (r == 0 && f->first)
		record_meta(c, f->first);
	*changed = c->gen != old_gen;
	measure(c, &after);
	grown->now = after.pages;
	pthread_mutex_unlock(&c->lock);
	if (prepended)
		publish_fresh(c, f, uids);
	if (grown->anew)
		forget_chunks(c);
	return r;
}

/* Whether a check is due, and from which time on. */
static bool refresh_due(struct conv *c, bool force, int64_t *floor)
{
	bool due;

	pthread_mutex_lock(&c->lock);
	due = c->chunks[0].known &&
	      (force || clock_now() - c->last_check >= c->env.ttl);
	*floor = c->n_pos ? c->ts[0] : INT64_MIN;
	pthread_mutex_unlock(&c->lock);
	return due;
}

int conv_refresh(struct conv *c, bool force, bool *changed,
		 struct conv_growth *grown)
{
	struct stretch f;
	int64_t floor;
	int r = 0;

	*changed = false;
	memset(grown, 0, sizeof(*grown));
	/* every access asks: answer "not due" without waiting for a refresh
	 * or a parallel walk that holds refresh_lock over the network */
	if (!refresh_due(c, force, &floor))
		return 0;
	memset(&f, 0, sizeof(f));
	pthread_mutex_lock(&c->refresh_lock);
	if (refresh_due(c, force, &floor)) { /* still: no one did it meanwhile */
		r = fetch_fresh(c, floor, &f);
		r = apply_fresh(c, &f, r, changed, grown);
	}
	stretch_free(&f);
	pthread_mutex_unlock(&c->refresh_lock);
	return r;
}
