/*
 * fs/fuse/stats.c - MOUNT/.stats: the mount's counters as key: value lines.
 *
 * The kernel keeps .stats' pages like a full page's (ll_open says so), so: a
 * getattr takes a snapshot, whose size the kernel then holds, and reads serve
 * that snapshot; once the kernel may hold it, the next other callback (which
 * may change a counter) tells the kernel to forget it, before it replies. The
 * flag is raised before the snapshot is taken: a change either makes it in or
 * sees the flag.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../text/buf.h"
#include "inval.h"
#include "../../cache/store.h"
#include "../model/net.h"

static void put_count(struct buf *b, const char *key, uint64_t v)
{
	buf_printf(b, "%s: %llu\n", key, (unsigned long long)v);
}

/* What inbox_limit left out of the listing. */
static void put_left_out(struct buf *b, struct lfs *fs)
{
	bool more;
	size_t n = root_left_out(fs->root, &more);

	buf_printf(b, "inbox_left_out: %s%zu\n", more ? "more than " : "", n);
}

/* Whether the API answers the checks (check.c). */
static void put_health(struct buf *b, struct lfs *fs)
{
	time_t since = 0;
	struct tm tm;
	char when[32];

	if (fs->checker)
		checker_health(fs->checker, &since);
	if (!since) {
		buf_puts(b, "api_reachable: yes\n");
		return;
	}
	gmtime_r(&since, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "api_reachable: no\napi_unreachable_since: %s\n", when);
}

char *fs_stats_text(struct lfs *fs)
{
	struct api_stats a;
	struct lru_stats l;
	struct buf b = BUF_INIT;
	size_t len;

	api_get_stats(fs->api, &a);
	lru_get_stats(fs->cache, &l);
	put_count(&b, "requests", a.requests);
	put_count(&b, "requests_retried", a.retries);
	put_count(&b, "errors", a.errors);
	put_count(&b, "connections", a.connections);
	put_count(&b, "credits_spent", a.credits);
	if (fs->credit_limit > 0) {
		uint64_t limit = (uint64_t)fs->credit_limit;

		put_count(&b, "credit_limit", limit);
		put_count(&b, "credits_left",
			  a.credits < limit ? limit - a.credits : 0);
	} else {
		buf_puts(&b, "credit_limit: none\n");
	}
	if (a.rate_limit > 0)
		buf_printf(&b, "rate_limit: %ld/%ld\n", a.rate_limit,
			   a.rate_seconds);
	else
		buf_puts(&b, "rate_limit: none\n");
	put_count(&b, "requests_waiting", a.requests_waiting);
	buf_printf(&b, "rate_wait_seconds: %.3f\n", a.rate_wait_ms / 1000.0);
	buf_printf(&b, "rate_wait_max_seconds: %.3f\n",
		   a.rate_wait_max_ms / 1000.0);
	put_count(&b, "answers_429", a.answers_429);
	put_count(&b, "cache_hits", l.hits);
	put_count(&b, "cache_misses", l.misses);
	put_count(&b, "cache_evictions", l.evictions);
	put_count(&b, "cache_entries", l.entries);
	put_count(&b, "cache_bytes", l.bytes);
	put_count(&b, "cache_budget", l.budget);
	buf_printf(&b, "offline: %s\n", net_offline(fs->net) ? "yes" : "no");
	if (fs->store) {
		struct store_stats s;

		store_get_stats(fs->store, &s);
		put_count(&b, "store_bytes", s.bytes);
		put_count(&b, "store_entries", s.entries);
		put_count(&b, "store_hits", s.hits);
		put_count(&b, "store_misses", s.misses);
		put_count(&b, "store_damaged", s.damaged);
		put_count(&b, "store_evictions", s.evicted);
		put_count(&b, "store_budget", s.budget);
		put_count(&b, "store_pending", s.pending);
		buf_printf(&b, "store_writable: %s\n",
			   s.writable ? "yes" : "no");
	}
	put_count(&b, "conversations", root_count(fs->root));
	put_count(&b, "conversations_not_found", root_not_found(fs->root));
	put_left_out(&b, fs);
	put_count(&b, "readahead_walks", ahead_walks(fs->ahead));
	put_health(&b, fs);
	return buf_steal(&b, &len);
}

int fs_stats_snapshot(struct lfs *fs, size_t *size)
{
	char *text;

	atomic_store(&fs->stats_in_kernel, true);
	text = fs_stats_text(fs);
	if (!text)
		return -ENOMEM;
	pthread_mutex_lock(&fs->stats_lock);
	free(fs->stats);
	fs->stats = text;
	fs->stats_len = *size = strlen(text);
	pthread_mutex_unlock(&fs->stats_lock);
	return 0;
}

size_t fs_stats_read(struct lfs *fs, char *buf, size_t size, off_t off)
{
	size_t n = 0;

	pthread_mutex_lock(&fs->stats_lock);
	if (!fs->stats) { /* read before any getattr: a snapshot of now */
		fs->stats = fs_stats_text(fs);
		fs->stats_len = fs->stats ? strlen(fs->stats) : 0;
	}
	if (off >= 0 && (size_t)off < fs->stats_len) {
		n = fs->stats_len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, fs->stats + off, n);
	}
	pthread_mutex_unlock(&fs->stats_lock);
	return n;
}

void fs_stats_settle(struct lfs *fs, const struct node *n)
{
	/* a load first: no write to the shared flag on every callback */
	if (n->id.kind != NODE_STATS && atomic_load(&fs->stats_in_kernel) &&
	    atomic_exchange(&fs->stats_in_kernel, false))
		inval_ino(fs->se, INO_STATS);
}
