/*
 * fs/model/root.c - the table of conversations at the root (root.h); the
 * reading of the inbox into it is inbox.c's.
 */
#include "root_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text/names.h"

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
		conv_free(root->slots[i].conv);
	free(root->slots);
	api_inbox_page_free(root->primed);
	pthread_mutex_destroy(&root->lock);
	pthread_mutex_destroy(&root->load_lock);
	free(root);
}

/* Caller holds lock. Index of the listed conversation called name, or -1. */
static long find_name(const struct root *root, const char *name)
{
	for (size_t i = 0; i < root->n_convs; i++)
		if (strcmp(conv_name(root->slots[i].conv), name) == 0)
			return (long)i;
	return -1;
}

/* Caller holds lock. */
static bool name_taken(const struct root *root, const char *name)
{
	return strcmp(name, ".stats") == 0 || find_name(root, name) >= 0;
}

static bool same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

struct conv *root_find_known(const struct root *root, const char *id,
			     const char *url)
{
	for (size_t i = 0; i < root->n_convs; i++) {
		struct conv *c = root->slots[i].conv;

		if (same_str(conv_id(c), id) ||
		    same_str(conv_profile_url(c), url))
			return c;
	}
	return NULL;
}

struct root_slot *root_slot_of(struct root *root, const struct conv *c)
{
	return &root->slots[conv_index(c)];
}

/* Room for more conversations. Caller holds lock. */
static int grow(struct root *root)
{
	size_t cap = root->cap ? 2 * root->cap : 64;
	struct root_slot *slots = realloc(root->slots, cap * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	root->slots = slots;
	root->cap = cap;
	return 0;
}

struct root_slot *root_add(struct root *root, const char *id, const char *url)
{
	char base[NAME_SIZE], name[NAME_SIZE];
	struct root_slot *slot;
	struct conv *c;

	if (root->n_convs == root->cap && grow(root) < 0)
		return NULL;
	name_for_conversation(url, id, base);
	snprintf(name, sizeof(name), "%s", base);
	for (int n = 2; name_taken(root, name); n++)
		name_with_suffix(base, n, name);
	c = conv_new(&root->env, (unsigned)root->n_convs, name, id, url);
	if (!c)
		return NULL;
	slot = &root->slots[root->n_convs++];
	*slot = (struct root_slot){.conv = c};
	return slot;
}

void root_get_stats(struct root *root, struct root_stats *out)
{
	pthread_mutex_lock(&root->lock);
	*out = (struct root_stats){
		.conversations = root->n_convs,
		.not_found = root->not_found,
		.left_out = root->left_out,
		.left_more = root->left_more,
		.loaded = root->loaded,
	};
	pthread_mutex_unlock(&root->lock);
}

time_t root_mtime(struct root *root)
{
	time_t newest;

	pthread_mutex_lock(&root->lock);
	newest = root->primed_ms > 0 ? (time_t)(root->primed_ms / 1000) : 0;
	for (size_t i = 0; i < root->n_convs; i++) {
		time_t t = conv_mtime(root->slots[i].conv);

		if (t > newest)
			newest = t;
	}
	pthread_mutex_unlock(&root->lock);
	return newest;
}

void root_foreach(struct root *root, int (*fn)(void *arg, struct conv *c),
		  void *arg)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++)
		if (fn(arg, root->slots[i].conv))
			break;
	pthread_mutex_unlock(&root->lock);
}

struct conv *root_at(struct root *root, size_t i, bool *past_end)
{
	struct conv *c = NULL;

	pthread_mutex_lock(&root->lock);
	*past_end = i >= root->n_convs;
	if (!*past_end)
		c = root->slots[i].conv;
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
		found = root->slots[i].conv;
	pthread_mutex_unlock(&root->lock);
	return found;
}
