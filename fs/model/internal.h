/*
 * fs/model/internal.h - the inside of a conversation, shared by the files of
 * fs/model/: conv.c (the object, chunk fills, the lazy walk), index.c (the
 * positions), chunk.c (from an answer to a chunk), refresh.c, parallel.c
 * and view.c (the files). Not a public header (conv.h is).
 */
#ifndef LINKUPFS_CONV_IMPL_H
#define LINKUPFS_CONV_IMPL_H

#include <pthread.h>

#include "conv.h"
#include "../text/names.h"

/* The lengths of a message of INDEX_LEN_BIG bytes or more in a track
 * (index.c), at its position. */
#define INDEX_LEN_BIG UINT16_MAX
struct index_big {
	size_t pos;
	uint32_t len[CONV_TRACKS];
};

/* One request of the chain. Its content never changes once fetched. */
struct chunk {
	unsigned uid;	  /* names its cache entry; unique in the conv */
	char *cursor;	  /* fetches it; NULL only for a newest chunk not yet
			     fetched (then "its newest time + 1") */
	int64_t floor_ms; /* keeps only messages newer than this */
	bool known;	  /* fetched once: the fields below hold */
	bool has_next;	  /* an older chunk follows in the chain */
	char *next_cursor;
	size_t n;	  /* messages kept */
	char **edge_urns; /* urns at its oldest time: the next chunk drops */
	size_t n_edge;	  /* them if the API repeats them */
	size_t first;	  /* position of its newest message (the next free
			     one while unknown); its slots run n-1 .. 0 */
	size_t before[CONV_TRACKS];   /* bytes of the positions before first */
	int64_t newest_ms, oldest_ms; /* its messages' times, when n > 0 */
};

/* The cached value of one chunk: one malloc'd block, the arrays and
 * bytes below pointing into it after the struct. Each track holds the kept
 * messages one after the other, oldest first: rendered text (CONV_TEXT),
 * one line of JSON each (CONV_JSONL). */
struct chunk_body {
	size_t n;
	char *bytes[CONV_TRACKS]; /* each NUL-terminated after its end */
	size_t *off[CONV_TRACKS]; /* n + 1 offsets into bytes[t] */
	int64_t *ts;		  /* n times, oldest first */
};

struct conv {
	struct conv_env env;
	unsigned index;
	char name[NAME_SIZE];
	char *id;	   /* as given (inbox or option); may be NULL */
	char *profile_url; /* as given, may be NULL; never changes (root.c
			      reads it under its own lock, not this one's) */

	/* One refresh (or parallel walk) at a time, held across its requests:
	 * the deliberate exception to "no lock across the network"
	 * (STYLE.md). It is the check's single flight: a second caller due
	 * for the same check waits for the first's answer instead of asking
	 * again. Whether a check is due is read under lock first
	 * (refresh_due), so an access with nothing due never waits for it.
	 * Taken before lock, never inside it. */
	pthread_mutex_t refresh_lock;
	/* Held for writing by a refresh from the moment it takes new
	 * messages in until its announcement (conv_announce) is done; sizes
	 * are read under it (conv_file_attr). So the kernel learns a new size
	 * only after it was told to forget the pages from the old end (a
	 * growing file is read through us, but a MAP_PRIVATE mapping may
	 * have put its pages in the kernel's cache). Taken after
	 * refresh_lock, before lock; never by a read. */
	pthread_rwlock_t attr_lock;
	/* Orders this conversation's chain records on their way to the store
	 * (keep_chain_sync): taken before lock, held while a record is put,
	 * never by a reader that has nothing to keep. */
	pthread_mutex_t keep_lock;
	pthread_mutex_t lock; /* guards everything below */
	char *participant;
	char *headline;
	long inbox_unread;
	int64_t inbox_last_ms;
	bool have_meta; /* the newest chunk was fetched: the fields below hold
			 */
	char *api_profile_url; /* the API's, when none was given */
	char *api_id;
	long unread_count;
	long other_count;
	long total_count; /* v2 total_message_count; -1: not given */
	char *last_seen_message;
	int64_t last_seen_at;

	struct chunk *chunks; /* newest first; all known but maybe the last */
	size_t n_chunks;
	unsigned next_uid;
	/* per message by position, newest first (index.c): its time in
	 * whole seconds and its bytes in each track (INDEX_LEN_BIG: as many
	 * or more, the number in big, by position; 8 bytes a message) */
	uint32_t *sec;
	uint16_t *len[CONV_TRACKS];
	struct index_big *big;
	size_t n_big, cap_big;
	size_t n_pos, cap_pos;
	bool restored;	       /* the store was asked for the chain (keep.h) */
	bool chain_dirty;      /* changed since the store was given it */
	int64_t kept_inbox_ms; /* the inbox's time when the chain was kept */
	unsigned gen;	       /* bumped by a refresh that changed the files */
	long long last_check_ms; /* monotonic ms of the last newest check */
	/* Listed by the last inbox read: the root's check of the inbox's
	 * head is its check (stale: the inbox says it changed since its
	 * newest page was read); else it checks itself after the ttl. */
	bool in_inbox;
	bool stale;
};

/* What one answer gives: messages that are neither repeats of the newer
 * chunk's oldest ones nor at or below floor. */
struct taken {
	struct api_message *kept; /* shallow copies, newest first */
	size_t n;
	bool hit_floor; /* the answer reached known messages */
};

/* fs/chunk.c: from an answer to a chunk. */
int chunk_take(const struct api_page *page, char *const *prev, size_t n_prev,
	       int64_t floor, struct taken *t);
void chunk_taken_free(struct taken *t);
/* The body of the kept messages (oldest first), or NULL (no memory). */
struct chunk_body *chunk_body_build(const struct taken *t);
void chunk_body_free(void *value);
/* A body of n messages with room for len[t] bytes per track (the arrays
 * and bytes uninitialised), or NULL. */
struct chunk_body *chunk_body_alloc(size_t n, const size_t len[CONV_TRACKS]);
/* Point the arrays and bytes of b (its n set) into the block after it,
 * laid out for len[t] bytes per track. */
void chunk_body_point(struct chunk_body *b, const size_t len[CONV_TRACKS]);
/* The bytes it holds: its block's real size. */
size_t chunk_body_cost(const struct chunk_body *b);
/* Why the chain cannot go on after this answer, or NULL when it can. */
const char *chunk_chain_fault(const struct api_page *page,
			      const struct taken *t, const char *cursor,
			      size_t chunk_no);
/* Whether an older chunk follows this answer in the chain. */
bool chunk_more_after(const struct api_page *page, const struct taken *t);
/* The urns of the kept messages at the oldest time (malloc'd array). */
char **chunk_edge_urns(const struct taken *t, size_t *n_edge);
/* A cursor is a time in ms as a decimal string ("the messages older than
 * it"): the cursor of ms (malloc'd), and the time of a cursor (false when
 * it is not one). */
char *chunk_cursor_of(int64_t ms);
bool chunk_time_of(const char *cursor, int64_t *ms);

/* Which conversation the API is asked for: its id when known, else its
 * profile URL (borrowed from c, constant). */
static inline struct api_conv_ref conv_ref(const struct conv *c)
{
	return (struct api_conv_ref){c->id, c->id ? NULL : c->profile_url};
}

/* The profile URL given, else the API's (NULL if neither). Caller holds
 * lock. */
static inline const char *conv_url_known(const struct conv *c)
{
	return c->profile_url ? c->profile_url : c->api_profile_url;
}

/* One request of the chain, as chunk_fetch asks it (all borrowed). */
struct chunk_ask {
	const char *cursor; /* NULL: the newest page */
	int64_t floor;	    /* keeps only messages newer than this */
	char *const *prev;  /* urns the answer may repeat of the newer chunk */
	size_t n_prev;
	size_t chunk_no;  /* its place in the walk (log, guard), from 0 */
	size_t known_n;	  /* SIZE_MAX on a first fetch, else the count of
			     messages it held then */
	const char *what; /* log prefix: "" or "refresh: " */
	int size;	  /* total_results asked; 0: page_size */
};

/*
 * The one path that fetches a chunk: ask the API, keep the messages that
 * are new (chunk_take), check the answer (the chain guards on a first
 * fetch; the same count on a fetch again), render the body. On success *k
 * describes the chunk (known, its count, the cursor that fetches it again,
 * next_cursor and edge urns: owned, chunk_clear frees them), *body is its
 * body and *page the answer (both the caller's). Logs a failure once.
 * Blocks for the network. 0 or negative errno.
 */
int chunk_fetch(struct conv *c, const struct chunk_ask *a, struct chunk *k,
		struct chunk_body **body, struct api_page **page);

/* Free an array of n strings, and a chunk's strings (zeroing it). */
void chunk_strv_free(char **v, size_t n);
void chunk_clear(struct chunk *k);

/*
 * A stretch of the chain, walked one request after the other: from cursor
 * (NULL: the newest page) on, keeping the messages newer than floor, until
 * the chain ends, the floor is reached, or max chunks were taken (then
 * more_left). What the refresh and the parallel walk are made of.
 */
struct stretch {
	struct conv *c;
	char *cursor;  /* its first request (owned), NULL for the newest */
	int64_t floor; /* keeps messages newer than this */
	char **prev;   /* urns the first answer may repeat (borrowed) */
	size_t n_prev;
	size_t max;	      /* chunks at most; 0: as many as the chain has */
	int size;	      /* total_results of each request; 0: page_size */
	const char *what;     /* log prefix, "" or "refresh: " */
	struct chunk *chunks; /* what it found, newest first */
	struct chunk_body **bodies;
	size_t n, cap;
	size_t n_msgs;		/* messages kept in all */
	struct api_page *first; /* the first answer: the metadata */
	bool more_left;
	int err;	  /* 0 or the negative errno that ended the walk */
	pthread_t thread; /* for the caller's use */
};

/* Walk s (blocks for the network); the result is in s->err. */
void stretch_walk(struct stretch *s);
/* Free what s holds (what was handed over is NULL or zeroed). */
void stretch_free(struct stretch *s);

/* index.c: the index. Caller holds lock. The chunk with uid (-1 when the
 * chain no longer has it); the bytes per track of the chunks before ci;
 * room for the messages of n bodies (positions doubling, exact once the
 * chain is complete, index_fit; an entry apart for each big one); the
 * messages of body as chunk ci, after the known ones; the chunk the chain
 * continues with (cursor copied); new arrays with room for the messages
 * of n bodies in front of the known positions. */
long index_find_chunk(const struct conv *c, unsigned uid);
void index_bytes_to_chunk(const struct conv *c, size_t ci,
			  size_t out[CONV_TRACKS]);
int index_reserve(struct conv *c, const struct chunk_body *const *b, size_t n);
void index_fit(struct conv *c);
void index_append(struct conv *c, size_t ci, const struct chunk_body *b);
int index_append_chunk(struct conv *c, const char *cursor, int64_t floor);
int index_shift(struct conv *c, const struct chunk_body *const *b, size_t n);

/* What the newest page says of the conversation (its metadata). Caller
 * holds lock. */
void conv_record_meta(struct conv *c, const struct api_page *page);

/* Whether the whole chain is known. Caller holds lock. */
bool conv_complete(const struct conv *c);

/* The index, by position (newest first). Caller holds lock. The chunk
 * holding position p < n_pos; bytes of track t of positions [0, p); the
 * largest position p with index_bytes_before(t, p) < y, for
 * 0 < y <= index_bytes_before(t, n_pos), and *at = index_bytes_before(t, p). */
size_t index_chunk_of(const struct conv *c, size_t p);
size_t index_bytes_before(const struct conv *c, enum conv_track t, size_t p);
size_t index_pos_of_byte(const struct conv *c, enum conv_track t, size_t y,
			 size_t *at);
/* The times of the newest and the oldest message known, in ms (INT64_MIN
 * when none is); that of position p < n_pos, in whole seconds. Caller
 * holds lock. */
int64_t index_newest_ms(const struct conv *c);
int64_t index_oldest_ms(const struct conv *c);
time_t index_time_of(const struct conv *c, size_t p);
/* The bytes of track t of the message at position p < n_pos. */
size_t index_len(const struct conv *c, enum conv_track t, size_t p);

/* A reference to the body of chunks[i] (by uid), fetching on a miss. */
int conv_chunk_get(struct conv *c, unsigned uid, struct lru_ref **ref);

/* Walk until at least need messages are known or the chain ends. */
int conv_walk(struct conv *c, size_t need);

/* parallel.c: walk the rest of the chain in env.parallel stretches at
 * once. 0 or a negative errno; *walked false when it does not apply (the
 * caller then walks one request after the other). Caller holds
 * refresh_lock. */
int conv_walk_parallel(struct conv *c, bool *walked);

/* Put n fetched chunks (and their bodies) in place of the last chunk if its
 * uid is still expect_uid and it is still unknown. Takes what it is given
 * (chunks[] fields and bodies) on success; -EAGAIN when the chain moved. */
int conv_splice(struct conv *c, unsigned expect_uid, struct chunk *chunks,
		struct chunk_body **bodies, size_t n);

/* Cache a body made elsewhere under the chunk uid (takes it). */
void conv_publish(struct conv *c, unsigned uid, struct chunk_body *body);

#endif
