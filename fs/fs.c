/*
 * fs/fs.c - FUSE callbacks: resolve a path to a node, answer from the
 * conversation model.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "buf.h"
#include "log.h"
#include "names.h"

enum node_kind { NODE_ROOT, NODE_STATS, NODE_CONV, NODE_FILE };

/* What a path names; conv is borrowed from the root table. */
struct node {
	enum node_kind kind;
	struct conv *conv;
	enum conv_file file;
	unsigned page;
};

static struct lfs *ctx(void)
{
	return fuse_get_context()->private_data;
}

/* "page-0003.txt" -> 3, CONV_PAGE_TXT; only the canonical spelling. */
static int parse_page_name(const char *name, struct node *n)
{
	char canon[64];
	unsigned long page;
	char *end;

	if (strncmp(name, "page-", 5) != 0 || name[5] < '0' || name[5] > '9')
		return -ENOENT;
	page = strtoul(name + 5, &end, 10);
	if (page < 1 || page > 999999)
		return -ENOENT;
	if (strcmp(end, ".txt") == 0)
		n->file = CONV_PAGE_TXT;
	else if (strcmp(end, ".json") == 0)
		n->file = CONV_PAGE_JSON;
	else
		return -ENOENT;
	snprintf(canon, sizeof(canon), "page-%04lu%s", page, end);
	if (strcmp(canon, name) != 0)
		return -ENOENT;
	n->page = (unsigned)page;
	return 0;
}

static int parse_file_name(const char *name, struct node *n)
{
	n->kind = NODE_FILE;
	n->page = 0;
	if (strcmp(name, "conversation.json") == 0) {
		n->file = CONV_META_JSON;
		return 0;
	}
	if (strcmp(name, "transcript.txt") == 0) {
		n->file = CONV_TRANSCRIPT;
		return 0;
	}
	return parse_page_name(name, n);
}

static int resolve(struct lfs *fs, const char *path, struct node *n)
{
	char name[NAME_SIZE];
	const char *slash;
	size_t len;
	int err;

	memset(n, 0, sizeof(*n));
	while (*path == '/')
		path++;
	if (!*path) {
		n->kind = NODE_ROOT;
		return 0;
	}
	slash = strchr(path, '/');
	len = slash ? (size_t)(slash - path) : strlen(path);
	if (len >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, path, len);
	name[len] = '\0';
	if (!slash && strcmp(name, ".stats") == 0) {
		n->kind = NODE_STATS;
		return 0;
	}
	n->conv = root_find(fs->root, name, &err);
	if (!n->conv)
		return err ? err : -ENOENT;
	n->kind = NODE_CONV;
	if (!slash || !slash[1])
		return 0;
	if (strchr(slash + 1, '/'))
		return -ENOENT;
	return parse_file_name(slash + 1, n);
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
	st->st_mtime = st->st_ctime = st->st_atime = mtime ? mtime : fs->started;
}

/* The root's mtime: its newest conversation, once listed. */
static time_t root_mtime(struct lfs *fs)
{
	time_t newest = 0;
	size_t n = root_count(fs->root);

	for (size_t i = 0; i < n; i++) {
		time_t t = conv_mtime(root_at(fs->root, i));

		if (t > newest)
			newest = t;
	}
	return newest;
}

static int node_stat(struct lfs *fs, const struct node *n, struct stat *st)
{
	struct conv_attr a;
	char *text;
	int r;

	switch (n->kind) {
	case NODE_ROOT:
		fill_stat(fs, st, true, 0, root_mtime(fs));
		return 0;
	case NODE_STATS:
		text = fs_stats_text(fs);
		if (!text)
			return -ENOMEM;
		fill_stat(fs, st, false, strlen(text), time(NULL));
		free(text);
		return 0;
	case NODE_CONV:
		fill_stat(fs, st, true, 0, conv_mtime(n->conv));
		return 0;
	case NODE_FILE:
		r = conv_file_attr(n->conv, n->file, n->page, &a);
		if (r < 0)
			return r;
		fill_stat(fs, st, false, a.size, a.mtime);
		return 0;
	}
	return -ENOENT;
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct lfs *fs = ctx();
	struct node n;
	int r;

	if (fi && fi->fh)
		return node_stat(fs, (const struct node *)(uintptr_t)fi->fh, st);
	r = resolve(fs, path, &n);
	return r < 0 ? r : node_stat(fs, &n, st);
}

static int readdir_root(struct lfs *fs, void *buf, fuse_fill_dir_t filler)
{
	size_t count;
	int r = root_load(fs->root);

	if (r < 0)
		return r;
	filler(buf, ".stats", NULL, 0, 0);
	count = root_count(fs->root);
	for (size_t i = 0; i < count; i++)
		if (filler(buf, conv_name(root_at(fs->root, i)), NULL, 0, 0))
			break;
	return 0;
}

static int readdir_conv(struct conv *c, void *buf, fuse_fill_dir_t filler)
{
	char name[32];
	unsigned pages;
	int r = conv_page_count(c, &pages);

	if (r < 0)
		return r;
	filler(buf, "conversation.json", NULL, 0, 0);
	filler(buf, "transcript.txt", NULL, 0, 0);
	for (unsigned p = 1; p <= pages; p++) {
		snprintf(name, sizeof(name), "page-%04u.txt", p);
		filler(buf, name, NULL, 0, 0);
		snprintf(name, sizeof(name), "page-%04u.json", p);
		filler(buf, name, NULL, 0, 0);
	}
	return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct lfs *fs = ctx();
	struct node n;
	int r;

	(void)off;
	(void)fi;
	(void)flags;
	r = resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind != NODE_ROOT && n.kind != NODE_CONV)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	if (n.kind == NODE_ROOT)
		return readdir_root(fs, buf, filler);
	return readdir_conv(n.conv, buf, filler);
}

/* What an open file keeps: its node, and for .stats the text it saw. */
struct open_file {
	struct node node;
	char *stats;
	size_t stats_len;
};

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct lfs *fs = ctx();
	struct open_file *of;
	struct stat st;
	int r;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	r = resolve(fs, path, &of->node);
	if (r == 0 && (of->node.kind == NODE_ROOT || of->node.kind == NODE_CONV))
		r = -EISDIR;
	if (r == 0 && of->node.kind == NODE_STATS) {
		of->stats = fs_stats_text(fs);
		of->stats_len = of->stats ? strlen(of->stats) : 0;
		r = of->stats ? 0 : -ENOMEM;
		fi->direct_io = 1; /* its size changes between reads */
	} else if (r == 0) {
		r = node_stat(fs, &of->node, &st); /* walks what it needs */
		fi->keep_cache = 1; /* a page's bytes never change */
	}
	if (r < 0) {
		free(of->stats);
		free(of);
		return r;
	}
	fi->fh = (uintptr_t)of;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	ssize_t n;

	(void)path;
	if (!of)
		return -EBADF;
	if (of->node.kind == NODE_STATS) {
		if (off < 0 || (size_t)off >= of->stats_len)
			return 0;
		n = (ssize_t)(of->stats_len - (size_t)off);
		if ((size_t)n > size)
			n = (ssize_t)size;
		memcpy(buf, of->stats + off, (size_t)n);
		return (int)n;
	}
	n = conv_file_read(of->node.conv, of->node.file, of->node.page, buf,
			   size, off);
	return (int)n;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	(void)path;
	if (of) {
		free(of->stats);
		free(of);
	}
	fi->fh = 0;
	return 0;
}

static int fs_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_namemax = 255;
	return 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct lfs *fs = ctx();

	(void)conn;
	/* Names and sizes hold until a refresh; the ttl bounds staleness. */
	cfg->entry_timeout = (double)fs->ttl;
	cfg->attr_timeout = (double)fs->ttl;
	cfg->negative_timeout = 1.0;
	cfg->use_ino = 0;
	return fs;
}

char *fs_stats_text(struct lfs *fs)
{
	struct api_stats a;
	struct lru_stats l;
	struct buf b = BUF_INIT;
	size_t len;

	api_get_stats(fs->api, &a);
	lru_get_stats(fs->cache, &l);
	buf_printf(&b, "requests: %llu\n", (unsigned long long)a.requests);
	buf_printf(&b, "requests_retried: %llu\n",
		   (unsigned long long)a.retries);
	buf_printf(&b, "errors: %llu\n", (unsigned long long)a.errors);
	buf_printf(&b, "connections: %llu\n",
		   (unsigned long long)a.connections);
	buf_printf(&b, "credits_spent: %llu\n", (unsigned long long)a.credits);
	if (fs->credit_limit > 0)
		buf_printf(&b, "credit_limit: %ld\n", fs->credit_limit);
	else
		buf_puts(&b, "credit_limit: none\n");
	buf_printf(&b, "cache_hits: %llu\n", (unsigned long long)l.hits);
	buf_printf(&b, "cache_misses: %llu\n", (unsigned long long)l.misses);
	buf_printf(&b, "cache_evictions: %llu\n",
		   (unsigned long long)l.evictions);
	buf_printf(&b, "cache_entries: %llu\n", (unsigned long long)l.entries);
	buf_printf(&b, "cache_bytes: %zu\n", l.bytes);
	buf_printf(&b, "cache_budget: %zu\n", l.budget);
	buf_printf(&b, "conversations: %zu\n", root_count(fs->root));
	return buf_steal(&b, &len);
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
	.statfs = fs_statfs,
};

const struct fuse_operations *fs_operations(void)
{
	return &fs_ops;
}
