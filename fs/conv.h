/*
 * fs/conv.h - one conversation: its cursor chain, its pages, its files.
 *
 * Page N of a conversation is the N-th request of the API's cursor chain
 * (page 1: the newest messages). The chain - for each page, the cursor that
 * fetches it, its sizes and times - is kept here, apart from the cache, and
 * is small; page bodies (rendered text and JSON) live in the shared LRU
 * cache under "c<index>:p<N>", filled through the cache's single flight, so
 * concurrent readers of a missing page wait for one request, and an evicted
 * page comes back with one request (its cursor is known).
 *
 * Locking: each conversation has one mutex guarding its chain and metadata.
 * It is never held across a request or a cache fill; it nests inside
 * nothing and takes no other lock, except that the cache may call the fill
 * (which takes it briefly) from lru_get.
 */
#ifndef LINKUPFS_CONV_H
#define LINKUPFS_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../api/api.h"
#include "../cache/lru.h"

/* Mount-wide things a conversation uses; borrowed, outlive every conv. */
struct conv_env {
	struct api *api;
	struct lru *cache;
	int page_size;
};

enum conv_file {
	CONV_META_JSON,  /* conversation.json */
	CONV_TRANSCRIPT, /* transcript.txt */
	CONV_PAGE_TXT,   /* page-NNNN.txt */
	CONV_PAGE_JSON,  /* page-NNNN.json */
};

struct conv_attr {
	size_t size;
	time_t mtime;
};

struct conv;

/*
 * A conversation known by id or profile URL (at least one non-NULL; both
 * copied). index is unique in the mount (it names the cache keys). The name
 * is the directory name, already made unique by the caller.
 */
struct conv *conv_new(const struct conv_env *env, unsigned index,
		      const char *name, const char *conversation_id,
		      const char *profile_url);
void conv_free(struct conv *c);

/* Take the participant, headline, unread count and last message time from
 * an inbox entry (copied). */
void conv_set_inbox_info(struct conv *c, const struct api_inbox_entry *e);

const char *conv_name(const struct conv *c);       /* borrowed, constant */
const char *conv_profile_url(const struct conv *c); /* borrowed, may be NULL */
const char *conv_id(const struct conv *c);          /* as given, may be NULL */

/* Time of the newest known message (inbox or page 1); never blocks. */
time_t conv_mtime(struct conv *c);

/* The number of page files, walking the whole chain if not yet known.
 * Blocks for the network. 0 or negative errno. */
int conv_page_count(struct conv *c, unsigned *count);

/* Size and time of a file; walks as far as needed (page N: pages 1..N;
 * transcript: all). -ENOENT for a page beyond the last. */
int conv_file_attr(struct conv *c, enum conv_file kind, unsigned page,
		   struct conv_attr *out);

/* Read up to size bytes at off into buf. Returns the byte count (0 at or
 * past the end) or a negative errno. Blocks for the network on a miss. */
ssize_t conv_file_read(struct conv *c, enum conv_file kind, unsigned page,
		       char *buf, size_t size, off_t off);

#endif
