/*
 * api/pace.h - the mount's one request limiter: at most `limit` requests in
 * any `seconds` (SPEC section 5, "Pacing"). Internal to api/.
 *
 * A sliding window kept as `limit` slots, each holding the time its last
 * request ended (or "in flight"): a slot is free again one window after
 * that end. Stamping the end, not the start, keeps us under the limit
 * however late the server counts a request (anywhere between our send and
 * its answer), so our pacing never draws a 429 of its own.
 *
 * Fairness: waiters are served first come, first served (FIFO); a retry
 * (which already waited its turn once) joins at the head of the line. So a
 * reader that blocks on one page waits behind the requests already waiting
 * (at most the FUSE threads and the parallel=K walkers), never behind a
 * whole walk.
 *
 * Thread safety: one struct pace for all threads; one mutex inside, never
 * held across a request. The stop callback is asked with it held.
 */
#ifndef LINKUPFS_API_PACE_H
#define LINKUPFS_API_PACE_H

#include <stdbool.h>
#include <stdint.h>

/* How often a waiter asks its stop callback (Ctrl-C is polled, not
 * signalled): short enough that an interrupted read ends at once. */
#define PACE_SLICE_MS 50

struct pace;

struct pace_stats {
	long limit, seconds; /* as given to pace_new; 0, 0: no limit */
	uint64_t waiting;    /* requests waiting for their turn now */
	uint64_t wait_ms;    /* total time requests waited */
};

/* A limiter of limit requests per seconds; limit 0 means none (every turn
 * is given at once). NULL on allocation failure. Freed with pace_free
 * (NULL: no-op) once no thread uses it. */
struct pace *pace_new(long limit, long seconds);
void pace_free(struct pace *p);

/*
 * Wait for a turn and take it: *slot is then the caller's until it passes
 * it to pace_done (-1 when there is no limit). Blocks. Returns 0; -EINTR
 * once stop(arg) is true (asked at least every PACE_SLICE_MS, and at once
 * after pace_wake); -ETIMEDOUT when deadline_ms (monotonic ms, 0: none) is
 * passed, or when the next turn is known to come after it. front: join at
 * the head of the line. *waited_ms: how long this call waited.
 */
int pace_take(struct pace *p, bool front, int64_t deadline_ms,
	      bool (*stop)(void *), void *arg, int *slot, int64_t *waited_ms);

/* The request sent in slot has ended (answered or not): its slot is free
 * one window from now. full: the server said the window is full (a 429):
 * every free slot is taken until one window from now, so turns come only
 * as our own earlier requests slide out of the window. */
void pace_done(struct pace *p, int slot, bool full);

/* Wake every waiter so that it asks its stop callback now (api_cancel). */
void pace_wake(struct pace *p);

void pace_get_stats(struct pace *p, struct pace_stats *out);

/* A slot frees PACE_MARGIN_MS after its window: our clock stamps a
 * request when its answer is in, the API counts it when it arrives, and
 * the two round differently (a limit of 30/6 met to the millisecond drew a
 * 429 from the mock, once). A window is SECONDS * 1000 + this. */
#define PACE_MARGIN_MS 50

/* The client's one clock: monotonic milliseconds, the clock of deadline_ms
 * and of http.c's retry deadlines and backoff waits. */
int64_t pace_now_ms(void);

#endif
