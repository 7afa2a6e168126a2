/*
 * fs/node.h - what an inode number names.
 *
 * The number says it all, so no table of inodes is kept and the kernel's
 * forget has nothing to undo: 1 is the root, 2 .stats; a conversation's
 * directory is its place at the root + 1 in the high 32 bits, and its files
 * add a code in the low ones: 1 conversation.json, 2 transcript.txt,
 * 3 messages.jsonl, 2p + 2 page-p.txt, 2p + 3 page-p.jsonl. Numbers stay
 * the same for the life of the mount (conversations keep their place, see
 * root.h), and so does what they name: pages count from the oldest.
 */
#ifndef LINKUPFS_NODE_H
#define LINKUPFS_NODE_H

#include <fuse_lowlevel.h>

#include "../model/conv.h"

#define INO_STATS 2
#define NODE_MAX_PAGE 999999u

enum node_kind { NODE_ROOT, NODE_STATS, NODE_CONV, NODE_FILE };

/* conv is borrowed from the root table. */
struct node {
	enum node_kind kind;
	struct conv *conv;
	enum conv_file file;
	unsigned page; /* pages only: 1 is the oldest */
};

static inline fuse_ino_t ino_of_file(unsigned index, enum conv_file file,
				     unsigned page)
{
	fuse_ino_t code = 2 * (fuse_ino_t)page + 2; /* page-p.txt */

	if (file == CONV_META_JSON)
		code = 1;
	else if (file == CONV_TRANSCRIPT)
		code = 2;
	else if (file == CONV_MESSAGES)
		code = 3;
	else if (file == CONV_PAGE_JSONL)
		code++;
	return (((fuse_ino_t)index + 1) << 32) | code;
}

static inline fuse_ino_t ino_of_conv(unsigned index)
{
	return ((fuse_ino_t)index + 1) << 32;
}

static inline fuse_ino_t ino_of(const struct node *n)
{
	if (n->kind == NODE_ROOT)
		return FUSE_ROOT_ID;
	if (n->kind == NODE_STATS)
		return INO_STATS;
	if (n->kind == NODE_CONV)
		return ino_of_conv(conv_index(n->conv));
	return ino_of_file(conv_index(n->conv), n->file, n->page);
}

#endif
