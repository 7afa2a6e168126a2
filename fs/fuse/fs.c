/*
 * fs/fuse/fs.c - the FUSE callbacks, on libfuse's low-level API: an inode
 * number names a node (node.h); answers come from the conversation model.
 * Nothing is kept per open file or per inode the kernel holds.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "../text/buf.h"
#include "inval.h"
#include "../log.h"
#include "../text/names.h"

/* Seconds the kernel keeps a name that does not exist. */
#define NEGATIVE_TIMEOUT 1.0

/* The request this thread serves, for fs_interrupted. */
static __thread fuse_req_t current_req;

bool fs_interrupted(void)
{
	return current_req && fuse_req_interrupted(current_req);
}

static struct lfs *begin(fuse_req_t req)
{
	current_req = req;
	return fuse_req_userdata(req);
}

/* What the checks found (fs/model/check.h), told to the kernel. */
static void announce_conv(void *arg, struct conv *c,
			  const struct conv_growth *g)
{
	struct lfs *fs = arg;

	inval_conv(fs->se, c, g);
}

static void announce_root(void *arg)
{
	struct lfs *fs = arg;

	inval_root(fs->se, fs->root);
}

struct check_announce fs_announce(struct lfs *fs)
{
	return (struct check_announce){announce_conv, announce_root, fs};
}

/* The first listing of the root, read once, and told to the kernel. */
static int list_root(struct lfs *fs)
{
	bool read;
	size_t news;
	int r = root_load(fs->root, false, &read, &news);

	if (read)
		inval_root(fs->se, fs->root);
	return r;
}

/* A check when due, for the callbacks that look (lookup, getattr,
 * readdir), beside them (fs/model/check.h): what it finds is announced, a
 * failure leaves what is cached. */
static void freshen(struct lfs *fs, const struct node *n)
{
	struct root_stats rs;

	if (n->id.kind == NODE_ROOT) {
		root_get_stats(fs->root, &rs);
		if (rs.loaded)
			check_freshen(fs->checker, NULL);
	} else if (n->conv) {
		check_freshen(fs->checker, n->conv);
	}
}

/* What ino names, its conversation looked up. fresh: check for news
 * first (a lookup, a getattr, a listing); a read takes what is there, as
 * its file was looked up. */
static int node_of(struct lfs *fs, fuse_ino_t ino, struct node *n, bool fresh)
{
	bool end;
	int r = node_from_ino(ino, &n->id);

	n->conv = NULL;
	if (r < 0)
		return r;
	if (n->id.kind == NODE_CONV || n->id.kind == NODE_FILE) {
		n->conv = root_at(fs->root, n->id.conv, &end);
		if (!n->conv)
			return -ENOENT;
	}
	if (fresh)
		freshen(fs, n);
	return 0;
}

/* The child name of parent. */
static int node_lookup(struct lfs *fs, fuse_ino_t parent, const char *name,
		       struct node *n)
{
	int r = node_of(fs, parent, n, false);

	if (r < 0)
		return r;
	if (strlen(name) >= NAME_SIZE)
		return -ENAMETOOLONG;
	if (n->id.kind == NODE_CONV) {
		freshen(fs, n);
		return node_file_from_name(n->id.conv, name, &n->id);
	}
	if (n->id.kind != NODE_ROOT)
		return -ENOTDIR;
	if (strcmp(name, ".stats") == 0) {
		n->id.kind = NODE_STATS;
		return 0;
	}
	r = list_root(fs); /* the first listing */
	if (r < 0)
		return r;
	n->conv = root_find(fs->root, name);
	if (!n->conv) { /* new since the last check? */
		freshen(fs, n);
		n->conv = root_find(fs->root, name);
	}
	if (!n->conv)
		return -ENOENT;
	n->id = (struct node_id){.kind = NODE_CONV,
				 .conv = conv_index(n->conv)};
	freshen(fs, n); /* the inbox's head too, when due */
	return 0;
}

static void fill_stat(struct lfs *fs, struct stat *st, bool dir, size_t size,
		      time_t mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444;
	st->st_nlink = dir ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	/* from the messages only (an empty conversation's is the epoch):
	 * the same on every mount */
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

/* The end of every callback. */
static void done(struct lfs *fs, const struct node *n)
{
	(void)fs;
	(void)n;
	current_req = NULL;
}

static int node_stat(struct lfs *fs, const struct node *n, struct stat *st)
{
	struct conv_attr a;
	size_t size;
	int r = 0;

	switch (n->id.kind) {
	case NODE_ROOT:
		fill_stat(fs, st, true, 0, root_mtime(fs->root));
		break;
	case NODE_STATS:
		r = fs_stats_size(fs, &size);
		fill_stat(fs, st, false, size, time(NULL));
		break;
	case NODE_CONV:
		fill_stat(fs, st, true, 0, conv_mtime(n->conv));
		break;
	case NODE_FILE:
		r = conv_file_attr(n->conv, n->id.file, n->id.page, &a);
		fill_stat(fs, st, false, a.size, a.mtime);
		break;
	}
	st->st_ino = node_ino(&n->id);
	return r;
}

/* Seconds the kernel may keep n's attributes: none for .stats, whose
 * size is its snapshot's (stats.c). */
static double attr_timeout(const struct lfs *fs, const struct node *n)
{
	return n->id.kind == NODE_STATS ? 0.0 : (double)fs->ttl;
}

/* Answer a lookup with n's entry, or its error. */
static void reply_entry(fuse_req_t req, struct lfs *fs, const struct node *n,
			int r)
{
	struct fuse_entry_param e = {0};

	if (r == 0)
		r = node_stat(fs, n, &e.attr);
	done(fs, n);
	if (r == -ENOENT) {
		e.entry_timeout =
			NEGATIVE_TIMEOUT; /* ino 0: a negative entry */
		fuse_reply_entry(req, &e);
	} else if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		e.ino = e.attr.st_ino;
		e.entry_timeout = (double)fs->ttl;
		e.attr_timeout = attr_timeout(fs, n);
		fuse_reply_entry(req, &e);
	}
}

static void reply_attr(fuse_req_t req, struct lfs *fs, const struct node *n,
		       int r)
{
	struct stat st;

	if (r == 0)
		r = node_stat(fs, n, &st);
	done(fs, n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, attr_timeout(fs, n));
}

/* ---- callbacks ------------------------------------------------------- */

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct lfs *fs = begin(req);
	struct node n;
	int r = node_lookup(fs, parent, name, &n);

	reply_entry(req, fs, &n, r);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct lfs *fs = begin(req);
	struct node n;
	int r = node_of(fs, ino, &n, true);

	(void)fi;
	reply_attr(req, fs, &n, r);
}

/* One entry of a listing: the k-th (from 0: ".", "..") of n, with its
 * name. -ENOENT past the end. */
static int dir_entry(struct lfs *fs, const struct node *n, unsigned pages,
		     size_t k, char *name, size_t size, struct node *child)
{
	bool end;

	*child = *n;
	if (k < 2) {
		snprintf(name, size, k ? ".." : ".");
		if (k == 1) /* ".." is never looked up by its number */
			child->id.kind = NODE_ROOT;
		return 0;
	}
	if (n->id.kind == NODE_CONV) {
		child->conv = n->conv;
		if (node_file_at(n->id.conv, pages, k - 2, &child->id) < 0)
			return -ENOENT;
		node_file_name(&child->id, name, size);
		return 0;
	}
	if (k == 2) {
		snprintf(name, size, ".stats");
		child->id.kind = NODE_STATS;
		return 0;
	}
	child->conv = root_at(fs->root, k - 3, &end);
	if (!child->conv)
		return -ENOENT;
	child->id =
		(struct node_id){.kind = NODE_CONV, .conv = (unsigned)k - 3};
	snprintf(name, size, "%s", conv_name(child->conv));
	return 0;
}

/* What a listing of n needs first: the inbox, or the page count. */
static int list_prepare(struct lfs *fs, const struct node *n, unsigned *pages)
{
	*pages = 0;
	if (n->id.kind == NODE_ROOT)
		return list_root(fs);
	if (n->id.kind == NODE_CONV) {
		ahead_note(fs->ahead, n->id.conv); /* before its walk */
		return conv_page_count(n->conv, pages);
	}
	return -ENOTDIR;
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct lfs *fs = begin(req);
	char name[NAME_SIZE + 16], *buf = NULL;
	size_t used = 0, len;
	unsigned pages;
	struct node n, child;
	int r = node_of(fs, ino, &n, true);

	(void)fi;
	if (r == 0)
		r = list_prepare(fs, &n, &pages);
	/* glibc's readdir takes ENOENT for the end of the directory: a
	 * conversation the API no longer knows (404) would list as empty */
	if (r == -ENOENT)
		r = -EIO;
	if (r == 0 && !(buf = malloc(size)))
		r = -ENOMEM;
	for (size_t k = off > 0 ? (size_t)off : 0; r == 0; k++) {
		struct stat st = {0};

		if (dir_entry(fs, &n, pages, k, name, sizeof(name), &child) < 0)
			break;
		st.st_ino = node_ino(&child.id);
		st.st_mode = S_IFREG;
		if (child.id.kind == NODE_ROOT || child.id.kind == NODE_CONV)
			st.st_mode = S_IFDIR;
		len = fuse_add_direntry(req, buf + used, size - used, name, &st,
					(off_t)k + 1);
		if (len > size - used)
			break;
		used += len;
	}
	done(fs, &n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

/*
 * No state per open file or directory but .stats' snapshot (stats.c): an
 * open only says how the kernel is to cache the file. A file that never
 * changes again (a full page) keeps its pages in the kernel
 * (FOPEN_KEEP_CACHE) until told to forget them (inval.h), so a warm read
 * never reaches us. .stats, a snapshot per open, is read through us
 * (FOPEN_DIRECT_IO). A file that may still grow (transcript.txt,
 * messages.jsonl, the last page) or be rewritten (conversation.json) is
 * read through us every time (FOPEN_DIRECT_IO): the kernel has no safe way
 * to grow a file whose last page it holds (it sets the new size before it
 * can be given the new bytes, so a reader holding that page, zero-filled
 * past the old end, would copy zeros). Such a file cannot be mmap'd
 * MAP_SHARED (ENODEV) unless libfuse can ask the kernel to allow it;
 * MAP_PRIVATE works. ENOSYS to opendir: the kernel sends no opendir and
 * keeps each listing (FOPEN_CACHE_DIR) until told. The mount is read-only
 * (ro): the kernel itself answers EROFS to an open for writing and to
 * every change, so no write, setattr or create comes.
 */
static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lfs *fs = begin(req);
	struct node n = {0};
	struct conv_attr a = {0};
	int r = node_of(fs, ino, &n, false);

	if (r == 0 && n.id.kind == NODE_FILE)
		r = conv_file_attr(n.conv, n.id.file, n.id.page, &a);
	if (r == 0 && n.id.kind == NODE_STATS)
		r = fs_stats_open(fs, &fi->fh);
	done(fs, &n);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if ((n.id.kind == NODE_FILE && !a.final) || n.id.kind == NODE_STATS)
		fi->direct_io = 1;
	else
		fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	if (ino == INO_STATS)
		fs_stats_close(fuse_req_userdata(req), fi->fh);
	fuse_reply_err(req, 0);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/* The most pieces one reply carries: writev's limit, less the header
 * libfuse writes first. */
#define REPLY_PIECES (IOV_MAX - 1)

/* .stats: from its open's snapshot (stats.c), in place. */
static void read_stats(fuse_req_t req, struct lfs *fs, const struct node *n,
		       uint64_t fh, size_t size, off_t off)
{
	size_t len;
	const char *bytes = fs_stats_slice(fh, size, off, &len);

	done(fs, n);
	fuse_reply_buf(req, bytes, len);
	fs_stats_unhold(fh);
}

/* A file's bytes in place (conv_file_spans), in as few pieces as one
 * reply carries. The byte count or a negative errno; rd is always to be
 * released. */
static ssize_t file_spans(const struct node *n, size_t size, off_t off,
			  struct conv_read *rd)
{
	ssize_t got =
		conv_file_spans(n->conv, n->id.file, n->id.page, size, off, rd);
	int r;

	if (got > 0 && rd->n > REPLY_PIECES && (r = conv_read_flatten(rd)) < 0)
		return r;
	return got;
}

/* Every byte asked for up to the end of the file, or an errno, written
 * from the cache's own bytes: nothing allocated or copied on our side. */
static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct lfs *fs = begin(req);
	struct node n = {0};
	struct conv_read rd;
	ssize_t got = node_of(fs, ino, &n, false);

	if (got == 0 && n.id.kind == NODE_STATS) {
		read_stats(req, fs, &n, fi->fh, size, off);
		return;
	}
	if (got == 0 && n.id.kind != NODE_FILE)
		got = -EISDIR;
	if (got < 0) {
		done(fs, &n);
		fuse_reply_err(req, (int)-got);
		return;
	}
	got = file_spans(&n, size, off, &rd);
	done(fs, &n);
	if (got < 0)
		fuse_reply_err(req, (int)-got);
	else
		fuse_reply_iov(req, rd.iov, (int)rd.n);
	conv_read_done(&rd);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = {0};

	(void)ino;
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes (xattr.c) --------------------------------- */

/* Answer an xattr call with the len bytes of value (r == 0): their size
 * when size is 0, ERANGE when they do not fit. */
static void reply_xattr(fuse_req_t req, struct lfs *fs, const struct node *n,
			int r, size_t size, const char *value, size_t len)
{
	if (r == 0 && size && size < len)
		r = -ERANGE;
	done(fs, n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (!size)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, value, len);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct lfs *fs = begin(req);
	char text[1024] = "";
	struct node n;
	int r = node_of(fs, ino, &n, !fs_xattr_checks(name));

	if (r == 0)
		r = fs_xattr_get(fs, &n, name, fuse_req_ctx(req)->pid, size,
				 text, sizeof(text));
	reply_xattr(req, fs, &n, r, size, text, strlen(text));
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct lfs *fs = begin(req);
	char list[256];
	struct node n;
	size_t len = 0;
	int r = node_of(fs, ino, &n, true);

	if (r == 0)
		len = fs_xattr_list(&n, list, sizeof(list));
	reply_xattr(req, fs, &n, r, size, list, len);
}

static void ll_init(void *data, struct fuse_conn_info *conn)
{
	struct lfs *fs = data;

	/* every change is announced (inval.h): no need for the kernel to ask
	 * for attributes before each read to see whether the mtime moved */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
#ifdef FUSE_CAP_DIRECT_IO_ALLOW_MMAP /* libfuse 3.16: see ll_open */
	if (conn->capable & FUSE_CAP_DIRECT_IO_ALLOW_MMAP)
		conn->want |= FUSE_CAP_DIRECT_IO_ALLOW_MMAP;
#endif
	pthread_mutex_init(&fs->lock, NULL);
}

/* The end: no request is in flight any more, and a RELEASE the kernel
 * had not sent yet will never come. */
static void ll_destroy(void *data)
{
	struct lfs *fs = data;

	fs_stats_drop_all(fs);
	pthread_mutex_destroy(&fs->lock);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.getattr = ll_getattr,
	.open = ll_open,
	.read = ll_read,
	.release = ll_release,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.statfs = ll_statfs,
	.getxattr = ll_getxattr,
	.listxattr = ll_listxattr,
};

const struct fuse_lowlevel_ops *fs_operations(void)
{
	return &fs_ops;
}
