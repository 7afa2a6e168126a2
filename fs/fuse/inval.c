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

/*
 * A file that grew from old bytes. It is read through us (FOPEN_DIRECT_IO,
 * see ll_open), so the kernel holds its pages only for a MAP_PRIVATE
 * mapping: forget them from the page that held the old end (the pages
 * below never change), and the attributes, so the new size is asked for.
 */
static void grow(struct fuse_session *se, struct conv *c, enum conv_file kind,
		 unsigned page, size_t old)
{
	fuse_ino_t ino = ino_of_file(conv_index(c), kind, page);

	if (se)
		fuse_lowlevel_notify_inval_inode(se, ino,
						 (off_t)(old - old % 4096), 0);
}

void inval_conv(struct fuse_session *se, struct conv *c,
		const struct conv_growth *g)
{
	unsigned i = conv_index(c), last = g->now;
	fuse_ino_t dir = ino_of_conv(i);

	inval_ino(se, ino_of_file(i, CONV_META_JSON, 0));
	inval_ino(se, dir);
	inval_ino(se, FUSE_ROOT_ID);
	if (g->anew) { /* read anew: nothing known of what it was */
		last = conv_known_pages(c);
		if (g->pages > last)
			last = g->pages;
		inval_ino(se, ino_of_file(i, CONV_TRANSCRIPT, 0));
		inval_ino(se, ino_of_file(i, CONV_MESSAGES, 0));
		for (unsigned p = 1; p <= last; p++) {
			inval_ino(se, ino_of_file(i, CONV_PAGE_TXT, p));
			inval_ino(se, ino_of_file(i, CONV_PAGE_JSONL, p));
		}
		return;
	}
	grow(se, c, CONV_TRANSCRIPT, 0, g->all[CONV_TEXT]);
	grow(se, c, CONV_MESSAGES, 0, g->all[CONV_JSONL]);
	if (g->pages) { /* the last page before may have grown */
		grow(se, c, CONV_PAGE_TXT, g->pages, g->last[CONV_TEXT]);
		grow(se, c, CONV_PAGE_JSONL, g->pages, g->last[CONV_JSONL]);
	}
	for (unsigned p = g->pages + 1; p <= last;
	     p++) { /* new: no bytes held */
		inval_ino(se, ino_of_file(i, CONV_PAGE_TXT, p));
		inval_ino(se, ino_of_file(i, CONV_PAGE_JSONL, p));
	}
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
