/*
 * fs/fuse/node.h - what an inode number names, and the names of a
 * conversation's files: the one codec of both.
 *
 * The number says it all, so no table of inodes is kept and the kernel's
 * forget has nothing to undo: 1 is the root, 2 .stats; a conversation's
 * directory is its place at the root + 1 in the high 32 bits, and its files
 * add a code in the low ones, one row each of the table in node.c
 * (1 conversation.json, 2 transcript.txt, 3 messages.jsonl), then 2p + 2
 * for page-p.txt and 2p + 3 for page-p.jsonl. Numbers stay the same for the
 * life of the mount (conversations keep their place, see root.h), and so
 * does what they name: pages count from the oldest.
 *
 * Pure: no state, no lock, nothing of the model but its enum conv_file.
 */
#ifndef LINKUPFS_NODE_H
#define LINKUPFS_NODE_H

#include <fuse_lowlevel.h>

#include "../model/conv.h"

#define INO_STATS 2
#define NODE_MAX_PAGE 999999u

enum node_kind { NODE_ROOT, NODE_STATS, NODE_CONV, NODE_FILE };

/* What an inode names, by numbers only. */
struct node_id {
	enum node_kind kind;
	unsigned conv;	     /* NODE_CONV, NODE_FILE: its place at the root */
	enum conv_file file; /* NODE_FILE */
	unsigned page;	     /* page files: 1 is the oldest; else 0 */
};

/* The inode number of id. */
fuse_ino_t node_ino(const struct node_id *id);

/* What ino names, or -ENOENT when it names nothing. */
int node_from_ino(fuse_ino_t ino, struct node_id *id);

/* The name of a conversation's file id into buf (at least 32 bytes). */
void node_file_name(const struct node_id *id, char *buf, size_t size);

/* The file of conversation conv that name names (-ENOENT for none). */
int node_file_from_name(unsigned conv, const char *name, struct node_id *id);

/* The k-th file (from 0) of conversation conv with pages page files, in
 * listing order; -ENOENT past the last. */
int node_file_at(unsigned conv, unsigned pages, size_t k, struct node_id *id);

#endif
