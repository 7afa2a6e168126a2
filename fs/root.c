/*
 * fs/root.c - the table of conversations at the root.
 */
#include "root.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"

/* Inbox entries asked for per request: few round trips, no waste. */
#define ROOT_INBOX_PAGE 100

struct root {
	struct conv_env env;
	int inbox_limit;
	char *const *extra;
	size_t n_extra;

	pthread_mutex_t load_lock; /* serialises inbox walks */
	pthread_mutex_t lock;      /* guards the fields below */
	bool loaded;
	time_t loaded_at;          /* monotonic seconds */
	struct conv **convs;
	bool *added;               /* convs[i] came from mkdir */
	bool *hidden;              /* convs[i] was removed by rmdir */
	size_t n_convs;
	size_t cap;
};

struct root *root_new(const struct conv_env *env, int inbox_limit,
		      char *const *extra, size_t n_extra)
{
	struct root *root = calloc(1, sizeof(*root));

	if (!root)
		return NULL;
	root->env = *env;
	root->inbox_limit = inbox_limit;
	root->extra = extra;
	root->n_extra = n_extra;
	pthread_mutex_init(&root->load_lock, NULL);
	pthread_mutex_init(&root->lock, NULL);
	return root;
}

void root_free(struct root *root)
{
	if (!root)
		return;
	for (size_t i = 0; i < root->n_convs; i++)
		conv_free(root->convs[i]);
	free(root->convs);
	free(root->added);
	free(root->hidden);
	pthread_mutex_destroy(&root->lock);
	pthread_mutex_destroy(&root->load_lock);
	free(root);
}

/* Caller holds lock. */
static bool name_taken(const struct root *root, const char *name)
{
	if (strcmp(name, ".stats") == 0)
		return true;
	for (size_t i = 0; i < root->n_convs; i++)
		if (strcmp(conv_name(root->convs[i]), name) == 0)
			return true; /* hidden ones too: a name is never reused */
	return false;
}

static bool same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Caller holds lock. The conversation already listed under id or URL. */
static struct conv *find_known(const struct root *root, const char *id,
			       const char *url)
{
	for (size_t i = 0; i < root->n_convs; i++) {
		struct conv *c = root->convs[i];

		if (same_str(conv_id(c), id) ||
		    same_str(conv_profile_url(c), url))
			return c;
	}
	return NULL;
}

/* Room for more conversations. Caller holds lock. */
static int grow(struct root *root)
{
	size_t cap = root->cap ? 2 * root->cap : 64;
	struct conv **convs = realloc(root->convs, cap * sizeof(*convs));
	bool *added, *hidden;

	if (!convs)
		return -ENOMEM;
	root->convs = convs;
	added = realloc(root->added, cap * sizeof(*added));
	if (!added)
		return -ENOMEM;
	root->added = added;
	hidden = realloc(root->hidden, cap * sizeof(*hidden));
	if (!hidden)
		return -ENOMEM;
	root->hidden = hidden;
	root->cap = cap;
	return 0;
}

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Add a conversation under a unique name. Caller holds lock. */
static struct conv *add_conv(struct root *root, const char *id,
			     const char *url)
{
	char base[NAME_SIZE], name[NAME_SIZE];
	struct conv *c;

	if (root->n_convs == root->cap && grow(root) < 0)
		return NULL;
	name_for_conversation(url, id, base);
	snprintf(name, sizeof(name), "%s", base);
	for (int n = 2; name_taken(root, name); n++)
		name_with_suffix(base, n, name);
	c = conv_new(&root->env, (unsigned)root->n_convs, name, id, url);
	if (c) {
		root->added[root->n_convs] = false;
		root->hidden[root->n_convs] = false;
		root->convs[root->n_convs++] = c;
	}
	return c;
}

static bool looks_like_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Publish one inbox page. Returns how many entries were taken. */
static int take_inbox_page(struct root *root, const struct api_inbox_page *pg,
			   int room)
{
	int taken = 0;

	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < pg->n_entries && taken < room; i++) {
		const struct api_inbox_entry *e = &pg->entries[i];
		struct conv *c = find_known(root, e->conversation_id, NULL);

		if (!c)
			c = add_conv(root, e->conversation_id, e->profile_url);
		if (c)
			conv_set_inbox_info(c, e);
		taken++;
	}
	pthread_mutex_unlock(&root->lock);
	return taken;
}

/* A page that cannot lead on: say why, -EIO. 0 when it can. */
static int inbox_fault(const struct api_inbox_page *pg, const char *sent)
{
	const char *why = NULL;

	if (!pg->next_cursor || !pg->next_cursor[0])
		return 0;
	if (pg->n_entries == 0)
		why = "the API sent an empty page that announces more";
	else if (sent && strcmp(sent, pg->next_cursor) == 0)
		why = "the cursor did not move";
	if (!why)
		return 0;
	log_error("inbox: %s; the listing stops here", why);
	return -EIO;
}

static int load_inbox(struct root *root)
{
	struct api_error err = {0};
	char *cursor = NULL;
	int left = root->inbox_limit, r = 0;

	while (left > 0) {
		struct api_inbox_page *pg = NULL;
		int want = left < ROOT_INBOX_PAGE ? left : ROOT_INBOX_PAGE;

		r = api_get_inbox(root->env.api, want, cursor, &pg, &err);
		if (r < 0) {
			log_error("inbox: %s", err.message);
			break;
		}
		left -= take_inbox_page(root, pg, left);
		r = inbox_fault(pg, cursor);
		free(cursor);
		cursor = NULL;
		if (r == 0 && pg->next_cursor && pg->next_cursor[0])
			cursor = strdup(pg->next_cursor);
		api_inbox_page_free(pg);
		if (!cursor)
			break;
	}
	free(cursor);
	return r;
}

static void add_extras(struct root *root)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_extra; i++) {
		const char *ref = root->extra[i];
		const char *url = looks_like_url(ref) ? ref : NULL;
		const char *id = url ? NULL : ref;

		if (!find_known(root, id, url) && !add_conv(root, id, url))
			log_error("conversation %s: out of memory", ref);
	}
	pthread_mutex_unlock(&root->lock);
}

/* Caller holds lock. */
static bool load_due(const struct root *root, bool force)
{
	return !root->loaded || force ||
	       now_mono() - root->loaded_at >= root->env.ttl;
}

int root_load(struct root *root, bool force)
{
	bool due;
	int r = 0;

	pthread_mutex_lock(&root->lock);
	due = load_due(root, force);
	pthread_mutex_unlock(&root->lock);
	if (!due)
		return 0;
	pthread_mutex_lock(&root->load_lock);
	pthread_mutex_lock(&root->lock);
	due = load_due(root, false) || force;
	pthread_mutex_unlock(&root->lock);
	if (due) {
		r = root->inbox_limit > 0 ? load_inbox(root) : 0;
		if (r == 0) {
			add_extras(root);
			pthread_mutex_lock(&root->lock);
			root->loaded = true;
			root->loaded_at = now_mono();
			pthread_mutex_unlock(&root->lock);
			r = 1;
		}
	}
	pthread_mutex_unlock(&root->load_lock);
	return r;
}

bool root_loaded(struct root *root)
{
	bool loaded;

	pthread_mutex_lock(&root->lock);
	loaded = root->loaded;
	pthread_mutex_unlock(&root->lock);
	return loaded;
}

size_t root_count(struct root *root)
{
	size_t n = 0;

	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++)
		n += !root->hidden[i];
	pthread_mutex_unlock(&root->lock);
	return n;
}

void root_foreach(struct root *root, int (*fn)(void *arg, struct conv *c),
		  void *arg)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++)
		if (!root->hidden[i] && fn(arg, root->convs[i]))
			break;
	pthread_mutex_unlock(&root->lock);
}

/* Caller holds lock. Index of the listed conversation called name, or -1. */
static long find_name(const struct root *root, const char *name)
{
	for (size_t i = 0; i < root->n_convs; i++)
		if (!root->hidden[i] &&
		    strcmp(conv_name(root->convs[i]), name) == 0)
			return (long)i;
	return -1;
}

struct conv *root_at(struct root *root, size_t i, bool *past_end)
{
	struct conv *c = NULL;

	pthread_mutex_lock(&root->lock);
	*past_end = i >= root->n_convs;
	if (!*past_end && !root->hidden[i])
		c = root->convs[i];
	pthread_mutex_unlock(&root->lock);
	return c;
}

struct conv *root_find(struct root *root, const char *name)
{
	struct conv *found = NULL;
	long i;

	pthread_mutex_lock(&root->lock);
	i = find_name(root, name);
	if (i >= 0)
		found = root->convs[i];
	pthread_mutex_unlock(&root->lock);
	return found;
}

int root_add(struct root *root, const char *name, const char *url,
	     struct conv **out)
{
	struct conv *c;
	int r = 0;

	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++) {
		c = root->convs[i];
		if (strcmp(conv_name(c), name) != 0 &&
		    !same_str(conv_profile_url(c), url))
			continue;
		if (!root->hidden[i] || !root->added[i] ||
		    strcmp(conv_name(c), name) != 0) {
			r = -EEXIST;
			goto out;
		}
		root->hidden[i] = false; /* back after an rmdir */
		*out = c;
		goto out;
	}
	c = add_conv(root, NULL, url);
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	if (strcmp(conv_name(c), name) != 0) {
		r = -EINVAL; /* the slug does not name itself */
		root->hidden[root->n_convs - 1] = true;
		goto out;
	}
	root->added[root->n_convs - 1] = true;
	*out = c;
out:
	pthread_mutex_unlock(&root->lock);
	return r;
}

int root_remove(struct root *root, const char *name)
{
	long i;
	int r = 0;

	pthread_mutex_lock(&root->lock);
	i = find_name(root, name);
	if (i < 0)
		r = -ENOENT;
	else if (!root->added[i])
		r = -EPERM;
	else
		root->hidden[i] = true;
	pthread_mutex_unlock(&root->lock);
	return r;
}
