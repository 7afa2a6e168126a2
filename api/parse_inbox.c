/*
 * api/parse_inbox.c - a LinkupAPI /v1/messages/inbox answer, or a v2
 * list_inbox one (JSON), to a struct api_inbox_page (api.h).
 *
 * Reads untrusted network input: any value may be missing, of the wrong
 * type or absurdly large, and no input may crash the process. Pure
 * functions: no I/O, no locks, no global state.
 */
#include "parse.h"

#include <errno.h>
#include <stdlib.h>

/* 0, or -ENOENT when the entry has no conversation id (it could not be
 * opened; nothing else is set then). */
static int parse_inbox_entry(struct api_parse_ctx *ctx, const cJSON *item,
			     struct api_inbox_entry *e)
{
	const cJSON *who = api_json_get(item, "participant");
	const cJSON *last = api_json_get(item, "last_message");

	e->conversation_id =
		api_json_token_dup(ctx, api_json_get(item, "conversation_id"));
	if (!e->conversation_id)
		return -ENOENT;
	e->name = api_parse_strdup(ctx, api_json_str(who, "name"));
	if (!e->name)
		e->name = api_json_full_name(ctx, who);
	e->headline = api_parse_strdup(ctx, api_json_str(who, "headline"));
	e->profile_url =
		api_parse_strdup(ctx, api_json_str(who, "profile_url"));
	e->last_text = api_parse_strdup(ctx, api_json_str(last, "text"));
	e->last_sender = api_parse_strdup(ctx, api_json_str(last, "sender"));
	if (!e->last_sender) {
		/* v2 adds last_message.sender.is_me, so its sender is an
		 * object there; its name field is our guess (undocumented) */
		who = api_json_get(last, "sender");
		e->last_sender =
			api_parse_strdup(ctx, api_json_str(who, "name"));
		if (!e->last_sender)
			e->last_sender = api_json_full_name(ctx, who);
	}
	e->last_time_ms = api_json_time_ms(api_json_get(last, "time"));
	e->unread = api_json_count(api_json_get(item, "unread"), 0);
	return 0;
}

static int parse_inbox_entries(struct api_parse_ctx *ctx, const cJSON *array,
			       struct api_inbox_page *page,
			       struct api_error *err)
{
	const cJSON *item;
	long n;

	if (api_parse_count_objects(array, &n))
		return api_parse_fail(
			err, "response has more than 100000 conversations");
	if (!n)
		return 0;
	page->entries = calloc((size_t)n, sizeof(*page->entries));
	if (!page->entries)
		return api_parse_oom(err);
	cJSON_ArrayForEach(item, array)
	{
		struct api_inbox_entry *e = &page->entries[page->n_entries];

		if (!cJSON_IsObject(item))
			continue;
		if (!parse_inbox_entry(ctx, item, e))
			page->n_entries++;
	}
	return 0;
}

int api_parse_inbox_as(const char *body, size_t len,
		       struct api_inbox_page **out, struct api_error *err,
		       enum api_dialect v, long *credits_out)
{
	struct api_parse_ctx ctx = {0};
	struct api_error local;
	struct api_inbox_page *page = NULL;
	const cJSON *data, *list;
	cJSON *root;
	long credits = -1;
	int rc;

	if (!err)
		err = &local;
	api_error_clear(err);
	*out = NULL;
	if (v == API_V2)
		rc = api_parse_root_v2(body, len, &root, &data, &credits, err);
	else
		rc = api_parse_root(body, len, &root, &data, err);
	if (credits_out)
		*credits_out = credits;
	if (rc)
		return rc;
	list = api_json_get(data, "conversations");
	if (!cJSON_IsArray(list)) {
		rc = api_parse_fail(err,
				    "response has no data.conversations array");
		goto out;
	}
	page = calloc(1, sizeof(*page));
	if (!page) {
		rc = api_parse_oom(err);
		goto out;
	}
	page->credits_consumed = credits;
	rc = parse_inbox_entries(&ctx, list, page, err);
	if (rc)
		goto out;
	page->next_cursor =
		api_json_token_dup(&ctx, api_json_get(data, "next_cursor"));
	rc = ctx.oom ? api_parse_oom(err) : 0;
	if (!rc) {
		*out = page;
		page = NULL;
	}
out:
	api_inbox_page_free(page);
	cJSON_Delete(root);
	return rc;
}

int api_parse_inbox(const char *body, size_t len, struct api_inbox_page **out,
		    struct api_error *err)
{
	return api_parse_inbox_as(body, len, out, err, API_V1, NULL);
}

int api_parse_inbox_v2(const char *body, size_t len,
		       struct api_inbox_page **out, struct api_error *err)
{
	return api_parse_inbox_as(body, len, out, err, API_V2, NULL);
}

void api_inbox_page_free(struct api_inbox_page *page)
{
	size_t i;

	if (!page)
		return;
	for (i = 0; i < page->n_entries; i++) {
		free(page->entries[i].conversation_id);
		free(page->entries[i].name);
		free(page->entries[i].headline);
		free(page->entries[i].profile_url);
		free(page->entries[i].last_text);
		free(page->entries[i].last_sender);
	}
	free(page->entries);
	free(page->next_cursor);
	free(page);
}
