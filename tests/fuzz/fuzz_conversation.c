/*
 * tests/fuzz/fuzz_conversation.c - libFuzzer harness for
 * api_parse_conversation(): any body a server sends is parsed without a
 * crash, a leak or undefined behaviour, and a page that is accepted keeps
 * the promises of api.h (no NULL where none is allowed, sane numbers,
 * data_json one valid JSON object in valid UTF-8, nothing after it, each
 * message's json one line of it, nothing raw to hide text) and renders to
 * safe text. For a strictly valid body, each message's line (made from the
 * body's own bytes) must be, byte for byte, what cJSON prints of the
 * parsed tree.
 */
#include <cjson/cJSON.h>
#include <errno.h>

#include "../../api/api.h"
#include "../../api/json.h"
#include "../../api/parse.h"
#include "../../fs/text/buf.h"
#include "../../fs/text/render.h"
#include "fuzz_util.h"

/* Mirrors of parse.c's limits, as api.h documents them. */
#define MAX_TIME_MS 253402300799999LL
#define MAX_COUNT 1000000000L

static void check_count(long v)
{
	FUZZ_ASSERT(v == -1 || (v >= 0 && v <= MAX_COUNT));
}

/* cJSON accepts what RFC 8259 forbids: a raw control character inside a
 * string. Scan for it, with the string state a strict parser would keep. */
static bool raw_control_in_string(const char *json, size_t n)
{
	bool in_string = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (in_string && (unsigned char)json[i] < 0x20)
			return true;
		if (in_string && json[i] == '\\')
			i++;
		else if (json[i] == '"')
			in_string = !in_string;
	}
	return false;
}

/* One line of JSON: one object, valid UTF-8, nothing raw a terminal or
 * a text viewer would act on, no newline at all. */
static void check_message_json(const struct api_message *m)
{
	const char *end = NULL;
	cJSON *back;

	FUZZ_ASSERT(m->json && strlen(m->json) == m->json_len);
	FUZZ_ASSERT(!memchr(m->json, '\n', m->json_len));
	FUZZ_ASSERT(fuzz_json_display_safe(m->json, m->json_len));
	FUZZ_ASSERT(!raw_control_in_string(m->json, m->json_len));
	back = cJSON_ParseWithOpts(m->json, &end, true);
	FUZZ_ASSERT(cJSON_IsObject(back) && end == m->json + m->json_len);
	cJSON_Delete(back);
}

static void check_message(const struct api_message *m)
{
	FUZZ_ASSERT(m->text && m->sender && m->message_type && m->entity_urn);
	FUZZ_ASSERT(m->text[m->text_len] == '\0');
	FUZZ_ASSERT(strlen(m->text) <= m->text_len);
	FUZZ_ASSERT(m->timestamp_ms >= 0 && m->timestamp_ms <= MAX_TIME_MS);
	FUZZ_ASSERT(m->sender[0] && m->message_type[0]);
	check_message_json(m);
}

static void check_data_json(const char *json)
{
	const char *end = NULL;
	size_t n;
	cJSON *back;

	FUZZ_ASSERT(json);
	n = strlen(json);
	FUZZ_ASSERT(n >= 3 && json[0] == '{' && json[n - 1] == '\n');
	FUZZ_ASSERT(fuzz_json_display_safe(json, n));
	FUZZ_ASSERT(!raw_control_in_string(json, n));
	/* one object and nothing after it but white space */
	back = cJSON_ParseWithOpts(json, &end, true);
	FUZZ_ASSERT(cJSON_IsObject(back) && end == json + n);
	cJSON_Delete(back);
}

/* What a page file would show: every byte of it safe for a terminal. */
static void check_rendered(const struct api_page *page)
{
	struct buf b = BUF_INIT;

	render_messages(&b, page->messages, page->n_messages);
	if (!b.oom && b.len)
		FUZZ_ASSERT(fuzz_text_safe(b.data, b.len, true));
	buf_free(&b);
}

/* last_seen_message: one JSON value that is no object or array, put back
 * as is in conversation.json (so it must stand alone as JSON text). */
static void check_json_scalar(const char *json)
{
	const char *end = NULL;
	cJSON *back;

	if (!json)
		return;
	FUZZ_ASSERT(fuzz_json_display_safe(json, strlen(json)));
	back = cJSON_ParseWithOpts(json, &end, true);
	FUZZ_ASSERT(back && !cJSON_IsObject(back) && !cJSON_IsArray(back) &&
		    end == json + strlen(json));
	cJSON_Delete(back);
}

static void check_page(const struct api_page *page)
{
	size_t i;

	FUZZ_ASSERT(page->conversation_id);
	FUZZ_ASSERT(!page->next_cursor || page->next_cursor[0]);
	FUZZ_ASSERT(!page->profile_url || page->profile_url[0]);
	FUZZ_ASSERT(!page->n_messages || page->messages);
	FUZZ_ASSERT(page->n_messages <= 100000);
	FUZZ_ASSERT(page->last_seen_at >= 0 &&
		    page->last_seen_at <= MAX_TIME_MS);
	check_count(page->total_other_member_message_count);
	check_count(page->unread_count);
	check_json_scalar(page->last_seen_message);
	for (i = 0; i < page->n_messages; i++)
		check_message(&page->messages[i]);
	check_data_json(page->data_json);
	check_rendered(page);
}

/* The lines of a strictly valid body against the tree's: cJSON's parse
 * (with api_json_keep_nul, as the parse does), each object printed. */
static void check_lines(const struct api_page *page, const char *body,
			size_t len)
{
	cJSON *root, *item, *messages;
	char *printed, *want;
	size_t k = 0, n;

	if (!api_json_strict(body, len))
		return;
	root = cJSON_ParseWithLength(body, len);
	FUZZ_ASSERT(root);
	if (api_json_keep_nul(root, body, len))
		goto out; /* no memory */
	messages = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "data"), "messages");
	cJSON_ArrayForEach(item, messages)
	{
		if (!cJSON_IsObject(item))
			continue;
		printed = cJSON_PrintUnformatted(item);
		want = printed ? api_json_for_display(printed, strlen(printed),
						      false, &n)
			       : NULL;
		FUZZ_ASSERT(k < page->n_messages);
		if (want)
			FUZZ_ASSERT(page->messages[k].json_len == n &&
				    !memcmp(page->messages[k].json, want, n));
		k++;
		cJSON_free(printed);
		free(want);
	}
	FUZZ_ASSERT(k == page->n_messages);
out:
	cJSON_Delete(root);
}

static void check_failure(int rc, const struct api_error *err)
{
	FUZZ_ASSERT(rc < 0);
	FUZZ_ASSERT(err->kind != API_OK);
	FUZZ_ASSERT(rc == -ENOMEM || rc == api_error_errno(err));
	FUZZ_ASSERT(fuzz_message_printable(err->message, sizeof(err->message)));
	FUZZ_ASSERT(err->message[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_page *page = (struct api_page *)1; /* must be reset */
	struct api_error err;
	int rc;

	rc = api_parse_conversation((const char *)data, size, &page, &err);
	if (rc == 0) {
		FUZZ_ASSERT(page && err.kind == API_OK);
		check_page(page);
		check_lines(page, (const char *)data, size);
	} else {
		FUZZ_ASSERT(!page);
		check_failure(rc, &err);
	}
	api_page_free(page);
	return 0;
}
