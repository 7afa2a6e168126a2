/*
 * tests/unit/test_api.c - the LinkupAPI client (SPEC section 6): parsing of
 * conversation and inbox pages, error answers (HTTP and status "error"),
 * hostile and malformed bodies, errno mapping; then the request path against
 * a tiny in-process HTTP server (request body and headers, retries with
 * Retry-After, no retry of 401, credit limit, connection reuse, body cap,
 * timeout, cancellation).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../api/api.h"

#include "check.h"

#define CHECK_STR(got, want)                                               \
	do {                                                               \
		const char *g_ = (got), *w_ = (want);                      \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                     \
			passed++;                                          \
		} else {                                                   \
			failed++;                                          \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__, g_ ? g_ : "(null)",    \
				w_ ? w_ : "(null)");                       \
		}                                                          \
	} while (0)

/* The body in a buffer of exactly its length, so ASan catches a parser
 * reading past it (bodies from the network are not NUL-terminated). */
static char *exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	memcpy(copy, s, len);
	return copy;
}

static int parse_conv(const char *body, struct api_page **page,
		      struct api_error *err)
{
	size_t len = strlen(body);
	char *copy = exact(body, len);
	int rc = api_parse_conversation(copy, len, page, err);

	free(copy);
	return rc;
}

static int parse_inbox(const char *body, struct api_inbox_page **page,
		       struct api_error *err)
{
	size_t len = strlen(body);
	char *copy = exact(body, len);
	int rc = api_parse_inbox(copy, len, page, err);

	free(copy);
	return rc;
}

static const char conv_page[] =
	"{\"status\":\"success\",\"data\":{"
	"\"conversation_id\":\"2-YWJj(x,y)==\","
	"\"profile_url\":\"https://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324/\","
	"\"total_results\":4,\"total_other_member_message_count\":\"12\","
	"\"unread_count\":0,\"last_seen_message\":\"urn:li:msg:3\","
	"\"last_seen_at\":1745269538000,"
	"\"messages\":["
	"{\"text\":\"\xf0\x9f\x98\x83\",\"timestamp\":1745269425000,"
	"\"sender\":\"Titouan Prioux\",\"message_type\":\"TEXT\","
	"\"entity_urn\":\"urn:li:msg:4\"},"
	"{\"text\":\"two\\nlines\",\"timestamp\":\"1745269300000\","
	"\"sender_info\":{\"first_name\":\"Al\xc3\xa9s\",\"last_name\":\"Pr\xc3\xa9w\"},"
	"\"entity_urn\":\"urn:li:msg:3\"},"
	"{\"text\":\"\",\"timestamp\":1745268898000,\"sender\":\"Al\xc3\xa9s Pr\xc3\xa9w\","
	"\"message_type\":\"SYSTEM\",\"entity_urn\":\"urn:li:msg:2\"},"
	"42,\"junk\",null,"
	"{\"timestamp\":-5,\"sender_info\":null}"
	"],"
	"\"pagination\":{\"count\":4,\"has_next_page\":true,"
	"\"next_cursor\":1745268898000}}}";

static void test_conversation_page(void)
{
	struct api_page *p = NULL;
	struct api_error err;
	cJSON *again, *data;

	CHECK(parse_conv(conv_page, &p, &err) == 0);
	if (!p)
		return;
	CHECK(err.kind == API_OK);
	CHECK_STR(p->conversation_id, "2-YWJj(x,y)==");
	CHECK_STR(p->profile_url,
		  "https://www.linkedin.com/in/al%C3%A9s-pr%C3%A9w-aa0262324/");
	CHECK(p->total_other_member_message_count == 12);
	CHECK(p->unread_count == 0);
	CHECK_STR(p->last_seen_message, "urn:li:msg:3");
	CHECK(p->last_seen_at == 1745269538000LL);
	CHECK(p->n_messages == 4); /* 42, "junk" and null are skipped */
	CHECK_STR(p->messages[0].text, "\xf0\x9f\x98\x83");
	CHECK(p->messages[0].timestamp_ms == 1745269425000LL);
	CHECK_STR(p->messages[0].sender, "Titouan Prioux");
	CHECK_STR(p->messages[0].message_type, "TEXT");
	CHECK_STR(p->messages[0].entity_urn, "urn:li:msg:4");
	CHECK_STR(p->messages[1].text, "two\nlines");
	CHECK(p->messages[1].timestamp_ms == 1745269300000LL);
	CHECK_STR(p->messages[1].sender, "Al\xc3\xa9s Pr\xc3\xa9w");
	CHECK_STR(p->messages[1].message_type, "TEXT");
	CHECK_STR(p->messages[2].text, "");
	CHECK_STR(p->messages[2].message_type, "SYSTEM");
	CHECK_STR(p->messages[3].text, "");
	CHECK(p->messages[3].timestamp_ms == 0);
	CHECK_STR(p->messages[3].sender, "unknown");
	CHECK_STR(p->messages[3].entity_urn, "");
	CHECK(p->has_next_page);
	CHECK_STR(p->next_cursor, "1745268898000");
	CHECK(p->data_json && p->data_json[strlen(p->data_json) - 1] == '\n');
	again = p->data_json ? cJSON_Parse(p->data_json) : NULL;
	/* a clean answer is kept as it came: its "data" is the object */
	CHECK(p->data_json_whole);
	data = cJSON_GetObjectItem(again, "data");
	CHECK(cJSON_IsArray(cJSON_GetObjectItem(data, "messages")));
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(data, "messages")) == 7);
	CHECK(cJSON_IsString(cJSON_GetObjectItem(again, "status")));
	cJSON_Delete(again);
	api_page_free(p);
}

static void test_conversation_variants(void)
{
	struct api_page *p = NULL;
	struct api_error err;

	/* string cursor, has_next_page missing, absent metadata */
	CHECK(parse_conv("{\"status\":\"success\",\"data\":{\"messages\":[],"
			 "\"pagination\":{\"next_cursor\":\"1700000000000\"}}}",
			 &p, &err) == 0);
	if (p) {
		CHECK(!p->has_next_page);
		CHECK_STR(p->next_cursor, "1700000000000");
		CHECK_STR(p->conversation_id, "");
		CHECK(p->profile_url == NULL);
		CHECK(p->total_other_member_message_count == -1);
		CHECK(p->unread_count == -1);
		CHECK(p->last_seen_message == NULL);
		CHECK(p->n_messages == 0);
		CHECK(p->data_json_whole);
		CHECK_STR(p->data_json, "{\"status\":\"success\",\"data\":"
			  "{\"messages\":[],\"pagination\":"
			  "{\"next_cursor\":\"1700000000000\"}}}\n");
	}
	api_page_free(p);

	/* no pagination at all; numbers as strings; hostile numbers */
	CHECK(parse_conv("{\"data\":{\"conversation_id\":123,\"unread_count\":\"x\","
			 "\"last_seen_at\":\"0x10\",\"messages\":["
			 "{\"timestamp\":\"nan\"},{\"timestamp\":1e999},"
			 "{\"timestamp\":\"1e400\"},{\"timestamp\":9e300},"
			 "{\"timestamp\":\" 17 \",\"sender_info\":{\"last_name\":\"Solo\"}}]}}",
			 &p, &err) == 0);
	if (p) {
		CHECK_STR(p->conversation_id, "123");
		CHECK(p->unread_count == -1);
		CHECK(p->last_seen_at == 0);
		CHECK(!p->has_next_page && p->next_cursor == NULL);
		CHECK(p->n_messages == 5);
		CHECK(p->n_messages == 5 && p->messages[0].timestamp_ms == 0 &&
		      p->messages[1].timestamp_ms == 0 &&
		      p->messages[2].timestamp_ms == 0 &&
		      p->messages[3].timestamp_ms == 0 &&
		      p->messages[4].timestamp_ms == 17);
		CHECK(p->n_messages == 5 &&
		      strcmp(p->messages[4].sender, "Solo") == 0);
	}
	api_page_free(p);

	/* has_next_page as a string; empty cursor means none */
	CHECK(parse_conv("{\"data\":{\"messages\":[],\"pagination\":"
			 "{\"has_next_page\":\"true\",\"next_cursor\":\"\"}}}",
			 &p, &err) == 0);
	CHECK(p && p->has_next_page && p->next_cursor == NULL);
	api_page_free(p);
}

/* An answer cJSON accepts but JSON does not is never kept as it came:
 * its data is printed anew, so the page's JSON is valid whatever was sent. */
static void check_reprinted(const char *body, size_t len)
{
	struct api_page *p = NULL;
	struct api_error err;
	char *copy = exact(body, len);
	cJSON *again;

	if (api_parse_conversation(copy, len, &p, &err) == 0 && p) {
		CHECK(!p->data_json_whole);
		again = cJSON_ParseWithOpts(p->data_json, NULL, 1);
		CHECK(again != NULL);
		cJSON_Delete(again);
	}
	api_page_free(p);
	free(copy);
}

static void test_lenient_json_not_kept(void)
{
	static const char nul[] = "{\"data\":{\"messages\":[{\"text\":\"a\0b\"}]}}";
	const char *cases[] = {
		"{\"data\":{\"messages\":[]}} trailing garbage",
		"{\"data\":{\"messages\":[{\"text\":\"a\x01\nb\"}]}}",
		"{\"data\":{\"messages\":[{\"timestamp\":01}]}}",
		"{\"data\":{\"messages\":[{\"timestamp\":1.}]}}",
		"{\"data\":{\"messages\":[{\"text\":\"\\x\"}]}}",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		check_reprinted(cases[i], strlen(cases[i]));
	check_reprinted(nul, sizeof(nul) - 1);
}

/* Invalid UTF-8 reaches callers as sent, but page JSON is repaired. */
static void test_invalid_utf8(void)
{
	struct api_page *p = NULL;
	struct api_error err;
	cJSON *again;

	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\":\"a\xff" "b\xc3\"}]}}",
			 &p, &err) == 0);
	if (!p)
		return;
	CHECK_STR(p->messages[0].text, "a\xff" "b\xc3");
	CHECK(strstr(p->data_json, "a\xef\xbf\xbd" "b\xef\xbf\xbd\"") != NULL);
	CHECK(strchr(p->data_json, '\xff') == NULL);
	CHECK(!p->data_json_whole);
	again = cJSON_Parse(p->data_json);
	CHECK(again != NULL);
	cJSON_Delete(again);
	api_page_free(p);
	p = NULL;

	/* a surrogate escape could decode to bytes that are not UTF-8: such
	 * an answer is not kept as it came, its data is checked and printed */
	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\":\"x\\ud83d\\ude03\"}]}}",
			 &p, &err) == 0);
	if (!p)
		return;
	CHECK(!p->data_json_whole);
	CHECK_STR(p->messages[0].text, "x\xf0\x9f\x98\x83");
	again = cJSON_Parse(p->data_json);
	CHECK(again != NULL && !cJSON_GetObjectItem(again, "status"));
	cJSON_Delete(again);
	api_page_free(p);
}

/* A text with NUL bytes (JSON "\u0000") reaches the caller whole. */
static void test_nul_text(void)
{
	struct api_page *p = NULL;
	struct api_error err;
	cJSON *back;

	CHECK(parse_conv("{\"data\":{\"messages\":["
			 "{\"text\":\"\\u0000nul at start\",\"sender\":\"A\"},"
			 "{\"t\\u0065xt\":\"a\\u0000b\\u0000\",\"timestamp\":7},"
			 "{\"text\":\"\\uzzzz\"},{\"text\":\"plain\"}]}}",
			 &p, &err) == 0);
	if (!p || p->n_messages != 4)
		goto out;
	CHECK(p->messages[0].text_len == 13 &&
	      memcmp(p->messages[0].text, "\0nul at start", 14) == 0);
	CHECK(strstr(p->messages[0].json, "\"\\u0000nul at start\"") != NULL);
	CHECK(p->messages[1].text_len == 4 &&
	      memcmp(p->messages[1].text, "a\0b\0", 5) == 0);
	CHECK(p->messages[2].text_len == strlen(p->messages[2].text));
	CHECK(p->messages[3].text_len == 5);
	CHECK_STR(p->messages[3].json, "{\"text\":\"plain\"}");
	back = cJSON_Parse(p->messages[0].json);
	CHECK(back && strcmp(cJSON_GetObjectItem(back, "sender")->valuestring,
			     "A") == 0);
	cJSON_Delete(back);
	/* printed anew ("\\uzzzz" is not JSON): the page's JSON keeps the NULs */
	CHECK(!p->data_json_whole && strstr(p->data_json, "a\\u0000b\\u0000"));
	api_page_free(p);
	p = NULL;
	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\":\"\\u0000x\"}]}}",
			 &p, &err) == 0);
	CHECK(p && p->n_messages == 1 && p->messages[0].text_len == 2);
	CHECK(p && p->data_json_whole && strstr(p->data_json, "\"\\u0000x\""));
out:
	api_page_free(p);
	p = NULL;

	/* raw NUL and invalid UTF-8: reprinted, NUL kept, bytes repaired */
	static const char raw[] = "{\"data\":{\"messages\":[{\"text\":\"\xff\\u0000x\0y\"}]}}";
	char *copy = exact(raw, sizeof(raw) - 1);

	CHECK(api_parse_conversation(copy, sizeof(raw) - 1, &p, &err) == 0);
	free(copy);
	if (!p || p->n_messages != 1)
		goto out2;
	CHECK(p->messages[0].text_len == 5 &&
	      memcmp(p->messages[0].text, "\xff\0x\0y", 6) == 0);
	CHECK(strstr(p->messages[0].json, "\"\xef\xbf\xbd\\u0000x\\u0000y\""));
	CHECK(!p->data_json_whole &&
	      strstr(p->data_json, "\"\xef\xbf\xbd\\u0000x\\u0000y\""));
	back = cJSON_Parse(p->data_json);
	CHECK(back != NULL);
	cJSON_Delete(back);
out2:
	api_page_free(p);
}

/* Each message's json: one line of valid JSON with the message's fields,
 * nothing raw that a terminal or viewer acts on or that reorders text. */
static void test_message_json(void)
{
	struct api_page *p = NULL;
	struct api_error err;
	const struct api_message *m;
	cJSON *back;

	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\":\"two\\nlines "
			 "\xe2\x80\xae" "rlo \\u2066 del\x7f c1\xc2\x9b\","
			 "\"timestamp\":1745269425000,\"sender\":\"Ann\","
			 "\"entity_urn\":\"urn:li:msg:1\"}]}}", &p, &err) == 0);
	if (!p || p->n_messages != 1)
		goto out;
	m = &p->messages[0];
	CHECK(m->json_len == strlen(m->json));
	CHECK(!strchr(m->json, '\n') && !strstr(m->json, "\xe2\x80\xae") &&
	      !strchr(m->json, '\x7f') && !strstr(m->json, "\xc2\x9b"));
	CHECK(strstr(m->json, "two\\nlines \\u202e" "rlo \\u2066 del\\u007f "
		     "c1\\u009b\"") != NULL);
	/* kept as it came (it is valid JSON), but with those escaped too */
	CHECK(p->data_json_whole && !strstr(p->data_json, "\xe2\x80\xae") &&
	      strstr(p->data_json, "\\u202e"));
	/* the text itself is as sent: render.h shows what must be shown */
	CHECK(strstr(m->text, "\xe2\x80\xae" "rlo \xe2\x81\xa6") != NULL);
	back = cJSON_Parse(m->json);
	CHECK(back != NULL);
	if (back) {
		CHECK_STR(cJSON_GetObjectItem(back, "text")->valuestring, m->text);
		CHECK_STR(cJSON_GetObjectItem(back, "sender")->valuestring, "Ann");
		CHECK(cJSON_GetObjectItem(back, "timestamp")->valuedouble ==
		      1745269425000.0);
		CHECK_STR(cJSON_GetObjectItem(back, "entity_urn")->valuestring,
			  "urn:li:msg:1");
	}
	cJSON_Delete(back);
out:
	api_page_free(p);
}

static void check_parse_error(const char *body, size_t len,
			      enum api_err_kind kind, const char *message,
			      int line)
{
	struct api_page *p = (struct api_page *)&p; /* must be reset to NULL */
	struct api_error err;
	char *copy = exact(body, len);
	int rc = api_parse_conversation(copy, len, &p, &err);

	free(copy);
	if (rc < 0 && p == NULL && err.kind == kind && rc == api_error_errno(&err) &&
	    (!message || strcmp(err.message, message) == 0)) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: rc %d kind %d \"%s\", want kind %d \"%s\"\n",
		__FILE__, line, rc, err.kind, err.message, kind,
		message ? message : "");
	api_page_free(p == (struct api_page *)&p ? NULL : p);
}

#define BAD(body, kind, msg) \
	check_parse_error((body), strlen(body), (kind), (msg), __LINE__)

static void test_wrong_shapes(void)
{
	BAD("", API_ERR_PARSE, "response is empty");
	BAD("not json", API_ERR_PARSE, "response is not JSON");
	BAD("  <html><title>502</title></html>", API_ERR_PARSE,
	    "response is HTML, not JSON");
	BAD("[1,2]", API_ERR_PARSE, "response is not a JSON object");
	BAD("\"success\"", API_ERR_PARSE, "response is not a JSON object");
	BAD("{\"status\":\"success\"}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":null}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":[]}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":\"x\"}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":{}}", API_ERR_PARSE, "response has no data.messages array");
	BAD("{\"data\":{\"messages\":null}}", API_ERR_PARSE,
	    "response has no data.messages array");
	BAD("{\"data\":{\"messages\":{\"0\":{}}}}", API_ERR_PARSE,
	    "response has no data.messages array");
	BAD("{\"data\":{\"messages\":\"[]\"}}", API_ERR_PARSE,
	    "response has no data.messages array");
	BAD("{\"data\":{\"messages\":[{\"text\":\"cut", API_ERR_PARSE,
	    "response is not JSON");
	/* null where pagination belongs is not "the last page" */
	BAD("{\"data\":{\"messages\":[],\"pagination\":null}}", API_ERR_PARSE,
	    "response has a data.pagination that is not an object");
	BAD("{\"data\":{\"messages\":[],\"pagination\":\"x\"}}", API_ERR_PARSE,
	    "response has a data.pagination that is not an object");
	/* an embedded NUL ends the JSON text early */
	check_parse_error("{\"data\":\0{}}", 12, API_ERR_PARSE, NULL, __LINE__);
}

/* Every proper prefix of a good page fails cleanly. */
static void test_truncations(void)
{
	size_t len = strlen(conv_page), i;
	int bad = 0;

	for (i = 0; i < len; i++) {
		struct api_page *p = NULL;
		struct api_error err;
		char *copy = exact(conv_page, i);

		if (api_parse_conversation(copy, i, &p, &err) == 0 || p ||
		    err.kind != API_ERR_PARSE)
			bad++;
		api_page_free(p);
		free(copy);
	}
	CHECK(bad == 0);
}

/* Limits: absurd counts and nesting fail without a crash. */
static void test_limits(void)
{
	size_t n = 100001, i, len;
	char *body = malloc(32 + 3 * n), *o = body;
	struct api_page *p = NULL;
	struct api_error err;

	o += sprintf(o, "{\"data\":{\"messages\":[");
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s{}", i ? "," : "");
	o += sprintf(o, "]}}");
	len = (size_t)(o - body);
	CHECK(api_parse_conversation(body, len, &p, &err) == -EIO && !p);
	CHECK_STR(err.message, "response has more than 100000 messages");
	/* 100000 exactly is accepted */
	memcpy(body + len - 6, "]}}", 3);
	CHECK(api_parse_conversation(body, len - 3, &p, &err) == 0);
	CHECK(p && p->n_messages == 100000);
	api_page_free(p);
	free(body);

	body = malloc(5000);
	memset(body, '[', 5000);
	CHECK(api_parse_conversation(body, 5000, &p, &err) == -EIO && !p);
	CHECK(err.kind == API_ERR_PARSE);
	CHECK(api_parse_conversation(body, API_MAX_BODY + 1u, &p, &err) == -EIO);
	CHECK_STR(err.message, "response larger than 16 MiB");
	free(body);
}

static void test_inbox(void)
{
	struct api_inbox_page *p = NULL;
	struct api_error err;

	CHECK(parse_inbox("{\"status\":\"success\",\"data\":{\"total_results\":4,"
			  "\"conversations\":["
			  "{\"conversation_id\":\"urn:li:c:1\",\"participant\":"
			  "{\"name\":\"Al\xc3\xa9s Pr\xc3\xa9w\",\"headline\":\"CTO\","
			  "\"profile_url\":\"https://www.linkedin.com/in/ales/\"},"
			  "\"last_message\":{\"text\":\"hi\",\"time\":\"1745269425000\","
			  "\"sender\":\"Al\xc3\xa9s\"},\"unread\":true,\"type\":\"x\"},"
			  "{\"participant\":{\"name\":\"no id\"}},"
			  "7,"
			  "{\"conversation_id\":\"urn:li:c:2\",\"participant\":null,"
			  "\"last_message\":[],\"unread\":\"3\"},"
			  "{\"conversation_id\":\"urn:li:c:3\",\"participant\":"
			  "{\"first_name\":\"Ann\",\"last_name\":\"Lee\"},"
			  "\"last_message\":{\"time\":1700000000000},\"unread\":false}"
			  "],\"next_cursor\":\"opaque==\"}}", &p, &err) == 0);
	if (!p)
		return;
	CHECK(p->n_entries == 3);
	CHECK_STR(p->next_cursor, "opaque==");
	CHECK_STR(p->entries[0].conversation_id, "urn:li:c:1");
	CHECK_STR(p->entries[0].name, "Al\xc3\xa9s Pr\xc3\xa9w");
	CHECK_STR(p->entries[0].headline, "CTO");
	CHECK_STR(p->entries[0].profile_url, "https://www.linkedin.com/in/ales/");
	CHECK_STR(p->entries[0].last_text, "hi");
	CHECK_STR(p->entries[0].last_sender, "Al\xc3\xa9s");
	CHECK(p->entries[0].last_time_ms == 1745269425000LL);
	CHECK(p->entries[0].unread == 1);
	CHECK_STR(p->entries[1].conversation_id, "urn:li:c:2");
	CHECK(p->entries[1].name == NULL && p->entries[1].headline == NULL &&
	      p->entries[1].profile_url == NULL && p->entries[1].last_text == NULL &&
	      p->entries[1].last_sender == NULL);
	CHECK(p->entries[1].last_time_ms == 0);
	CHECK(p->entries[1].unread == 3);
	CHECK_STR(p->entries[2].name, "Ann Lee");
	CHECK(p->entries[2].last_time_ms == 1700000000000LL);
	CHECK(p->entries[2].unread == 0);
	api_inbox_page_free(p);

	CHECK(parse_inbox("{\"data\":{\"conversations\":[],\"next_cursor\":null}}",
			  &p, &err) == 0);
	CHECK(p && p->n_entries == 0 && p->next_cursor == NULL);
	api_inbox_page_free(p);
	p = NULL;
	CHECK(parse_inbox("{\"data\":{\"conversations\":{}}}", &p, &err) == -EIO);
	CHECK(!p && err.kind == API_ERR_PARSE);
	CHECK_STR(err.message, "response has no data.conversations array");
	CHECK(parse_inbox("{\"data\":null}", &p, &err) == -EIO && !p);
}

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
	fprintf(stderr, "%s:%d: rc %d kind %d status %ld \"%s\", want kind %d \"%s\"\n",
		__FILE__, line, rc, err.kind, err.http_status, err.message, kind,
		message);
}

#define ERR(body, status, kind, msg) \
	check_error((body), (status), (kind), (msg), __LINE__)

static void test_error_answers(void)
{
	ERR("{\"message\":\"Invalid API key\"}", 401, API_ERR_AUTH,
	    "API answered 401 (Invalid API key); check LINKUP_API_KEY");
	ERR("{\"detail\":\"Session expired\"}", 401, API_ERR_AUTH,
	    "API answered 401 (Session expired); check LINKUP_LOGIN_TOKEN");
	ERR("{\"status\":\"error\",\"message\":\"LinkedIn session expired\"}", 403,
	    API_ERR_AUTH,
	    "API answered 403 (LinkedIn session expired); check LINKUP_LOGIN_TOKEN");
	ERR("", 403, API_ERR_AUTH, "API answered 403 (forbidden); check LINKUP_LOGIN_TOKEN");
	ERR("{\"error\":\"Insufficient credits\"}", 401, API_ERR_AUTH,
	    "API answered 401 (Insufficient credits); check the credits of the "
	    "LinkupAPI account");
	ERR("<html><body>Too Many</body></html>", 429, API_ERR_HTTP,
	    "API answered 429 (rate limited)");
	ERR("<html>bad gateway</html>", 502, API_ERR_HTTP, "API answered 502 (bad gateway)");
	ERR(NULL, 500, API_ERR_HTTP, "API answered 500 (internal server error)");
	ERR("{\"error\":{\"code\":7,\"message\":\"total_results must be > 0\"}}", 400,
	    API_ERR_HTTP, "API answered 400 (total_results must be > 0)");
	ERR("{\"errors\":[1]}", 418, API_ERR_HTTP, "API answered 418 (error)");
	ERR("{\"status\":\"error\",\"data\":\"Conversation not found\"}", 200,
	    API_ERR_NOT_FOUND, "API reported an error (Conversation not found)");
	ERR("{\"status\":\"error\",\"data\":{\"message\":\"Invalid login_token\"}}", 200,
	    API_ERR_AUTH, "API reported an error (Invalid login_token); check LINKUP_LOGIN_TOKEN");
	ERR("{\"status\":\"error\"}", 200, API_ERR_HTTP,
	    "API reported an error (no details given)");
	/* hostile text: escapes, newlines, non-ASCII, length */
	ERR("{\"message\":\"\\u001b[31mred\\nFAKE: line \xc3\xa9\xc3\xa9!\"}", 400,
	    API_ERR_HTTP, "API answered 400 ([31mred FAKE: line ?!)");
}

static void test_status_error_in_page(void)
{
	struct api_page *p = NULL;
	struct api_inbox_page *ip = NULL;
	struct api_error err;
	char big[600];

	CHECK(parse_conv("{\"status\":\"error\",\"message\":\"Invalid API key\"}",
			 &p, &err) == -EACCES && !p);
	CHECK(err.kind == API_ERR_AUTH && err.http_status == 200);
	CHECK_STR(err.message, "API reported an error (Invalid API key); check LINKUP_API_KEY");
	CHECK(parse_inbox("{\"status\":\"error\",\"error\":\"Something broke\","
			  "\"data\":{\"conversations\":[]}}", &ip, &err) == -EIO && !ip);
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
	struct api_error err = { 0 };
	static const struct {
		enum api_err_kind kind;
		int want;
	} map[] = {
		{ API_OK, 0 }, { API_ERR_TRANSPORT, -EIO },
		{ API_ERR_TIMEOUT, -ETIMEDOUT }, { API_ERR_HTTP, -EIO },
		{ API_ERR_AUTH, -EACCES }, { API_ERR_PARSE, -EIO },
		{ API_ERR_CHAIN, -EIO }, { API_ERR_BUDGET, -EDQUOT },
		{ API_ERR_CANCELLED, -EINTR },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		err.kind = map[i].kind;
		CHECK(api_error_errno(&err) == map[i].want);
	}
}

/*
 * A tiny HTTP/1.1 server on 127.0.0.1 for the request path: it answers each
 * request with the next scripted reply and records the last request. One
 * thread per connection, so a silent reply blocks no other connection.
 */
#define MOCK_SILENT "silent"   /* never answer */
#define MOCK_HUGE "huge"       /* a body larger than API_MAX_BODY */
#define MOCK_MAX_CONNS 64
#define MOCK_MAX_REPLIES 8

struct mock {
	int lfd, port;
	pthread_t acceptor;
	pthread_mutex_t lock; /* guards everything below */
	pthread_t conn_threads[MOCK_MAX_CONNS];
	int conn_fds[MOCK_MAX_CONNS];
	int n_conns;
	char *replies[MOCK_MAX_REPLIES]; /* owned; the last one repeats */
	int n_replies, next;
	char last[8192];                  /* last request, headers and body */
};

static struct mock mock;

/* Read one request into buf (NUL-terminated); its length, 0 at EOF. */
static size_t mock_read_request(int fd, char *buf, size_t size)
{
	size_t len = 0, head, body = 0;
	const char *end, *cl;
	ssize_t n;

	buf[0] = '\0';
	while (!(end = strstr(buf, "\r\n\r\n"))) {
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
	}
	head = (size_t)(end + 4 - buf);
	cl = strcasestr(buf, "content-length:");
	if (cl && cl < end)
		body = strtoul(cl + 15, NULL, 10);
	while (len < head + body && len < size - 1) {
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

static void mock_send_huge(int fd)
{
	static char chunk[65536];
	char head[128];
	size_t total = API_MAX_BODY + 65536u, sent = 0;

	memset(chunk, ' ', sizeof(chunk));
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
		 total);
	send(fd, head, strlen(head), MSG_NOSIGNAL);
	while (sent < total && send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
		sent += sizeof(chunk);
}

static void *mock_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[8192];
	char *reply;

	while (mock_read_request(fd, buf, sizeof(buf))) {
		/* a copy: the test may replace the script once it has the answer */
		pthread_mutex_lock(&mock.lock);
		snprintf(mock.last, sizeof(mock.last), "%s", buf);
		reply = strdup(mock.n_replies ? mock.replies[mock.next] : MOCK_SILENT);
		if (mock.next + 1 < mock.n_replies)
			mock.next++;
		pthread_mutex_unlock(&mock.lock);
		if (!reply)
			break;
		if (strcmp(reply, MOCK_HUGE) == 0)
			mock_send_huge(fd);
		else if (strcmp(reply, MOCK_SILENT) != 0)
			send(fd, reply, strlen(reply), MSG_NOSIGNAL);
		free(reply);
	}
	return NULL;
}

static void *mock_accept(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(mock.lfd, NULL, NULL)) >= 0) {
		pthread_mutex_lock(&mock.lock);
		if (mock.n_conns < MOCK_MAX_CONNS &&
		    pthread_create(&mock.conn_threads[mock.n_conns], NULL,
				   mock_conn, (void *)(intptr_t)fd) == 0)
			mock.conn_fds[mock.n_conns++] = fd;
		else
			close(fd);
		pthread_mutex_unlock(&mock.lock);
	}
	return NULL;
}

static int mock_start(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);

	pthread_mutex_init(&mock.lock, NULL);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mock.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (mock.lfd < 0 || bind(mock.lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(mock.lfd, 16) ||
	    getsockname(mock.lfd, (struct sockaddr *)&addr, &alen))
		return -1;
	mock.port = ntohs(addr.sin_port);
	return pthread_create(&mock.acceptor, NULL, mock_accept, NULL) ? -1 : 0;
}

static void mock_script_clear(void)
{
	int i;

	pthread_mutex_lock(&mock.lock);
	for (i = 0; i < mock.n_replies; i++)
		free(mock.replies[i]);
	mock.n_replies = mock.next = 0;
	mock.last[0] = '\0';
	pthread_mutex_unlock(&mock.lock);
}

/* Queue a reply: status line, extra header lines ("" or "X: y\r\n"), body;
 * body MOCK_SILENT or MOCK_HUGE for those behaviours. */
static void mock_reply(const char *status, const char *headers, const char *body)
{
	char *r = NULL;

	if (strcmp(body, MOCK_SILENT) == 0 || strcmp(body, MOCK_HUGE) == 0)
		r = strdup(body);
	else if (asprintf(&r, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n%s\r\n%s", status, strlen(body),
			  headers, body) < 0)
		r = NULL;
	pthread_mutex_lock(&mock.lock);
	if (r && mock.n_replies < MOCK_MAX_REPLIES)
		mock.replies[mock.n_replies++] = r;
	else
		free(r);
	pthread_mutex_unlock(&mock.lock);
}

/* A copy of the last request, headers and body. */
static const char *mock_last(void)
{
	static char copy[sizeof(mock.last)];

	pthread_mutex_lock(&mock.lock);
	memcpy(copy, mock.last, sizeof(copy));
	pthread_mutex_unlock(&mock.lock);
	return copy;
}

/* The last request's JSON body, parsed. */
static cJSON *mock_last_body(void)
{
	const char *body = strstr(mock_last(), "\r\n\r\n");

	return body ? cJSON_Parse(body + 4) : NULL;
}

static void mock_stop(void)
{
	int i;

	shutdown(mock.lfd, SHUT_RDWR);
	close(mock.lfd);
	pthread_join(mock.acceptor, NULL);
	for (i = 0; i < mock.n_conns; i++)
		shutdown(mock.conn_fds[i], SHUT_RDWR);
	for (i = 0; i < mock.n_conns; i++) {
		pthread_join(mock.conn_threads[i], NULL);
		close(mock.conn_fds[i]);
	}
	mock_script_clear();
	pthread_mutex_destroy(&mock.lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char ok_page[] =
	"{\"status\":\"success\",\"data\":{\"conversation_id\":\"c1\",\"messages\":["
	"{\"text\":\"a\",\"timestamp\":2,\"sender\":\"A\"},"
	"{\"text\":\"b\",\"timestamp\":1,\"sender\":\"B\"}],"
	"\"pagination\":{\"has_next_page\":false}}}";

static struct api *http_api(long timeout_s, int max_retries, long credit_limit)
{
	char url[64];
	struct api_config cfg = {
		.base_url = url, .api_key = "KEY-123456",
		.login_token = "TOKEN-abcdef", .country = "FR",
		.timeout_s = timeout_s, .max_retries = max_retries,
		.credit_limit = credit_limit,
	};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", mock.port);
	return api_new(&cfg);
}

static int get_conv(struct api *api, const char *id, const char *url,
		    const char *cursor, struct api_error *err)
{
	struct api_conv_ref ref = { .conversation_id = id, .linkedin_url = url };
	struct api_page *page = NULL;
	int rc = api_get_conversation(api, &ref, 20, cursor, &page, err);

	CHECK(rc == 0 ? page != NULL : page == NULL);
	api_page_free(page);
	return rc;
}

static void test_http_requests(void)
{
	struct api *api = http_api(5, 2, 0);
	struct api_inbox_page *inbox = NULL;
	struct api_stats st;
	struct api_error err;
	cJSON *body;

	mock_script_clear();
	mock_reply("200 OK", "", ok_page);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	CHECK(err.kind == API_OK && err.retries == 0);
	CHECK(strncmp(mock_last(), "POST /v1/messages/conversation HTTP/1.1\r\n", 41) == 0);
	CHECK(strstr(mock_last(), "\r\nx-api-key: KEY-123456\r\n") != NULL);
	CHECK(strstr(mock_last(), "\r\nContent-Type: application/json\r\n") != NULL);
	body = mock_last_body();
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "conversation_id")), "c1");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(body, "total_results")) == 20);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "login_token")), "TOKEN-abcdef");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "country")), "FR");
	CHECK(!cJSON_GetObjectItem(body, "cursor") && !cJSON_GetObjectItem(body, "linkedin_url"));
	cJSON_Delete(body);

	CHECK(get_conv(api, NULL, "https://www.linkedin.com/in/x/", "1700", &err) == 0);
	body = mock_last_body();
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "linkedin_url")),
		  "https://www.linkedin.com/in/x/");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "cursor")), "1700");
	CHECK(!cJSON_GetObjectItem(body, "conversation_id"));
	cJSON_Delete(body);

	mock_script_clear();
	mock_reply("200 OK", "", "{\"data\":{\"conversations\":[{\"conversation_id\":\"x\"}],"
		   "\"next_cursor\":\"n2\"}}");
	CHECK(api_get_inbox(api, 10, "n1", &inbox, &err) == 0);
	CHECK(inbox && inbox->n_entries == 1 && strcmp(inbox->next_cursor, "n2") == 0);
	api_inbox_page_free(inbox);
	CHECK(strncmp(mock_last(), "POST /v1/messages/inbox HTTP/1.1\r\n", 34) == 0);
	body = mock_last_body();
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(body, "next_cursor")), "n1");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(body, "total_results")) == 10);
	CHECK(!cJSON_GetObjectItem(body, "cursor"));
	cJSON_Delete(body);

	api_get_stats(api, &st);
	CHECK(st.requests == 3 && st.retries == 0 && st.errors == 0);
	CHECK(st.credits == 3);     /* 2 messages, 2 messages, 1 conversation */
	CHECK(st.connections == 1); /* kept alive and reused */
	CHECK(get_conv(api, "c1", "u", NULL, &err) == -EINVAL);
	api_free(api);
}

static void test_http_retries(void)
{
	struct api *api = http_api(5, 2, 0);
	struct api_stats st;
	struct api_error err;
	double t0;

	mock_script_clear();
	mock_reply("429 Too Many Requests", "Retry-After: 0\r\n", "{}");
	mock_reply("503 Service Unavailable", "Retry-After: 0\r\n", "<html></html>");
	mock_reply("200 OK", "", ok_page);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	CHECK(err.retries == 2);

	mock_script_clear();
	mock_reply("429 Too Many Requests", "Retry-After: 0\r\n", "{}");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_HTTP && err.http_status == 429 && err.retries == 2);
	CHECK_STR(err.message, "API answered 429 (rate limited) 3 times; giving up");

	mock_script_clear();
	mock_reply("401 Unauthorized", "", "{\"message\":\"Invalid API key\"}");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EACCES);
	CHECK(err.kind == API_ERR_AUTH && err.retries == 0);
	CHECK_STR(err.message, "API answered 401 (Invalid API key); check LINKUP_API_KEY");

	mock_script_clear();
	mock_reply("200 OK", "", "{\"status\":\"error\",\"message\":\"bad token TOKEN-abcdef!\"}");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK_STR(err.message, "API reported an error (bad token ***!)");

	/* no Retry-After: our own backoff, 250 ms first */
	mock_script_clear();
	mock_reply("500 Internal Server Error", "", "");
	mock_reply("200 OK", "", ok_page);
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	CHECK(now_s() - t0 >= 0.24);

	api_get_stats(api, &st);
	CHECK(st.requests == 3 + 3 + 1 + 1 + 2);
	CHECK(st.retries == 2 + 2 + 1);
	CHECK(st.errors == 3);
	/* v1 charges every answer below 500: 429, ok; 429 x 3; 401; the
	 * error answered with 200; ok (the 5xx are free) */
	CHECK(st.credits == 2 + 3 + 1 + 1 + 1);
	api_free(api);
}

static void test_http_limits(void)
{
	/* the answer that is not JSON costs 1, the 16 MiB one (abandoned)
	 * and the silent one nothing, the page 1: then the limit of 2 */
	struct api *api = http_api(1, 2, 2);
	struct api_stats st;
	struct api_error err;
	double t0;

	mock_script_clear();
	mock_reply("200 OK", "", "hello");
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_PARSE);
	CHECK_STR(err.message, "response is not JSON");

	mock_script_clear();
	mock_reply("200 OK", "", MOCK_HUGE);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_PARSE && err.retries == 0);
	CHECK_STR(err.message, "response larger than 16 MiB");

	mock_script_clear();
	mock_reply("200 OK", "", MOCK_SILENT);
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -ETIMEDOUT);
	CHECK(err.kind == API_ERR_TIMEOUT && err.retries == 0);
	CHECK(now_s() - t0 < 3.0);

	mock_script_clear();
	mock_reply("200 OK", "", ok_page);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == 0);
	api_get_stats(api, &st);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EDQUOT);
	CHECK(err.kind == API_ERR_BUDGET);
	CHECK_STR(err.message, "credit limit of 2 reached");
	api_get_stats(api, &st);
	CHECK(st.requests == 4 && st.credits == 2 && st.errors == 4);
	api_free(api);
}

static void *cancel_later(void *arg)
{
	struct timespec ts = { 0, 300 * 1000000L };

	nanosleep(&ts, NULL);
	api_cancel(arg);
	return NULL;
}

/* A wait longer than the retry budget is not waited: the call fails now. */
static void test_http_retry_after_past_budget(void)
{
	struct api *api = http_api(5, 3, 0);
	struct api_stats st;
	struct api_error err;
	double t0;

	mock_script_clear();
	mock_reply("429 Too Many Requests", "Retry-After: 30\r\n", "{}");
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_HTTP && err.http_status == 429);
	CHECK(now_s() - t0 < 2.0);
	api_get_stats(api, &st);
	CHECK(st.requests == 1 && st.retries == 0);
	api_free(api);
}

static void test_http_cancel(void)
{
	struct api *api = http_api(5, 3, 0);
	struct api_stats st;
	struct api_error err;
	pthread_t t;
	double t0;

	mock_script_clear();
	/* 8 s: within the retry budget (2 x timeout), so it would be waited */
	mock_reply("429 Too Many Requests", "Retry-After: 8\r\n", "{}");
	pthread_create(&t, NULL, cancel_later, api);
	t0 = now_s();
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EINTR);
	CHECK(err.kind == API_ERR_CANCELLED);
	CHECK(now_s() - t0 < 2.0);
	pthread_join(t, NULL);
	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EINTR);
	api_get_stats(api, &st);
	CHECK(st.requests == 1 && st.errors == 2);
	api_free(api);
}

static void test_http_refused(void)
{
	struct api_config cfg = {
		.base_url = "http://127.0.0.1:1", .api_key = "k",
		.login_token = "t", .timeout_s = 5, .max_retries = 1,
	};
	struct api *api = api_new(&cfg);
	struct api_stats st;
	struct api_error err;

	CHECK(get_conv(api, "c1", NULL, NULL, &err) == -EIO);
	CHECK(err.kind == API_ERR_TRANSPORT && err.http_status == 0 && err.retries == 1);
	CHECK_STR(err.message, "connection refused (127.0.0.1:1); gave up after 2 tries");
	api_get_stats(api, &st);
	CHECK(st.requests == 2 && st.retries == 1 && st.errors == 1 && st.credits == 0);
	api_free(api);
	api_free(NULL);
}

static void test_http(void)
{
	if (mock_start() != 0) {
		failed++;
		fprintf(stderr, "cannot start the mock server\n");
		return;
	}
	test_http_requests();
	test_http_retries();
	test_http_limits();
	test_http_retry_after_past_budget();
	test_http_cancel();
	test_http_refused();
	mock_stop();
}

int main(void)
{
	if (api_global_init() != 0) {
		fprintf(stderr, "api_global_init failed\n");
		return 1;
	}
	test_conversation_page();
	test_conversation_variants();
	test_invalid_utf8();
	test_lenient_json_not_kept();
	test_nul_text();
	test_message_json();
	test_wrong_shapes();
	test_truncations();
	test_limits();
	test_inbox();
	test_error_answers();
	test_status_error_in_page();
	test_errno_mapping();
	test_http();
	api_global_cleanup();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
