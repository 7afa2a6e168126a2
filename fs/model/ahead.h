/*
 * fs/model/ahead.h - read-ahead of the conversations a traversal will list
 * next.
 *
 * A grep -r or find lists the root's directories one after the other in
 * listing order; tree and ls -R in the order of their names (sorted with
 * strcoll, under the LC_COLLATE the mount was started with, as those
 * tools sort). Each listing walks a conversation's whole chain, one
 * request after the other: at the API's latency that leaves most of the
 * rate limit unused. When two conversations were listed in a row in one
 * of these orders, the next AHEAD_DEPTH ones in that order are walked
 * beside the reader, each by a thread of its own, paced like every
 * request. A traversal that reads everything costs the requests it costs
 * without (a walk is single-flighted per chunk: the reader that arrives
 * takes the chunks already fetched, or waits for the one in flight); one
 * that stops early wastes at most AHEAD_DEPTH conversations' walks. A
 * reader's request waits behind at most AHEAD_DEPTH of them in the rate
 * limiter's line (first come, first served).
 *
 * Locking: one mutex guards the queue and the name order; never held
 * across a walk. It is taken before the root's lock.
 */
#ifndef LINKUPFS_AHEAD_H
#define LINKUPFS_AHEAD_H

#include <stdint.h>

#include "root.h"

#define AHEAD_DEPTH 2

struct ahead;

/* Read-ahead over root's conversations (borrowed; outlives it), with
 * AHEAD_DEPTH threads. NULL on failure (then no read-ahead). */
struct ahead *ahead_new(struct root *root);

/* Stop: no new walk starts, the walks in flight are waited for (the
 * caller cancels the API first, api_cancel, to end them at once). NULL is
 * a no-op. */
void ahead_free(struct ahead *a);

/* A reader listed the conversation at position i (call before its walk).
 * Never blocks. */
void ahead_note(struct ahead *a, unsigned i);

/* Walks started ahead so far. */
uint64_t ahead_walks(struct ahead *a);

#endif
