/*
 * fs/inval.c - kernel cache invalidation, by inode number (fs/node.h).
 */
#include "inval.h"

#include "node.h"

void inval_ino(struct fuse_session *se, fuse_ino_t ino)
{
	/* -ENOENT: the kernel never looked it up, so it caches nothing */
	if (se)
		fuse_lowlevel_notify_inval_inode(se, ino, 0, 0);
}

void inval_conv(struct fuse_session *se, struct conv *c)
{
	unsigned pages = conv_known_pages(c), i = conv_index(c);

	inval_ino(se, ino_of_file(i, CONV_TRANSCRIPT, 0));
	inval_ino(se, ino_of_file(i, CONV_META_JSON, 0));
	for (unsigned p = 1; p <= pages; p++) {
		inval_ino(se, ino_of_file(i, CONV_PAGE_TXT, p));
		inval_ino(se, ino_of_file(i, CONV_PAGE_JSON, p));
	}
	inval_ino(se, ino_of_conv(i));
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
