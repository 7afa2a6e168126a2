/*
 * fs/root.h - the conversations listed at the root of the mount.
 *
 * The account's inbox (paged with its cursor up to inbox_limit entries),
 * then every conversation given with conversation=, each under a unique
 * directory name (fs/names.h, "-2", "-3" on a collision, in listing order so
 * names are stable for the same data). The inbox is read on first use, not
 * at mount time; a failed read is not remembered, the next use tries again.
 *
 * After the ttl, the next listing reads the inbox again: new conversations
 * appear, known ones keep their names. mkdir adds a conversation by profile
 * slug, rmdir takes such a one away again (nothing remote changes).
 *
 * Locking: one mutex guards the table; it is not held while the inbox is
 * fetched (a second mutex serialises the fetches themselves, so concurrent
 * listings make one walk of the inbox). Conversations are never freed
 * before root_free: a removed one is only hidden, so pointers stay valid.
 */
#ifndef LINKUPFS_ROOT_H
#define LINKUPFS_ROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "conv.h"

struct root;

/* extra: conversation ids or profile URLs (conversation= options),
 * borrowed for the life of the root. */
struct root *root_new(const struct conv_env *env, int inbox_limit,
		      char *const *extra, size_t n_extra);
void root_free(struct root *root);

/* Read the inbox if it was not read yet, or again when the ttl passed
 * since (now, with force). Blocks for the network. 1 when it was read,
 * 0 when it was not due, a negative errno when reading it failed. */
int root_load(struct root *root, bool force);

/* The inbox was read once. Never blocks. */
bool root_loaded(struct root *root);

/* The number of conversations listed. Never blocks. */
size_t root_count(struct root *root);

/* Call fn for each listed conversation, in listing order, under the table
 * lock (fn must not call back into the root). Stops when fn returns
 * non-zero. */
void root_foreach(struct root *root, int (*fn)(void *arg, struct conv *c),
		  void *arg);

/* mkdir: list the conversation with profile URL url under name. -EEXIST
 * when the name or the URL is listed already. *out is borrowed. */
int root_add(struct root *root, const char *name, const char *url,
	     struct conv **out);

/* rmdir: stop listing a conversation root_add listed; -EPERM for one from
 * the inbox or the options, -ENOENT for an unknown name. */
int root_remove(struct root *root, const char *name);

/* The conversation at listing position i (its conv_index), or NULL when
 * rmdir took it away or *past_end says there is none. Never blocks. */
struct conv *root_at(struct root *root, size_t i, bool *past_end);

/* The conversation with this directory name, or NULL. Never blocks:
 * loading is root_load's. */
struct conv *root_find(struct root *root, const char *name);

#endif
