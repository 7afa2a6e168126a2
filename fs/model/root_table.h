/*
 * fs/model/root_table.h - the inside of the root, shared by its two files:
 * root.c (the table of conversations and its names) and inbox.c (the
 * reading of the inbox into it: full reads, checks of the head,
 * conversation= entries). Not a public header (root.h is).
 */
#ifndef LINKUPFS_ROOT_TABLE_H
#define LINKUPFS_ROOT_TABLE_H

#include <pthread.h>

#include "root.h"

/* One listed conversation. */
struct root_slot {
	struct conv *conv;
	unsigned seen; /* the last full read that listed it (0: none) */
	bool listed;   /* the last read or check of the inbox listed it */
};

struct root {
	struct conv_env env;
	int inbox_limit;
	char *const *extra;
	size_t n_extra;

	/* Serialises inbox walks, and is held across their requests: the
	 * deliberate exception to "no lock across the network" (STYLE.md).
	 * It is the walk's single flight: a second caller due for the same
	 * re-read waits for the first's result instead of asking the API
	 * again; the listing itself is read under lock, never this one, so
	 * nothing that is cached waits for it. Taken before lock. */
	pthread_mutex_t load_lock;
	pthread_mutex_t lock; /* guards the fields below */
	bool loaded;
	long long loaded_at_ms; /* monotonic ms of the last read or check */
	struct root_slot *slots;
	size_t n_convs, cap;
	unsigned reads;	  /* full reads begun */
	size_t n_inbox;	  /* conversations taken from the inbox */
	size_t left_out;  /* by inbox_limit at the last full read, at least */
	bool left_more;	  /* and more after them */
	size_t not_found; /* conversation= entries the API denies */
	/* set before the FUSE loop starts, then read under load_lock: */
	struct api_inbox_page *primed; /* the inbox's first page, from
					  root_prime, for the first load */
	int64_t primed_ms; /* its newest listed entry's time: the root's
			      mtime until then (never written again) */
	bool extras_done;  /* the conversation= entries were added */
};

/* root.c, the table. Caller holds lock. The conversation already listed
 * under id or URL (either may be NULL), or NULL. */
struct conv *root_find_known(const struct root *root, const char *id,
			     const char *url);
/* Add a conversation under a unique name: its slot, or NULL (no memory). */
struct root_slot *root_add(struct root *root, const char *id, const char *url);
/* The slot of conversation c. */
struct root_slot *root_slot_of(struct root *root, const struct conv *c);

#endif
