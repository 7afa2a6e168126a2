/*
 * fs/model/root.c - the table of conversations at the root.
 */
#include "root.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text/buf.h"
#include "../log.h"
#include "clock.h"
#include "keep.h"
#include "net.h"
#include "../text/names.h"

/* Inbox entries asked for per request of a full read: few round trips,
 * no waste; and per request of a check of the inbox's head: 1 credit. */
#define ROOT_INBOX_PAGE 100
#define ROOT_HEAD_PAGE 10

struct root {
	struct conv_env env;
	int inbox_limit;
	char *const *extra;
	size_t n_extra;

	/* Serialises inbox walks, and is held across their requests: the
	 * deliberate exception to "no lock across the network" (STYLE.md).
	 * It is the walk's single flight: a second caller due for the same
	 * re-read waits for the first's result instead of asking the API
	 * again; the listing itself is read under lock, never this one, so
	 * nothing that is cached waits for it. Taken before lock. */
	pthread_mutex_t load_lock;
	pthread_mutex_t lock; /* guards the fields below */
	bool loaded;
	time_t loaded_at; /* monotonic seconds of the last read or check */
	struct conv **convs;
	unsigned *seen; /* per conversation: the full read that listed it */
	unsigned reads; /* full reads begun */
	size_t n_convs;
	size_t cap;
	size_t n_inbox;	 /* conversations taken from the inbox */
	size_t left_out; /* by inbox_limit at the last full read, at least */
	bool left_more;	 /* and more after them */
	/* set before the FUSE loop starts, then read under load_lock: */
	struct api_inbox_page *primed; /* the inbox's first page, from
					  root_prime, for the first load */
	int64_t primed_ms; /* its newest listed entry's time: the root's
			      mtime until then (never written again) */
	bool extras_done;  /* the conversation= entries were added */
	size_t not_found;  /* conversation= entries the API denies */
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
	free(root->seen);
	api_inbox_page_free(root->primed);
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
			return true;
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
	unsigned *seen;

	if (!convs)
		return -ENOMEM;
	root->convs = convs;
	seen = realloc(root->seen, cap * sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	root->seen = seen;
	root->cap = cap;
	return 0;
}

/* Add a conversation under a unique name. Caller holds lock. */
static struct conv *add_conv(struct root *root, const char *id, const char *url)
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
		root->seen[root->n_convs] = 0;
		root->convs[root->n_convs++] = c;
	}
	return c;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The profile URL of a slug as ls shows it (percent-encoded), malloc'd. */
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

/*
 * A conversation= value, in one of three forms: a conversation URN
 * ("urn:li:..."), a profile URL (http:// or https://), or a profile slug
 * (the directory name ls shows, whose URL is built here). Sets exactly one
 * of *id (borrowed from ref) and *url (malloc'd). 0 or -ENOMEM.
 */
static int parse_ref(const char *ref, const char **id, char **url)
{
	*id = NULL;
	*url = NULL;
	if (has_prefix(ref, "urn:")) {
		*id = ref;
		return 0;
	}
	if (has_prefix(ref, "http://") || has_prefix(ref, "https://"))
		*url = strdup(ref);
	else
		*url = profile_url_of(ref);
	return *url ? 0 : -ENOMEM;
}

/* An inbox entry's conversation, listed anew when there is room (NULL when
 * not). Caller holds lock. */
static struct conv *inbox_conv(struct root *root,
			       const struct api_inbox_entry *e)
{
	struct conv *c = find_known(root, e->conversation_id, NULL);

	if (c || root->n_inbox >= (size_t)root->inbox_limit)
		return c;
	c = add_conv(root, e->conversation_id, e->profile_url);
	root->n_inbox += c != NULL;
	return c;
}

/* Publish one page of a full read; count what inbox_limit leaves out. */
static void take_inbox_page(struct root *root, const struct api_inbox_page *pg)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < pg->n_entries; i++) {
		const struct api_inbox_entry *e = &pg->entries[i];
		struct conv *c = inbox_conv(root, e);

		if (!c) {
			root->left_out++;
			continue;
		}
		conv_set_inbox_info(c, e);
		root->seen[conv_index(c)] = root->reads;
	}
	pthread_mutex_unlock(&root->lock);
}

/* Publish one page of a check of the head. True when every entry was new
 * or changed (the next page may hold more news). *news counts them. */
static bool take_head_page(struct root *root, const struct api_inbox_page *pg,
			   size_t *news)
{
	bool all = pg->n_entries > 0;

	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < pg->n_entries; i++) {
		const struct api_inbox_entry *e = &pg->entries[i];
		struct conv *c = find_known(root, e->conversation_id, NULL);
		bool fresh = c == NULL;

		if (!c)
			c = inbox_conv(root, e);
		if (c && conv_set_inbox_info(c, e))
			fresh = true;
		if (fresh && c)
			(*news)++;
		if (!fresh || !c)
			all = false;
	}
	pthread_mutex_unlock(&root->lock);
	return all;
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

/* One inbox page from the API, kept in the store; offline (or when the
 * API cannot be reached), the page the store kept. */
static int fetch_inbox(struct root *root, int want, const char *cursor,
		       struct api_inbox_page **pg, struct api_error *err)
{
	int r = -ENETDOWN;

	if (net_may_ask(root->env.net)) {
		r = api_get_inbox(root->env.api, want, cursor, pg, err);
		net_note(root->env.net, r, err);
		if (r == 0)
			keep_inbox_put(&root->env, want, cursor, *pg);
	} else {
		err->kind = API_ERR_TRANSPORT;
		snprintf(err->message, sizeof(err->message),
			 "offline, and the store holds no listing");
	}
	if (r < 0 && net_offline(root->env.net) &&
	    keep_inbox_get(&root->env, want, cursor, pg) == 0)
		r = 0;
	return r;
}

/* One inbox page: the one root_prime read for the first, else fetched. */
static int inbox_page(struct root *root, int want, const char *cursor,
		      struct api_inbox_page **pg, struct api_error *err)
{
	if (!cursor && root->primed) {
		*pg = root->primed; /* read at mount: costs nothing more */
		root->primed = NULL;
		return 0;
	}
	return fetch_inbox(root, want, cursor, pg, err);
}

/* The conversations the full read that just ended did not list now check
 * themselves. Caller holds load_lock. */
static void mark_unlisted(struct root *root)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++)
		if (root->seen[i] != root->reads)
			conv_set_in_inbox(root->convs[i], false);
	pthread_mutex_unlock(&root->lock);
}

/* Caller holds load_lock. The whole inbox, or up to inbox_limit. */
static int load_inbox(struct root *root)
{
	struct api_error err = {0};
	char *cursor = NULL;
	int r = 0;

	pthread_mutex_lock(&root->lock);
	root->reads++;
	root->left_out = 0;
	root->left_more = false;
	pthread_mutex_unlock(&root->lock);
	for (;;) {
		struct api_inbox_page *pg = NULL;

		r = inbox_page(root, ROOT_INBOX_PAGE, cursor, &pg, &err);
		if (r < 0) {
			log_error("inbox: %s", err.message);
			break;
		}
		take_inbox_page(root, pg);
		r = inbox_fault(pg, cursor);
		free(cursor);
		cursor = NULL;
		if (r == 0 && pg->next_cursor && pg->next_cursor[0])
			cursor = strdup(pg->next_cursor);
		api_inbox_page_free(pg);
		if (cursor && root->left_out) { /* the cap cut: stop here */
			root->left_more = true;
			break;
		}
		if (!cursor)
			break;
	}
	free(cursor);
	if (r == 0)
		mark_unlisted(root);
	if (r == 0 && root->left_out)
		log_info("inbox: inbox_limit=%d leaves out %s%zu conversations",
			 root->inbox_limit, root->left_more ? "more than " : "",
			 root->left_out);
	return r;
}

/* Caller holds load_lock. What changed since the last read: pages of the
 * inbox's head, while every entry of one is new or changed (the inbox is
 * sorted by recent activity). */
static int check_head(struct root *root, size_t *news)
{
	struct api_error err = {0};
	char *cursor = NULL;
	bool more;
	int r = 0;

	*news = 0;
	do {
		struct api_inbox_page *pg = NULL;

		if (!net_may_ask(root->env.net)) /* offline: no news */
			break;
		r = api_get_inbox(root->env.api, ROOT_HEAD_PAGE, cursor, &pg,
				  &err);
		net_note(root->env.net, r, &err);
		if (r < 0) {
			log_error("inbox check: %s", err.message);
			break;
		}
		more = take_head_page(root, pg, news);
		r = inbox_fault(pg, cursor);
		free(cursor);
		cursor = NULL;
		if (r == 0 && more && pg->next_cursor && pg->next_cursor[0])
			cursor = strdup(pg->next_cursor);
		api_inbox_page_free(pg);
	} while (cursor);
	return r;
}

/* Drop the conversation root_prime just added at the end. Caller holds
 * load_lock; nothing has seen it yet (the FUSE loop has not started). */
static void drop_last(struct root *root, struct conv *c)
{
	pthread_mutex_lock(&root->lock);
	if (root->n_convs && root->convs[root->n_convs - 1] == c) {
		root->n_convs--;
		conv_free(c);
	}
	root->not_found++;
	pthread_mutex_unlock(&root->lock);
}

/* List conversation= entry ref; with check, fetch its newest page first
 * and leave out one the API does not know. 0, or -EACCES when the API
 * refused the key or token. Caller holds load_lock. */
static int add_extra(struct root *root, const char *ref, bool check)
{
	struct conv *c;
	const char *id;
	char *url;
	bool known;
	int r = parse_ref(ref, &id, &url);

	if (r < 0)
		return 0; /* out of memory: listed at the next load */
	pthread_mutex_lock(&root->lock);
	c = find_known(root, id, url);
	known = c != NULL;
	if (!c && !(c = add_conv(root, id, url)))
		log_error("conversation %s: out of memory", ref);
	pthread_mutex_unlock(&root->lock);
	free(url);
	if (!c || !check)
		return 0;
	r = conv_fetch_newest(c);
	if (r == -ENOENT && !known) {
		log_error("conversation %s: the API does not know it; it is "
			  "not listed",
			  ref);
		drop_last(root, c);
	}
	return r == -EACCES ? r : 0;
}

/* The conversation= entries, once. Caller holds load_lock. */
static int add_extras(struct root *root, bool check)
{
	int r = 0;

	if (root->extras_done)
		return 0;
	for (size_t i = 0; i < root->n_extra && r == 0; i++)
		r = add_extra(root, root->extra[i], check);
	root->extras_done = true;
	return r;
}

/* The newest time of the first n entries of pg (0: none). */
static int64_t newest_entry(const struct api_inbox_page *pg, int n)
{
	int64_t newest = 0;

	for (size_t i = 0; i < pg->n_entries && (int)i < n; i++)
		if (pg->entries[i].last_time_ms > newest)
			newest = pg->entries[i].last_time_ms;
	return newest;
}

int root_prime(struct root *root, struct api_error *err)
{
	int want = root->inbox_limit > 0 ? ROOT_INBOX_PAGE : 0;
	int r = 0;

	memset(err, 0, sizeof(*err));
	pthread_mutex_lock(&root->load_lock);
	if (want > 0)
		r = fetch_inbox(root, want, NULL, &root->primed, err);
	if (r < 0 && err->kind == API_ERR_AUTH)
		goto out;
	if (r == 0 && root->primed)
		root->primed_ms = newest_entry(root->primed, root->inbox_limit);
	if (r < 0)
		log_error("inbox: %s; mounting anyway: the listing comes once "
			  "the API answers",
			  err->message);
	r = add_extras(root, true);
	if (r < 0) {
		err->kind = API_ERR_AUTH;
		snprintf(err->message, sizeof(err->message),
			 "the API refused "
			 "the request for a conversation= entry (see above)");
	}
out:
	pthread_mutex_unlock(&root->load_lock);
	return r < 0 ? -EACCES : 0;
}

size_t root_not_found(struct root *root)
{
	size_t n;

	pthread_mutex_lock(&root->lock);
	n = root->not_found;
	pthread_mutex_unlock(&root->lock);
	return n;
}

size_t root_left_out(struct root *root, bool *more)
{
	size_t n;

	pthread_mutex_lock(&root->lock);
	n = root->left_out;
	*more = root->left_more;
	pthread_mutex_unlock(&root->lock);
	return n;
}

int root_load(struct root *root, bool force, bool *read)
{
	bool due;
	int r = 0;

	*read = false;
	pthread_mutex_lock(&root->lock);
	due = !root->loaded || force;
	pthread_mutex_unlock(&root->lock);
	if (!due)
		return 0;
	pthread_mutex_lock(&root->load_lock);
	pthread_mutex_lock(&root->lock);
	due = !root->loaded || force;
	pthread_mutex_unlock(&root->lock);
	if (due) {
		r = root->inbox_limit > 0 ? load_inbox(root) : 0;
		if (r == 0) {
			add_extras(root, false);
			pthread_mutex_lock(&root->lock);
			root->loaded = true;
			root->loaded_at = clock_now();
			pthread_mutex_unlock(&root->lock);
			*read = true;
		}
	}
	pthread_mutex_unlock(&root->load_lock);
	return r;
}

/* Caller holds lock. */
static bool check_due(const struct root *root)
{
	return root->loaded && root->inbox_limit > 0 &&
	       clock_now() - root->loaded_at >= root->env.ttl;
}

bool root_check_due(struct root *root)
{
	bool due;

	pthread_mutex_lock(&root->lock);
	due = check_due(root);
	pthread_mutex_unlock(&root->lock);
	return due;
}

int root_check(struct root *root, size_t *news)
{
	bool due;
	int r = 0;

	*news = 0;
	if (!root_check_due(root))
		return 0;
	pthread_mutex_lock(&root->load_lock);
	pthread_mutex_lock(&root->lock);
	due = check_due(root);
	pthread_mutex_unlock(&root->lock);
	if (due) {
		r = check_head(root, news);
		/* a failure too is tried again after the ttl only */
		pthread_mutex_lock(&root->lock);
		root->loaded_at = clock_now();
		pthread_mutex_unlock(&root->lock);
	}
	pthread_mutex_unlock(&root->load_lock);
	return r;
}

time_t root_mtime(struct root *root)
{
	time_t newest;

	pthread_mutex_lock(&root->lock);
	newest = root->primed_ms > 0 ? (time_t)(root->primed_ms / 1000) : 0;
	for (size_t i = 0; i < root->n_convs; i++) {
		time_t t = conv_mtime(root->convs[i]);

		if (t > newest)
			newest = t;
	}
	pthread_mutex_unlock(&root->lock);
	return newest;
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
	n = root->n_convs;
	pthread_mutex_unlock(&root->lock);
	return n;
}

void root_foreach(struct root *root, int (*fn)(void *arg, struct conv *c),
		  void *arg)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++)
		if (fn(arg, root->convs[i]))
			break;
	pthread_mutex_unlock(&root->lock);
}

/* Caller holds lock. Index of the listed conversation called name, or -1. */
static long find_name(const struct root *root, const char *name)
{
	for (size_t i = 0; i < root->n_convs; i++)
		if (strcmp(conv_name(root->convs[i]), name) == 0)
			return (long)i;
	return -1;
}

struct conv *root_at(struct root *root, size_t i, bool *past_end)
{
	struct conv *c = NULL;

	pthread_mutex_lock(&root->lock);
	*past_end = i >= root->n_convs;
	if (!*past_end)
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
