/*
 * fs/model/index.c - a conversation's index: per chunk its place, the
 * bytes before it and the times of its newest and oldest messages; per
 * message (by position, newest first) its time in whole seconds (what a
 * page's mtime needs) and the length of its text and its JSON line: 8
 * bytes a message, and a table apart for the rare message of 64 KiB or
 * more. Every function here is called with c->lock held and
 * never blocks.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* Caller holds lock. Index of the chunk with uid, or -1. */
long index_find_chunk(const struct conv *c, unsigned uid)
{
	for (size_t i = c->n_chunks; i-- > 0;)
		if (c->chunks[i].uid == uid)
			return (long)i;
	return -1;
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

/* Where in c->big the entry of position p is or goes: the first at p or
 * after. */
static size_t big_find(const struct conv *c, size_t p)
{
	size_t lo = 0, hi = c->n_big;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->big[mid].pos < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The entry of the message at p in c->big, or NULL. */
static const struct index_big *big_at(const struct conv *c, size_t p)
{
	size_t i = big_find(c, p);

	return i < c->n_big && c->big[i].pos == p ? &c->big[i] : NULL;
}

size_t index_len(const struct conv *c, enum conv_track t, size_t p)
{
	const struct index_big *b;

	if (c->len[t][p] != INDEX_LEN_BIG)
		return c->len[t][p];
	b = big_at(c, p);
	return b ? b->len[t] : INDEX_LEN_BIG;
}

/* Bytes of track t of the positions before p, p inside chunk k or just
 * past it. */
static size_t bytes_within(const struct conv *c, enum conv_track t,
			   const struct chunk *k, size_t p)
{
	size_t bytes = k->before[t];

	for (size_t q = k->first; q < p; q++)
		bytes += index_len(c, t, q);
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
	     p + 1 < end && *at + index_len(c, t, p) < y;)
		*at += index_len(c, t, p++);
	return p;
}

/* Bytes of the chunks before ci (all known), per track. Caller holds
 * lock. */
void index_bytes_to_chunk(const struct conv *c, size_t ci,
			  size_t out[CONV_TRACKS])
{
	const struct chunk *k = ci ? &c->chunks[ci - 1] : NULL;

	for (int t = 0; t < CONV_TRACKS; t++)
		out[t] = k ? bytes_within(c, t, k, k->first + k->n) : 0;
}

/* The per-position arrays of c, for the loops that grow, shrink and move
 * them together: column 0 the times, 1 + t the lengths of track t. */
#define INDEX_COLS (1 + CONV_TRACKS)
static void *col_get(const struct conv *c, int i)
{
	return i == 0 ? (void *)c->sec : (void *)c->len[i - 1];
}

static void col_set(struct conv *c, int i, void *p)
{
	if (i == 0)
		c->sec = p;
	else
		c->len[i - 1] = p;
}

static size_t col_size(const struct conv *c, int i)
{
	return i == 0 ? sizeof(*c->sec) : sizeof(*c->len[i - 1]);
}

/* Whether message s of body b has INDEX_LEN_BIG bytes or more in a
 * track. */
static bool is_big(const struct chunk_body *b, size_t s)
{
	for (int t = 0; t < CONV_TRACKS; t++)
		if (b->off[t][s + 1] - b->off[t][s] >= INDEX_LEN_BIG)
			return true;
	return false;
}

/* The messages of the n bodies; *big, how many of them are big. */
static size_t count_msgs(const struct chunk_body *const *b, size_t n,
			 size_t *big)
{
	size_t msgs = 0;

	*big = 0;
	for (size_t i = 0; i < n; i++) {
		msgs += b[i]->n;
		for (size_t s = 0; s < b[i]->n; s++)
			*big += is_big(b[i], s);
	}
	return msgs;
}

/* Room in c->big for more entries than it holds, so that index_append
 * never allocates. */
static int big_reserve(struct conv *c, size_t more)
{
	struct index_big *grown;

	if (c->n_big + more <= c->cap_big)
		return 0;
	grown = realloc(c->big, (c->n_big + more) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->big = grown;
	c->cap_big = c->n_big + more;
	return 0;
}

/* Room for the messages of n bodies: positions doubling while the walk
 * goes on, exact once the chain is complete (index_fit). Caller holds
 * lock. */
int index_reserve(struct conv *c, const struct chunk_body *const *b, size_t n)
{
	size_t big, more = count_msgs(b, n, &big);
	size_t want = c->n_pos + more, cap = c->cap_pos ? c->cap_pos : 256;

	if (big_reserve(c, big) < 0)
		return -ENOMEM;
	if (want <= c->cap_pos)
		return 0;
	while (cap < want)
		cap *= 2;
	for (int i = 0; i < INDEX_COLS; i++) {
		void *grown = realloc(col_get(c, i), cap * col_size(c, i));

		if (!grown)
			return -ENOMEM;
		col_set(c, i, grown);
	}
	c->cap_pos = cap;
	return 0;
}

/* Give back the room a complete chain no longer needs, and the entries
 * of big past its positions (a chain read anew left them). Caller holds
 * lock. */
void index_fit(struct conv *c)
{
	struct index_big *big;

	if (!conv_complete(c))
		return;
	while (c->n_big && c->big[c->n_big - 1].pos >= c->n_pos)
		c->n_big--;
	if (!c->n_big) {
		free(c->big);
		c->big = NULL;
		c->cap_big = 0;
	} else if (c->n_big < c->cap_big &&
		   (big = realloc(c->big, c->n_big * sizeof(*big)))) {
		c->big = big;
		c->cap_big = c->n_big;
	}
	if (c->n_pos == 0 || c->n_pos == c->cap_pos)
		return;
	for (int i = 0; i < INDEX_COLS; i++) {
		void *fit = realloc(col_get(c, i), c->n_pos * col_size(c, i));

		if (fit) /* a failed shrink keeps the old block */
			col_set(c, i, fit);
	}
	c->cap_pos = c->n_pos;
}

/* Note the lengths of a message of INDEX_LEN_BIG bytes or more at the
 * position p, in the room reserved (in place of what a chain read before
 * left there). */
static void big_put(struct conv *c, size_t p, const size_t len[CONV_TRACKS])
{
	size_t lo = big_find(c, p);

	if (lo == c->n_big || c->big[lo].pos != p) {
		memmove(&c->big[lo + 1], &c->big[lo],
			(c->n_big - lo) * sizeof(*c->big));
		c->n_big++;
	}
	c->big[lo].pos = p;
	for (int t = 0; t < CONV_TRACKS; t++)
		c->big[lo].len[t] = (uint32_t)len[t];
}

/* A message's time in whole seconds since the epoch (0 for none). */
static uint32_t sec_of(int64_t ms)
{
	if (ms <= 0)
		return 0;
	return ms / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ms / 1000);
}

/* Add the messages of body, as chunk index ci, after the known ones.
 * Caller holds lock and reserved room. */
void index_append(struct conv *c, size_t ci, const struct chunk_body *b)
{
	c->chunks[ci].first = c->n_pos;
	index_bytes_to_chunk(c, ci, c->chunks[ci].before);
	if (b->n) {
		c->chunks[ci].newest_ms = b->ts[b->n - 1];
		c->chunks[ci].oldest_ms = b->ts[0];
	}
	for (size_t s = b->n; s-- > 0; c->n_pos++) { /* newest first */
		size_t len[CONV_TRACKS];

		c->sec[c->n_pos] = sec_of(b->ts[s]);
		for (int t = 0; t < CONV_TRACKS; t++) {
			len[t] = b->off[t][s + 1] - b->off[t][s];
			c->len[t][c->n_pos] = len[t] >= INDEX_LEN_BIG
						      ? INDEX_LEN_BIG
						      : (uint16_t)len[t];
		}
		if (is_big(b, s))
			big_put(c, c->n_pos, len);
	}
}

/* Caller holds lock. Add the chunk the chain continues with. */
int index_append_chunk(struct conv *c, const char *cursor, int64_t floor)
{
	struct chunk *grown =
		realloc(c->chunks, (c->n_chunks + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	c->chunks = grown;
	memset(&grown[c->n_chunks], 0, sizeof(*grown));
	grown[c->n_chunks].uid = c->next_uid++;
	grown[c->n_chunks].floor_ms = floor;
	grown[c->n_chunks].first = c->n_pos;
	index_bytes_to_chunk(c, c->n_chunks, grown[c->n_chunks].before);
	grown[c->n_chunks].cursor = strdup(cursor);
	if (!grown[c->n_chunks].cursor)
		return -ENOMEM;
	c->n_chunks++;
	return 0;
}

/* New arrays with room for the messages of n bodies in front of the
 * known positions, which move behind them. Caller holds lock. */
int index_shift(struct conv *c, const struct chunk_body *const *b, size_t n)
{
	size_t big, at = count_msgs(b, n, &big), np = c->n_pos + at;
	void *to[INDEX_COLS];
	int i;

	if (big_reserve(c, big) < 0)
		return -ENOMEM;
	for (i = 0; i < INDEX_COLS; i++)
		to[i] = malloc((np ? np : 1) * col_size(c, i));
	for (i = 0; i < INDEX_COLS; i++)
		if (!to[i])
			break;
	if (i < INDEX_COLS) {
		for (i = 0; i < INDEX_COLS; i++)
			free(to[i]);
		return -ENOMEM;
	}
	for (i = 0; i < INDEX_COLS; i++) {
		size_t size = col_size(c, i);

		if (c->n_pos)
			memcpy((char *)to[i] + at * size, col_get(c, i),
			       c->n_pos * size);
		free(col_get(c, i));
		col_set(c, i, to[i]);
	}
	for (size_t k = 0; k < c->n_big; k++)
		c->big[k].pos += at;
	c->cap_pos = np;
	return 0;
}

int64_t index_newest_ms(const struct conv *c)
{
	return c->n_pos ? c->chunks[index_chunk_of(c, 0)].newest_ms : INT64_MIN;
}

int64_t index_oldest_ms(const struct conv *c)
{
	return c->n_pos ? c->chunks[index_chunk_of(c, c->n_pos - 1)].oldest_ms
			: INT64_MIN;
}

time_t index_time_of(const struct conv *c, size_t p)
{
	return (time_t)c->sec[p];
}
