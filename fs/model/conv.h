/*
 * fs/model/conv.h - one conversation: its cursor chain, its messages, its
 * files.
 *
 * Two layers. Chunks are what the API hands out: one request of the cursor
 * chain each, immutable once fetched (a cursor names "the messages older
 * than it"), cached as bodies in the shared LRU cache under
 * "c<index>:k<uid>" and filled through its single flight, so concurrent
 * readers of a missing chunk wait for one request and an evicted chunk
 * comes back with one request. Files are views over the messages counted
 * from the oldest: page N is messages (N-1)*page_size .. N*page_size-1, so
 * every page but the last is complete and never changes, and new messages
 * (a refresh puts them in chunks of their own in front of the old ones)
 * only grow the last page, add pages, and grow the transcript and
 * messages.jsonl at their end. Every byte once read at an offset is the
 * same on every later read.
 *
 * The index kept here, apart from the cache, is small: per chunk its cursor
 * and counts, per message its time (to the second) and the length of its
 * text and JSON: 8 bytes a message (0.8 MB for 100 000).
 *
 * Locking: three locks per conversation, taken in this order (internal.h
 * says what each guards): refresh_lock serialises its refreshes and
 * parallel walks (held across their requests: their single flight);
 * attr_lock, a read-write lock, is held for writing by a refresh from
 * taking new messages in until its announcement is done, and read by
 * conv_file_attr, so no new size is seen before the announcement; lock
 * guards the index and is never held across a request or a cache call.
 */
#ifndef LINKUPFS_CONV_H
#define LINKUPFS_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "../../api/api.h"
#include "../../cache/lru.h"

struct store;
struct link;

/* The most stretches a parallel walk cuts a conversation in: each is a
 * thread and a request at once, and the API allows 300 requests a minute
 * (-o parallel's range ends here). */
#define CONV_PARALLEL_MAX 16

/* Mount-wide things a conversation uses; borrowed, outlive every conv. */
struct conv_env {
	struct api *api;
	struct lru *cache; /* chunks: each costs a request to get back */
	int page_size;
	long ttl;     /* seconds before the newest page is checked again */
	int parallel; /* > 1: walk a whole conversation in that many stretches
		       * (at most CONV_PARALLEL_MAX) */
	struct store *store; /* NULL: nothing kept on disk (fs/model/keep.h) */
	struct link *link;   /* whether the API may be asked (link.h) */
	const char *account; /* names the account in the store's keys */
};

enum conv_file {
	CONV_META_JSON,	 /* conversation.json */
	CONV_TRANSCRIPT, /* transcript.txt */
	CONV_MESSAGES,	 /* messages.jsonl */
	CONV_PAGE_TXT,	 /* page-NNNN.txt */
	CONV_PAGE_JSONL, /* page-NNNN.jsonl */
};

/* The two ways a message is shown: a file is one track over a range. */
enum conv_track {
	CONV_TEXT,  /* the text format (transcript.txt, page-NNNN.txt) */
	CONV_JSONL, /* one line of JSON (messages.jsonl, page-NNNN.jsonl) */
	CONV_TRACKS
};

/* What a refresh changed, for the kernel's caches: files grow at their end
 * only, so what the kernel holds below these offsets stays right. */
struct conv_growth {
	bool anew;	/* the chain was read anew: forget everything */
	unsigned pages; /* page files before (the last may have grown) */
	unsigned now;	/* page files after */
	size_t all[CONV_TRACKS];  /* transcript / messages.jsonl size before */
	size_t last[CONV_TRACKS]; /* the last page's size before */
};

struct conv_attr {
	size_t size;
	time_t mtime;
	size_t messages; /* messages the file holds (0 for conversation.json) */
	bool final;	 /* its bytes never change again: a full page */
};

/* What the API said of the conversation (strings malloc'd, may be NULL). */
struct conv_info {
	char *conversation_id;
	char *profile_url;
	char *participant;
	long unread; /* -1 when unknown */
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
 * an inbox entry (copied); the conversation is now "in the inbox": the
 * inbox's head says when it changed (conv_refresh). True when the entry's
 * last message is newer than the one known: then, if it was listed and
 * read before, its newest page is due at the next conv_refresh. */
bool conv_set_inbox_info(struct conv *c, const struct api_inbox_entry *e);

/* Say whether the last full read of the inbox listed it (false: it checks
 * itself after the ttl). */
void conv_set_in_inbox(struct conv *c, bool in);

const char *conv_name(const struct conv *c);	    /* borrowed, constant */
unsigned conv_index(const struct conv *c);	    /* its place at the root */
const char *conv_profile_url(const struct conv *c); /* as given: constant */
const char *conv_id(const struct conv *c);	    /* as given, may be NULL */

/* A copy of what is known; free with conv_info_clear. Never blocks. */
void conv_get_info(struct conv *c, struct conv_info *out);
void conv_info_clear(struct conv_info *info);

/* Time of the newest known message (inbox or fetched); never blocks. */
time_t conv_mtime(struct conv *c);

/*
 * Who is told what a refresh changed, and when: fn runs after the new
 * messages are in (conv_file_read serves them) and before any
 * conv_file_attr may report the sizes they make, so the kernel can be
 * told to forget what it held before it can learn the new sizes. It may call
 * conv_file_read and conv_known_pages, not conv_file_attr.
 */
struct conv_announce {
	void (*fn)(void *arg, struct conv *c, const struct conv_growth *g);
	void *arg;
};

/*
 * Check the newest page when it is due (or now, with force), and take in
 * the messages that arrived. Due: for a conversation the inbox lists, when
 * an inbox read said it changed (conv_set_inbox_info); for another, when
 * the ttl has passed since its last check. The first request asks for 10
 * messages (1 credit): when nothing is new, or fewer than 10 are, that is
 * all; else the new messages are fetched by pages (about ceil(new /
 * page_size) + 1 more). Does nothing for a conversation nothing was read
 * of yet. *changed tells whether the files changed; then to (may be NULL)
 * was told how. 0 or negative errno.
 */
int conv_refresh(struct conv *c, bool force, const struct conv_announce *to,
		 bool *changed);

/* Whether conv_refresh would check now (without force). Never blocks. */
bool conv_check_due(struct conv *c);

/* Fetch the newest page unless it is known (cached, like any page).
 * Blocks for the network. 0 or negative errno: -ENOENT when the API does
 * not know the conversation, -EACCES when it refused the key or token. */
int conv_fetch_newest(struct conv *c);

/* Page files known so far, without walking. */
unsigned conv_known_pages(struct conv *c);

/* The number of page files, walking the whole chain if not yet known.
 * Blocks for the network. 0 or negative errno. */
int conv_page_count(struct conv *c, unsigned *count);

/* Size, time and message count of a file; walks the whole chain first
 * (but for conversation.json): pages are counted from the oldest message.
 * -ENOENT past the last page. */
int conv_file_attr(struct conv *c, enum conv_file kind, unsigned page,
		   struct conv_attr *out);

/* Read size bytes at off into buf, all from one state of the conversation:
 * every byte asked for up to the end of the file, or a negative errno,
 * never fewer (the kernel takes a short read for the end of the file).
 * Returns the byte count (0 at or past the end). Blocks for the network on
 * a miss. A copy of what conv_file_spans gives. */
ssize_t conv_file_read(struct conv *c, enum conv_file kind, unsigned page,
		       char *buf, size_t size, off_t off);

/* Spans a read holds in the struct itself: a read of 96 KiB (grep's) or
 * 128 KiB (cat's) crosses about a dozen chunks of 100 messages; only a
 * read of a megabyte, or one across many of the small chunks that
 * refreshes leave, needs the heap. */
#define CONV_READ_SPANS 64

/* One span of a read: whose bytes it borrows (private to view.c). */
struct conv_span {
	struct lru_ref *ref; /* the chunk body it points into, held */
	unsigned uid;
	uint32_t slot, last; /* its messages in that body */
	size_t inner;	     /* offset into the first one's bytes */
};

/*
 * A read's bytes in place: iov[0 .. n) are the bytes asked for, in order,
 * len in all, pointing into the cached chunk bodies, which stay valid (a
 * reference held on each, even if the cache evicts it) until
 * conv_read_done. For a reply that writes them out without copying them.
 */
struct conv_read {
	struct iovec *iov;
	size_t n;
	size_t len;
	/* private */
	struct conv_span *span; /* n of them, beside iov */
	size_t cap;
	char *owned; /* bytes made for this read (conversation.json) */
	struct iovec iov_in[CONV_READ_SPANS];
	struct conv_span span_in[CONV_READ_SPANS];
};

/* The bytes conv_file_read would copy, in place, into *rd (set up here,
 * whatever the result: the caller always calls conv_read_done after).
 * The byte count, or a negative errno. Blocks for the network on a miss;
 * allocates nothing but for conversation.json and past CONV_READ_SPANS. */
ssize_t conv_file_spans(struct conv *c, enum conv_file kind, unsigned page,
			size_t size, off_t off, struct conv_read *rd);

/* The same bytes as one span of their own (malloc'd copy), for a writer
 * that takes at most max spans when rd has more. 0 or -ENOMEM (rd is
 * unchanged then). */
int conv_read_flatten(struct conv_read *rd);

/* Release what rd holds; it is empty after (n and len 0). */
void conv_read_done(struct conv_read *rd);

#endif
