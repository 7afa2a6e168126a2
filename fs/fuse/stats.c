/*
 * fs/fuse/stats.c - MOUNT/.stats: the mount's counters as key: value lines.
 *
 * Its text changes with every counter, so, as /proc's files do, each open
 * takes a snapshot that its reads serve whole: a read never mixes two
 * snapshots. The kernel keeps none of it (ll_open: direct_io; attributes
 * valid 0 s), so a stat asks each time; its size is that of the snapshot
 * the newest open still open took (the reader's, when it is alone: fstat
 * after a read says what the read gave), else of a new one. The mount
 * lists its opens' snapshots: one whose RELEASE never comes (the mount
 * went first) is freed at the end (fs_stats_drop_all).
 */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../text/buf.h"
#include "../../cache/store.h"
#include "../model/link.h"

/* One open's snapshot: its fh. Held by the open and by each reply being
 * written from it (a RELEASE may come as soon as the reader has its
 * bytes, before writev has returned in the thread that replied). On
 * fs->stats_snaps from its open to its close, under fs->lock. */
struct stats_snap {
	atomic_int refs;
	struct stats_snap *prev, *next;
	size_t len;
	char text[];
};

static void snap_put(struct stats_snap *snap)
{
	if (atomic_fetch_sub(&snap->refs, 1) == 1)
		free(snap);
}

static void put_count(struct buf *b, const char *key, uint64_t v)
{
	buf_printf(b, "%s: %llu\n", key, (unsigned long long)v);
}

/* "key: YYYY-MM-DDTHH:MM:SSZ" of a wall-clock time. */
static void put_time(struct buf *b, const char *key, time_t t)
{
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "%s: %s\n", key, when);
}

/* The API's counters and the limits asked of it. */
static void put_api(struct buf *b, struct lfs *fs)
{
	struct api_stats a;

	api_get_stats(fs->api, &a);
	put_count(b, "requests", a.requests);
	put_count(b, "requests_retried", a.retries);
	put_count(b, "errors", a.errors);
	put_count(b, "connections", a.connections);
	put_count(b, "credits_spent", a.credits);
	if (fs->credit_limit > 0) {
		uint64_t limit = (uint64_t)fs->credit_limit;

		put_count(b, "credit_limit", limit);
		put_count(b, "credits_left",
			  a.credits < limit ? limit - a.credits : 0);
	} else {
		buf_puts(b, "credit_limit: none\n");
	}
	if (a.rate_limit > 0)
		buf_printf(b, "rate_limit: %ld/%ld\n", a.rate_limit,
			   a.rate_seconds);
	else
		buf_puts(b, "rate_limit: none\n");
	put_count(b, "requests_waiting", a.requests_waiting);
	buf_printf(b, "rate_wait_seconds: %.3f\n", a.rate_wait_ms / 1000.0);
	buf_printf(b, "rate_wait_max_seconds: %.3f\n",
		   a.rate_wait_max_ms / 1000.0);
	put_count(b, "answers_429", a.answers_429);
}

/* The one link state (fs/model/link.h), and the last error the API met. */
static void put_link(struct buf *b, struct lfs *fs)
{
	static const char *const states[] = {
		[LINK_ONLINE] = "online",
		[LINK_DOWN] = "down",
		[LINK_OFFLINE] = "offline",
	};
	struct link_stats s;

	link_get_stats(fs->link, &s);
	buf_printf(b, "api: %s\n", states[s.state]);
	if (s.state == LINK_DOWN) {
		put_time(b, "api_down_since", s.down_since);
		/* rounded up: 0.0 when a request may go now */
		buf_printf(b, "api_next_try_seconds: %.1f\n",
			   (double)((s.next_try_ms + 99) / 100) / 10);
	}
	if (!s.last_error_at) {
		buf_puts(b, "api_last_error: none\n");
		return;
	}
	buf_printf(b, "api_last_error: %s\n", s.last_error);
	put_time(b, "api_last_error_at", s.last_error_at);
}

static void put_store(struct buf *b, struct lfs *fs)
{
	struct store_stats s;

	if (!fs->store)
		return;
	store_get_stats(fs->store, &s);
	put_count(b, "store_bytes", s.bytes);
	put_count(b, "store_entries", s.entries);
	put_count(b, "store_hits", s.hits);
	put_count(b, "store_misses", s.misses);
	put_count(b, "store_damaged", s.damaged);
	put_count(b, "store_evictions", s.evicted);
	put_count(b, "store_budget", s.budget);
	put_count(b, "store_pending", s.pending);
	buf_printf(b, "store_writable: %s\n", s.writable ? "yes" : "no");
}

/* The text of .stats, as a snapshot (NULL: no memory). Never a secret. */
static struct stats_snap *stats_text(struct lfs *fs)
{
	struct stats_snap *snap;
	struct lru_stats l;
	struct root_stats r;
	struct buf b = BUF_INIT;
	size_t len;
	char *text;

	put_api(&b, fs);
	lru_get_stats(fs->cache, &l);
	put_count(&b, "cache_hits", l.hits);
	put_count(&b, "cache_misses", l.misses);
	put_count(&b, "cache_evictions", l.evictions);
	put_count(&b, "cache_entries", l.entries);
	put_count(&b, "cache_bytes", l.bytes);
	put_count(&b, "cache_budget", l.budget);
	put_store(&b, fs);
	root_get_stats(fs->root, &r);
	put_count(&b, "conversations", r.conversations);
	put_count(&b, "conversations_not_found", r.not_found);
	/* a lower bound when the cap cut a read short (root.h) */
	buf_printf(&b, "inbox_left_out: %s%zu\n",
		   r.left_more ? "more than " : "", r.left_out);
	put_count(&b, "readahead_walks", ahead_walks(fs->ahead));
	put_link(&b, fs);
	text = buf_steal(&b, &len);
	snap = text ? malloc(sizeof(*snap) + len + 1) : NULL;
	if (snap) {
		atomic_init(&snap->refs, 1);
		snap->prev = snap->next = NULL;
		snap->len = len;
		memcpy(snap->text, text, len + 1);
	}
	free(text);
	return snap;
}

int fs_stats_open(struct lfs *fs, uint64_t *fh)
{
	struct stats_snap *snap = stats_text(fs);

	if (!snap)
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	snap->next = fs->stats_snaps;
	if (snap->next)
		snap->next->prev = snap;
	fs->stats_snaps = snap;
	pthread_mutex_unlock(&fs->lock);
	*fh = (uint64_t)(uintptr_t)snap;
	return 0;
}

const char *fs_stats_slice(uint64_t fh, size_t size, off_t off, size_t *len)
{
	struct stats_snap *snap = (void *)(uintptr_t)fh;

	*len = 0;
	if (!snap)
		return "";
	atomic_fetch_add(&snap->refs, 1);
	if (off < 0 || (size_t)off >= snap->len)
		return "";
	*len = snap->len - (size_t)off;
	if (*len > size)
		*len = size;
	return snap->text + off;
}

void fs_stats_unhold(uint64_t fh)
{
	if (fh)
		snap_put((void *)(uintptr_t)fh);
}

/* Takes snap off the list of opens (fs->lock held). */
static void snap_unlist(struct lfs *fs, struct stats_snap *snap)
{
	if (snap->prev)
		snap->prev->next = snap->next;
	else
		fs->stats_snaps = snap->next;
	if (snap->next)
		snap->next->prev = snap->prev;
}

void fs_stats_close(struct lfs *fs, uint64_t fh)
{
	struct stats_snap *snap = (void *)(uintptr_t)fh;

	if (!snap)
		return;
	pthread_mutex_lock(&fs->lock);
	snap_unlist(fs, snap);
	pthread_mutex_unlock(&fs->lock);
	snap_put(snap);
}

void fs_stats_drop_all(struct lfs *fs)
{
	pthread_mutex_lock(&fs->lock);
	while (fs->stats_snaps) {
		struct stats_snap *snap = fs->stats_snaps;

		snap_unlist(fs, snap);
		snap_put(snap);
	}
	pthread_mutex_unlock(&fs->lock);
}

int fs_stats_size(struct lfs *fs, size_t *size)
{
	struct stats_snap *snap = NULL;

	pthread_mutex_lock(&fs->lock);
	if (fs->stats_snaps) {
		*size = fs->stats_snaps->len;
		pthread_mutex_unlock(&fs->lock);
		return 0;
	}
	pthread_mutex_unlock(&fs->lock);
	snap = stats_text(fs);
	if (!snap)
		return -ENOMEM;
	*size = snap->len;
	free(snap);
	return 0;
}
