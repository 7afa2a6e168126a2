/*
 * fs/view.c - the files of a conversation, seen through its index: page
 * N is positions (N-1)*page_size .. N*page_size-1 from the newest, shown
 * oldest first; the transcript is every position; conversation.json is the
 * metadata.
 */
#include "conv_impl.h"

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

/* How many messages must be known to answer for kind/page. */
static size_t need_for(const struct conv *c, enum conv_file kind,
		       unsigned page)
{
	switch (kind) {
	case CONV_META_JSON:
		return 1;
	case CONV_TRANSCRIPT:
		return SIZE_MAX;
	default:
		return (size_t)page * page_size(c);
	}
}

/* The positions [lo, hi) a file shows. Caller holds lock. */
static int range_of(const struct conv *c, enum conv_file kind, unsigned page,
		    size_t *lo, size_t *hi)
{
	if (kind == CONV_TRANSCRIPT) {
		*lo = 0;
		*hi = c->n_pos;
		return 0;
	}
	if (page < 1 || (size_t)(page - 1) * page_size(c) >= c->n_pos)
		return -ENOENT;
	*lo = (size_t)(page - 1) * page_size(c);
	*hi = *lo + page_size(c) < c->n_pos ? *lo + page_size(c) : c->n_pos;
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
	add_str(o, "profile_url", c->profile_url);
	add_str(o, "directory", c->name);
	who = cJSON_AddObjectToObject(o, "participant");
	if (who) {
		add_str(who, "name", c->participant);
		add_str(who, "headline", c->headline);
	}
	add_num(o, "unread_count", c->unread_count, c->unread_count >= 0);
	add_num(o, "total_other_member_message_count", c->other_count,
		c->other_count >= 0);
	add_str(o, "last_seen_message", c->last_seen_message);
	add_num(o, "last_seen_at", (double)c->last_seen_at, c->last_seen_at > 0);
	add_num(o, "last_message_at", (double)last, last > 0);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	free(text);
	return out;
}

/* ---- text: pages and transcript ------------------------------------ */

/* Bytes of one chunk to copy: slots are consecutive, so the text is too. */
struct run {
	unsigned uid;
	uint32_t slot;  /* first slot (oldest message of the run) */
	uint32_t last;  /* last slot */
	size_t inner;   /* offset into the first message's text */
	size_t len;
};

/*
 * The runs that hold bytes [off, off + size) of the text of positions
 * [lo, hi) shown oldest first. Caller holds lock. Returns the run count
 * (runs has room for max) or -1 when there is nothing to read.
 */
static long plan_runs(const struct conv *c, size_t lo, size_t hi, size_t off,
		      size_t size, struct run *runs, size_t max)
{
	size_t end = lo < hi ? bytes_before(c, hi) : 0, n = 0, p, ci, at;

	if (lo >= hi || off >= end - bytes_before(c, lo))
		return -1;
	p = pos_of_byte(c, end - off, &at); /* shown oldest first: from the end */
	ci = chunk_of_pos(c, p);
	for (size_t inner = off - (end - at - c->len[p]); size; inner = 0) {
		const struct chunk *k;
		size_t take = c->len[p] - inner < size ? c->len[p] - inner : size;
		struct run *prev = n ? &runs[n - 1] : NULL;
		uint32_t slot;

		while (c->chunks[ci].first > p)
			ci--; /* the newer chunk that holds p */
		k = &c->chunks[ci];
		slot = (uint32_t)(k->first + k->n - 1 - p);
		if (prev && prev->uid == k->uid && slot == prev->last + 1) {
			prev->len += take; /* the next slot of the same chunk */
			prev->last = slot;
		} else {
			if (n == max)
				break;
			runs[n++] = (struct run){k->uid, slot, slot, inner, take};
		}
		size -= take;
		if (p == lo)
			break;
		p--;
	}
	return (long)n;
}

static ssize_t copy_runs(struct conv *c, const struct run *runs, size_t n,
			 char *buf)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		const struct chunk_body *b;
		struct lru_ref *ref;
		size_t start;
		int r = conv_chunk_get(c, runs[i].uid, &ref);

		if (r < 0)
			return done ? (ssize_t)done : r;
		b = lru_value(ref);
		start = runs[i].slot < b->n ? b->off[runs[i].slot] + runs[i].inner
					    : SIZE_MAX;
		if (start > b->off[b->n] || runs[i].len > b->off[b->n] - start) {
			lru_release(ref);
			return -EIO; /* cannot happen: the body is immutable */
		}
		memcpy(buf + done, b->txt + start, runs[i].len);
		done += runs[i].len;
		lru_release(ref);
	}
	return (ssize_t)done;
}

/* Runs planned per read; a read is at most a few hundred KiB. */
#define VIEW_MAX_RUNS 64

static ssize_t text_read(struct conv *c, enum conv_file kind, unsigned page,
			 char *buf, size_t size, off_t off)
{
	struct run runs[VIEW_MAX_RUNS];
	size_t lo, hi, done = 0;
	ssize_t got;
	long n;
	int r;

	if (off < 0)
		return -EINVAL;
	/* a short read is the end of the file to the kernel: go on until
	 * size is met, VIEW_MAX_RUNS runs at a time */
	while (done < size) {
		pthread_mutex_lock(&c->lock);
		r = range_of(c, kind, page, &lo, &hi);
		n = r < 0 ? -1 : plan_runs(c, lo, hi, (size_t)off + done,
					   size - done, runs, VIEW_MAX_RUNS);
		pthread_mutex_unlock(&c->lock);
		if (r < 0 && kind != CONV_TRANSCRIPT)
			return done ? (ssize_t)done : r;
		if (n < 0)
			break;
		got = copy_runs(c, runs, (size_t)n, buf + done);
		if (got <= 0)
			return done ? (ssize_t)done : got;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

/* ---- page-NNNN.json ------------------------------------------------- */

/* A message of a JSON view: which chunk body and which slot. */
struct view_msg {
	unsigned uid;
	uint32_t slot;
};

struct view_plan {
	struct view_msg *msgs; /* newest first, as the API lists them */
	size_t n;
	bool has_next;
	int64_t oldest_ms;
};

static int plan_view(struct conv *c, unsigned page, struct view_plan *v)
{
	size_t lo = 0, hi = 0, ci;
	int r;

	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&c->lock);
	r = range_of(c, CONV_PAGE_JSON, page, &lo, &hi);
	if (r == 0 && !(v->msgs = calloc(hi - lo, sizeof(*v->msgs))))
		r = -ENOMEM;
	ci = r == 0 ? chunk_of_pos(c, lo) : 0;
	for (size_t p = lo; r == 0 && p < hi; p++) {
		const struct chunk *k;

		while (c->chunks[ci].first + c->chunks[ci].n <= p)
			ci++; /* the older chunk that holds p */
		k = &c->chunks[ci];
		v->msgs[v->n].uid = k->uid;
		v->msgs[v->n++].slot = (uint32_t)(k->first + k->n - 1 - p);
	}
	if (r == 0) {
		v->has_next = hi < c->n_pos || !conv_complete(c);
		v->oldest_ms = c->ts[hi - 1];
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* The parsed data of the chunks a view draws on, one per chunk. */
struct parsed {
	unsigned uid;
	struct lru_ref *ref;
	cJSON *data;
	cJSON *messages;
};

static struct parsed *parsed_get(struct conv *c, struct parsed *set,
				 size_t *n, unsigned uid, int *err)
{
	const struct chunk_body *b;

	for (size_t i = 0; i < *n; i++)
		if (set[i].uid == uid)
			return &set[i];
	*err = conv_chunk_get(c, uid, &set[*n].ref);
	if (*err < 0)
		return NULL;
	b = lru_value(set[*n].ref);
	set[*n].uid = uid;
	set[*n].data = cJSON_ParseWithLength(b->data_json, b->json_len);
	if (b->whole) {
		cJSON *answer = set[*n].data;

		set[*n].data = cJSON_DetachItemFromObjectCaseSensitive(answer,
								       "data");
		cJSON_Delete(answer);
	}
	set[*n].messages = cJSON_GetObjectItemCaseSensitive(set[*n].data,
							     "messages");
	(*n)++;
	if (!cJSON_IsArray(set[*n - 1].messages)) {
		*err = -EIO; /* cannot happen: api/ checked it */
		return NULL;
	}
	return &set[*n - 1];
}

static void set_pagination(cJSON *data, const struct view_plan *v)
{
	cJSON *pg = cJSON_GetObjectItemCaseSensitive(data, "pagination");
	char cursor[32];

	if (!cJSON_IsObject(pg)) {
		cJSON_DeleteItemFromObjectCaseSensitive(data, "pagination");
		pg = cJSON_AddObjectToObject(data, "pagination");
	}
	if (!pg)
		return;
	snprintf(cursor, sizeof(cursor), "%" PRId64, v->oldest_ms);
	cJSON_DeleteItemFromObjectCaseSensitive(pg, "count");
	cJSON_DeleteItemFromObjectCaseSensitive(pg, "has_next_page");
	cJSON_DeleteItemFromObjectCaseSensitive(pg, "next_cursor");
	cJSON_AddNumberToObject(pg, "count", (double)v->n);
	cJSON_AddBoolToObject(pg, "has_next_page", v->has_next);
	if (v->has_next)
		cJSON_AddStringToObject(pg, "next_cursor", cursor);
	else
		cJSON_AddNullToObject(pg, "next_cursor");
}

/* The view's data object: the newest chunk's, with the view's messages. */
static char *render_view(struct conv *c, const struct view_plan *v, int *err)
{
	struct parsed *set = calloc(v->n ? v->n : 1, sizeof(*set)), *ps;
	cJSON *out = NULL, *msgs = cJSON_CreateArray();
	size_t n_set = 0;
	char *text = NULL, *withnl = NULL;

	*err = -ENOMEM;
	for (size_t i = 0; set && msgs && i < v->n; i++) {
		const struct chunk_body *b;

		ps = parsed_get(c, set, &n_set, v->msgs[i].uid, err);
		if (!ps)
			goto out;
		b = lru_value(ps->ref);
		cJSON_AddItemToArray(msgs, cJSON_Duplicate(
			cJSON_GetArrayItem(ps->messages, b->orig[v->msgs[i].slot]),
			1));
		if (i == 0)
			out = cJSON_Duplicate(ps->data, 1);
	}
	if (!out)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(out, "messages");
	cJSON_AddItemToObject(out, "messages", msgs);
	/* what the API would count for this page, whichever chunk it is from */
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(out, "total_results")))
		cJSON_ReplaceItemInObjectCaseSensitive(
			out, "total_results", cJSON_CreateNumber((double)v->n));
	msgs = NULL;
	set_pagination(out, v);
	text = cJSON_Print(out);
	if (text && asprintf(&withnl, "%s\n", text) >= 0)
		*err = 0;
out:
	for (size_t i = 0; i < n_set; i++) {
		cJSON_Delete(set[i].data);
		lru_release(set[i].ref);
	}
	free(set);
	cJSON_Delete(msgs);
	cJSON_Delete(out);
	free(text);
	return *err ? NULL : withnl;
}

struct view_arg {
	struct conv *c;
	unsigned page;
};

static void view_free(void *value)
{
	free(value);
}

static int view_fill(void *arg, const char *key, void **value, size_t *cost,
		     void (**destroy)(void *))
{
	struct view_arg *a = arg;
	struct view_plan v;
	char *json;
	int r;

	(void)key;
	r = plan_view(a->c, a->page, &v);
	if (r < 0)
		return r;
	json = render_view(a->c, &v, &r);
	free(v.msgs);
	if (!json)
		return r;
	*value = json;
	*cost = strlen(json) + 1;
	*destroy = view_free;
	return 0;
}

/* The rendered JSON of a page (a NUL-terminated string in the cache). */
static int view_get(struct conv *c, unsigned page, struct lru_ref **ref)
{
	struct view_arg arg = {c, page};
	char key[64];

	pthread_mutex_lock(&c->lock);
	snprintf(key, sizeof(key), "c%u:v%u:p%u", c->index, c->gen, page);
	pthread_mutex_unlock(&c->lock);
	return lru_get(c->env.views, key, view_fill, &arg, ref);
}

/* ---- the file interface --------------------------------------------- */

int conv_file_attr(struct conv *c, enum conv_file kind, unsigned page,
		   struct conv_attr *out)
{
	struct lru_ref *ref;
	size_t lo = 0, hi = 0;
	char *json;
	int r = conv_walk(c, need_for(c, kind, page));

	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	if (kind == CONV_META_JSON) {
		json = meta_json(c);
		out->size = json ? strlen(json) : 0;
		out->messages = 0;
		out->mtime = ms_to_time(c->n_pos ? c->ts[0] : c->inbox_last_ms);
		free(json);
		r = json ? 0 : -ENOMEM;
	} else {
		r = range_of(c, kind, page, &lo, &hi);
		out->size = r ? 0 : bytes_before(c, hi) - bytes_before(c, lo);
		out->messages = hi - lo;
		out->mtime = ms_to_time(hi > lo ? c->ts[lo] : 0);
	}
	pthread_mutex_unlock(&c->lock);
	if (r < 0 || kind != CONV_PAGE_JSON)
		return r;
	r = view_get(c, page, &ref);
	if (r < 0)
		return r;
	out->size = strlen(lru_value(ref));
	lru_release(ref);
	return 0;
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
	struct lru_ref *ref;
	ssize_t n;
	char *json;
	int r = conv_walk(c, need_for(c, kind, page));

	if (r < 0)
		return r;
	switch (kind) {
	case CONV_META_JSON:
		pthread_mutex_lock(&c->lock);
		json = meta_json(c);
		pthread_mutex_unlock(&c->lock);
		if (!json)
			return -ENOMEM;
		n = (ssize_t)copy_slice(buf, size, json, strlen(json), off);
		free(json);
		return n;
	case CONV_PAGE_JSON:
		r = view_get(c, page, &ref);
		if (r < 0)
			return r;
		json = lru_value(ref);
		n = (ssize_t)copy_slice(buf, size, json, strlen(json), off);
		lru_release(ref);
		return n;
	default:
		return text_read(c, kind, page, buf, size, off);
	}
}
