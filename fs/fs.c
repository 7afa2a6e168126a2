/*
 * fs/fs.c - the FUSE callbacks, on libfuse's low-level API: an inode
 * number names a node (fs/node.h); answers come from the conversation
 * model. Nothing is kept per open file or per inode the kernel holds.
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
#include "node.h"

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
	else if (strcmp(end, ".jsonl") == 0)
		n->file = CONV_PAGE_JSONL;
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
	if (strcmp(name, "messages.jsonl") == 0) {
		n->file = CONV_MESSAGES;
		return 0;
	}
	return parse_page_name(name, n);
}

/* Check a conversation or the inbox for news (after the ttl, or now with
 * force) and tell the kernel what changed. 0, or the check's error when
 * there is nothing to serve instead. */
static int refresh_conv_changed(struct lfs *fs, struct conv *c, bool force,
				bool *changed)
{
	struct conv_growth grown;
	int r = conv_refresh(c, force, changed, &grown);

	if (*changed)
		inval_conv(fs->se, c, &grown);
	return r;
}

static int refresh_conv(struct lfs *fs, struct conv *c, bool force)
{
	bool changed;

	return refresh_conv_changed(fs, c, force, &changed);
}

static int refresh_root(struct lfs *fs, bool force)
{
	int r = root_load(fs->root, force);

	if (r > 0)
		inval_root(fs->se, fs->root);
	/* a failed re-read is logged; the listing read before still serves,
	 * but touch MOUNT says it failed */
	return r < 0 && (force || !root_loaded(fs->root)) ? r : 0;
}

/* What ino names. fresh: check for news first (a lookup, a getattr, a
 * listing); a read takes what is there, as its file was looked up. */
static int node_of(struct lfs *fs, fuse_ino_t ino, struct node *n, bool fresh)
{
	fuse_ino_t code = ino & 0xffffffffu;
	bool end;

	memset(n, 0, sizeof(*n));
	if (ino == FUSE_ROOT_ID) {
		n->kind = NODE_ROOT;
		/* not the first time: mounting makes no request */
		if (fresh && root_loaded(fs->root))
			refresh_root(fs, false);
		return 0;
	}
	if (ino == INO_STATS) {
		n->kind = NODE_STATS;
		return 0;
	}
	if ((ino >> 32) == 0 || (ino >> 32) > 0xffffffffu)
		return -ENOENT;
	n->conv = root_at(fs->root, (size_t)(ino >> 32) - 1, &end);
	if (!n->conv)
		return -ENOENT;
	if (fresh)
		refresh_conv(fs, n->conv, false);
	n->kind = code ? NODE_FILE : NODE_CONV;
	n->page = code > 3 ? (unsigned)((code - 2) / 2) : 0;
	if (code == 1)
		n->file = CONV_META_JSON;
	else if (code == 2)
		n->file = CONV_TRANSCRIPT;
	else if (code == 3)
		n->file = CONV_MESSAGES;
	else
		n->file = code % 2 ? CONV_PAGE_JSONL : CONV_PAGE_TXT;
	return n->page > NODE_MAX_PAGE ? -ENOENT : 0;
}

/* The child name of parent. */
static int node_lookup(struct lfs *fs, fuse_ino_t parent, const char *name,
		       struct node *n)
{
	int r = node_of(fs, parent, n, true);

	if (r < 0)
		return r;
	if (strlen(name) >= NAME_SIZE)
		return -ENAMETOOLONG;
	if (n->kind == NODE_CONV)
		return parse_file_name(name, n);
	if (n->kind != NODE_ROOT)
		return -ENOTDIR;
	if (strcmp(name, ".stats") == 0) {
		n->kind = NODE_STATS;
		return 0;
	}
	r = refresh_root(fs, false);
	if (r < 0)
		return r;
	n->conv = root_find(fs->root, name);
	if (!n->conv)
		return -ENOENT;
	n->kind = NODE_CONV;
	refresh_conv(fs, n->conv, false);
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
 * say otherwise, see ll_open), so: a getattr takes a snapshot, whose size
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

/* The end of every callback: see stats_stat. */
static void done(struct lfs *fs, const struct node *n)
{
	/* a load first: no write to the shared flag on every callback */
	if (n->kind != NODE_STATS && atomic_load(&fs->stats_in_kernel) &&
	    atomic_exchange(&fs->stats_in_kernel, false))
		inval_ino(fs->se, INO_STATS);
	current_req = NULL;
}

static int node_stat(struct lfs *fs, const struct node *n, struct stat *st)
{
	struct conv_attr a;
	int r;

	switch (n->kind) {
	case NODE_ROOT:
		fill_stat(fs, st, true, 0, root_mtime(fs));
		break;
	case NODE_STATS:
		r = stats_stat(fs, st);
		if (r < 0)
			return r;
		break;
	case NODE_CONV:
		fill_stat(fs, st, true, 0, conv_mtime(n->conv));
		break;
	case NODE_FILE:
		r = conv_file_attr(n->conv, n->file, n->page, &a);
		if (r < 0)
			return r;
		fill_stat(fs, st, false, a.size, a.mtime);
		break;
	}
	st->st_ino = ino_of(n);
	return 0;
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
		e.entry_timeout = NEGATIVE_TIMEOUT; /* ino 0: a negative entry */
		fuse_reply_entry(req, &e);
	} else if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		e.ino = e.attr.st_ino;
		e.attr_timeout = e.entry_timeout = (double)fs->ttl;
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
		fuse_reply_attr(req, &st, (double)fs->ttl);
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

/* The k-th file of a conversation with pages page files, from 0. */
static int conv_entry(size_t k, unsigned pages, char *name, size_t size,
		      struct node *child)
{
	static const struct {
		const char *name;
		enum conv_file file;
	} whole[] = {
		{"conversation.json", CONV_META_JSON},
		{"transcript.txt", CONV_TRANSCRIPT},
		{"messages.jsonl", CONV_MESSAGES},
	};
	size_t n_whole = sizeof(whole) / sizeof(whole[0]);

	child->kind = NODE_FILE;
	child->page = 0;
	if (k < n_whole) {
		child->file = whole[k].file;
		snprintf(name, size, "%s", whole[k].name);
		return 0;
	}
	k -= n_whole;
	if (k >= 2 * (size_t)pages)
		return -ENOENT;
	child->page = (unsigned)(k / 2) + 1;
	child->file = k % 2 ? CONV_PAGE_JSONL : CONV_PAGE_TXT;
	snprintf(name, size, "page-%04u.%s", child->page,
		 k % 2 ? "jsonl" : "txt");
	return 0;
}

/* One entry of a listing: the k-th (from 0: ".", "..") of n. 0 with
 * *name set; 1 for a gap, to skip; -ENOENT past the end. */
static int dir_entry(struct lfs *fs, const struct node *n, unsigned pages,
		     size_t k, char *name, size_t size, struct node *child)
{
	bool end;

	*child = *n;
	if (k < 2) {
		snprintf(name, size, k ? ".." : ".");
		if (k == 1)
			child->kind = NODE_ROOT; /* ".." is never looked up by ino */
		return 0;
	}
	if (n->kind == NODE_ROOT && k == 2) {
		snprintf(name, size, ".stats");
		child->kind = NODE_STATS;
		return 0;
	}
	if (n->kind == NODE_ROOT) {
		child->conv = root_at(fs->root, k - 3, &end);
		if (end)
			return -ENOENT;
		if (!child->conv)
			return 1;
		child->kind = NODE_CONV;
		snprintf(name, size, "%s", conv_name(child->conv));
		return 0;
	}
	return conv_entry(k - 2, pages, name, size, child);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct lfs *fs = begin(req);
	char name[NAME_SIZE + 16], *buf = NULL;
	size_t used = 0;
	unsigned pages = 0;
	struct node n, child;
	int r = node_of(fs, ino, &n, true);

	(void)fi;
	if (r == 0 && n.kind == NODE_ROOT)
		r = refresh_root(fs, false);
	else if (r == 0 && n.kind == NODE_CONV)
		r = conv_page_count(n.conv, &pages);
	else if (r == 0)
		r = -ENOTDIR;
	/* glibc's readdir takes ENOENT for the end of the directory: a
	 * conversation the API no longer knows (404) would list as empty */
	if (r == -ENOENT)
		r = -EIO;
	if (r == 0 && !(buf = malloc(size)))
		r = -ENOMEM;
	for (size_t k = off > 0 ? (size_t)off : 0; r == 0; k++) {
		struct stat st = {0};
		size_t len;
		int e = dir_entry(fs, &n, pages, k, name, sizeof(name), &child);

		if (e < 0)
			break;
		if (e > 0)
			continue;
		st.st_ino = ino_of(&child);
		st.st_mode = child.kind == NODE_ROOT || child.kind == NODE_CONV
				     ? S_IFDIR
				     : S_IFREG;
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
 * No state per open file or directory. ENOSYS tells the kernel to send no
 * open (opendir) and no release from now on, and to keep each file's pages
 * and each directory's listing (FOPEN_KEEP_CACHE, FOPEN_CACHE_DIR) until
 * told to forget them (inval.h): a warm read or listing never reaches us.
 * Opens for writing get EROFS; once the kernel stops asking, setattr (for
 * O_TRUNC) and write below do.
 */
static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fuse_reply_err(req, (fi->flags & O_ACCMODE) != O_RDONLY ? EROFS
								: ENOSYS);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct lfs *fs = begin(req);
	struct node n;
	char *buf = malloc(size ? size : 1);
	ssize_t got = 0;
	int r = buf ? node_of(fs, ino, &n, false) : -ENOMEM;

	(void)fi;
	if (!buf)
		n.kind = NODE_ROOT;
	if (r == 0 && n.kind == NODE_STATS)
		got = stats_read(fs, buf, size, off);
	else if (r == 0 && n.kind != NODE_FILE)
		r = -EISDIR;
	else if (r == 0)
		got = conv_file_read(n.conv, n.file, n.page, buf, size, off);
	if (got < 0)
		r = (int)got;
	done(fs, &n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, (size_t)got);
	free(buf);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EROFS);
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
					     n->file != CONV_PAGE_JSONL) ||
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

#define N_XATTRS (sizeof(xattr_names) / sizeof(*xattr_names))

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

/*
 * The mount is read-only, so touch(1) cannot ask for a check: reading
 * XATTR_CHECK does. On the root it re-reads the whole inbox; on a
 * conversation or one of its files it checks the conversation's newest
 * page now, whatever the ttl. The value says whether anything changed.
 * Not listed by listxattr: getfattr -d costs no request.
 */
#define XATTR_CHECK "user.linkup.check"

static int check_now(struct lfs *fs, const struct node *n, char *out,
		     size_t size)
{
	size_t before = root_count(fs->root);
	bool changed = false;
	int r;

	if (n->kind == NODE_ROOT) {
		r = refresh_root(fs, true);
		changed = root_count(fs->root) != before;
	} else if (n->conv) {
		r = refresh_conv_changed(fs, n->conv, true, &changed);
	} else {
		return -ENODATA;
	}
	if (r == 0)
		snprintf(out, size, "%s", changed ? "changed" : "unchanged");
	return r;
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct lfs *fs = begin(req);
	char text[1024] = "";
	struct node n;
	size_t i = 0;
	int r = node_of(fs, ino, &n, true);

	while (i < N_XATTRS && strcmp(name, xattr_names[i]) != 0)
		i++;
	if (r == 0 && strcmp(name, XATTR_CHECK) == 0)
		r = check_now(fs, &n, text, sizeof(text));
	else if (r == 0)
		r = i < N_XATTRS ? xattr_value(&n, i, text, sizeof(text))
				 : -ENODATA;
	reply_xattr(req, fs, &n, r, size, text, strlen(text));
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct lfs *fs = begin(req);
	char text[1024], list[256];
	struct node n;
	size_t len = 0;
	int r = node_of(fs, ino, &n, true);

	for (size_t i = 0; r == 0 && i < N_XATTRS; i++) {
		size_t need = strlen(xattr_names[i]) + 1;

		if (xattr_value(&n, i, text, sizeof(text)) < 0)
			continue;
		memcpy(list + len, xattr_names[i], need);
		len += need;
	}
	reply_xattr(req, fs, &n, r, size, list, len);
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
	if (a.rate_limit > 0)
		buf_printf(&b, "rate_limit: %ld/%ld\n", a.rate_limit,
			   a.rate_seconds);
	else
		buf_puts(&b, "rate_limit: none\n");
	buf_printf(&b, "requests_waiting: %llu\n",
		   (unsigned long long)a.requests_waiting);
	buf_printf(&b, "rate_wait_seconds: %.3f\n", a.rate_wait_ms / 1000.0);
	buf_printf(&b, "rate_wait_max_seconds: %.3f\n",
		   a.rate_wait_max_ms / 1000.0);
	buf_printf(&b, "answers_429: %llu\n",
		   (unsigned long long)a.answers_429);
	buf_printf(&b, "cache_hits: %llu\n", (unsigned long long)l.hits);
	buf_printf(&b, "cache_misses: %llu\n", (unsigned long long)l.misses);
	buf_printf(&b, "cache_evictions: %llu\n",
		   (unsigned long long)l.evictions);
	buf_printf(&b, "cache_entries: %llu\n", (unsigned long long)l.entries);
	buf_printf(&b, "cache_bytes: %zu\n", l.bytes);
	buf_printf(&b, "cache_budget: %zu\n", l.budget);
	buf_printf(&b, "conversations: %zu\n", root_count(fs->root));
	buf_printf(&b, "conversations_not_found: %zu\n",
		   root_not_found(fs->root));
	return buf_steal(&b, &len);
}

static void ll_init(void *data, struct fuse_conn_info *conn)
{
	struct lfs *fs = data;

	/* O_TRUNC as a setattr, so that it meets ll_setattr: with the
	 * kernel sending no open, an "atomic" one would pass unanswered */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/* every change is announced (inval.h): no need for the kernel to ask
	 * for attributes before each read to see whether the mtime moved */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	pthread_mutex_init(&fs->stats_lock, NULL);
}

static void ll_destroy(void *data)
{
	struct lfs *fs = data;

	free(fs->stats);
	fs->stats = NULL;
	pthread_mutex_destroy(&fs->stats_lock);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.getattr = ll_getattr,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
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
