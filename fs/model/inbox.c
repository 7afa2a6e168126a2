/*
 * fs/model/inbox.c - the reading of the inbox into the root's table
 * (root.h): full reads by pages, checks of the head, the conversation=
 * entries.
 */
#include "root_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text/buf.h"
#include "../log.h"
#include "clock.h"
#include "keep.h"
#include "link.h"

/* Inbox entries asked for per request of a full read: few round trips,
 * no waste; and per request of a check of the inbox's head: 1 credit. */
#define ROOT_INBOX_PAGE 100
#define ROOT_HEAD_PAGE 10

/* An inbox entry's slot, listed anew when there is room (NULL when not);
 * *fresh: it is new, or its last message is newer than the one known.
 * Caller holds lock. */
static struct root_slot *
take_entry(struct root *root, const struct api_inbox_entry *e, bool *fresh)
{
	struct conv *c = root_find_known(root, e->conversation_id, NULL);
	struct root_slot *slot = NULL;

	*fresh = false;
	if (c) {
		slot = root_slot_of(root, c);
	} else if (root->n_inbox < (size_t)root->inbox_limit) {
		slot = root_add(root, e->conversation_id, e->profile_url);
		root->n_inbox += slot != NULL;
		*fresh = slot != NULL;
	}
	if (!slot)
		return NULL;
	if (conv_set_inbox_info(slot->conv, e))
		*fresh = true;
	slot->listed = true;
	return slot;
}

/* Publish one page of a full read; count what inbox_limit leaves out, and
 * the news in *news. */
static void take_inbox_page(struct root *root, const struct api_inbox_page *pg,
			    size_t *news)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < pg->n_entries; i++) {
		bool fresh;
		struct root_slot *slot =
			take_entry(root, &pg->entries[i], &fresh);

		if (!slot) {
			root->left_out++;
			continue;
		}
		slot->seen = root->reads;
		*news += fresh;
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
		bool fresh;

		if (take_entry(root, &pg->entries[i], &fresh) && fresh)
			(*news)++;
		else
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

/* One inbox page from the API, kept in the store; with kept, while the
 * link is not up (or when this request found it down), the page the store
 * kept. */
static int fetch_inbox(struct root *root, int want, const char *cursor,
		       bool kept, struct api_inbox_page **pg,
		       struct api_error *err)
{
	bool probe;
	int r = link_ask(root->env.link, &probe, err);

	if (r == 0) {
		r = api_get_inbox(root->env.api, want, cursor, pg, err);
		link_note(root->env.link, probe, r, err);
		if (r == 0)
			keep_inbox_put(&root->env, want, cursor, *pg);
	}
	if (r < 0 && kept && !link_up(root->env.link) &&
	    keep_inbox_get(&root->env, want, cursor, pg) == 0)
		r = 0;
	return r;
}

/* One inbox page: the one root_prime read for the first, else fetched. */
static int inbox_page(struct root *root, int want, const char *cursor,
		      bool kept, struct api_inbox_page **pg,
		      struct api_error *err)
{
	if (!cursor && root->primed) {
		*pg = root->primed; /* read at mount: costs nothing more */
		root->primed = NULL;
		return 0;
	}
	return fetch_inbox(root, want, cursor, kept, pg, err);
}

/* The conversations the full read that just ended did not list now check
 * themselves; those listed before count in *news (they left). Caller holds
 * load_lock. */
static void mark_unlisted(struct root *root, size_t *news)
{
	pthread_mutex_lock(&root->lock);
	for (size_t i = 0; i < root->n_convs; i++) {
		struct root_slot *slot = &root->slots[i];

		if (slot->seen == root->reads)
			continue;
		conv_set_in_inbox(slot->conv, false);
		*news += slot->listed;
		slot->listed = false;
	}
	pthread_mutex_unlock(&root->lock);
}

/* Caller holds load_lock. The whole inbox, or up to inbox_limit (kept:
 * from the store while the link is down); *news as root_load says. */
static int load_inbox(struct root *root, bool kept, size_t *news)
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

		r = inbox_page(root, ROOT_INBOX_PAGE, cursor, kept, &pg, &err);
		if (r < 0) {
			log_error("inbox: %s", err.message);
			break;
		}
		take_inbox_page(root, pg, news);
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
		mark_unlisted(root, news);
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
	bool more, probe;
	int r = 0;

	*news = 0;
	do {
		struct api_inbox_page *pg = NULL;

		if (link_ask(root->env.link, &probe, &err) < 0)
			break; /* down or offline: no news */
		r = api_get_inbox(root->env.api, ROOT_HEAD_PAGE, cursor, &pg,
				  &err);
		link_note(root->env.link, probe, r, &err);
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

/* ---- conversation= entries ------------------------------------------ */

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

/* Drop the conversation root_prime just added at the end. Caller holds
 * load_lock; nothing has seen it yet (the FUSE loop has not started). */
static void drop_last(struct root *root, struct conv *c)
{
	pthread_mutex_lock(&root->lock);
	if (root->n_convs && root->slots[root->n_convs - 1].conv == c) {
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
	struct root_slot *slot;
	struct conv *c;
	const char *id;
	char *url;
	bool known;
	int r = parse_ref(ref, &id, &url);

	if (r < 0)
		return 0; /* out of memory: listed at the next load */
	pthread_mutex_lock(&root->lock);
	c = root_find_known(root, id, url);
	known = c != NULL;
	if (!c && (slot = root_add(root, id, url)))
		c = slot->conv;
	if (!c)
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

/* ---- root.h ---------------------------------------------------------- */

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
	struct link_stats link;
	int r = 0;

	memset(err, 0, sizeof(*err));
	pthread_mutex_lock(&root->load_lock);
	if (want > 0)
		r = fetch_inbox(root, want, NULL, true, &root->primed, err);
	if (r < 0 && err->kind == API_ERR_AUTH)
		goto out;
	if (r == 0 && root->primed)
		root->primed_ms = newest_entry(root->primed, root->inbox_limit);
	if (r < 0) {
		link_get_stats(root->env.link, &link);
		if (link.state == LINK_OFFLINE)
			log_error("inbox: %s, and no inbox kept: listings fail "
				  "(network is down) until a mount without "
				  "-o offline reads it",
				  err->message);
		else
			log_error("inbox: %s; mounting anyway: the listing "
				  "comes once the API answers",
				  err->message);
	}
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

/* Whether a full read is due. */
static bool load_due(struct root *root, bool force)
{
	bool due;

	pthread_mutex_lock(&root->lock);
	due = !root->loaded || force;
	pthread_mutex_unlock(&root->lock);
	return due;
}

int root_load(struct root *root, bool force, bool *read, size_t *news)
{
	int r = 0;

	*read = false;
	*news = 0;
	if (!load_due(root, force))
		return 0;
	pthread_mutex_lock(&root->load_lock);
	if (load_due(root, force)) {
		/* a forced read asks the API, or fails */
		r = root->inbox_limit > 0 ? load_inbox(root, !force, news) : 0;
		if (r == 0) {
			add_extras(root, false);
			pthread_mutex_lock(&root->lock);
			root->loaded = true;
			root->loaded_at_ms = clock_now_ms();
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
	       clock_now_ms() - root->loaded_at_ms >=
		       (long long)root->env.ttl * 1000;
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
		root->loaded_at_ms = clock_now_ms();
		pthread_mutex_unlock(&root->lock);
	}
	pthread_mutex_unlock(&root->load_lock);
	return r;
}
