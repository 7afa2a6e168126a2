/*
 * fs/model/chunk.c - from one API answer to one chunk: which messages it keeps,
 * whether the chain may go on after it, and its rendered body.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text/buf.h"
#include "../log.h"
#include "../text/render.h"
#include "link.h"

/* A hostile server could hand out ever-older cursors forever: stop there. */
#define CONV_MAX_CHUNKS 100000u

static bool urn_in(const char *urn, char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(urn, set[i]) == 0)
			return true;
	return false;
}

static bool seen_in(const struct taken *t, const char *urn)
{
	for (size_t j = 0; j < t->n; j++)
		if (strcmp(t->kept[j].entity_urn, urn) == 0)
			return true;
	return false;
}

int chunk_take(const struct api_page *page, char *const *prev, size_t n_prev,
	       int64_t floor, struct taken *t)
{
	size_t cap = page->n_messages ? page->n_messages : 1;

	memset(t, 0, sizeof(*t));
	t->kept = calloc(cap, sizeof(*t->kept));
	if (!t->kept)
		return -ENOMEM;
	for (size_t i = 0; i < page->n_messages; i++) {
		const struct api_message *m = &page->messages[i];
		const char *urn = m->entity_urn;

		if (m->timestamp_ms <= floor) {
			t->hit_floor = true;
			continue;
		}
		if (urn[0] && (urn_in(urn, prev, n_prev) || seen_in(t, urn)))
			continue;
		t->kept[t->n++] = *m;
	}
	return 0;
}

void chunk_taken_free(struct taken *t)
{
	free(t->kept);
}

void chunk_body_free(void *value)
{
	free(value);
}

size_t chunk_body_cost(const struct chunk_body *b)
{
	return malloc_usable_size((void *)b);
}

/* Point b's arrays and its bytes into the block that follows it: the
 * offsets, the times, then each track's bytes (len[t] of them, and a NUL). */
void chunk_body_point(struct chunk_body *b, const size_t len[CONV_TRACKS])
{
	char *p = (char *)(b + 1);

	for (int t = 0; t < CONV_TRACKS; t++) {
		b->off[t] = (size_t *)p;
		p += (b->n + 1) * sizeof(*b->off[t]);
	}
	b->ts = (int64_t *)p;
	p += b->n * sizeof(*b->ts);
	for (int t = 0; t < CONV_TRACKS; t++) {
		b->bytes[t] = p;
		p += len[t] + 1;
	}
}

struct chunk_body *chunk_body_alloc(size_t n, const size_t len[CONV_TRACKS])
{
	size_t size = sizeof(struct chunk_body) +
		      CONV_TRACKS * (n + 1) * sizeof(size_t) +
		      n * sizeof(int64_t);
	struct chunk_body *b;

	for (int t = 0; t < CONV_TRACKS; t++)
		size += len[t] + 1;
	b = malloc(size);
	if (!b)
		return NULL;
	b->n = n;
	chunk_body_point(b, len);
	return b;
}

/* One message as track t shows it. */
static void show_message(struct buf *out, enum conv_track t,
			 const struct api_message *m)
{
	if (t == CONV_TEXT) {
		render_message(out, m);
		return;
	}
	buf_append(out, m->json, m->json_len);
	buf_putc(out, '\n');
}

/* Render the kept messages, oldest first, with their offsets: one block
 * (the arrays first, then each track's bytes), so that what the cache
 * counts is what it holds and an eviction frees it in one piece. */
struct chunk_body *chunk_body_build(const struct taken *t)
{
	size_t head = sizeof(struct chunk_body) +
		      CONV_TRACKS * (t->n + 1) * sizeof(size_t) +
		      t->n * sizeof(int64_t);
	size_t len[CONV_TRACKS] = {0, 0};
	struct buf track[CONV_TRACKS] = {BUF_INIT, BUF_INIT};
	struct chunk_body *b = calloc(1, head), *whole = NULL;

	if (!b)
		return NULL;
	b->n = t->n;
	chunk_body_point(b, len); /* the arrays only, for now */
	for (size_t s = 0; s < t->n; s++) {
		const struct api_message *m = &t->kept[t->n - 1 - s];

		b->ts[s] = m->timestamp_ms;
		for (int k = 0; k < CONV_TRACKS; k++) {
			b->off[k][s] = track[k].len;
			show_message(&track[k], k, m);
		}
	}
	for (int k = 0; k < CONV_TRACKS; k++)
		b->off[k][t->n] = len[k] = track[k].len;
	if (!track[CONV_TEXT].oom && !track[CONV_JSONL].oom)
		whole = realloc(b, head + len[CONV_TEXT] + len[CONV_JSONL] + 2);
	if (!whole) {
		free(b);
		goto out;
	}
	b = whole;
	chunk_body_point(b, len);
	for (int k = 0; k < CONV_TRACKS; k++) {
		if (len[k])
			memcpy(b->bytes[k], track[k].data, len[k]);
		b->bytes[k][len[k]] = '\0';
	}
out:
	for (int k = 0; k < CONV_TRACKS; k++)
		buf_free(&track[k]);
	return whole;
}

bool chunk_time_of(const char *cursor, int64_t *ms)
{
	char *end;
	long long v;

	if (!cursor || !*cursor)
		return false;
	errno = 0;
	v = strtoll(cursor, &end, 10);
	*ms = v;
	return errno == 0 && *end == '\0';
}

char *chunk_cursor_of(int64_t ms)
{
	char *s = NULL;

	if (asprintf(&s, "%" PRId64, ms) < 0)
		return NULL;
	return s;
}

/* Why the chain cannot go on after this answer, or NULL when it can. */
const char *chunk_chain_fault(const struct api_page *page,
			      const struct taken *t, const char *cursor,
			      size_t chunk_no)
{
	int64_t now, next;

	if (!page->has_next_page || t->hit_floor)
		return NULL;
	if (!page->next_cursor || !page->next_cursor[0])
		return "the API announced older messages but sent no cursor";
	if (t->n == 0)
		return "the API sent an empty page that announces older "
		       "messages";
	if (cursor && strcmp(cursor, page->next_cursor) == 0)
		return "the cursor did not move";
	if (chunk_time_of(cursor, &now) &&
	    chunk_time_of(page->next_cursor, &next) && next >= now)
		return "the cursor went forward in time";
	if (chunk_no >= CONV_MAX_CHUNKS)
		return "the conversation has too many pages";
	return NULL;
}

bool chunk_more_after(const struct api_page *page, const struct taken *t)
{
	return page->has_next_page && !t->hit_floor;
}

/* The urns of the kept messages at the oldest time (malloc'd array). */
char **chunk_edge_urns(const struct taken *t, size_t *n_edge)
{
	int64_t oldest = INT64_MAX;
	char **urns;
	size_t k = 0, count = 0;

	*n_edge = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->kept[i].timestamp_ms < oldest)
			oldest = t->kept[i].timestamp_ms;
	for (size_t i = 0; i < t->n; i++)
		count += t->kept[i].timestamp_ms == oldest;
	urns = calloc(count ? count : 1, sizeof(*urns));
	for (size_t i = 0; urns && i < t->n; i++) {
		if (t->kept[i].timestamp_ms != oldest ||
		    !t->kept[i].entity_urn[0])
			continue;
		urns[k] = strdup(t->kept[i].entity_urn);
		if (!urns[k])
			break; /* fewer repeats dropped, no harm */
		k++;
	}
	*n_edge = k;
	return urns;
}

void chunk_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void chunk_clear(struct chunk *k)
{
	free(k->cursor);
	free(k->next_cursor);
	chunk_strv_free(k->edge_urns, k->n_edge);
	memset(k, 0, sizeof(*k));
}

/* ---- walking a stretch of the chain ---------------------------------- */

static int stretch_push(struct stretch *s, struct chunk *k,
			struct chunk_body *b)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct chunk *ck = realloc(s->chunks, cap * sizeof(*ck));
		struct chunk_body **bd;

		if (!ck)
			return -ENOMEM;
		s->chunks = ck;
		bd = realloc(s->bodies, cap * sizeof(*bd));
		if (!bd)
			return -ENOMEM;
		s->bodies = bd;
		s->cap = cap;
	}
	s->chunks[s->n] = *k;
	s->bodies[s->n++] = b;
	s->n_msgs += b->n;
	return 0;
}

/* The cursor that fetches this chunk again: the one sent, or for the
 * newest page "its newest time + 1" (NULL when it is empty). */
static int refetch_cursor(const char *sent, const struct chunk_body *b,
			  char **out)
{
	*out = NULL;
	if (sent)
		*out = strdup(sent);
	else if (b->n)
		*out = chunk_cursor_of(b->ts[b->n - 1] + 1);
	return *out || (!sent && !b->n) ? 0 : -ENOMEM;
}

/* Why an answer cannot be kept, or NULL: the guards of a first fetch, and
 * for a chunk fetched before, that it still holds what it held. */
static const char *answer_fault(const struct chunk_ask *a,
				const struct api_page *page,
				const struct taken *t)
{
	if (a->known_n == SIZE_MAX)
		return chunk_chain_fault(page, t, a->cursor, a->chunk_no);
	if (t->n != a->known_n)
		return "a page changed on the server since it was first read";
	return NULL;
}

/* What an answer teaches of its chunk, into k (owned strings). */
static int describe(const struct chunk_ask *a, const struct api_page *page,
		    const struct taken *t, const struct chunk_body *b,
		    struct chunk *k)
{
	*k = (struct chunk){.floor_ms = a->floor, .known = true, .n = t->n};
	k->has_next = chunk_more_after(page, t);
	k->edge_urns = chunk_edge_urns(t, &k->n_edge);
	if (k->has_next && !(k->next_cursor = strdup(page->next_cursor)))
		return -ENOMEM;
	return refetch_cursor(a->cursor, b, &k->cursor);
}

int chunk_fetch(struct conv *c, const struct chunk_ask *a, struct chunk *k,
		struct chunk_body **body, struct api_page **page)
{
	struct api_conv_ref ref = conv_ref(c);
	struct api_error err = {0};
	struct taken t = {0};
	const char *fault;
	bool probe;
	int r;

	memset(k, 0, sizeof(*k));
	*body = NULL;
	*page = NULL;
	r = link_ask(c->env.link, &probe, &err);
	if (r == 0) {
		r = api_get_conversation(c->env.api, &ref,
					 a->size > 0 ? a->size
						     : c->env.page_size,
					 a->cursor, page, &err);
		link_note(c->env.link, probe, r, &err);
	}
	if (r < 0) {
		log_error("conversation %s: %schain request %zu: %s", c->name,
			  a->what, a->chunk_no + 1, err.message);
		return r;
	}
	r = chunk_take(*page, a->prev, a->n_prev, a->floor, &t);
	fault = r ? NULL : answer_fault(a, *page, &t);
	if (fault) {
		log_error("conversation %s: %schain request %zu: %s; giving up "
			  "on it",
			  c->name, a->what, a->chunk_no + 1, fault);
		r = -EIO;
	}
	if (r == 0 && !(*body = chunk_body_build(&t)))
		r = -ENOMEM;
	if (r == 0)
		r = describe(a, *page, &t, *body, k);
	chunk_taken_free(&t);
	if (r == 0)
		return 0;
	chunk_clear(k);
	if (*body)
		chunk_body_free(*body);
	*body = NULL;
	api_page_free(*page);
	*page = NULL;
	return r;
}

void stretch_walk(struct stretch *s)
{
	char *cursor = s->cursor ? strdup(s->cursor) : NULL;
	bool more = true;

	s->err = s->cursor && !cursor ? -ENOMEM : 0;
	while (more && s->err == 0) {
		const struct chunk *pk = s->n ? &s->chunks[s->n - 1] : NULL;
		struct chunk_ask ask = {
			.cursor = cursor,
			.floor = s->floor,
			.prev = pk ? pk->edge_urns : s->prev,
			.n_prev = pk ? pk->n_edge : s->n_prev,
			.chunk_no = s->n,
			.known_n = SIZE_MAX,
			.what = s->what,
			.size = s->size,
		};
		struct api_page *page = NULL;
		struct chunk_body *b;
		struct chunk k;

		if (s->max && s->n >= s->max) {
			s->more_left = true;
			break;
		}
		s->err = chunk_fetch(s->c, &ask, &k, &b, &page);
		if (s->err == 0 && (s->err = stretch_push(s, &k, b)) < 0) {
			chunk_clear(&k);
			chunk_body_free(b);
		}
		more = s->err == 0 && k.has_next;
		free(cursor);
		cursor = NULL;
		if (more && !(cursor = strdup(s->chunks[s->n - 1].next_cursor)))
			s->err = -ENOMEM;
		if (!s->first)
			s->first = page;
		else
			api_page_free(page);
	}
	free(cursor);
}

void stretch_free(struct stretch *s)
{
	for (size_t i = 0; i < s->n; i++) {
		chunk_clear(&s->chunks[i]);
		if (s->bodies[i])
			chunk_body_free(s->bodies[i]);
	}
	free(s->chunks);
	free(s->bodies);
	free(s->cursor);
	api_page_free(s->first);
	memset(s, 0, sizeof(*s));
}
