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
#include "inval.h"
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

/* The kernel must forget what it cached of a changed conversation. */
static void refresh_conv(struct lfs *fs, struct conv *c, bool force);

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
	refresh_conv(fs, n->conv, false);
	if (!slash || !slash[1])
		return 0;
	if (strchr(slash + 1, '/'))
		return -ENOENT;
	return parse_file_name(slash + 1, n);
}

static void refresh_conv(struct lfs *fs, struct conv *c, bool force)
{
	bool changed;

	/* a failed check is logged, and the cached content still served */
	conv_refresh(c, force, &changed);
	if (changed)
		inval_conv_now(fs->inval, c);
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

static int newest_of(void *arg, struct conv *c)
{
	time_t *newest = arg, t = conv_mtime(c);

	if (t > *newest)
		*newest = t;
	return 0;
}

/* The root's mtime: its newest conversation, once listed. */
static time_t root_mtime(struct lfs *fs)
{
	time_t newest = 0;

	root_foreach(fs->root, newest_of, &newest);
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
		st->st_mode |= 0200; /* the owner may mkdir and rmdir here */
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

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_one(void *arg, struct conv *c)
{
	struct fill_ctx *f = arg;

	return f->filler(f->buf, conv_name(c), NULL, 0, 0);
}

static int readdir_root(struct lfs *fs, void *buf, fuse_fill_dir_t filler)
{
	struct fill_ctx f = {buf, filler};
	int r = root_load(fs->root, false);

	if (r < 0)
		return r;
	filler(buf, ".stats", NULL, 0, 0);
	root_foreach(fs->root, fill_one, &f);
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
	struct open_file *prev, *next; /* on fs->open_files */
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
		/* unchanged since the kernel cached it: keep the cache */
		fi->keep_cache = conv_keep_kernel_cache(of->node.conv);
	}
	if (r < 0) {
		free(of->stats);
		free(of);
		return r;
	}
	pthread_mutex_lock(&fs->open_lock);
	of->next = fs->open_files;
	if (of->next)
		of->next->prev = of;
	fs->open_files = of;
	pthread_mutex_unlock(&fs->open_lock);
	fi->fh = (uintptr_t)of;
	return 0;
}

/* Take of off the open list (under open_lock) and free it. */
static void open_file_free(struct lfs *fs, struct open_file *of)
{
	if (of->prev)
		of->prev->next = of->next;
	else
		fs->open_files = of->next;
	if (of->next)
		of->next->prev = of->prev;
	free(of->stats);
	free(of);
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
	struct lfs *fs = ctx();

	(void)path;
	if (of) {
		pthread_mutex_lock(&fs->open_lock);
		open_file_free(fs, of);
		pthread_mutex_unlock(&fs->open_lock);
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
	pthread_mutex_init(&fs->open_lock, NULL);
	fs->inval = inval_start(fuse_get_context()->fuse);
	/* Names and sizes hold until a refresh; the ttl bounds staleness. */
	cfg->entry_timeout = (double)fs->ttl;
	cfg->attr_timeout = (double)fs->ttl;
	cfg->negative_timeout = 1.0;
	cfg->use_ino = 0;
	return fs;
}

static void fs_destroy(void *data)
{
	struct lfs *fs = data;

	inval_stop(fs->inval);
	fs->inval = NULL;
	/* every worker has ended: no release can run concurrently */
	while (fs->open_files)
		open_file_free(fs, fs->open_files);
	pthread_mutex_destroy(&fs->open_lock);
}

/* touch MOUNT re-reads the inbox; touch MOUNT/NAME (or a file in it)
 * checks the conversation's newest page now. Times are not stored. */
static int fs_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	struct lfs *fs = ctx();
	struct node n;
	bool changed;
	int r;

	(void)tv;
	(void)fi;
	r = resolve(fs, path, &n);
	if (r < 0)
		return r;
	if (n.kind == NODE_ROOT) {
		r = root_load(fs->root, true);
		inval_root(fs->inval);
		return r;
	}
	if (!n.conv)
		return 0;
	r = conv_refresh(n.conv, true, &changed);
	if (changed)
		inval_conv_now(fs->inval, n.conv);
	return r;
}

/* "https://www.linkedin.com/in/" + slug, percent-encoded. */
static char *profile_url_of(const char *slug)
{
	static const char unreserved[] = "-._~";
	struct buf b = BUF_INIT;
	size_t len;

	buf_puts(&b, "https://www.linkedin.com/in/");
	for (const unsigned char *p = (const unsigned char *)slug; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(unreserved, *p))
			buf_putc(&b, (char)*p);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	buf_putc(&b, '/');
	return buf_steal(&b, &len);
}

/* mkdir MOUNT/SLUG: add the conversation with that profile, once the API
 * confirms it exists (one request, which also fetches its newest page). */
static int fs_mkdir(const char *path, mode_t mode)
{
	struct lfs *fs = ctx();
	const char *slug = path + 1;
	struct conv_attr a;
	struct conv *c;
	char *url;
	int r;

	(void)mode;
	if (path[0] != '/' || !*slug || strchr(slug, '/'))
		return -EPERM; /* only conversations, only at the root */
	if (strcmp(slug, ".stats") == 0)
		return -EEXIST;
	r = root_load(fs->root, false);
	if (r < 0)
		return r;
	url = profile_url_of(slug);
	if (!url)
		return -ENOMEM;
	r = root_add(fs->root, slug, url, &c);
	free(url);
	if (r == -EINVAL)
		log_error("mkdir %s: not a usable profile name", slug);
	if (r < 0)
		return r;
	r = conv_file_attr(c, CONV_META_JSON, 0, &a);
	if (r < 0)
		root_remove(fs->root, slug);
	else
		inval_root(fs->inval);
	return r;
}

static int fs_rmdir(const char *path)
{
	struct lfs *fs = ctx();
	int r;

	if (path[0] != '/' || strchr(path + 1, '/'))
		return -EPERM;
	r = root_remove(fs->root, path + 1);
	if (r == 0)
		inval_root(fs->inval);
	return r;
}

/* ---- extended attributes -------------------------------------------- */

static const char *const xattr_names[] = {
	"user.linkup.conversation_id", "user.linkup.profile_url",
	"user.linkup.participant", "user.linkup.unread",
	"user.linkup.page", "user.linkup.messages",
};

/* The value of xattr i of node n into out, or -ENODATA. */
static int xattr_value(const struct node *n, size_t i, char *out,
		       size_t size)
{
	struct conv_info info = {0};
	struct conv_attr a;
	const char *v = NULL;
	int r = -ENODATA;

	if (n->kind != NODE_CONV && n->kind != NODE_FILE)
		return -ENODATA;
	if (i >= 4) {
		if (n->kind != NODE_FILE || (i == 4 && n->file != CONV_PAGE_TXT &&
					     n->file != CONV_PAGE_JSON) ||
		    (i == 5 && n->file == CONV_META_JSON))
			return -ENODATA;
		r = conv_file_attr(n->conv, n->file, n->page, &a);
		if (r == 0)
			snprintf(out, size, "%zu", i == 4 ? (size_t)n->page
							  : a.messages);
		return r;
	}
	conv_get_info(n->conv, &info);
	if (i == 0)
		v = info.conversation_id;
	else if (i == 1)
		v = info.profile_url;
	else if (i == 2)
		v = info.participant;
	if (v)
		snprintf(out, size, "%s", v);
	else if (i == 3 && info.unread >= 0)
		snprintf(out, size, "%ld", info.unread);
	r = v || (i == 3 && info.unread >= 0) ? 0 : -ENODATA;
	conv_info_clear(&info);
	return r;
}

static int fs_getxattr(const char *path, const char *name, char *value,
		       size_t size)
{
	struct lfs *fs = ctx();
	char text[1024];
	struct node n;
	size_t len;
	int r = resolve(fs, path, &n);

	for (size_t i = 0; r == 0 && i < sizeof(xattr_names) / sizeof(*xattr_names); i++) {
		if (strcmp(name, xattr_names[i]) != 0)
			continue;
		r = xattr_value(&n, i, text, sizeof(text));
		if (r < 0)
			return r;
		len = strlen(text);
		if (size == 0)
			return (int)len;
		if (size < len)
			return -ERANGE;
		memcpy(value, text, len);
		return (int)len;
	}
	return r < 0 ? r : -ENODATA;
}

static int fs_listxattr(const char *path, char *list, size_t size)
{
	struct lfs *fs = ctx();
	char text[1024];
	struct node n;
	size_t len = 0;
	int r = resolve(fs, path, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(xattr_names) / sizeof(*xattr_names); i++) {
		size_t need = strlen(xattr_names[i]) + 1;

		if (xattr_value(&n, i, text, sizeof(text)) < 0)
			continue;
		if (size && len + need > size)
			return -ERANGE;
		if (size)
			memcpy(list + len, xattr_names[i], need);
		len += need;
	}
	return (int)len;
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
	if (fs->credit_limit > 0) {
		unsigned long long limit = (unsigned long long)fs->credit_limit;

		buf_printf(&b, "credit_limit: %llu\n", limit);
		buf_printf(&b, "credits_left: %llu\n",
			   a.credits < limit ? limit - a.credits : 0);
	} else {
		buf_puts(&b, "credit_limit: none\n");
	}
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
	.destroy = fs_destroy,
	.utimens = fs_utimens,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
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
