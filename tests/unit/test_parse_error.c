/*
 * tests/unit/test_parse_error.c - error answers of the LinkupAPI (HTTP
 * statuses and status "error", also inside a page) in one log line, and
 * their errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../api/api.h"

#include "api_check.h"

static void check_error(const char *body, long status, enum api_err_kind kind,
			const char *message, int line)
{
	struct api_error err;
	int rc = api_parse_error(body, body ? strlen(body) : 0, status, &err);

	if (rc == api_error_errno(&err) && rc < 0 && err.kind == kind &&
	    err.http_status == status && strcmp(err.message, message) == 0) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr,
		"%s:%d: rc %d kind %d status %ld \"%s\", want kind %d \"%s\"\n",
		__FILE__, line, rc, err.kind, err.http_status, err.message,
		kind, message);
}

#define ERR(body, status, kind, msg)                                           \
	check_error((body), (status), (kind), (msg), __LINE__)

static void test_error_answers(void)
{
	ERR("{\"message\":\"Invalid API key\"}", 401, API_ERR_AUTH,
	    "API answered 401 (Invalid API key); check LINKUP_API_KEY");
	ERR("{\"detail\":\"Session expired\"}", 401, API_ERR_AUTH,
	    "API answered 401 (Session expired); check LINKUP_LOGIN_TOKEN");
	ERR("{\"status\":\"error\",\"message\":\"LinkedIn session expired\"}",
	    403, API_ERR_AUTH,
	    "API answered 403 (LinkedIn session expired); check "
	    "LINKUP_LOGIN_TOKEN");
	ERR("", 403, API_ERR_AUTH,
	    "API answered 403 (forbidden); check LINKUP_LOGIN_TOKEN");
	ERR("{\"error\":\"Insufficient credits\"}", 401, API_ERR_AUTH,
	    "API answered 401 (Insufficient credits); check the credits of the "
	    "LinkupAPI account");
	ERR("<html><body>Too Many</body></html>", 429, API_ERR_HTTP,
	    "API answered 429 (rate limited)");
	ERR("<html>bad gateway</html>", 502, API_ERR_HTTP,
	    "API answered 502 (bad gateway)");
	ERR(NULL, 500, API_ERR_HTTP,
	    "API answered 500 (internal server error)");
	ERR("{\"error\":{\"code\":7,\"message\":\"total_results must be > "
	    "0\"}}",
	    400, API_ERR_HTTP, "API answered 400 (total_results must be > 0)");
	ERR("{\"errors\":[1]}", 418, API_ERR_HTTP, "API answered 418 (error)");
	ERR("{\"status\":\"error\",\"data\":\"Conversation not found\"}", 200,
	    API_ERR_NOT_FOUND,
	    "API reported an error (Conversation not found)");
	ERR("{\"status\":\"error\",\"data\":{\"message\":\"Invalid "
	    "login_token\"}}",
	    200, API_ERR_AUTH,
	    "API reported an error (Invalid login_token); check "
	    "LINKUP_LOGIN_TOKEN");
	ERR("{\"status\":\"error\"}", 200, API_ERR_HTTP,
	    "API reported an error (no details given)");
	/* hostile text: escapes, newlines, non-ASCII, length */
	ERR("{\"message\":\"\\u001b[31mred\\nFAKE: line \xc3\xa9\xc3\xa9!\"}",
	    400, API_ERR_HTTP, "API answered 400 ([31mred FAKE: line ?!)");
}

static void test_status_error_in_page(void)
{
	struct api_page *p = NULL;
	struct api_inbox_page *ip = NULL;
	struct api_error err;
	char big[600];

	CHECK(parse_conv(
		      "{\"status\":\"error\",\"message\":\"Invalid API key\"}",
		      &p, &err) == -EACCES &&
	      !p);
	CHECK(err.kind == API_ERR_AUTH && err.http_status == 200);
	CHECK_STR(err.message, "API reported an error (Invalid API key); check "
			       "LINKUP_API_KEY");
	CHECK(parse_inbox("{\"status\":\"error\",\"error\":\"Something broke\","
			  "\"data\":{\"conversations\":[]}}",
			  &ip, &err) == -EIO &&
	      !ip);
	CHECK(err.kind == API_ERR_HTTP);
	CHECK_STR(err.message, "API reported an error (Something broke)");

	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"message\":\"", 12);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	CHECK(api_parse_error(big, strlen(big), 500, &err) == -EIO);
	CHECK(strlen(err.message) < sizeof(err.message) &&
	      strstr(err.message, "xxx...)") != NULL &&
	      strncmp(err.message, "API answered 500 (xxx", 21) == 0);
}

static void test_errno_mapping(void)
{
	struct api_error err = {0};
	static const struct {
		enum api_err_kind kind;
		int want;
	} map[] = {
		{API_OK, 0},
		{API_ERR_TRANSPORT, -EIO},
		{API_ERR_TIMEOUT, -ETIMEDOUT},
		{API_ERR_HTTP, -EIO},
		{API_ERR_AUTH, -EACCES},
		{API_ERR_PARSE, -EIO},
		{API_ERR_CHAIN, -EIO},
		{API_ERR_BUDGET, -EDQUOT},
		{API_ERR_CANCELLED, -EINTR},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		err.kind = map[i].kind;
		CHECK(api_error_errno(&err) == map[i].want);
	}
}

int main(void)
{
	test_error_answers();
	test_status_error_in_page();
	test_errno_mapping();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
