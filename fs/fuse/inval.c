/*
 * fs/fuse/inval.c - kernel cache invalidation, by inode number (node.h).
 */
#include "inval.h"

#include <errno.h>
#include <stdlib.h>

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

/* Bytes from off on of one file (its attributes too). */
static void inval_from(struct fuse_session *se, fuse_ino_t ino, size_t off)
{
	if (se)
		fuse_lowlevel_notify_inval_inode(se, ino, (off_t)off, 0);
}

/* Bytes given to the kernel at once, at most. */
#define STORE_PIECE (128 * 1024)

/*
 * A file that grew from old bytes: give the kernel its bytes from the page
 * that held its old end, so that page, if the kernel holds it zero-filled
 * past that end, is right before the kernel can learn the new size (the
 * store also sets it). The pages below never change. When the bytes cannot
 * be had (a chunk evicted and its refetch failed), forget from that page.
 */
static void grow(struct fuse_session *se, struct conv *c, enum conv_file kind,
		 unsigned page, size_t old)
{
	fuse_ino_t ino = ino_of_file(conv_index(c), kind, page);
	size_t off = old - old % 4096;
	char *buf = se ? malloc(STORE_PIECE) : NULL;
	ssize_t got = -ENOMEM;

	while (buf && (got = conv_file_read(c, kind, page, buf, STORE_PIECE,
					    (off_t)off)) > 0) {
		struct fuse_bufvec v = FUSE_BUFVEC_INIT((size_t)got);

		v.buf[0].mem = buf;
		if (fuse_lowlevel_notify_store(se, ino, (off_t)off, &v, 0) < 0)
			break; /* the kernel never looked it up: nothing held */
		off += (size_t)got;
	}
	free(buf);
	if (got < 0)
		inval_from(se, ino, off);
	else if (se) /* the new size and time: attributes only */
		fuse_lowlevel_notify_inval_inode(se, ino, -1, 0);
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
