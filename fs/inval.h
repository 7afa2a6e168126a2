/*
 * fs/inval.h - tell the kernel to forget what it cached of files whose
 * content changed (a refresh), from a thread of its own: a notification
 * sent from inside a callback for the same file could deadlock the kernel.
 */
#ifndef LINKUPFS_INVAL_H
#define LINKUPFS_INVAL_H

#include <fuse.h>

#include "conv.h"

struct invalidator;

/* Start the thread; NULL on failure (then nothing is invalidated). */
struct invalidator *inval_start(struct fuse *f);

/* Queue a conversation (its directory and every file) or the root.
 * Never blocks on the kernel. inval_*(NULL, ...) is a no-op. */
void inval_conv(struct invalidator *iv, struct conv *c);
void inval_root(struct invalidator *iv);

/* Tell the kernel now, in the calling thread, to forget the cached
 * attributes and bytes of a conversation's files (its directory and the
 * root follow on the thread): before a refresh's caller returns, no stale
 * byte or size is left. Not for a thread serving a read of those files. */
void inval_conv_now(struct invalidator *iv, struct conv *c);

/* Stop the thread (what is queued is dropped) and free. NULL is a no-op. */
void inval_stop(struct invalidator *iv);

#endif
