/*
 * fs/fuse/inval.c - kernel cache invalidation, by inode number (node.h).
 */
#include "inval.h"

#include "node.h"

static fuse_ino_t ino_of_conv(unsigned conv)
{
	struct node_id id = {.kind = NODE_CONV, .conv = conv};

	return node_ino(&id);
}

static fuse_ino_t ino_of_file(unsigned conv, enum conv_file file, unsigned page)
{
	struct node_id id = {
		.kind = NODE_FILE, .conv = conv, .file = file, .page = page};

	return node_ino(&id);
}

void inval_ino(struct fuse_session *se, fuse_ino_t ino)
{
	/* -ENOENT: the kernel never looked it up, so it caches nothing */
	if (se)
		fuse_lowlevel_notify_inval_inode(se, ino, 0, 0);
}

/* Bytes from off on of one file (its attributes too); what the kernel
 * holds below off stays, since files only grow at their end. */
static void inval_from(struct fuse_session *se, fuse_ino_t ino, size_t off)
{
	if (se)
		fuse_lowlevel_notify_inval_inode(se, ino, (off_t)off, 0);
}

void inval_conv(struct fuse_session *se, struct conv *c,
		const struct conv_growth *g)
{
	unsigned i = conv_index(c), from = g->pages ? g->pages : 1;
	unsigned last = g->anew ? conv_known_pages(c) : g->now;
	fuse_ino_t dir = ino_of_conv(i);

	if (g->anew) { /* read anew: nothing known of what it was */
		from = 1;
		last = last > g->pages ? last : g->pages;
	}
	inval_from(se, ino_of_file(i, CONV_TRANSCRIPT, 0), g->all[CONV_TEXT]);
	inval_from(se, ino_of_file(i, CONV_MESSAGES, 0), g->all[CONV_JSONL]);
	inval_ino(se, ino_of_file(i, CONV_META_JSON, 0));
	for (unsigned p = from; p <= last; p++) {
		bool grew = p == g->pages && !g->anew;

		inval_from(se, ino_of_file(i, CONV_PAGE_TXT, p),
			   grew ? g->last[CONV_TEXT] : 0);
		inval_from(se, ino_of_file(i, CONV_PAGE_JSONL, p),
			   grew ? g->last[CONV_JSONL] : 0);
	}
	inval_ino(se, dir);
	inval_ino(se, FUSE_ROOT_ID);
}

void inval_root(struct fuse_session *se, struct root *root)
{
	struct conv *c;
	bool end = false;

	inval_ino(se, FUSE_ROOT_ID);
	for (size_t i = 0; !end; i++) {
		c = root_at(root, i, &end);
		if (!c)
			continue;
		inval_ino(se, ino_of_file((unsigned)i, CONV_META_JSON, 0));
		inval_ino(se, ino_of_conv((unsigned)i));
	}
}
