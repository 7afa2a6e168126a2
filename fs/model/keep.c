/*
 * fs/model/keep.c - what the model keeps in the store (keep.h): the
 * records' bytes (framed by record.h) and the hooks.
 */
#include "keep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cache/store.h"
#include "../log.h"
#include "../text/buf.h"
#include "clock.h"
#include "record.h"

/* Record magics: a change of layout or of rendering changes them, and the
 * old records are then ignored (fetched again). */
#define KEEP_BODY_MAGIC 0x31594442504b4cull  /* "LKPBDY1" */
#define KEEP_CHAIN_MAGIC 0x324e4843504b4cull /* "LKPCHN2" */
#define KEEP_INBOX_MAGIC 0x31584e49504b4cull /* "LKPINX1" */
/* ---- keys and writes ------------------------------------------------- */

/* A conversation's part of its keys: hex digits of the SHA-256 of its id
 * (or profile URL). An id is some 150 bytes, a key is stored twice (its
 * row and the index) beside bodies of a few KiB once compressed; 64 bits
 * tell apart the conversations of one account. 0 or -EIO. */
#define KEEP_CONV_HEX 16

static int conv_key_of(const struct conv *c, char out[KEEP_CONV_HEX + 1])
{
	const char *id = c->id ? c->id : c->profile_url;

	return store_name(id, strlen(id), out, KEEP_CONV_HEX + 1);
}

/* A blob not kept is fetched again when asked for; the store tells once
 * why it stopped writing (store_on_failure, wired by main). */
static void put_blob(const struct conv_env *env, const char *key,
		     const void *bytes, size_t len)
{
	store_put(env->store, key, bytes, len);
}

static char *body_key(const struct conv *c, const char *cursor, int64_t floor)
{
	char conv[KEEP_CONV_HEX + 1], *key = NULL;

	if (conv_key_of(c, conv) < 0 ||
	    asprintf(&key, "%s/body/%s/%s/%lld", c->env.account, conv,
		     cursor ? cursor : "-", (long long)floor) < 0)
		return NULL;
	return key;
}

static char *chain_key(const struct conv *c)
{
	char conv[KEEP_CONV_HEX + 1], *key = NULL;

	if (conv_key_of(c, conv) < 0 ||
	    asprintf(&key, "%s/chain/%s", c->env.account, conv) < 0)
		return NULL;
	return key;
}

/* ---- bodies ---------------------------------------------------------- */

/* A body's record is its block as it lies in memory after the struct
 * (offsets, times, both tracks' bytes: see chunk_body_alloc) behind a
 * header of four native words (magic, n, and each track's length): this
 * machine's cache, read back by the same build (the magic changes with
 * the layout). A read lands the block where the body keeps it: no copy. */
#define KEEP_BODY_HEAD (4 * sizeof(uint64_t))

_Static_assert(sizeof(struct chunk_body) >= KEEP_BODY_HEAD,
	       "the header is read into the struct's place");

/* Bytes of the block after the struct for n messages and these lengths,
 * or 0 when they do not fit (a damaged header). */
static size_t block_size(uint64_t n, const uint64_t len[CONV_TRACKS])
{
	if (n > RECORD_MAX_ITEMS || len[0] > API_MAX_BODY * 4 ||
	    len[1] > API_MAX_BODY * 4)
		return 0;
	return (size_t)(CONV_TRACKS * (n + 1) * sizeof(size_t) +
			n * sizeof(int64_t) + len[0] + len[1] + CONV_TRACKS);
}

char *keep_body_encode(const struct chunk_body *b, size_t *len)
{
	uint64_t head[4] = {KEEP_BODY_MAGIC, b->n, b->off[0][b->n],
			    b->off[1][b->n]};
	size_t block = block_size(head[1], head + 2);
	char *out = block ? malloc(KEEP_BODY_HEAD + block) : NULL;

	if (!out)
		return NULL;
	memcpy(out, head, KEEP_BODY_HEAD);
	memcpy(out + KEEP_BODY_HEAD, b + 1, block);
	*len = KEEP_BODY_HEAD + block;
	return out;
}

/* The offsets of track t: from 0, never back, to its length. */
static bool offsets_sound(const size_t *off, size_t n, size_t len)
{
	if (off[0] != 0 || off[n] != len)
		return false;
	for (size_t s = 0; s < n; s++)
		if (off[s + 1] < off[s])
			return false;
	return true;
}

/* A record's room: the block lands after the struct, the header in the
 * struct's place (overwritten once read). */
struct body_room {
	struct chunk_body *b;
	size_t len;
};

static void *body_buffer(void *arg, size_t len)
{
	struct body_room *r = arg;

	r->len = len;
	r->b = malloc(sizeof(struct chunk_body) + len);
	if (!r->b)
		return NULL;
	return (char *)(r->b + 1) - KEEP_BODY_HEAD;
}

/* Make a body of the record read into r (its header checked, the arrays
 * pointed, offsets and ends checked). NULL when it is not one. */
static struct chunk_body *body_finish(struct body_room *r)
{
	uint64_t head[4];
	size_t lens[CONV_TRACKS], block;
	struct chunk_body *b = r->b;

	r->b = NULL;
	if (!b || r->len < KEEP_BODY_HEAD)
		goto bad;
	memcpy(head, (char *)(b + 1) - KEEP_BODY_HEAD, KEEP_BODY_HEAD);
	block = block_size(head[1], head + 2);
	if (head[0] != KEEP_BODY_MAGIC || !block ||
	    block != r->len - KEEP_BODY_HEAD)
		goto bad;
	lens[0] = (size_t)head[2];
	lens[1] = (size_t)head[3];
	b->n = (size_t)head[1];
	chunk_body_point(b, lens);
	for (int t = 0; t < CONV_TRACKS; t++)
		if (!offsets_sound(b->off[t], b->n, lens[t]) ||
		    b->bytes[t][lens[t]] != '\0')
			goto bad;
	return b;
bad:
	free(b);
	return NULL;
}

struct chunk_body *keep_body_decode(const char *p, size_t len)
{
	struct body_room r = {NULL, 0};
	void *at = body_buffer(&r, len);

	if (at)
		memcpy(at, p, len);
	return body_finish(&r);
}

void keep_body_put(struct conv *c, const char *cursor, int64_t floor,
		   const struct chunk_body *b)
{
	char *key, *bytes;
	size_t len;

	if (!c->env.store || !(key = body_key(c, cursor, floor)))
		return;
	bytes = keep_body_encode(b, &len);
	if (bytes)
		put_blob(&c->env, key, bytes, len);
	free(bytes);
	free(key);
}

int keep_body_get(struct conv *c, const char *cursor, int64_t floor, size_t n,
		  struct chunk_body **b)
{
	struct body_room room = {NULL, 0};
	char *key;
	int r;

	*b = NULL;
	if (!c->env.store || !(key = body_key(c, cursor, floor)))
		return -ENOENT;
	r = store_read(c->env.store, key, body_buffer, &room);
	free(key);
	if (r < 0) {
		free(room.b);
		return r;
	}
	*b = body_finish(&room);
	if (*b && (*b)->n == n)
		return 0;
	chunk_body_free(*b); /* not a body, or not this chain's chunk */
	*b = NULL;
	return -ENOENT;
}

/* ---- the chain --------------------------------------------------------- */

/* A message's time as the record keeps it: exact for the chunk's newest
 * and oldest, whole seconds (within those two) for the others. */
static int64_t kept_time(const struct conv *c, const struct chunk *k, size_t p)
{
	int64_t ms = (int64_t)index_time_of(c, p) * 1000;

	if (p == k->first)
		return k->newest_ms;
	if (p + 1 == k->first + k->n || ms < k->oldest_ms)
		return k->oldest_ms;
	return ms > k->newest_ms ? k->newest_ms : ms;
}

/* Caller holds c->lock. */
static void put_chain(struct buf *out, const struct conv *c)
{
	size_t known = c->n_chunks - !c->chunks[c->n_chunks - 1].known;

	record_put_u64(out, KEEP_CHAIN_MAGIC);
	record_put_str(out, c->api_id);
	record_put_str(out, c->api_profile_url);
	record_put_u64(out, (uint64_t)c->unread_count);
	record_put_u64(out, (uint64_t)c->other_count);
	record_put_str(out, c->last_seen_message);
	record_put_u64(out, (uint64_t)c->last_seen_at);
	record_put_u64(out, (uint64_t)c->inbox_last_ms);
	record_put_u64(out, known);
	for (size_t i = 0; i < known; i++) {
		const struct chunk *k = &c->chunks[i];

		record_put_str(out, k->cursor);
		record_put_u64(out, (uint64_t)k->floor_ms);
		record_put_u64(out, k->n);
		record_put_u64(out, k->has_next);
		record_put_str(out, k->next_cursor);
		record_put_u64(out, k->n_edge);
		for (size_t e = 0; e < k->n_edge; e++)
			record_put_str(out, k->edge_urns[e]);
		for (size_t p = k->first; p < k->first + k->n; p++) {
			record_put_u64(out, (uint64_t)kept_time(c, k, p));
			record_put_u64(out, index_len(c, CONV_TEXT, p));
			record_put_u64(out, index_len(c, CONV_JSONL, p));
		}
	}
}

void keep_chain_sync(struct conv *c)
{
	struct buf out = BUF_INIT;
	bool dirty;
	char *key;

	if (!c->env.store)
		return;
	pthread_mutex_lock(&c->lock);
	dirty = c->chain_dirty;
	pthread_mutex_unlock(&c->lock);
	if (!dirty || !(key = chain_key(c)))
		return;
	pthread_mutex_lock(&c->keep_lock); /* records in the order built */
	pthread_mutex_lock(&c->lock);
	if (c->chain_dirty && c->chunks[0].known) {
		put_chain(&out, c);
		c->chain_dirty = out.oom; /* try again at the next walk's end */
	}
	pthread_mutex_unlock(&c->lock);
	if (out.len && !out.oom)
		put_blob(&c->env, key, out.data, out.len);
	pthread_mutex_unlock(&c->keep_lock);
	buf_free(&out);
	free(key);
}

/* What a chain record holds, before it is installed. */
struct kept_chain {
	char *api_id, *api_url, *seen;
	int64_t unread, other, seen_at, inbox_ms;
	struct chunk *chunks;
	struct chunk_body **index; /* times and offsets only, no bytes */
	size_t n;
};

static void kept_chain_free(struct kept_chain *k)
{
	for (size_t i = 0; i < k->n; i++) {
		chunk_clear(&k->chunks[i]);
		chunk_body_free(k->index[i]);
	}
	free(k->chunks);
	free(k->index);
	free(k->api_id);
	free(k->api_url);
	free(k->seen);
}

/* One chunk of a record: its description, and its messages' times and
 * lengths as an index-only body (slots oldest first). */
static int get_chunk(struct record_rd *r, struct chunk *k,
		     struct chunk_body **ix)
{
	size_t zero[CONV_TRACKS] = {0, 0};

	k->cursor = record_get_str(r);
	k->floor_ms = record_get_i64(r);
	k->n = record_get_count(r, 3 * 8);
	k->has_next = record_get_u64(r) != 0;
	k->next_cursor = record_get_str(r);
	k->known = true;
	k->n_edge = record_get_count(r, 8);
	if (r->bad || !(k->edge_urns = calloc(k->n_edge + 1, sizeof(char *))))
		return -EIO;
	for (size_t e = 0; e < k->n_edge; e++)
		if (!(k->edge_urns[e] = record_get_str(r)))
			return -EIO;
	if (r->bad || (k->has_next && !k->next_cursor) ||
	    !(*ix = chunk_body_alloc(k->n, zero)))
		return -EIO;
	for (int t = 0; t < CONV_TRACKS; t++)
		(*ix)->off[t][0] = 0;
	for (size_t p = 0; p < k->n; p++) {
		size_t s = k->n - 1 - p; /* newest first in the record */

		(*ix)->ts[s] = record_get_i64(r);
		(*ix)->off[CONV_TEXT][s + 1] = (size_t)record_get_u64(r);
		(*ix)->off[CONV_JSONL][s + 1] = (size_t)record_get_u64(r);
	}
	for (int t = 0; t < CONV_TRACKS; t++) /* lengths to offsets */
		for (size_t s = 0; s < k->n; s++)
			(*ix)->off[t][s + 1] += (*ix)->off[t][s];
	return r->bad ? -EIO : 0;
}

static int get_chain(const void *bytes, size_t len, struct kept_chain *k)
{
	struct record_rd r = {bytes, len, false};
	size_t n;

	memset(k, 0, sizeof(*k));
	if (record_get_u64(&r) != KEEP_CHAIN_MAGIC)
		return -EIO;
	k->api_id = record_get_str(&r);
	k->api_url = record_get_str(&r);
	k->unread = record_get_i64(&r);
	k->other = record_get_i64(&r);
	k->seen = record_get_str(&r);
	k->seen_at = record_get_i64(&r);
	k->inbox_ms = record_get_i64(&r);
	n = record_get_count(&r, 6 * 8);
	if (r.bad || n == 0)
		return -EIO;
	k->chunks = calloc(n, sizeof(*k->chunks));
	k->index = calloc(n, sizeof(*k->index));
	if (!k->chunks || !k->index)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		k->n = i + 1;
		/* a refresh's chunks end at the floor (has_next false) and
		 * the older ones follow: only the last says where it goes */
		if (get_chunk(&r, &k->chunks[i], &k->index[i]) < 0)
			return -EIO;
	}
	return r.left ? -EIO : 0;
}

/* Put the record's chain in place of the unknown newest chunk. Caller
 * holds c->lock. */
static int install(struct conv *c, struct kept_chain *k)
{
	const struct chunk *last = &k->chunks[k->n - 1];

	if (index_reserve(c, (const struct chunk_body *const *)k->index, k->n) <
	    0)
		return -ENOMEM;
	chunk_clear(&c->chunks[0]);
	free(c->chunks);
	c->chunks = k->chunks;
	c->n_chunks = k->n;
	k->chunks = NULL;
	for (size_t i = 0; i < c->n_chunks; i++) {
		c->chunks[i].uid = c->next_uid++;
		index_append(c, i, k->index[i]);
	}
	k->n = 0;
	for (size_t i = 0; i < c->n_chunks; i++)
		chunk_body_free(k->index[i]);
	last = &c->chunks[c->n_chunks - 1];
	if (last->has_next &&
	    index_append_chunk(c, last->next_cursor, last->floor_ms) < 0)
		return -ENOMEM;
	index_fit(c);
	free(c->api_id);
	c->api_id = k->api_id;
	k->api_id = NULL;
	if (!c->profile_url) {
		free(c->api_profile_url);
		c->api_profile_url = k->api_url;
		k->api_url = NULL;
	}
	c->unread_count = (long)k->unread;
	c->other_count = (long)k->other;
	free(c->last_seen_message);
	c->last_seen_message = k->seen;
	k->seen = NULL;
	c->last_seen_at = k->seen_at;
	c->kept_inbox_ms = k->inbox_ms;
	c->have_meta = true;
	return 0;
}

bool keep_fresh(const struct conv *c)
{
	int64_t newest = c->n_pos ? index_newest_ms(c) : 0;

	if (c->kept_inbox_ms > newest) /* an empty one: its creation */
		newest = c->kept_inbox_ms;
	return c->inbox_last_ms <= newest;
}

void keep_restore(struct conv *c)
{
	struct kept_chain k = {0};
	void *bytes = NULL;
	size_t len = 0;
	char *key;

	if (!c->env.store || c->restored)
		return;
	c->restored = true;
	if (c->n_chunks != 1 || c->chunks[0].known || !(key = chain_key(c)))
		return;
	if (store_get(c->env.store, key, &bytes, &len) == 0 &&
	    get_chain(bytes, len, &k) == 0 && install(c, &k) == 0) {
		/* stale: the next access checks the newest page (by the
		 * inbox's word when it lists it, else by the ttl) */
		c->stale = !keep_fresh(c);
		c->last_check_ms = clock_now_ms();
		if (c->stale)
			c->last_check_ms -= (long long)c->env.ttl * 1000 + 1;
	}
	kept_chain_free(&k);
	free(bytes);
	free(key);
}

/* ---- inbox pages ------------------------------------------------------- */

static char *inbox_key(const struct conv_env *env, int want, const char *cursor)
{
	char *key = NULL;

	if (asprintf(&key, "%s/inbox/%d/%s", env->account, want,
		     cursor ? cursor : "-") < 0)
		return NULL;
	return key;
}

void keep_inbox_put(const struct conv_env *env, int want, const char *cursor,
		    const struct api_inbox_page *pg)
{
	struct buf out = BUF_INIT;
	char *key;

	if (!env->store || !(key = inbox_key(env, want, cursor)))
		return;
	record_put_u64(&out, KEEP_INBOX_MAGIC);
	record_put_str(&out, pg->next_cursor);
	record_put_u64(&out, pg->n_entries);
	for (size_t i = 0; i < pg->n_entries; i++) {
		const struct api_inbox_entry *e = &pg->entries[i];

		record_put_str(&out, e->conversation_id);
		record_put_str(&out, e->name);
		record_put_str(&out, e->headline);
		record_put_str(&out, e->profile_url);
		record_put_str(&out, e->last_text);
		record_put_str(&out, e->last_sender);
		record_put_u64(&out, (uint64_t)e->last_time_ms);
		record_put_u64(&out, (uint64_t)e->unread);
	}
	if (!out.oom)
		put_blob(env, key, out.data, out.len);
	buf_free(&out);
	free(key);
}

static int get_inbox(const void *bytes, size_t len, struct api_inbox_page *pg)
{
	struct record_rd r = {bytes, len, false};

	if (record_get_u64(&r) != KEEP_INBOX_MAGIC)
		return -EIO;
	pg->next_cursor = record_get_str(&r);
	pg->n_entries = 0;
	{
		size_t n = record_get_count(&r, 8 * 8);

		pg->entries = calloc(n + 1, sizeof(*pg->entries));
		if (!pg->entries)
			return -ENOMEM;
		for (size_t i = 0; i < n && !r.bad; i++) {
			struct api_inbox_entry *e = &pg->entries[i];

			pg->n_entries = i + 1;
			e->conversation_id = record_get_str(&r);
			e->name = record_get_str(&r);
			e->headline = record_get_str(&r);
			e->profile_url = record_get_str(&r);
			e->last_text = record_get_str(&r);
			e->last_sender = record_get_str(&r);
			e->last_time_ms = record_get_i64(&r);
			e->unread = (long)record_get_i64(&r);
			if (!e->conversation_id)
				r.bad = true;
		}
	}
	return r.bad || r.left ? -EIO : 0;
}

int keep_inbox_get(const struct conv_env *env, int want, const char *cursor,
		   struct api_inbox_page **pg)
{
	void *bytes = NULL;
	size_t len = 0;
	char *key;
	int r = -ENOENT;

	*pg = NULL;
	if (!env->store || !(key = inbox_key(env, want, cursor)))
		return -ENOENT;
	if (store_get(env->store, key, &bytes, &len) == 0) {
		*pg = calloc(1, sizeof(**pg));
		r = *pg ? get_inbox(bytes, len, *pg) : -ENOMEM;
	}
	if (r < 0) {
		api_inbox_page_free(*pg);
		*pg = NULL;
		r = -ENOENT;
	}
	free(bytes);
	free(key);
	return r;
}
