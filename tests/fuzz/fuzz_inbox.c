/*
 * tests/fuzz/fuzz_inbox.c - libFuzzer harness for api_parse_inbox(): any
 * body is parsed without a crash, a leak or undefined behaviour, and an
 * accepted page keeps the promises of api.h (every entry has an id, numbers
 * in range, a cursor is NULL or not empty).
 */
#include <errno.h>

#include "../../api/api.h"
#include "fuzz_util.h"

#define MAX_TIME_MS 253402300799999LL
#define MAX_COUNT 1000000000L

static void check_entry(const struct api_inbox_entry *e)
{
	FUZZ_ASSERT(e->conversation_id && e->conversation_id[0]);
	FUZZ_ASSERT(!e->name || e->name[0]);
	FUZZ_ASSERT(e->last_time_ms >= 0 && e->last_time_ms <= MAX_TIME_MS);
	FUZZ_ASSERT(e->unread >= 0 && e->unread <= MAX_COUNT);
}

static void check_page(const struct api_inbox_page *page)
{
	size_t i;

	FUZZ_ASSERT(!page->n_entries || page->entries);
	FUZZ_ASSERT(page->n_entries <= 100000);
	FUZZ_ASSERT(!page->next_cursor || page->next_cursor[0]);
	for (i = 0; i < page->n_entries; i++)
		check_entry(&page->entries[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_inbox_page *page = (struct api_inbox_page *)1;
	struct api_error err;
	int rc;

	rc = api_parse_inbox((const char *)data, size, &page, &err);
	if (rc == 0) {
		FUZZ_ASSERT(page && err.kind == API_OK);
		check_page(page);
	} else {
		FUZZ_ASSERT(!page && rc < 0 && err.kind != API_OK);
		FUZZ_ASSERT(rc == -ENOMEM || rc == api_error_errno(&err));
		FUZZ_ASSERT(fuzz_message_printable(err.message,
						   sizeof(err.message)));
	}
	api_inbox_page_free(page);
	return 0;
}
