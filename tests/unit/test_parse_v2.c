/*
 * tests/unit/test_parse_v2.c - LinkupAPI v2 answers (SPEC section 7): the
 * envelope, the cursor in data (its absence the end of a chain),
 * metadata.credits_consumed, the error codes and what each becomes, and
 * the /v2/login answer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../api/api.h"

#include "api_check.h"

static int conv_v2(const char *body, struct api_page **page,
		   struct api_error *err)
{
	size_t len = strlen(body);
	char *copy = exact(body, len);
	int rc = api_parse_conversation_v2(copy, len, page, err);

	free(copy);
	return rc;
}

static int inbox_v2(const char *body, struct api_inbox_page **page,
		    struct api_error *err)
{
	size_t len = strlen(body);
	char *copy = exact(body, len);
	int rc = api_parse_inbox_v2(copy, len, page, err);

	free(copy);
	return rc;
}

#define MSG                                                                    \
	"{\"text\":\"hi\",\"timestamp\":1745269538000,\"sender\":\"A B\","     \
	"\"sender_info\":{\"first_name\":\"A\",\"last_name\":\"B\","           \
	"\"profile_url\":\"https://www.linkedin.com/in/ab/\"},"                \
	"\"message_type\":\"TEXT\",\"entity_urn\":\"urn:1\"}"

static void test_conversation_page(void)
{
	struct api_page *page = NULL;
	struct api_error err;

	CHECK(conv_v2("{\"success\":true,\"data\":{\"total_message_count\":37,"
		      "\"unread_count\":2,\"messages\":[" MSG "],"
		      "\"next_cursor\":\"1745269538000\"},\"metadata\":{"
		      "\"action\":\"get_conversation\",\"credits_consumed\":1}"
		      "}",
		      &page, &err) == 0);
	if (!page)
		return;
	CHECK(page->has_next_page);
	CHECK_STR(page->next_cursor, "1745269538000");
	CHECK(page->credits_consumed == 1);
	CHECK(page->total_message_count == 37);
	CHECK(page->total_other_member_message_count == -1);
	CHECK(page->unread_count == 2);
	CHECK(page->n_messages == 1);
	CHECK_STR(page->messages[0].sender, "A B");
	CHECK(strstr(page->messages[0].json, "\"profile_url\"") != NULL);
	CHECK_STR(page->conversation_id, ""); /* v2 sends none */
	api_page_free(page);

	/* no cursor: the end of the chain, whatever else is there */
	CHECK(conv_v2("{\"success\":true,\"data\":{\"messages\":[" MSG "],"
		      "\"pagination\":{\"has_next_page\":true,\"next_cursor\":"
		      "\"5\"}},\"metadata\":{\"credits_consumed\":1}}",
		      &page, &err) == 0);
	if (page) {
		CHECK(!page->has_next_page && !page->next_cursor);
		api_page_free(page);
	}
	/* a null cursor is not the end: refused, as v1's null pagination */
	CHECK(conv_v2("{\"success\":true,\"data\":{\"messages\":[],"
		      "\"next_cursor\":null}}",
		      &page, &err) == -EIO);
	CHECK(err.kind == API_ERR_PARSE && strstr(err.message, "next_cursor"));
	/* no figure in the metadata: -1 (the caller counts as v1 does) */
	CHECK(conv_v2("{\"success\":true,\"data\":{\"messages\":[]},"
		      "\"metadata\":{\"credits_consumed\":true}}",
		      &page, &err) == 0);
	if (page) {
		CHECK(page->credits_consumed == -1);
		api_page_free(page);
	}
	/* no "success" at all but a data object: read as a success (the
	 * docs always send it; parse_v2.c says so) */
	CHECK(conv_v2("{\"data\":{\"messages\":[]}}", &page, &err) == 0);
	api_page_free(page);
	page = NULL;
	/* success false without an error object: an error all the same */
	CHECK(conv_v2("{\"success\":false,\"data\":{\"messages\":[]}}", &page,
		      &err) < 0);
	CHECK(!page && err.kind != API_OK);
}

static void test_inbox_page(void)
{
	struct api_inbox_page *page = NULL;
	struct api_error err;

	CHECK(inbox_v2("{\"success\":true,\"data\":{\"conversations\":[{"
		       "\"conversation_id\":\"c1\",\"participant\":{\"name\":"
		       "\"X Y\"},\"last_message\":{\"text\":\"t\",\"time\":5,"
		       "\"sender\":{\"name\":\"X Y\",\"is_me\":false}},"
		       "\"unread\":1}],\"next_cursor\":\"abc\"},"
		       "\"metadata\":{\"credits_consumed\":1}}",
		       &page, &err) == 0);
	if (!page)
		return;
	CHECK(page->n_entries == 1 && page->credits_consumed == 1);
	CHECK_STR(page->entries[0].last_sender, "X Y");
	CHECK_STR(page->next_cursor, "abc");
	api_inbox_page_free(page);
}

static void check_code(const char *body, long status, enum api_err_kind kind,
		       const char *needle, int line)
{
	struct api_error err;
	int rc = api_parse_error_v2(body, strlen(body), status, &err);

	if (rc == api_error_errno(&err) && err.kind == kind &&
	    strstr(err.message, needle)) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: kind %d \"%s\", want kind %d with \"%s\"\n",
		__FILE__, line, err.kind, err.message, kind, needle);
}

#define CODE(code, status, kind, needle)                                       \
	check_code("{\"success\":false,\"error\":{\"code\":\"" code            \
		   "\",\"message\":\"m\"},\"metadata\":{\"credits_consumed\":" \
		   "0}}",                                                      \
		   (status), (kind), (needle), __LINE__)

static void test_error_codes(void)
{
	struct api_page *page = NULL;
	struct api_error err;

	CODE("INVALID_API_KEY", 403, API_ERR_AUTH, "LINKUP_API_KEY");
	CODE("ACCOUNT_INACTIVE", 403, API_ERR_AUTH, "LINKUP_ACCOUNT_ID");
	CODE("INVALID_ACCOUNT", 404, API_ERR_AUTH, "--import-token");
	CODE("INSUFFICIENT_CREDITS", 402, API_ERR_BUDGET, "top up");
	CODE("RATE_LIMITED", 429, API_ERR_HTTP, "429 (RATE_LIMITED: m)");
	CODE("INTERNAL_ERROR", 500, API_ERR_HTTP, "500 (INTERNAL_ERROR: m)");
	CODE("INVALID_PARAMS", 400, API_ERR_HTTP, "400 (INVALID_PARAMS: m)");
	CODE("INVALID_ACTION", 400, API_ERR_HTTP, "INVALID_ACTION");
	CODE("SOMETHING_NEW", 402, API_ERR_BUDGET, "SOMETHING_NEW");
	check_code("{\"success\":false,\"error\":{\"code\":\"INVALID_PARAMS\","
		   "\"message\":\"Conversation not found\"}}",
		   400, API_ERR_NOT_FOUND, "not found", __LINE__);
	/* not an envelope (a proxy's page): as v1 */
	check_code("<html>bad gateway</html>", 502, API_ERR_HTTP,
		   "502 (bad gateway)", __LINE__);
	/* an error envelope under HTTP 200 fails the page */
	CHECK(conv_v2("{\"success\":false,\"error\":{\"code\":\"INVALID_"
		      "PARAMS\""
		      ",\"message\":\"count too large\"}}",
		      &page, &err) == -EIO);
	CHECK(!page && strstr(err.message, "count too large"));
}

static void test_login(void)
{
	const char *ok = "{\"success\":true,\"data\":{\"account_id\":\"acc-1\"}"
			 ",\"metadata\":{\"credits_consumed\":0}}";
	const char *bad = "{\"success\":false,\"error\":{\"code\":"
			  "\"INVALID_PARAMS\",\"message\":\"bad token\"}}";
	struct api_error err;
	char *id = NULL;

	CHECK(api_parse_login_v2(ok, strlen(ok), &id, &err) == 0);
	CHECK_STR(id, "acc-1");
	free(id);
	CHECK(api_parse_login_v2(bad, strlen(bad), &id, &err) == -EIO);
	CHECK(!id && strstr(err.message, "bad token"));
	CHECK(api_parse_login_v2("{\"success\":true,\"data\":{}}", 27, &id,
				 &err) == -EIO);
	CHECK(!id && err.kind == API_ERR_PARSE);
}

int main(void)
{
	test_conversation_page();
	test_inbox_page();
	test_error_codes();
	test_login();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
