/*
 * tests/unit/test_parse_inbox.c - parsing of LinkupAPI inbox pages (SPEC
 * section 6).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../api/api.h"

#include "api_check.h"

static void test_inbox(void)
{
	struct api_inbox_page *p = NULL;
	struct api_error err;

	CHECK(parse_inbox(
		      "{\"status\":\"success\",\"data\":{\"total_results\":4,"
		      "\"conversations\":["
		      "{\"conversation_id\":\"urn:li:c:1\",\"participant\":"
		      "{\"name\":\"Al\xc3\xa9s "
		      "Pr\xc3\xa9w\",\"headline\":\"CTO\","
		      "\"profile_url\":\"https://www.linkedin.com/in/ales/\"},"
		      "\"last_message\":{\"text\":\"hi\",\"time\":"
		      "\"1745269425000\","
		      "\"sender\":\"Al\xc3\xa9s\"},\"unread\":true,\"type\":"
		      "\"x\"},"
		      "{\"participant\":{\"name\":\"no id\"}},"
		      "7,"
		      "{\"conversation_id\":\"urn:li:c:2\",\"participant\":"
		      "null,"
		      "\"last_message\":[],\"unread\":\"3\"},"
		      "{\"conversation_id\":\"urn:li:c:3\",\"participant\":"
		      "{\"first_name\":\"Ann\",\"last_name\":\"Lee\"},"
		      "\"last_message\":{\"time\":1700000000000},\"unread\":"
		      "false}"
		      "],\"next_cursor\":\"opaque==\"}}",
		      &p, &err) == 0);
	if (!p)
		return;
	CHECK(p->n_entries == 3);
	CHECK_STR(p->next_cursor, "opaque==");
	CHECK_STR(p->entries[0].conversation_id, "urn:li:c:1");
	CHECK_STR(p->entries[0].name, "Al\xc3\xa9s Pr\xc3\xa9w");
	CHECK_STR(p->entries[0].headline, "CTO");
	CHECK_STR(p->entries[0].profile_url,
		  "https://www.linkedin.com/in/ales/");
	CHECK_STR(p->entries[0].last_text, "hi");
	CHECK_STR(p->entries[0].last_sender, "Al\xc3\xa9s");
	CHECK(p->entries[0].last_time_ms == 1745269425000LL);
	CHECK(p->entries[0].unread == 1);
	CHECK_STR(p->entries[1].conversation_id, "urn:li:c:2");
	CHECK(p->entries[1].name == NULL && p->entries[1].headline == NULL &&
	      p->entries[1].profile_url == NULL &&
	      p->entries[1].last_text == NULL &&
	      p->entries[1].last_sender == NULL);
	CHECK(p->entries[1].last_time_ms == 0);
	CHECK(p->entries[1].unread == 3);
	CHECK_STR(p->entries[2].name, "Ann Lee");
	CHECK(p->entries[2].last_time_ms == 1700000000000LL);
	CHECK(p->entries[2].unread == 0);
	api_inbox_page_free(p);
}

/* the last page, and pages without the array they must have */
static void test_inbox_ends(void)
{
	struct api_inbox_page *p = NULL;
	struct api_error err;

	CHECK(parse_inbox(
		      "{\"data\":{\"conversations\":[],\"next_cursor\":null}}",
		      &p, &err) == 0);
	CHECK(p && p->n_entries == 0 && p->next_cursor == NULL);
	api_inbox_page_free(p);
	p = NULL;
	CHECK(parse_inbox("{\"data\":{\"conversations\":{}}}", &p, &err) ==
	      -EIO);
	CHECK(!p && err.kind == API_ERR_PARSE);
	CHECK_STR(err.message, "response has no data.conversations array");
	CHECK(parse_inbox("{\"data\":null}", &p, &err) == -EIO && !p);
}

int main(void)
{
	test_inbox();
	test_inbox_ends();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
