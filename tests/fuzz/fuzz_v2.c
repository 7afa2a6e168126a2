/*
 * tests/fuzz/fuzz_v2.c - libFuzzer harness for the LinkupAPI v2 parsers
 * (api.h): api_parse_conversation_v2, api_parse_inbox_v2,
 * api_parse_error_v2 and api_parse_login_v2. The first byte picks the
 * parser (and, for the error parser, the next two the HTTP status); the
 * rest is the body. Any body is parsed without a crash, a leak or
 * undefined behaviour, and what is accepted keeps the promises of api.h:
 * a v2 page has has_next_page exactly when it has a cursor (the end of a
 * v2 chain is a missing cursor), credits_consumed is -1 or a sane count,
 * an error says why in printable ASCII and maps to its errno.
 */
#include <errno.h>

#include "../../api/api.h"
#include "fuzz_util.h"

#define MAX_TIME_MS 253402300799999LL
#define MAX_COUNT 1000000000L

static void check_count(long v)
{
	FUZZ_ASSERT(v == -1 || (v >= 0 && v <= MAX_COUNT));
}

static void check_failure(int rc, const struct api_error *err)
{
	FUZZ_ASSERT(rc < 0 && err->kind != API_OK);
	FUZZ_ASSERT(rc == -ENOMEM || rc == api_error_errno(err));
	FUZZ_ASSERT(fuzz_message_printable(err->message, sizeof(err->message)));
}

static void conversation(const char *body, size_t len)
{
	struct api_page *page = (struct api_page *)1;
	struct api_error err;
	size_t i;
	int rc = api_parse_conversation_v2(body, len, &page, &err);

	if (rc) {
		FUZZ_ASSERT(!page);
		check_failure(rc, &err);
		return;
	}
	FUZZ_ASSERT(page && err.kind == API_OK && page->conversation_id);
	FUZZ_ASSERT(!page->next_cursor || page->next_cursor[0]);
	FUZZ_ASSERT(page->has_next_page == (page->next_cursor != NULL));
	FUZZ_ASSERT(!page->n_messages || page->messages);
	FUZZ_ASSERT(page->last_seen_at >= 0 &&
		    page->last_seen_at <= MAX_TIME_MS);
	check_count(page->total_message_count);
	check_count(page->unread_count);
	check_count(page->credits_consumed);
	for (i = 0; i < page->n_messages; i++) {
		const struct api_message *m = &page->messages[i];

		FUZZ_ASSERT(m->text && m->sender && m->message_type &&
			    m->entity_urn && m->json);
		FUZZ_ASSERT(m->text[m->text_len] == '\0');
		FUZZ_ASSERT(m->timestamp_ms >= 0 &&
			    m->timestamp_ms <= MAX_TIME_MS);
		FUZZ_ASSERT(strlen(m->json) == m->json_len &&
			    !memchr(m->json, '\n', m->json_len));
	}
	api_page_free(page);
}

static void inbox(const char *body, size_t len)
{
	struct api_inbox_page *page = (struct api_inbox_page *)1;
	struct api_error err;
	size_t i;
	int rc = api_parse_inbox_v2(body, len, &page, &err);

	if (rc) {
		FUZZ_ASSERT(!page);
		check_failure(rc, &err);
		return;
	}
	FUZZ_ASSERT(page && err.kind == API_OK);
	FUZZ_ASSERT(!page->n_entries || page->entries);
	FUZZ_ASSERT(!page->next_cursor || page->next_cursor[0]);
	check_count(page->credits_consumed);
	for (i = 0; i < page->n_entries; i++) {
		const struct api_inbox_entry *e = &page->entries[i];

		FUZZ_ASSERT(e->conversation_id && e->conversation_id[0]);
		FUZZ_ASSERT(!e->last_sender || e->last_sender[0]);
		FUZZ_ASSERT(e->last_time_ms >= 0 &&
			    e->last_time_ms <= MAX_TIME_MS);
	}
	api_inbox_page_free(page);
}

static void error(const uint8_t *data, size_t size)
{
	struct api_error err;
	long status;
	int rc;

	if (size < 2)
		return;
	status = (long)data[0] << 8 | data[1];
	rc = api_parse_error_v2((const char *)data + 2, size - 2, status, &err);
	FUZZ_ASSERT(rc < 0 && rc == api_error_errno(&err));
	FUZZ_ASSERT(err.kind != API_OK && err.http_status == status);
	FUZZ_ASSERT(fuzz_message_printable(err.message, sizeof(err.message)));
}

static void login(const char *body, size_t len)
{
	struct api_error err;
	char *id = (char *)1;
	int rc = api_parse_login_v2(body, len, &id, &err);

	if (rc) {
		FUZZ_ASSERT(!id);
		check_failure(rc, &err);
		return;
	}
	FUZZ_ASSERT(id && id[0] && err.kind == API_OK);
	free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		conversation(body, size - 1);
		break;
	case 1:
		inbox(body, size - 1);
		break;
	case 2:
		error(data + 1, size - 1);
		break;
	default:
		login(body, size - 1);
		break;
	}
	return 0;
}
