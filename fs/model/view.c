/*
 * fs/model/view.c - the files of a conversation, seen through its index. The
 * index counts positions from the newest (the order the chain is walked
 * in); files count messages from the oldest, so that new messages only
 * ever add to their end: page N is the messages (N-1)*page_size ..
 * N*page_size-1 from the oldest, the transcript and messages.jsonl all of
 * them, each in one track (text or JSON Lines), oldest first;
 * conversation.json is the metadata.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static time_t ms_to_time(int64_t ms)
{
	return ms > 0 ? (time_t)(ms / 1000) : 0;
}

static size_t page_size(const struct conv *c)
{
	return (size_t)c->env.page_size;
}

/* How many messages must be known to answer for kind: pages count from
 * the oldest, so every file but conversation.json needs the whole chain. */
static size_t need_for(enum conv_file kind)
{
	return kind == CONV_META_JSON ? 1 : SIZE_MAX;
}

static enum conv_track track_of(enum conv_file kind)
{
	if (kind == CONV_MESSAGES || kind == CONV_PAGE_JSONL)
		return CONV_JSONL;
	return CONV_TEXT;
}

/* The positions [lo, hi) a file shows (newest first: hi - 1 is its first
 * message). Caller holds lock. */
static int range_of(const struct conv *c, enum conv_file kind, unsigned page,
		    size_t *lo, size_t *hi)
{
	size_t per = page_size(c), from_oldest;

	if (kind == CONV_TRANSCRIPT || kind == CONV_MESSAGES) {
		*lo = 0;
		*hi = c->n_pos;
		return 0;
	}
	if (page < 1 || (size_t)(page - 1) * per >= c->n_pos)
		return -ENOENT;
	from_oldest = (size_t)(page - 1) * per;
	*hi = c->n_pos - from_oldest;
	*lo = *hi > per ? *hi - per : 0;
	return 0;
}

unsigned conv_known_pages(struct conv *c)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = (unsigned)((c->n_pos + page_size(c) - 1) / page_size(c));
	pthread_mutex_unlock(&c->lock);
	return n;
}

int conv_page_count(struct conv *c, unsigned *count)
{
	int r = conv_walk(c, SIZE_MAX);

	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	*count = (unsigned)((c->n_pos + page_size(c) - 1) / page_size(c));
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* ---- conversation.json --------------------------------------------- */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_num(cJSON *o, const char *k, double v, bool known)
{
	if (known)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* conversation.json, malloc'd. Caller holds lock. */
static char *meta_json(const struct conv *c)
{
	cJSON *o = cJSON_CreateObject(), *who;
	int64_t last = c->inbox_last_ms;
	char *text, *out = NULL;

	if (!o)
		return NULL;
	if (c->n_pos && c->ts[0] > last)
		last = c->ts[0];
	add_str(o, "conversation_id", c->api_id ? c->api_id : c->id);
	add_str(o, "profile_url", conv_url_known(c));
	add_str(o, "directory", c->name);
	who = cJSON_AddObjectToObject(o, "participant");
	if (who) {
		add_str(who, "name", c->participant);
		add_str(who, "headline", c->headline);
	}
	add_num(o, "unread_count", c->unread_count, c->unread_count >= 0);
	add_num(o, "total_other_member_message_count", c->other_count,
		c->other_count >= 0);
	/* v2 gives this count instead of the one above (api.h): shown only
	 * when given, so that a v1 mount's file stays as it was */
	if (c->total_count >= 0)
		add_num(o, "total_message_count", c->total_count, true);
	/* whatever JSON value the API sent (JSON text) */
	if (c->last_seen_message)
		cJSON_AddRawToObject(o, "last_seen_message",
				     c->last_seen_message);
	else
		cJSON_AddNullToObject(o, "last_seen_message");
	add_num(o, "last_seen_at", (double)c->last_seen_at,
		c->last_seen_at > 0);
	add_num(o, "last_message_at", (double)last, last > 0);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	free(text);
	return out;
}

/* ---- pages, transcript, messages.jsonl ----------------------------- */

/* Bytes of one chunk to copy: slots are consecutive, so the bytes are too. */
struct run {
	unsigned uid;
	uint32_t slot; /* first slot (oldest message of the run) */
	uint32_t last; /* last slot */
	size_t inner;  /* offset into the first message's bytes */
	size_t len;
};

/* What one read copies: planned at once, under the lock, so that the whole
 * read comes from one state of the conversation. */
struct plan {
	enum conv_track track;
	struct run *runs;
	size_t n, cap;
};

static int plan_add(struct plan *pl, const struct chunk *k, uint32_t slot,
		    size_t inner, size_t take)
{
	struct run *prev = pl->n ? &pl->runs[pl->n - 1] : NULL;

	if (prev && prev->uid == k->uid && slot == prev->last + 1) {
		prev->len += take; /* the next slot of the same chunk */
		prev->last = slot;
		return 0;
	}
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 8;
		struct run *grown = realloc(pl->runs, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		pl->runs = grown;
		pl->cap = cap;
	}
	pl->runs[pl->n++] = (struct run){k->uid, slot, slot, inner, take};
	return 0;
}

/*
 * The runs that hold bytes [off, off + size) of track pl->track of the
 * positions [lo, hi) shown oldest first; nothing past the end. Caller
 * holds lock. 0 or -ENOMEM.
 */
static int plan_runs(const struct conv *c, size_t lo, size_t hi, size_t off,
		     size_t size, struct plan *pl)
{
	enum conv_track t = pl->track;
	size_t end = index_bytes_before(c, t, hi), p, ci, at, inner;

	if (lo >= hi || off >= end - index_bytes_before(c, t, lo))
		return 0;
	/* shown oldest first: counted from the end */
	p = index_pos_of_byte(c, t, end - off, &at);
	ci = index_chunk_of(c, p);
	inner = off - (end - at - c->len[t][p]);
	for (; size; inner = 0, p--) {
		const struct chunk *k;
		size_t take = c->len[t][p] - inner;
		int r;

		if (take > size)
			take = size;
		while (c->chunks[ci].first > p)
			ci--; /* the newer chunk that holds p */
		k = &c->chunks[ci];
		r = plan_add(pl, k, (uint32_t)(k->first + k->n - 1 - p), inner,
			     take);
		if (r < 0)
			return r;
		size -= take;
		if (p == lo)
			break;
	}
	return 0;
}

/* Copy what pl names into buf: all of it, or a negative errno. */
static ssize_t copy_runs(struct conv *c, const struct plan *pl, char *buf)
{
	enum conv_track t = pl->track;
	size_t done = 0;

	for (size_t i = 0; i < pl->n; i++) {
		const struct run *run = &pl->runs[i];
		const struct chunk_body *b;
		struct lru_ref *ref;
		size_t start, end;
		int r = conv_chunk_get(c, run->uid, &ref);

		if (r < 0)
			return r;
		b = lru_value(ref);
		end = b->off[t][b->n];
		start = run->slot < b->n ? b->off[t][run->slot] + run->inner
					 : SIZE_MAX;
		if (start > end || run->len > end - start) {
			lru_release(ref);
			return -EIO; /* cannot happen: the body is immutable */
		}
		memcpy(buf + done, b->bytes[t] + start, run->len);
		done += run->len;
		lru_release(ref);
	}
	return (ssize_t)done;
}

static ssize_t track_read(struct conv *c, enum conv_file kind, unsigned page,
			  char *buf, size_t size, off_t off)
{
	struct plan pl = {.track = track_of(kind)};
	size_t lo, hi;
	ssize_t got;
	int r;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	r = range_of(c, kind, page, &lo, &hi);
	if (r == 0)
		r = plan_runs(c, lo, hi, (size_t)off, size, &pl);
	pthread_mutex_unlock(&c->lock);
	got = r < 0 ? r : copy_runs(c, &pl, buf);
	free(pl.runs);
	return got;
}

/* ---- the file interface --------------------------------------------- */

int conv_file_attr(struct conv *c, enum conv_file kind, unsigned page,
		   struct conv_attr *out)
{
	size_t lo = 0, hi = 0;
	enum conv_track t = track_of(kind);
	char *json;
	int r = conv_walk(c, need_for(kind));

	if (r < 0)
		return r;
	pthread_rwlock_rdlock(&c->attr_lock); /* see its comment */
	pthread_mutex_lock(&c->lock);
	if (kind == CONV_META_JSON) {
		json = meta_json(c);
		out->size = json ? strlen(json) : 0;
		out->messages = 0;
		out->final = false;
		out->mtime = ms_to_time(c->n_pos ? c->ts[0] : c->inbox_last_ms);
		free(json);
		r = json ? 0 : -ENOMEM;
	} else {
		r = range_of(c, kind, page, &lo, &hi);
		out->size = r ? 0
			      : index_bytes_before(c, t, hi) -
					    index_bytes_before(c, t, lo);
		out->messages = hi - lo;
		out->mtime = ms_to_time(hi > lo ? c->ts[lo] : c->inbox_last_ms);
		/* the chain is whole (conv_walk): a full page is never added to
		 */
		out->final =
			r == 0 &&
			(kind == CONV_PAGE_TXT || kind == CONV_PAGE_JSONL) &&
			hi - lo == page_size(c);
	}
	pthread_mutex_unlock(&c->lock);
	pthread_rwlock_unlock(&c->attr_lock);
	return r;
}

static size_t copy_slice(char *dst, size_t size, const char *src, size_t len,
			 off_t off)
{
	size_t n;

	if (off < 0 || (size_t)off >= len)
		return 0;
	n = len - (size_t)off < size ? len - (size_t)off : size;
	memcpy(dst, src + off, n);
	return n;
}

ssize_t conv_file_read(struct conv *c, enum conv_file kind, unsigned page,
		       char *buf, size_t size, off_t off)
{
	ssize_t n;
	char *json;
	int r = conv_walk(c, need_for(kind));

	if (r < 0)
		return r;
	if (kind != CONV_META_JSON)
		return track_read(c, kind, page, buf, size, off);
	pthread_mutex_lock(&c->lock);
	json = meta_json(c);
	pthread_mutex_unlock(&c->lock);
	if (!json)
		return -ENOMEM;
	n = (ssize_t)copy_slice(buf, size, json, strlen(json), off);
	free(json);
	return n;
}
