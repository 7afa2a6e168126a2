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
	int64_t last = index_newest_ms(c);
	char *text, *out = NULL;

	if (!o)
		return NULL;
	if (c->inbox_last_ms > last)
		last = c->inbox_last_ms;
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

/* An empty read, its spans in the struct. */
static void read_init(struct conv_read *rd)
{
	rd->iov = rd->iov_in;
	rd->span = rd->span_in;
	rd->n = rd->len = 0;
	rd->cap = CONV_READ_SPANS;
	rd->owned = NULL;
}

/* Room for more spans: the rare read across more chunks than the struct
 * holds. 0 or -ENOMEM. */
static int read_grow(struct conv_read *rd)
{
	size_t cap = 4 * rd->cap;
	struct iovec *iov = malloc(cap * sizeof(*iov));
	struct conv_span *span = malloc(cap * sizeof(*span));

	if (!iov || !span) {
		free(iov);
		free(span);
		return -ENOMEM;
	}
	memcpy(iov, rd->iov, rd->n * sizeof(*iov));
	memcpy(span, rd->span, rd->n * sizeof(*span));
	if (rd->iov != rd->iov_in) {
		free(rd->iov);
		free(rd->span);
	}
	rd->iov = iov;
	rd->span = span;
	rd->cap = cap;
	return 0;
}

/* take bytes of slot of chunk k, from inner on: the next slot of the last
 * span's chunk extends it (slots are consecutive, so their bytes are). */
static int plan_add(struct conv_read *rd, const struct chunk *k, uint32_t slot,
		    size_t inner, size_t take)
{
	struct conv_span *prev = rd->n ? &rd->span[rd->n - 1] : NULL;
	int r;

	rd->len += take;
	if (prev && prev->uid == k->uid && slot == prev->last + 1) {
		rd->iov[rd->n - 1].iov_len += take;
		prev->last = slot;
		return 0;
	}
	if (rd->n == rd->cap && (r = read_grow(rd)) < 0)
		return r;
	rd->span[rd->n] = (struct conv_span){NULL, k->uid, slot, slot, inner};
	rd->iov[rd->n++] = (struct iovec){NULL, take};
	return 0;
}

/*
 * The spans that hold bytes [off, off + size) of track t of the positions
 * [lo, hi) shown oldest first; nothing past the end. Planned at once,
 * under the lock, so that the whole read comes from one state of the
 * conversation. Caller holds lock. 0 or -ENOMEM.
 */
static int plan_spans(const struct conv *c, enum conv_track t, size_t lo,
		      size_t hi, size_t off, size_t size, struct conv_read *rd)
{
	size_t end = index_bytes_before(c, t, hi), p, ci, at, inner;

	if (lo >= hi || off >= end - index_bytes_before(c, t, lo))
		return 0;
	/* shown oldest first: counted from the end */
	p = index_pos_of_byte(c, t, end - off, &at);
	ci = index_chunk_of(c, p);
	inner = off - (end - at - index_len(c, t, p));
	for (; size; inner = 0, p--) {
		const struct chunk *k;
		size_t take = index_len(c, t, p) - inner;
		int r;

		if (take > size)
			take = size;
		while (c->chunks[ci].first > p)
			ci--; /* the newer chunk that holds p */
		k = &c->chunks[ci];
		r = plan_add(rd, k, (uint32_t)(k->first + k->n - 1 - p), inner,
			     take);
		if (r < 0)
			return r;
		size -= take;
		if (p == lo)
			break;
	}
	return 0;
}

/* Point each planned span into its chunk's body, held: 0 or a negative
 * errno. Immutable bodies: the plan's state is theirs. */
static int hold_spans(struct conv *c, enum conv_track t, struct conv_read *rd)
{
	for (size_t i = 0; i < rd->n; i++) {
		struct conv_span *s = &rd->span[i];
		const struct chunk_body *b;
		size_t start, end;
		int r = conv_chunk_get(c, s->uid, &s->ref);

		if (r < 0)
			return r;
		b = lru_value(s->ref);
		end = b->off[t][b->n];
		start = s->slot < b->n ? b->off[t][s->slot] + s->inner
				       : SIZE_MAX;
		if (start > end || rd->iov[i].iov_len > end - start)
			return -EIO; /* cannot happen: the body is immutable */
		rd->iov[i].iov_base = b->bytes[t] + start;
	}
	return 0;
}

static ssize_t track_spans(struct conv *c, enum conv_file kind, unsigned page,
			   size_t size, off_t off, struct conv_read *rd)
{
	enum conv_track t = track_of(kind);
	size_t lo, hi;
	int r;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	r = range_of(c, kind, page, &lo, &hi);
	if (r == 0)
		r = plan_spans(c, t, lo, hi, (size_t)off, size, rd);
	pthread_mutex_unlock(&c->lock);
	if (r == 0)
		r = hold_spans(c, t, rd);
	return r < 0 ? r : (ssize_t)rd->len;
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
		out->mtime = ms_to_time(c->n_pos ? index_newest_ms(c)
						 : c->inbox_last_ms);
		free(json);
		r = json ? 0 : -ENOMEM;
	} else {
		r = range_of(c, kind, page, &lo, &hi);
		out->size = r ? 0
			      : index_bytes_before(c, t, hi) -
					    index_bytes_before(c, t, lo);
		out->messages = hi - lo;
		out->mtime = hi > lo ? index_time_of(c, lo)
				     : ms_to_time(c->inbox_last_ms);
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

/* conversation.json: made for the read, its bytes from off on. */
static ssize_t meta_spans(struct conv *c, size_t size, off_t off,
			  struct conv_read *rd)
{
	size_t len;

	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	rd->owned = meta_json(c);
	pthread_mutex_unlock(&c->lock);
	if (!rd->owned)
		return -ENOMEM;
	len = strlen(rd->owned);
	if ((size_t)off >= len)
		return 0;
	rd->len = len - (size_t)off < size ? len - (size_t)off : size;
	rd->iov[0] = (struct iovec){rd->owned + off, rd->len};
	rd->span[0] = (struct conv_span){0};
	rd->n = 1;
	return (ssize_t)rd->len;
}

ssize_t conv_file_spans(struct conv *c, enum conv_file kind, unsigned page,
			size_t size, off_t off, struct conv_read *rd)
{
	int r;

	read_init(rd);
	r = conv_walk(c, need_for(kind));
	if (r < 0)
		return r;
	if (kind == CONV_META_JSON)
		return meta_spans(c, size, off, rd);
	return track_spans(c, kind, page, size, off, rd);
}

/* Copy the spans out, in order, to dst (room for rd->len bytes). */
static void read_copy(const struct conv_read *rd, char *dst)
{
	for (size_t i = 0; i < rd->n; i++) {
		memcpy(dst, rd->iov[i].iov_base, rd->iov[i].iov_len);
		dst += rd->iov[i].iov_len;
	}
}

int conv_read_flatten(struct conv_read *rd)
{
	char *all = malloc(rd->len ? rd->len : 1);
	size_t len = rd->len;

	if (!all)
		return -ENOMEM;
	read_copy(rd, all);
	conv_read_done(rd);
	rd->owned = all;
	rd->iov[0] = (struct iovec){all, len};
	rd->span[0] = (struct conv_span){0};
	rd->n = 1;
	rd->len = len;
	return 0;
}

void conv_read_done(struct conv_read *rd)
{
	for (size_t i = 0; i < rd->n; i++)
		lru_release(rd->span[i].ref);
	if (rd->iov != rd->iov_in) {
		free(rd->iov);
		free(rd->span);
	}
	free(rd->owned);
	read_init(rd);
}

ssize_t conv_file_read(struct conv *c, enum conv_file kind, unsigned page,
		       char *buf, size_t size, off_t off)
{
	struct conv_read rd;
	ssize_t n = conv_file_spans(c, kind, page, size, off, &rd);

	if (n > 0)
		read_copy(&rd, buf);
	conv_read_done(&rd);
	return n;
}
