/*
 * fs/conv.c - the conversation model: cursor chain, page fills, file views.
 */
#include "conv.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "names.h"
#include "render.h"

/* A hostile server could hand out ever-older cursors forever: stop there. */
#define CONV_MAX_PAGES 100000u

/* What the chain knows of one page; small, never evicted. */
struct chain_page {
	char *cursor;      /* the cursor that fetches this page; NULL for page 1 */
	bool known;        /* the page was fetched once: the fields below hold */
	bool has_next;
	size_t n_messages; /* after dropping repeats of the previous page */
	size_t txt_len;
	size_t json_len;
	int64_t newest_ms;
	char **edge_urns;  /* urns at the page's oldest timestamp: the next */
	size_t n_edge;     /* page drops them if the API repeats them */
};

/* The cached value of one page. */
struct page_body {
	char *txt;
	size_t txt_len;
	char *json;
	size_t json_len;
};

struct conv {
	struct conv_env env;
	unsigned index;
	char name[NAME_SIZE];
	char *id;          /* as given (inbox or option); may be NULL */
	char *profile_url; /* may be NULL */

	pthread_mutex_t lock; /* guards everything below */
	char *participant;
	char *headline;
	long inbox_unread;
	int64_t inbox_last_ms;
	bool have_meta;    /* page 1 was fetched: the fields below hold */
	char *api_id;
	long unread_count;
	long other_count;
	char *last_seen_message;
	int64_t last_seen_at;
	struct chain_page *pages; /* pages[i] is page i + 1 */
	size_t n_pages;           /* entries, the last may be unfetched */
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void chain_page_clear(struct chain_page *p)
{
	free(p->cursor);
	for (size_t i = 0; i < p->n_edge; i++)
		free(p->edge_urns[i]);
	free(p->edge_urns);
	memset(p, 0, sizeof(*p));
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
	pthread_mutex_init(&c->lock, NULL);
	c->pages = calloc(1, sizeof(*c->pages)); /* page 1: no cursor */
	if (!c->pages || (conversation_id && !c->id) ||
	    (profile_url && !c->profile_url)) {
		conv_free(c);
		return NULL;
	}
	c->n_pages = 1;
	return c;
}

void conv_free(struct conv *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_pages; i++)
		chain_page_clear(&c->pages[i]);
	free(c->pages);
	free(c->id);
	free(c->profile_url);
	free(c->participant);
	free(c->headline);
	free(c->api_id);
	free(c->last_seen_message);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void replace_str(char **dst, const char *src)
{
	char *copy = dup_or_null(src);

	if (src && !copy)
		return; /* keep the old value rather than lose it */
	free(*dst);
	*dst = copy;
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

const char *conv_profile_url(const struct conv *c)
{
	return c->profile_url;
}

const char *conv_id(const struct conv *c)
{
	return c->id;
}

static time_t ms_to_time(int64_t ms)
{
	return ms > 0 ? (time_t)(ms / 1000) : 0;
}

/* Caller holds c->lock. */
static int64_t newest_known_ms(const struct conv *c)
{
	int64_t ms = c->inbox_last_ms;

	if (c->pages[0].known && c->pages[0].newest_ms > ms)
		ms = c->pages[0].newest_ms;
	return ms;
}

time_t conv_mtime(struct conv *c)
{
	int64_t ms;

	pthread_mutex_lock(&c->lock);
	ms = newest_known_ms(c);
	pthread_mutex_unlock(&c->lock);
	return ms_to_time(ms);
}

/* ---- filling one page ---------------------------------------------- */

struct fill_arg {
	struct conv *c;
	unsigned page;
};

static void page_body_free(void *value)
{
	struct page_body *b = value;

	free(b->txt);
	free(b->json);
	free(b);
}

static bool urn_in(const char *urn, char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(urn, set[i]) == 0)
			return true;
	return false;
}

/*
 * The messages of page that are not repeats: not among prev_edge (the
 * previous page's oldest messages, which the API may send again) nor
 * earlier in this page. Shallow copies into kept (n_messages entries).
 */
static size_t drop_repeats(const struct api_page *page, char *const *prev_edge,
			   size_t n_prev, struct api_message *kept)
{
	size_t n = 0;

	for (size_t i = 0; i < page->n_messages; i++) {
		const struct api_message *m = &page->messages[i];
		bool repeat = false;

		if (m->entity_urn[0]) {
			repeat = urn_in(m->entity_urn, prev_edge, n_prev);
			for (size_t j = 0; j < n && !repeat; j++)
				repeat = strcmp(kept[j].entity_urn,
						m->entity_urn) == 0;
		}
		if (!repeat)
			kept[n++] = *m;
	}
	return n;
}

static bool parse_ms(const char *s, long long *out)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* Why the chain cannot go on after this page, or NULL when it can. */
static const char *chain_fault(const struct api_page *page, size_t n_kept,
			       const char *cursor, unsigned page_no)
{
	long long now, next;

	if (!page->has_next_page)
		return NULL;
	if (!page->next_cursor || !page->next_cursor[0])
		return "the API announced older messages but sent no cursor";
	if (n_kept == 0)
		return "the API sent an empty page that announces older messages";
	if (cursor && strcmp(cursor, page->next_cursor) == 0)
		return "the cursor did not move";
	if (parse_ms(cursor, &now) && parse_ms(page->next_cursor, &next) &&
	    next >= now)
		return "the cursor went forward in time";
	if (page_no >= CONV_MAX_PAGES)
		return "the conversation has too many pages";
	return NULL;
}

static struct page_body *render_page(const struct api_page *page,
				     const struct api_message *kept, size_t n)
{
	struct page_body *b = calloc(1, sizeof(*b));
	struct buf txt = BUF_INIT;

	if (!b)
		return NULL;
	render_messages(&txt, kept, n);
	b->json_len = strlen(page->data_json);
	b->json = strdup(page->data_json);
	if (txt.oom || !b->json) {
		buf_free(&txt);
		page_body_free(b);
		return NULL;
	}
	b->txt = buf_steal(&txt, &b->txt_len);
	if (!b->txt)
		b->txt = calloc(1, 1); /* an empty page */
	if (!b->txt) {
		page_body_free(b);
		return NULL;
	}
	return b;
}

/* The urns of kept messages at the oldest timestamp (malloc'd array). */
static char **edge_urns(const struct api_message *kept, size_t n,
			size_t *n_edge)
{
	int64_t oldest = INT64_MAX;
	char **urns;
	size_t k = 0;

	*n_edge = 0;
	for (size_t i = 0; i < n; i++)
		if (kept[i].timestamp_ms < oldest)
			oldest = kept[i].timestamp_ms;
	urns = calloc(n ? n : 1, sizeof(*urns));
	if (!urns)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (kept[i].timestamp_ms == oldest && kept[i].entity_urn[0])
			urns[k++] = strdup(kept[i].entity_urn);
	for (size_t i = 0; i < k; i++)
		if (!urns[i])
			k = 0; /* out of memory: no de-duplication, no harm */
	*n_edge = k;
	return urns;
}

/* Forget pages after keep (their cursors no longer hold). Caller holds lock. */
static void chain_truncate(struct conv *c, size_t keep)
{
	char key[64];

	for (size_t i = keep; i < c->n_pages; i++) {
		chain_page_clear(&c->pages[i]);
		snprintf(key, sizeof(key), "c%u:p%zu", c->index, i + 1);
		lru_remove(c->env.cache, key);
	}
	c->n_pages = keep;
}

/* Caller holds lock. 0 or -ENOMEM. */
static int chain_link_next(struct conv *c, unsigned page_no, const char *next)
{
	struct chain_page *grown;

	if (c->n_pages > page_no) {
		if (c->pages[page_no].cursor &&
		    strcmp(c->pages[page_no].cursor, next) == 0)
			return 0;
		chain_truncate(c, page_no);
	}
	grown = realloc(c->pages, (page_no + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->pages = grown;
	memset(&grown[page_no], 0, sizeof(*grown));
	grown[page_no].cursor = strdup(next);
	if (!grown[page_no].cursor)
		return -ENOMEM;
	c->n_pages = page_no + 1;
	return 0;
}

static void record_meta(struct conv *c, const struct api_page *page)
{
	replace_str(&c->api_id, page->conversation_id);
	if (page->profile_url && !c->profile_url)
		c->profile_url = strdup(page->profile_url);
	c->unread_count = page->unread_count;
	c->other_count = page->total_other_member_message_count;
	replace_str(&c->last_seen_message, page->last_seen_message);
	c->last_seen_at = page->last_seen_at;
	c->have_meta = true;
}

/* Publish what page page_no taught us about the chain. */
static int record_page(struct conv *c, unsigned page_no,
		       const struct api_page *page,
		       const struct api_message *kept, size_t n,
		       const struct page_body *body)
{
	struct chain_page *p;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	p = &c->pages[page_no - 1];
	for (size_t i = 0; i < p->n_edge; i++)
		free(p->edge_urns[i]);
	free(p->edge_urns);
	p->edge_urns = edge_urns(kept, n, &p->n_edge);
	p->known = true;
	p->has_next = page->has_next_page;
	p->n_messages = n;
	p->txt_len = body->txt_len;
	p->json_len = body->json_len;
	p->newest_ms = 0;
	for (size_t i = 0; i < n; i++)
		if (kept[i].timestamp_ms > p->newest_ms)
			p->newest_ms = kept[i].timestamp_ms;
	if (page_no == 1)
		record_meta(c, page);
	if (page->has_next_page)
		r = chain_link_next(c, page_no, page->next_cursor);
	else if (c->n_pages > page_no)
		chain_truncate(c, page_no);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Copy what a fill needs from the chain, under the lock. */
static int fill_inputs(struct conv *c, unsigned page_no, char **cursor,
		       char ***prev, size_t *n_prev)
{
	int r = 0;

	*cursor = NULL;
	*prev = NULL;
	*n_prev = 0;
	pthread_mutex_lock(&c->lock);
	if (page_no > c->n_pages) {
		r = -ENOENT; /* the chain changed under us */
		goto out;
	}
	if (c->pages[page_no - 1].cursor) {
		*cursor = strdup(c->pages[page_no - 1].cursor);
		if (!*cursor)
			r = -ENOMEM;
	}
	if (page_no > 1 && c->pages[page_no - 2].n_edge) {
		const struct chain_page *pp = &c->pages[page_no - 2];

		*prev = calloc(pp->n_edge, sizeof(**prev));
		for (size_t i = 0; *prev && i < pp->n_edge; i++) {
			(*prev)[i] = strdup(pp->edge_urns[i]);
			if (!(*prev)[i])
				break; /* fewer repeats dropped, no harm */
			*n_prev = i + 1;
		}
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int page_fill(void *arg, const char *key, void **value, size_t *cost,
		     void (**destroy)(void *))
{
	struct fill_arg *a = arg;
	struct conv *c = a->c;
	struct api_conv_ref ref = {c->id, c->id ? NULL : c->profile_url};
	struct api_error err = {0};
	struct api_page *page = NULL;
	struct api_message *kept = NULL;
	struct page_body *body = NULL;
	char *cursor, **prev;
	size_t n_prev, n_kept;
	const char *fault;
	int r;

	(void)key;
	r = fill_inputs(c, a->page, &cursor, &prev, &n_prev);
	if (r < 0)
		goto out;
	r = api_get_conversation(c->env.api, &ref, c->env.page_size, cursor,
				 &page, &err);
	if (r < 0) {
		log_error("conversation %s: page %u: %s", c->name, a->page,
			  err.message);
		goto out;
	}
	r = -ENOMEM;
	kept = calloc(page->n_messages ? page->n_messages : 1, sizeof(*kept));
	if (!kept)
		goto out;
	n_kept = drop_repeats(page, prev, n_prev, kept);
	fault = chain_fault(page, n_kept, cursor, a->page);
	if (fault) {
		log_error("conversation %s: page %u: %s; the chain ends here",
			  c->name, a->page, fault);
		r = -EIO;
		goto out;
	}
	body = render_page(page, kept, n_kept);
	if (!body)
		goto out;
	r = record_page(c, a->page, page, kept, n_kept, body);
	if (r < 0)
		goto out;
	*value = body;
	*cost = sizeof(*body) + body->txt_len + body->json_len;
	*destroy = page_body_free;
	body = NULL;
out:
	if (body)
		page_body_free(body);
	free(kept);
	api_page_free(page);
	free(cursor);
	free_strv(prev, n_prev);
	return r;
}

/* A reference to page page_no's body, fetching it on a miss. */
static int page_get(struct conv *c, unsigned page_no, struct lru_ref **ref)
{
	struct fill_arg arg = {c, page_no};
	char key[64];

	snprintf(key, sizeof(key), "c%u:p%u", c->index, page_no);
	return lru_get(c->env.cache, key, page_fill, &arg, ref);
}

/* ---- walking the chain --------------------------------------------- */

/*
 * Make page upto known (upto 0: every page), fetching the pages before it
 * whose cursors are not yet known. Pages already known are not fetched
 * again, even if evicted. -ENOENT if the chain ends before upto.
 */
static int conv_walk(struct conv *c, unsigned upto)
{
	for (unsigned p = 1;; p++) {
		struct lru_ref *ref;
		bool known, has_next;
		int r;

		pthread_mutex_lock(&c->lock);
		if (p > c->n_pages) {
			pthread_mutex_unlock(&c->lock);
			return upto ? -ENOENT : 0;
		}
		known = c->pages[p - 1].known;
		pthread_mutex_unlock(&c->lock);
		if (!known) {
			r = page_get(c, p, &ref);
			if (r < 0)
				return r;
			lru_release(ref);
		}
		pthread_mutex_lock(&c->lock);
		has_next = p <= c->n_pages && c->pages[p - 1].has_next;
		pthread_mutex_unlock(&c->lock);
		if (upto && p >= upto)
			return 0;
		if (!has_next)
			return upto ? -ENOENT : 0;
	}
}

/* Page files of a fully walked chain; caller holds lock. The last page
 * may be empty (the API's final answer had nothing new): it is no file. */
static unsigned count_files(const struct conv *c)
{
	size_t n = c->n_pages;

	if (n && c->pages[n - 1].known && c->pages[n - 1].n_messages == 0)
		n--;
	return (unsigned)n;
}

int conv_page_count(struct conv *c, unsigned *count)
{
	int r = conv_walk(c, 0);

	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	*count = count_files(c);
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

/* conversation.json, malloc'd; needs page 1 (meta). Caller holds lock. */
static char *meta_json(const struct conv *c)
{
	cJSON *o = cJSON_CreateObject(), *who;
	char *text = NULL, *out = NULL;

	if (!o)
		return NULL;
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
	add_num(o, "last_message_at", (double)newest_known_ms(c),
		newest_known_ms(c) > 0);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	free(text);
	return out;
}

/* ---- file views ---------------------------------------------------- */

/* Size and time of kind/page; the needed walk is done. Caller holds lock. */
static int attr_locked(struct conv *c, enum conv_file kind, unsigned page,
		       struct conv_attr *out)
{
	const struct chain_page *p;
	unsigned n = count_files(c);
	char *json;

	switch (kind) {
	case CONV_META_JSON:
		json = meta_json(c);
		if (!json)
			return -ENOMEM;
		out->size = strlen(json);
		out->mtime = ms_to_time(newest_known_ms(c));
		free(json);
		return 0;
	case CONV_TRANSCRIPT:
		out->size = 0;
		for (unsigned i = 0; i < n; i++)
			out->size += c->pages[i].txt_len;
		out->mtime = ms_to_time(n ? c->pages[0].newest_ms : 0);
		return 0;
	case CONV_PAGE_TXT:
	case CONV_PAGE_JSON:
		if (page < 1 || page > n)
			return -ENOENT;
		p = &c->pages[page - 1];
		out->size = kind == CONV_PAGE_TXT ? p->txt_len : p->json_len;
		out->mtime = ms_to_time(p->newest_ms);
		return 0;
	}
	return -ENOENT;
}

static unsigned walk_target(enum conv_file kind, unsigned page)
{
	switch (kind) {
	case CONV_META_JSON:
		return 1;
	case CONV_TRANSCRIPT:
		return 0;
	default:
		return page;
	}
}

int conv_file_attr(struct conv *c, enum conv_file kind, unsigned page,
		   struct conv_attr *out)
{
	unsigned upto = walk_target(kind, page);
	int r;

	if (upto == 0 && kind != CONV_TRANSCRIPT)
		return -ENOENT;
	r = conv_walk(c, upto);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	r = attr_locked(c, kind, page, out);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static size_t copy_slice(char *dst, size_t size, const char *src,
			 size_t len, off_t off)
{
	size_t n;

	if (off < 0 || (size_t)off >= len)
		return 0;
	n = len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(dst, src + off, n);
	return n;
}

static ssize_t read_page(struct conv *c, enum conv_file kind, unsigned page,
			 char *buf, size_t size, off_t off)
{
	struct lru_ref *ref;
	const struct page_body *b;
	size_t n;
	int r;

	r = page_get(c, page, &ref);
	if (r < 0)
		return r;
	b = lru_value(ref);
	if (kind == CONV_PAGE_TXT)
		n = copy_slice(buf, size, b->txt, b->txt_len, off);
	else
		n = copy_slice(buf, size, b->json, b->json_len, off);
	lru_release(ref);
	return (ssize_t)n;
}

/* The transcript is pages n..1 back to back: read across them. */
static ssize_t read_transcript(struct conv *c, char *buf, size_t size,
			       off_t off)
{
	size_t done = 0, start = 0;
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = count_files(c);
	pthread_mutex_unlock(&c->lock);
	for (unsigned p = n; p >= 1 && done < size; p--) {
		size_t len;
		ssize_t got;

		pthread_mutex_lock(&c->lock);
		len = p <= c->n_pages ? c->pages[p - 1].txt_len : 0;
		pthread_mutex_unlock(&c->lock);
		if ((size_t)off + done < start + len) {
			got = read_page(c, CONV_PAGE_TXT, p, buf + done,
					size - done,
					(off_t)((size_t)off + done - start));
			if (got < 0)
				return done ? (ssize_t)done : got;
			done += (size_t)got;
		}
		start += len;
	}
	return (ssize_t)done;
}

ssize_t conv_file_read(struct conv *c, enum conv_file kind, unsigned page,
		       char *buf, size_t size, off_t off)
{
	unsigned upto = walk_target(kind, page);
	ssize_t n = 0;
	char *json;
	int r;

	if (upto == 0 && kind != CONV_TRANSCRIPT)
		return -ENOENT;
	r = conv_walk(c, upto);
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
	case CONV_TRANSCRIPT:
		return read_transcript(c, buf, size, off);
	default:
		return read_page(c, kind, page, buf, size, off);
	}
}
