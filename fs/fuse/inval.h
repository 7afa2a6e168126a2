/*
 * fs/fuse/inval.h - tell the kernel to forget what it cached of what changed.
 *
 * The kernel keeps the pages of every file that never changes again, and
 * every directory's listing, until their attributes expire (the ttl) or it
 * is told here; files that may still change are read through us (ll_open
 * in fs.c). Each change is announced by the callback
 * that made it, before it replies, so the next system call sees it.
 *
 * Never from a read of one of the files announced: the kernel holds that
 * file's pages locked while it waits for the read's answer.
 */
#ifndef LINKUPFS_INVAL_H
#define LINKUPFS_INVAL_H

#include <fuse_lowlevel.h>

#include "../model/conv.h"
#include "../model/root.h"

/* One inode: its attributes, its bytes or listing. */
void inval_ino(struct fuse_session *se, fuse_ino_t ino);

/* A refreshed conversation, as g says it grew (conv_refresh's
 * announcement, before any new size can be read): each file that grew is
 * forgotten from the page that held its old end (the pages below never
 * change), and its attributes; conversation.json, its directory, and the root
 * (whose mtime is its newest conversation's) are forgotten. Not the names of
 * new pages: announcing a name locks its directory, which the callback that
 * refreshes may hold (a lookup in it); a name the kernel took for missing
 * comes back after NEGATIVE_TIMEOUT (fs/fuse/fs.c). */
void inval_conv(struct fuse_session *se, struct conv *c,
		const struct conv_growth *g);

/* A re-read inbox: the root's listing, and each conversation's directory
 * and conversation.json (the inbox gives their times and unread counts). */
void inval_root(struct fuse_session *se, struct root *root);

#endif
