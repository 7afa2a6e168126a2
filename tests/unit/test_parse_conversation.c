/*
 * tests/unit/test_parse_conversation.c - parsing of LinkupAPI conversation
 * pages (SPEC section 6): fields and their variants, the page's JSON kept or
 * reprinted, invalid UTF-8, NUL bytes in texts, each message's JSON, wrong
 * shapes, truncated and absurdly large bodies.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../api/api.h"

#include "api_check.h"

static const char conv_page[] =
	"{\"status\":\"success\",\"data\":{"
	"\"conversation_id\":\"2-YWJj(x,y)==\","
	"\"profile_url\":\"https://www.linkedin.com/in/"
	"al%C3%A9s-pr%C3%A9w-aa0262324/\","
	"\"total_results\":4,\"total_other_member_message_count\":\"12\","
	"\"unread_count\":0,\"last_seen_message\":\"urn:li:msg:3\","
	"\"last_seen_at\":1745269538000,"
	"\"messages\":["
	"{\"text\":\"\xf0\x9f\x98\x83\",\"timestamp\":1745269425000,"
	"\"sender\":\"Titouan Prioux\",\"message_type\":\"TEXT\","
	"\"entity_urn\":\"urn:li:msg:4\"},"
	"{\"text\":\"two\\nlines\",\"timestamp\":\"1745269300000\","
	"\"sender_info\":{\"first_name\":\"Al\xc3\xa9s\",\"last_name\":"
	"\"Pr\xc3\xa9w\"},"
	"\"entity_urn\":\"urn:li:msg:3\"},"
	"{\"text\":\"\",\"timestamp\":1745268898000,\"sender\":\"Al\xc3\xa9s "
	"Pr\xc3\xa9w\","
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
	CHECK_STR(p->last_seen_message, "\"urn:li:msg:3\"");
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
		CHECK_STR(p->data_json,
			  "{\"status\":\"success\",\"data\":"
			  "{\"messages\":[],\"pagination\":"
			  "{\"next_cursor\":\"1700000000000\"}}}\n");
	}
	api_page_free(p);

	/* no pagination at all; numbers as strings; hostile numbers */
	CHECK(parse_conv("{\"data\":{\"conversation_id\":123,\"unread_count\":"
			 "\"x\","
			 "\"last_seen_at\":\"0x10\",\"messages\":["
			 "{\"timestamp\":\"nan\"},{\"timestamp\":1e999},"
			 "{\"timestamp\":\"1e400\"},{\"timestamp\":9e300},"
			 "{\"timestamp\":\" 17 "
			 "\",\"sender_info\":{\"last_name\":\"Solo\"}}]}}",
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

/* last_seen_message is kept as the JSON value sent, whatever its type
 * (SPEC section 6: the API's own example sends true). */
static void test_last_seen_message(void)
{
	static const char *const sent[][2] = {
		{"true", "true"},
		{"false", "false"},
		{"null", "null"},
		{"1749403535", "1749403535"},
		{"\"urn:li:m\"", "\"urn:li:m\""},
		{"{\"a\":1}", NULL},
		{"[1]", NULL},
		{"\"a\xff\xfe\"",
		 "\"a\xef\xbf\xbd\xef\xbf\xbd\""}, /* repaired */
	};
	struct api_page *p = NULL;
	struct api_error err;
	char body[256];

	for (size_t i = 0; i < sizeof(sent) / sizeof(*sent); i++) {
		snprintf(
			body, sizeof(body),
			"{\"data\":{\"last_seen_message\":%s,\"messages\":[]}}",
			sent[i][0]);
		CHECK(parse_conv(body, &p, &err) == 0);
		if (sent[i][1])
			CHECK_STR(p ? p->last_seen_message : NULL, sent[i][1]);
		else
			CHECK(p && p->last_seen_message == NULL);
		api_page_free(p);
	}
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
	static const char nul[] =
		"{\"data\":{\"messages\":[{\"text\":\"a\0b\"}]}}";
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

	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\":\"a\xff"
			 "b\xc3\"}]}}",
			 &p, &err) == 0);
	if (!p)
		return;
	CHECK_STR(p->messages[0].text, "a\xff"
				       "b\xc3");
	CHECK(strstr(p->data_json, "a\xef\xbf\xbd"
				   "b\xef\xbf\xbd\"") != NULL);
	CHECK(strchr(p->data_json, '\xff') == NULL);
	CHECK(!p->data_json_whole);
	again = cJSON_Parse(p->data_json);
	CHECK(again != NULL);
	cJSON_Delete(again);
	api_page_free(p);
	p = NULL;

	/* a surrogate escape could decode to bytes that are not UTF-8: such
	 * an answer is not kept as it came, its data is checked and printed */
	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\":"
			 "\"x\\ud83d\\ude03\"}]}}",
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

	CHECK(parse_conv(
		      "{\"data\":{\"messages\":["
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
	/* printed anew ("\\uzzzz" is not JSON): the page's JSON keeps the NULs
	 */
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
	static const char raw[] =
		"{\"data\":{\"messages\":[{\"text\":\"\xff\\u0000x\0y\"}]}}";
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
			 "\xe2\x80\xae"
			 "rlo \\u2066 del\x7f c1\xc2\x9b\","
			 "\"timestamp\":1745269425000,\"sender\":\"Ann\","
			 "\"entity_urn\":\"urn:li:msg:1\"}]}}",
			 &p, &err) == 0);
	if (!p || p->n_messages != 1)
		goto out;
	m = &p->messages[0];
	CHECK(m->json_len == strlen(m->json));
	CHECK(!strchr(m->json, '\n') && !strstr(m->json, "\xe2\x80\xae") &&
	      !strchr(m->json, '\x7f') && !strstr(m->json, "\xc2\x9b"));
	CHECK(strstr(m->json, "two\\nlines \\u202e"
			      "rlo \\u2066 del\\u007f "
			      "c1\\u009b\"") != NULL);
	/* kept as it came (it is valid JSON), but with those escaped too */
	CHECK(p->data_json_whole && !strstr(p->data_json, "\xe2\x80\xae") &&
	      strstr(p->data_json, "\\u202e"));
	/* the text itself is as sent: render.h shows what must be shown */
	CHECK(strstr(m->text, "\xe2\x80\xae"
			      "rlo \xe2\x81\xa6") != NULL);
	back = cJSON_Parse(m->json);
	CHECK(back != NULL);
	if (back) {
		CHECK_STR(cJSON_GetObjectItem(back, "text")->valuestring,
			  m->text);
		CHECK_STR(cJSON_GetObjectItem(back, "sender")->valuestring,
			  "Ann");
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
	if (rc < 0 && p == NULL && err.kind == kind &&
	    rc == api_error_errno(&err) &&
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

#define BAD(body, kind, msg)                                                   \
	check_parse_error((body), strlen(body), (kind), (msg), __LINE__)

static void test_wrong_shapes(void)
{
	BAD("", API_ERR_PARSE, "response is empty");
	BAD("not json", API_ERR_PARSE, "response is not JSON");
	BAD("  <html><title>502</title></html>", API_ERR_PARSE,
	    "response is HTML, not JSON");
	BAD("[1,2]", API_ERR_PARSE, "response is not a JSON object");
	BAD("\"success\"", API_ERR_PARSE, "response is not a JSON object");
	BAD("{\"status\":\"success\"}", API_ERR_PARSE,
	    "response has no data object");
	BAD("{\"data\":null}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":[]}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":\"x\"}", API_ERR_PARSE, "response has no data object");
	BAD("{\"data\":{}}", API_ERR_PARSE,
	    "response has no data.messages array");
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
	CHECK(api_parse_conversation(body, API_MAX_BODY + 1u, &p, &err) ==
	      -EIO);
	CHECK_STR(err.message, "response larger than 16 MiB");
	free(body);
}

int main(void)
{
	test_conversation_page();
	test_conversation_variants();
	test_last_seen_message();
	test_invalid_utf8();
	test_lenient_json_not_kept();
	test_nul_text();
	test_message_json();
	test_wrong_shapes();
	test_truncations();
	test_limits();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
