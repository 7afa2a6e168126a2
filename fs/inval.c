/*
 * fs/inval.c - kernel cache invalidation, by path.
 */
#include "inval.h"

#include <stdio.h>
#include <stdlib.h>

void inval_path(struct fuse *f, const char *path)
{
	/* -ENOENT: the kernel never looked it up, so it caches nothing */
	if (f)
		fuse_invalidate_path(f, path);
}

static void inval_in(struct fuse *f, struct conv *c, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "/%s%s%s", conv_name(c), file ? "/" : "",
		 file ? file : "");
	inval_path(f, path);
}

void inval_conv(struct fuse *f, struct conv *c)
{
	unsigned pages = conv_known_pages(c);
	char name[32];

	inval_in(f, c, "transcript.txt");
	inval_in(f, c, "conversation.json");
	for (unsigned p = 1; p <= pages; p++) {
		snprintf(name, sizeof(name), "page-%04u.txt", p);
		inval_in(f, c, name);
		snprintf(name, sizeof(name), "page-%04u.json", p);
		inval_in(f, c, name);
	}
	inval_in(f, c, NULL);
	inval_path(f, "/");
}

struct conv_list {
	struct conv **v;
	size_t n, cap;
};

static int collect(void *arg, struct conv *c)
{
	struct conv_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct conv **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return 1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
	return 0;
}

void inval_root(struct fuse *f, struct root *root)
{
	struct conv_list l = {0};

	inval_path(f, "/");
	/* notified outside the table lock; conversations outlive the root's
	 * listing of them (root.h) */
	root_foreach(root, collect, &l);
	for (size_t i = 0; i < l.n; i++) {
		inval_in(f, l.v[i], "conversation.json");
		inval_in(f, l.v[i], NULL);
	}
	free(l.v);
}
