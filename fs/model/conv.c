/*
 * fs/model/conv.c - a conversation: the object and what is known of it,
 * chunk fills through the cache's single flight, the lazy walk, the splice
 * of the parallel walk. Its index is in index.c, its news in refresh.c, its
 * files in view.c.
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
#include "keep.h"

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
	c->total_count = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->refresh_lock, NULL);
	pthread_mutex_init(&c->keep_lock, NULL);
	pthread_rwlock_init(&c->attr_lock, NULL);
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
	free(c->sec);
	free(c->len[CONV_TEXT]);
	free(c->len[CONV_JSONL]);
	free(c->big);
	free(c->id);
	free(c->profile_url);
	free(c->api_profile_url);
	free(c->participant);
	free(c->headline);
	free(c->api_id);
	free(c->last_seen_message);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->refresh_lock);
	pthread_mutex_destroy(&c->keep_lock);
	pthread_rwlock_destroy(&c->attr_lock);
	free(c);
}

bool conv_set_inbox_info(struct conv *c, const struct api_inbox_entry *e)
{
	bool newer;

	pthread_mutex_lock(&c->lock);
	replace_str(&c->participant, e->name);
	replace_str(&c->headline, e->headline);
	c->inbox_unread = e->unread;
	newer = e->last_time_ms > c->inbox_last_ms;
	if (newer)
		c->inbox_last_ms = e->last_time_ms;
	/* listed before and moved since: its newest page is due */
	if (newer && c->in_inbox && c->chunks[0].known &&
	    !(index_newest_ms(c) >= e->last_time_ms))
		c->stale = true;
	/* without a time, the inbox cannot say when it changed */
	c->in_inbox = e->last_time_ms > 0;
	pthread_mutex_unlock(&c->lock);
	return newer;
}

void conv_set_in_inbox(struct conv *c, bool in)
{
	pthread_mutex_lock(&c->lock);
	c->in_inbox = in;
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
	ms = index_newest_ms(c);
	if (c->inbox_last_ms > ms)
		ms = c->inbox_last_ms;
	pthread_mutex_unlock(&c->lock);
	return ms > 0 ? (time_t)(ms / 1000) : 0;
}

bool conv_complete(const struct conv *c)
{
	const struct chunk *last = &c->chunks[c->n_chunks - 1];

	return last->known && !last->has_next;
}

void conv_record_meta(struct conv *c, const struct api_page *page)
{
	replace_str(&c->api_id, page->conversation_id);
	if (page->profile_url && !c->profile_url)
		replace_str(&c->api_profile_url, page->profile_url);
	c->unread_count = page->unread_count;
	c->other_count = page->total_other_member_message_count;
	c->total_count = page->total_message_count;
	replace_str(&c->last_seen_message, page->last_seen_message);
	c->last_seen_at = page->last_seen_at;
	c->have_meta = true;
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
	i = index_find_chunk(c, uid);
	if (i < 0 || c->chunks[i].known || (size_t)i != c->n_chunks - 1) {
		r = 0; /* someone else recorded it */
		goto out;
	}
	if (index_reserve(c, &b, 1) < 0)
		goto out;
	k = &c->chunks[i];
	got->uid = k->uid;
	got->first = k->first;
	memcpy(got->before, k->before, sizeof(got->before));
	chunk_clear(k);
	*k = *got; /* the cursor that fetches it again included */
	memset(got, 0, sizeof(*got));
	if (i == 0) {
		conv_record_meta(c, page);
		c->last_check_ms = clock_now_ms();
		c->stale = false;
	}
	index_append(c, (size_t)i, b);
	r = k->has_next ? index_append_chunk(c, k->next_cursor, k->floor_ms)
			: 0;
	index_fit(c);
	c->chain_dirty = true; /* kept once the walk ends (conv_walk) */
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
	i = index_find_chunk(c, uid);
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
	if (pk && pk->n_edge &&
	    !(in->prev = calloc(pk->n_edge, sizeof(char *))))
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
		.cursor = in.cursor,
		.floor = in.floor,
		.prev = in.prev,
		.n_prev = in.n_prev,
		.chunk_no = in.chunk_no,
		.known_n = in.known ? in.n : SIZE_MAX,
		.what = "",
	};
	if (in.known && keep_body_get(c, in.cursor, in.floor, in.n, &b) == 0)
		goto found; /* kept on disk: no request */
	r = chunk_fetch(c, &ask, &k, &b, &page);
	if (r < 0)
		goto out;
	keep_body_put(c, in.known ? in.cursor : k.cursor, in.floor, b);
	if (in.known)
		chunk_clear(&k);
	else
		r = record_first(c, a->uid, page, &k, b);
	if (r < 0)
		goto out;
found:
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

/* A fill that hands over a value made elsewhere. */
static int handover_fill(void *arg, const char *key, void **value, size_t *cost,
			 void (**destroy)(void *))
{
	struct chunk_body **b = arg;

	(void)key;
	*value = *b;
	*cost = chunk_body_cost(*b);
	*destroy = chunk_body_free;
	*b = NULL;
	return 0;
}

/* Keep on disk the body of chunk uid (fetched elsewhere). */
static void keep_by_uid(struct conv *c, unsigned uid,
			const struct chunk_body *body)
{
	char *cursor = NULL;
	int64_t floor = 0;
	long i;

	pthread_mutex_lock(&c->lock);
	i = index_find_chunk(c, uid);
	if (i >= 0) {
		floor = c->chunks[i].floor_ms;
		cursor = c->chunks[i].cursor ? strdup(c->chunks[i].cursor)
					     : NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (i >= 0)
		keep_body_put(c, cursor, floor, body);
	free(cursor);
}

void conv_publish(struct conv *c, unsigned uid, struct chunk_body *body)
{
	struct lru_ref *ref = NULL;
	char key[64];

	if (c->env.store)
		keep_by_uid(c, uid, body);
	chunk_key(c, uid, key, sizeof(key));
	if (lru_get(c->env.cache, key, handover_fill, &body, &ref) == 0)
		lru_release(ref);
	if (body)
		chunk_body_free(body); /* not handed over: cached already */
}

int conv_splice(struct conv *c, unsigned expect_uid, struct chunk *chunks,
		struct chunk_body **bodies, size_t n)
{
	size_t last;
	unsigned *uids = calloc(n ? n : 1, sizeof(*uids));
	struct chunk *grown;
	int r = -EAGAIN;

	pthread_mutex_lock(&c->lock);
	last = c->n_chunks - 1;
	if (!uids || c->chunks[last].uid != expect_uid || c->chunks[last].known)
		goto out;
	r = -ENOMEM;
	grown = realloc(c->chunks, (last + n) * sizeof(*grown));
	if (!grown ||
	    index_reserve(c, (const struct chunk_body *const *)bodies, n) < 0) {
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
		index_append(c, last + i, bodies[i]);
	}
	c->n_chunks = last + n;
	index_fit(c);
	r = 0;
	c->chain_dirty = true; /* kept once the walk ends (conv_walk) */
out:
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; r == 0 && i < n; i++) {
		conv_publish(c, uids[i], bodies[i]);
		bodies[i] = NULL;
	}
	free(uids);
	return r;
}

/* conv_walk without its end: the chain it learnt is not kept yet. */
static int walk(struct conv *c, size_t need)
{
	if (c->env.store) { /* keep_restore does nothing after its first */
		pthread_mutex_lock(&c->lock);
		keep_restore(c);
		pthread_mutex_unlock(&c->lock);
	}
	if (need == SIZE_MAX && c->env.parallel > 1) {
		int r = walk(c, 1); /* the newest chunk: where to start */
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

int conv_walk(struct conv *c, size_t need)
{
	int r = walk(c, need);

	keep_chain_sync(c); /* what it learnt, even when it failed midway */
	return r;
}

int conv_fetch_newest(struct conv *c)
{
	return conv_walk(c, 1);
}
