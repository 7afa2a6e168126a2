/*
 * api/parse_conversation.c - a LinkupAPI /v1/messages/conversation answer,
 * or a v2 get_conversation one (JSON), to a struct api_page (api.h).
 *
 * Reads untrusted network input: any value may be missing, of the wrong
 * type or absurdly large, and no input may crash the process. Pure
 * functions: no I/O, no locks, no global state.
 */
#include "json.h"
#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether some string of body may hold a NUL: a raw one, or "\u0000" (or
 * "\\u0000", which is not one: a cheap test, not an exact one). */
static bool may_hold_nul(const char *body, size_t len)
{
	const char *p = body, *end = body + len;

	if (memchr(body, '\0', len))
		return true;
	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)
			return true;
		p++;
	}
	return false;
}

/* The message's text, NUL bytes included (api_json_keep_nul made a text
 * that holds one a raw item). */
static void parse_text(struct api_parse_ctx *ctx, const cJSON *item,
		       struct api_message *m)
{
	const cJSON *text = api_json_get(item, "text");
	const char *s = api_json_str(item, "text");

	if (cJSON_IsRaw(text)) {
		if (api_json_raw_bytes(text, &m->text, &m->text_len) == -ENOMEM)
			ctx->oom = true;
		if (m->text)
			return;
	}
	m->text = api_parse_strdup(ctx, s ? s : "");
	m->text_len = m->text ? strlen(m->text) : 0;
}

/* raw: at item's own bytes in the answer, or NULL. */
static void parse_message(struct api_parse_ctx *ctx, cJSON *item,
			  struct api_json_elems *raw, struct api_message *m)
{
	const char *s;

	parse_text(ctx, item, m);
	m->timestamp_ms = api_json_time_ms(api_json_get(item, "timestamp"));
	s = api_json_str(item, "sender");
	m->sender =
		s ? api_parse_strdup(ctx, s)
		  : api_json_full_name(ctx, api_json_get(item, "sender_info"));
	if (!m->sender)
		m->sender = api_parse_strdup(ctx, "unknown");
	s = api_json_str(item, "message_type");
	m->message_type = api_parse_strdup(ctx, s ? s : "TEXT");
	s = api_json_str(item, "entity_urn");
	m->entity_urn = api_parse_strdup(ctx, s ? s : "");
	/* last: the fields above are read as sent, before any repair */
	m->json = api_json_line(ctx, item, raw, false, &m->json_len);
}

/* The bytes of data.messages' elements, in step with cJSON's items, when
 * the body is clean (the lines are made from them): raw->s NULL if not. */
static void open_raw(const struct api_parse_ctx *ctx,
		     struct api_json_elems *raw, const char *body, size_t len)
{
	static const char *const path[] = {"data", "messages", NULL};

	if (!ctx->clean || !api_json_elems_open(raw, body, len, path))
		raw->s = NULL;
}

/* raw at item's bytes, when it is still in step; NULL when not (and for
 * the rest). */
static struct api_json_elems *next_raw(struct api_json_elems *raw,
				       const cJSON *item)
{
	size_t at;

	if (raw->s && !api_json_elems_next(raw, &at))
		raw->s = NULL;
	if (raw->s && cJSON_IsObject(item) != (raw->s[at] == '{'))
		raw->s = NULL; /* out of step: never when clean */
	return raw->s ? raw : NULL;
}

static int parse_messages(struct api_parse_ctx *ctx, cJSON *array,
			  const char *body, size_t len, struct api_page *page,
			  struct api_error *err)
{
	struct api_json_elems raw, *at;
	cJSON *item;
	long n;

	if (api_parse_count_objects(array, &n))
		return api_parse_fail(err,
				      "response has more than 100000 messages");
	if (!n)
		return 0;
	page->messages = calloc((size_t)n, sizeof(*page->messages));
	if (!page->messages)
		return api_parse_oom(err);
	open_raw(ctx, &raw, body, len);
	cJSON_ArrayForEach(item, array)
	{
		at = next_raw(&raw, item);
		if (cJSON_IsObject(item))
			parse_message(ctx, item, at,
				      &page->messages[page->n_messages++]);
	}
	return 0;
}

/* A value that is true, false, null, a number or a string, as its compact
 * JSON text (shown safely: api_json_line); NULL when absent or another. */
static char *scalar_json(struct api_parse_ctx *ctx, const cJSON *item)
{
	size_t n;

	if (!item || cJSON_IsObject(item) || cJSON_IsArray(item) ||
	    cJSON_IsInvalid(item))
		return NULL;
	return api_json_line(ctx, (cJSON *)item, NULL, false, &n);
}

static void parse_page_meta(struct api_parse_ctx *ctx, const cJSON *data,
			    struct api_page *page, enum api_dialect v)
{
	const cJSON *pagination = api_json_get(data, "pagination");

	page->conversation_id =
		api_json_token_dup(ctx, api_json_get(data, "conversation_id"));
	if (!page->conversation_id)
		page->conversation_id = api_parse_strdup(ctx, "");
	page->profile_url =
		api_parse_strdup(ctx, api_json_str(data, "profile_url"));
	page->total_other_member_message_count = api_json_count(
		api_json_get(data, "total_other_member_message_count"), -1);
	page->unread_count =
		api_json_count(api_json_get(data, "unread_count"), -1);
	page->last_seen_message =
		scalar_json(ctx, api_json_get(data, "last_seen_message"));
	page->last_seen_at =
		api_json_time_ms(api_json_get(data, "last_seen_at"));
	page->total_message_count =
		api_json_count(api_json_get(data, "total_message_count"), -1);
	if (v == API_V2) {
		/* v2: the cursor sits in data, and the chain ends where none
		 * comes back (no has_next_page; inferred from the docs'
		 * example): the model's guards then see has_next_page */
		page->next_cursor = api_json_token_dup(
			ctx, api_json_get(data, "next_cursor"));
		page->has_next_page = page->next_cursor != NULL;
		return;
	}
	page->has_next_page =
		api_json_flag(api_json_get(pagination, "has_next_page"));
	page->next_cursor = api_json_token_dup(
		ctx, api_json_get(pagination, "next_cursor"));
}

/* null or a string where the cursor belongs would read as "no more pages"
 * and cut the conversation short: refuse it (absent still means the last
 * page). v1 keeps it in data.pagination, v2 in data.next_cursor. */
static int check_cursor_place(const cJSON *data, enum api_dialect v,
			      struct api_error *err)
{
	const cJSON *item;

	if (v == API_V2) {
		item = api_json_get(data, "next_cursor");
		if (item && !cJSON_IsString(item) && !cJSON_IsNumber(item))
			return api_parse_fail(err,
					      "response has a data.next_cursor "
					      "that is not a string");
		return 0;
	}
	item = api_json_get(data, "pagination");
	if (item && !cJSON_IsObject(item))
		return api_parse_fail(err,
				      "response has a data.pagination that "
				      "is not an object");
	return 0;
}

int api_parse_conversation_as(const char *body, size_t len,
			      struct api_page **out, struct api_error *err,
			      enum api_dialect v, long *credits_out)
{
	struct api_parse_ctx ctx = {0};
	struct api_error local;
	struct api_page *page = NULL;
	const cJSON *data;
	cJSON *root, *messages;
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
	ctx.clean =
		api_json_strict(body, len); /* len is checked: within the cap */
	if (may_hold_nul(body, len) && api_json_keep_nul(root, body, len)) {
		rc = api_parse_oom(err);
		goto out;
	}
	messages = (cJSON *)api_json_get(data, "messages");
	if (!cJSON_IsArray(messages)) {
		rc = api_parse_fail(err, "response has no data.messages array");
		goto out;
	}
	rc = check_cursor_place(data, v, err);
	if (rc)
		goto out;
	page = calloc(1, sizeof(*page));
	if (!page) {
		rc = api_parse_oom(err);
		goto out;
	}
	page->credits_consumed = credits;
	parse_page_meta(&ctx, data, page, v);
	rc = parse_messages(&ctx, messages, body, len, page, err);
	if (rc)
		goto out;
	page->data_json = api_json_compact(&ctx, (cJSON *)data, body, len,
					   &page->data_json_whole);
	rc = ctx.oom ? api_parse_oom(err) : 0;
	if (!rc) {
		*out = page;
		page = NULL;
	}
out:
	api_page_free(page);
	cJSON_Delete(root);
	return rc;
}

int api_parse_conversation(const char *body, size_t len, struct api_page **out,
			   struct api_error *err)
{
	return api_parse_conversation_as(body, len, out, err, API_V1, NULL);
}

int api_parse_conversation_v2(const char *body, size_t len,
			      struct api_page **out, struct api_error *err)
{
	return api_parse_conversation_as(body, len, out, err, API_V2, NULL);
}

void api_page_free(struct api_page *page)
{
	size_t i;

	if (!page)
		return;
	for (i = 0; i < page->n_messages; i++) {
		free(page->messages[i].text);
		free(page->messages[i].sender);
		free(page->messages[i].message_type);
		free(page->messages[i].entity_urn);
		free(page->messages[i].json);
	}
	free(page->messages);
	free(page->conversation_id);
	free(page->profile_url);
	free(page->last_seen_message);
	free(page->next_cursor);
	free(page->data_json);
	free(page);
}
