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

/* Check a conversation or the inbox for news (after the ttl, or now with
 * force) and tell the kernel what changed. 0, or the check's error when
 * there is nothing to serve instead. */
static int refresh_conv(struct lfs *fs, struct conv *c, bool force);
static int refresh_root(struct lfs *fs, bool force);

/* What path names. fresh: check for news first (a lookup, a getattr, a
 * listing); a read takes what is there, as its file was looked up. */
static int resolve(struct lfs *fs, const char *path, struct node *n,
		   bool fresh)
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
		/* not the first time: mounting makes no request */
		if (fresh && root_loaded(fs->root))
			refresh_root(fs, false);
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
	if (fresh && (err = refresh_root(fs, false)) < 0)
		return err;
	n->conv = root_find(fs->root, name);
	if (!n->conv)
		return -ENOENT;
	n->kind = NODE_CONV;
	if (fresh)
		refresh_conv(fs, n->conv, false);
	if (!slash || !slash[1])
		return 0;
	if (strchr(slash + 1, '/'))
		return -ENOENT;
	return parse_file_name(slash + 1, n);
}

static int refresh_conv(struct lfs *fs, struct conv *c, bool force)
{
	bool changed;
	int r = conv_refresh(c, force, &changed);

	if (changed)
		inval_conv(fs->fuse, c);
	return r;
}

static int refresh_root(struct lfs *fs, bool force)
{
	int r = root_load(fs->root, force);

	if (r > 0)
		inval_root(fs->fuse, fs->root);
	/* a failed re-read is logged; the listing read before still serves,
	 * but touch MOUNT says it failed */
	return r < 0 && (force || !root_loaded(fs->root)) ? r : 0;
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

/*
 * .stats. The kernel keeps its pages like any file's (there is no open to
 * say otherwise, see fs_open), so: a getattr takes a snapshot, whose size
 * the kernel then holds, and reads serve that snapshot; once the kernel may
 * hold it, the next other callback (which may change a counter) tells the
 * kernel to forget it, before it replies. The flag is raised before the
 * snapshot is taken: a change either makes it in or sees the flag.
 */
static int stats_stat(struct lfs *fs, struct stat *st)
{
	char *text;
	size_t len;

	atomic_store(&fs->stats_in_kernel, true);
	text = fs_stats_text(fs);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	pthread_mutex_lock(&fs->stats_lock);
	free(fs->stats);
	fs->stats = text;
	fs->stats_len = len;
	pthread_mutex_unlock(&fs->stats_lock);
	fill_stat(fs, st, false, len, time(NULL));
	return 0;
}

static int stats_read(struct lfs *fs, char *buf, size_t size, off_t off)
{
	size_t n = 0;

	pthread_mutex_lock(&fs->stats_lock);
	if (!fs->stats) {
		fs->stats = fs_stats_text(fs);
		fs->stats_len = fs->stats ? strlen(fs->stats) : 0;
	}
	if (off >= 0 && (size_t)off < fs->stats_len) {
		n = fs->stats_len - (size_t)off;
		memcpy(buf, fs->stats + off, n < size ? n : size);
	}
	pthread_mutex_unlock(&fs->stats_lock);
	return (int)(n < size ? n : size);
}

/* The end of every callback but those on .stats: see stats_stat. */
static int done(struct lfs *fs, const char *path, int r)
{
	if (strcmp(path, "/.stats") != 0 &&
	    atomic_exchange(&fs->stats_in_kernel, false))
		inval_path(fs->fuse, "/.stats");
	return r;
}

static int node_stat(struct lfs *fs, const struct node *n, struct stat *st)
{
	struct conv_attr a;
	int r;

	switch (n->kind) {
	case NODE_ROOT:
		fill_stat(fs, st, true, 0, root_mtime(fs));
		st->st_mode |= 0200; /* the owner may mkdir and rmdir here */
		return 0;
	case NODE_STATS:
		return stats_stat(fs, st);
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
	int r = resolve(fs, path, &n, true);

	(void)fi;
	return done(fs, path, r < 0 ? r : node_stat(fs, &n, st));
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
	int r = refresh_root(fs, false);

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
	r = resolve(fs, path, &n, true);
	if (r == 0 && n.kind != NODE_ROOT && n.kind != NODE_CONV)
		r = -ENOTDIR;
	if (r < 0)
		return done(fs, path, r);
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	if (n.kind == NODE_ROOT)
		r = readdir_root(fs, buf, filler);
	else
		r = readdir_conv(n.conv, buf, filler);
	return done(fs, path, r);
}

/* A listing changes only with a refresh, a re-read inbox, mkdir or rmdir,
 * each of which tells the kernel (inval.h): it may keep it until then.
 * libfuse passes these two flags on from 3.16 (its issue #821); before,
 * every listing is asked for anew (Debian 12 has 3.14). */
static int fs_opendir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	return 0;
}

/*
 * No state per open file. -ENOSYS tells the kernel to send no open and no
 * release from now on, and to keep each file's pages (FOPEN_KEEP_CACHE)
 * until told to forget them (inval.h): a warm read never reaches us, and
 * opening and closing cost no round trip. Opens for writing get EROFS;
 * once the kernel stops asking, truncate and write below do.
 */
static int fs_open(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	return (fi->flags & O_ACCMODE) != O_RDONLY ? -EROFS : -ENOSYS;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct lfs *fs = ctx();
	struct node n;
	int r = resolve(fs, path, &n, false);

	(void)fi;
	if (r == 0 && n.kind == NODE_STATS)
		return stats_read(fs, buf, size, off);
	if (r == 0 && n.kind != NODE_FILE)
		r = -EISDIR;
	if (r == 0)
		r = (int)conv_file_read(n.conv, n.file, n.page, buf, size, off);
	return done(fs, path, r);
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)path;
	(void)size;
	(void)fi;
	return -EROFS;
}

static int fs_write(const char *path, const char *buf, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	(void)path;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	return -EROFS;
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

	/* O_TRUNC as a truncate, so that it meets fs_truncate: with the
	 * kernel sending no open, an "atomic" one would pass unanswered */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	pthread_mutex_init(&fs->stats_lock, NULL);
	fs->fuse = fuse_get_context()->fuse;
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

	fs->fuse = NULL;
	free(fs->stats);
	fs->stats = NULL;
	pthread_mutex_destroy(&fs->stats_lock);
}

/* touch MOUNT re-reads the inbox; touch MOUNT/NAME (or a file in it)
 * checks the conversation's newest page now. Times are not stored. */
static int fs_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	struct lfs *fs = ctx();
	struct node n;
	int r;

	(void)tv;
	(void)fi;
	r = resolve(fs, path, &n, false);
	if (r == 0 && n.kind == NODE_ROOT)
		r = refresh_root(fs, true);
	else if (r == 0 && n.conv)
		r = refresh_conv(fs, n.conv, true);
	return done(fs, path, r);
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
static int mkdir_at(struct lfs *fs, const char *path)
{
	const char *slug = path + 1;
	struct conv_attr a;
	struct conv *c;
	char *url;
	int r;

	if (path[0] != '/' || !*slug || strchr(slug, '/'))
		return -EPERM; /* only conversations, only at the root */
	if (strcmp(slug, ".stats") == 0)
		return -EEXIST;
	r = refresh_root(fs, false);
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
	/* the kernel itself forgets the root's listing after mkdir, rmdir */
	r = conv_file_attr(c, CONV_META_JSON, 0, &a);
	if (r < 0)
		root_remove(fs->root, slug);
	return r;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	struct lfs *fs = ctx();

	(void)mode;
	return done(fs, path, mkdir_at(fs, path));
}

static int fs_rmdir(const char *path)
{
	struct lfs *fs = ctx();

	if (path[0] != '/' || strchr(path + 1, '/'))
		return -EPERM;
	return done(fs, path, root_remove(fs->root, path + 1));
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

static int getxattr_of(const struct node *n, const char *name, char *value,
		       size_t size)
{
	char text[1024];
	size_t len;
	int r;

	for (size_t i = 0; i < sizeof(xattr_names) / sizeof(*xattr_names); i++) {
		if (strcmp(name, xattr_names[i]) != 0)
			continue;
		r = xattr_value(n, i, text, sizeof(text));
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
	return -ENODATA;
}

static int listxattr_of(const struct node *n, char *list, size_t size)
{
	char text[1024];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(xattr_names) / sizeof(*xattr_names); i++) {
		size_t need = strlen(xattr_names[i]) + 1;

		if (xattr_value(n, i, text, sizeof(text)) < 0)
			continue;
		if (size && len + need > size)
			return -ERANGE;
		if (size)
			memcpy(list + len, xattr_names[i], need);
		len += need;
	}
	return (int)len;
}

static int fs_getxattr(const char *path, const char *name, char *value,
		       size_t size)
{
	struct lfs *fs = ctx();
	struct node n;
	int r = resolve(fs, path, &n, true);

	return done(fs, path, r < 0 ? r : getxattr_of(&n, name, value, size));
}

static int fs_listxattr(const char *path, char *list, size_t size)
{
	struct lfs *fs = ctx();
	struct node n;
	int r = resolve(fs, path, &n, true);

	return done(fs, path, r < 0 ? r : listxattr_of(&n, list, size));
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
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.truncate = fs_truncate,
	.write = fs_write,
	.statfs = fs_statfs,
};

const struct fuse_operations *fs_operations(void)
{
	return &fs_ops;
}
