/*
 * fs/root.h - the conversations listed at the root of the mount.
 *
 * The account's inbox (paged with its cursor up to inbox_limit entries),
 * then every conversation given with conversation=, each under a unique
 * directory name (fs/names.h, "-2", "-3" on a collision, in listing order so
 * names are stable for the same data). The inbox is read on first use, not
 * at mount time; a failed read is not remembered, the next use tries again.
 *
 * Locking: one mutex guards the table; it is not held while the inbox is
 * fetched (a second mutex serialises the fetches themselves, so concurrent
 * first listings make one walk of the inbox).
 */
#ifndef LINKUPFS_ROOT_H
#define LINKUPFS_ROOT_H

#include <stddef.h>

#include "conv.h"

struct root;

/* extra: conversation ids or profile URLs (conversation= options),
 * borrowed for the life of the root. */
struct root *root_new(const struct conv_env *env, int inbox_limit,
		      char *const *extra, size_t n_extra);
void root_free(struct root *root);

/* Read the inbox if it was not read yet. Blocks for the network. */
int root_load(struct root *root);

/* The number of conversations and the i-th one (borrowed, valid until
 * root_free); root_load first. */
size_t root_count(struct root *root);
struct conv *root_at(struct root *root, size_t i);

/* The conversation with this directory name, or NULL; loads first.
 * *err is set to a negative errno when loading failed (else 0). */
struct conv *root_find(struct root *root, const char *name, int *err);

#endif
