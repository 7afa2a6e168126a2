/*
 * fs/model/root.h - the conversations listed at the root of the mount.
 *
 * The account's inbox (paged with its cursor, the whole of it or up to
 * inbox_limit entries: INT_MAX for no cap, 0 for none),
 * then every conversation given with conversation=, each under a unique
 * directory name (fs/names.h, "-2", "-3" on a collision, in listing order so
 * names are stable for the same data). root_prime reads the inbox's first
 * page at mount, which the first listing uses instead of fetching it again;
 * a failed read is not remembered, the next use tries again.
 *
 * A conversation= entry is a conversation URN (urn:li:...), a profile URL
 * or a profile slug, all three the same way. Checked at mount, they follow
 * the inbox's first page in the listing; one the API does not know (404)
 * is left out.
 *
 * After the ttl, root_check reads the head of the inbox (sorted by recent
 * activity): pages of 10 entries (1 credit each) while every entry of one
 * is new or changed since the last read. Nothing changed: one request. A
 * changed conversation is marked due (conv_set_inbox_info), new ones
 * appear, known ones keep their names. root_load with force reads the
 * whole inbox again: conversations it no longer lists check themselves.
 * Conversations are never removed while mounted.
 *
 * Two files: root.c the table, inbox.c the reading of the inbox into it
 * (root_table.h between them).
 *
 * Locking: one mutex guards the table; it is not held while the inbox is
 * fetched (a second mutex serialises the fetches themselves, so concurrent
 * listings make one walk of the inbox). Conversations are never freed
 * before root_free once the FUSE loop runs, so pointers stay valid.
 */
#ifndef LINKUPFS_ROOT_H
#define LINKUPFS_ROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "conv.h"

struct root;

/* extra: conversation= entries (URNs, profile URLs or slugs), borrowed
 * for the life of the root. */
struct root *root_new(const struct conv_env *env, int inbox_limit,
		      char *const *extra, size_t n_extra);
void root_free(struct root *root);

/*
 * At mount, before the FUSE loop: read the inbox's first page (kept for the
 * first root_load) and the newest page of every conversation= entry,
 * leaving out those the API answers 404 for (logged, root_not_found).
 * Blocks for the network. -EACCES when the API refused the key or token
 * (err says why: the mount should fail); any other failure is logged and
 * gives 0 (the mount goes on, the listing comes when the API answers).
 */
int root_prime(struct root *root, struct api_error *err);

/* Read the whole inbox if it was not read yet (again, with force). Blocks
 * for the network. 0 or a negative errno when reading it failed. *read
 * says whether it was read (not when it was not due); *news counts what
 * the read found that the table did not show: conversations new to it,
 * conversations whose last message is newer, and conversations listed
 * before that the inbox no longer lists. */
int root_load(struct root *root, bool force, bool *read, size_t *news);

/* Whether the ttl has passed since the last read or check of the inbox.
 * Never blocks. */
bool root_check_due(struct root *root);

/* When due, check the inbox's head (see the top); *news counts the new and
 * changed conversations. Blocks for the network (one check at a time: a
 * second caller waits for the first's). 0 or a negative errno; a failed
 * check is due again after the ttl. */
int root_check(struct root *root, size_t *news);

/* What the table holds, in one snapshot. */
struct root_stats {
	size_t conversations; /* listed */
	size_t not_found;     /* conversation= entries the API does not know */
	size_t left_out;      /* by inbox_limit at the last full read: at least
				 that many, as the read stops where the cap cut */
	bool left_more;	      /* and more after them (the read stopped there) */
	bool loaded;	      /* the inbox was read once */
};

/* Never blocks. */
void root_get_stats(struct root *root, struct root_stats *out);

/* The root's mtime: its newest conversation's (conv_mtime); before the
 * first listing, the newest entry of the page root_prime read, so that it
 * is the same before and after (0: nothing known). Never blocks. */
time_t root_mtime(struct root *root);

/* Call fn for each listed conversation, in listing order, under the table
 * lock (fn must not call back into the root). Stops when fn returns
 * non-zero. */
void root_foreach(struct root *root, int (*fn)(void *arg, struct conv *c),
		  void *arg);

/* The conversation at listing position i (its conv_index), or NULL when
 * *past_end says there is none. Never blocks. */
struct conv *root_at(struct root *root, size_t i, bool *past_end);

/* The conversation with this directory name, or NULL. Never blocks:
 * loading is root_load's. */
struct conv *root_find(struct root *root, const char *name);

#endif
