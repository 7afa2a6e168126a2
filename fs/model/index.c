/*
 * fs/model/index.c - a conversation's index: per chunk its place and the
 * bytes before it, per message (by position, newest first) its time and
 * the length of its text and its JSON line. Every function here is called
 * with c->lock held and never blocks.
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
void index_bytes_to_chunk(const struct conv *c, size_t ci,
			  size_t out[CONV_TRACKS])
{
	const struct chunk *k = ci ? &c->chunks[ci - 1] : NULL;

	for (int t = 0; t < CONV_TRACKS; t++)
		out[t] = k ? bytes_within(c, t, k, k->first + k->n) : 0;
}

/* Room for more positions: doubling while the walk goes on, exact once
 * the chain is complete (index_fit). Caller holds lock. */
int index_reserve(struct conv *c, size_t more)
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
void index_fit(struct conv *c)
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
void index_append(struct conv *c, size_t ci, const struct chunk_body *b)
{
	c->chunks[ci].first = c->n_pos;
	index_bytes_to_chunk(c, ci, c->chunks[ci].before);
	for (size_t s = b->n; s-- > 0; c->n_pos++) { /* newest first */
		c->ts[c->n_pos] = b->ts[s];
		for (int t = 0; t < CONV_TRACKS; t++)
			c->len[t][c->n_pos] =
				(uint32_t)(b->off[t][s + 1] - b->off[t][s]);
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

/* Room for np positions in new arrays, the old ones' np - at last
 * positions copied behind the first at. Caller holds lock. */
int index_shift(struct conv *c, size_t np, size_t at)
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
