/*
 * fs/fuse/xattr.c - the extended attributes, one row each: on a
 * conversation directory and each of its files, what the API says of the
 * conversation; on files, how many messages they hold; on page files,
 * their number. And user.linkup.check, which asks for a check now.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../model/clock.h"

/* The value of one attribute of n into out, or -ENODATA where n has none. */
typedef int (*xattr_get_fn)(const struct node *n, char *out, size_t size);

/* A field of struct conv_info, or the unread count. */
static int info_value(const struct node *n, size_t field, char *out,
		      size_t size)
{
	struct conv_info info = {0};
	const char *v;
	int r = -ENODATA;

	conv_get_info(n->conv, &info);
	if (field == offsetof(struct conv_info, unread)) {
		if (info.unread >= 0) {
			snprintf(out, size, "%ld", info.unread);
			r = 0;
		}
	} else {
		v = *(char **)((char *)&info + field);
		if (v) {
			snprintf(out, size, "%s", v);
			r = 0;
		}
	}
	conv_info_clear(&info);
	return r;
}

static int get_id(const struct node *n, char *out, size_t size)
{
	return info_value(n, offsetof(struct conv_info, conversation_id), out,
			  size);
}

static int get_url(const struct node *n, char *out, size_t size)
{
	return info_value(n, offsetof(struct conv_info, profile_url), out,
			  size);
}

static int get_participant(const struct node *n, char *out, size_t size)
{
	return info_value(n, offsetof(struct conv_info, participant), out,
			  size);
}

static int get_unread(const struct node *n, char *out, size_t size)
{
	return info_value(n, offsetof(struct conv_info, unread), out, size);
}

static int get_page(const struct node *n, char *out, size_t size)
{
	if (n->id.kind != NODE_FILE || n->id.page == 0)
		return -ENODATA;
	snprintf(out, size, "%u", n->id.page);
	return 0;
}

static int get_messages(const struct node *n, char *out, size_t size)
{
	struct conv_attr a;
	int r;

	if (n->id.kind != NODE_FILE || n->id.file == CONV_META_JSON)
		return -ENODATA;
	r = conv_file_attr(n->conv, n->id.file, n->id.page, &a);
	if (r == 0)
		snprintf(out, size, "%zu", a.messages);
	return r;
}

static const struct {
	const char *name;
	xattr_get_fn get;
} xattrs[] = {
	{"user.linkup.conversation_id", get_id},
	{"user.linkup.profile_url", get_url},
	{"user.linkup.participant", get_participant},
	{"user.linkup.unread", get_unread},
	{"user.linkup.page", get_page},
	{"user.linkup.messages", get_messages},
};

#define N_XATTRS (sizeof(xattrs) / sizeof(xattrs[0]))

/*
 * The mount is read-only, so touch(1) cannot ask for a check: reading
 * XATTR_CHECK does. On the root it re-reads the whole inbox; on a
 * conversation or one of its files it checks the conversation's newest
 * page now, whatever the ttl (fs/model/check.h). The value says whether
 * anything changed. Not listed by listxattr: getfattr -d costs no request.
 *
 * One check per question: getfattr asks for the size first (size 0), then
 * for the value; the size probe's answer is kept for ANSWER_KEEP_MS, and
 * the value read of the same inode by the same process takes it instead
 * of checking again. Any other call checks (Python asks once, with room).
 */
#define XATTR_CHECK "user.linkup.check"
#define ANSWER_KEEP_MS 5000

/* The answer kept for (ino, pid), taken out of the table: true and
 * *changed, or false. */
static bool take_answer(struct lfs *fs, fuse_ino_t ino, pid_t pid,
			bool *changed)
{
	long long now = clock_now_ms();
	bool found = false;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < FS_ANSWERS && !found; i++) {
		struct fs_answer *a = &fs->answers[i];

		if (a->ino != ino || a->pid != pid ||
		    now - a->at_ms > ANSWER_KEEP_MS)
			continue;
		*changed = a->changed;
		a->ino = 0;
		found = true;
	}
	pthread_mutex_unlock(&fs->lock);
	return found;
}

/* Keep the answer of a size probe, in place of the oldest. */
static void keep_answer(struct lfs *fs, fuse_ino_t ino, pid_t pid, bool changed)
{
	struct fs_answer *slot = &fs->answers[0];

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 1; i < FS_ANSWERS; i++)
		if (fs->answers[i].at_ms < slot->at_ms)
			slot = &fs->answers[i];
	*slot = (struct fs_answer){ino, pid, clock_now_ms(), changed};
	pthread_mutex_unlock(&fs->lock);
}

static int check_answer(struct lfs *fs, const struct node *n, pid_t pid,
			size_t size, char *out, size_t out_size)
{
	fuse_ino_t ino = node_ino(&n->id);
	bool changed = false;
	int r = 0;

	if (n->id.kind == NODE_STATS)
		return -ENODATA;
	if (!size || !take_answer(fs, ino, pid, &changed))
		r = check_now(fs->checker, n->conv, &changed);
	if (r == 0 && !size)
		keep_answer(fs, ino, pid, changed);
	if (r == 0)
		snprintf(out, out_size, "%s",
			 changed ? "changed" : "unchanged");
	return r;
}

bool fs_xattr_checks(const char *name)
{
	return strcmp(name, XATTR_CHECK) == 0;
}

int fs_xattr_get(struct lfs *fs, const struct node *n, const char *name,
		 pid_t pid, size_t size, char *out, size_t out_size)
{
	if (strcmp(name, XATTR_CHECK) == 0)
		return check_answer(fs, n, pid, size, out, out_size);
	if (!n->conv)
		return -ENODATA; /* the root and .stats have none */
	for (size_t i = 0; i < N_XATTRS; i++)
		if (strcmp(name, xattrs[i].name) == 0)
			return xattrs[i].get(n, out, out_size);
	return -ENODATA;
}

size_t fs_xattr_list(const struct node *n, char *list, size_t size)
{
	char value[1024];
	size_t len = 0;

	for (size_t i = 0; n->conv && i < N_XATTRS; i++) {
		size_t need = strlen(xattrs[i].name) + 1;

		if (xattrs[i].get(n, value, sizeof(value)) < 0 ||
		    need > size - len)
			continue;
		memcpy(list + len, xattrs[i].name, need);
		len += need;
	}
	return len;
}
