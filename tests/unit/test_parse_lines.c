/*
 * tests/unit/test_parse_lines.c - each message's JSON line (messages.jsonl)
 * made straight from the answer's bytes (api_json_print_line) is the line
 * cJSON prints of the parsed tree, byte for byte: escapes, surrogates, NUL,
 * bidi and C1 controls, invalid UTF-8, whitespace between tokens, nested
 * values, duplicate keys, numbers; and where the fast path gives up, the
 * page's lines are still the tree's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../api/json.h"
#include "../../api/parse.h"

#include "api_check.h"

/* What the tree path makes of text: cJSON's line, shown for display. */
static char *tree_line(const char *text, size_t len, size_t *n)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	char *printed, *line = NULL;

	if (!root)
		return NULL;
	printed = cJSON_PrintUnformatted(root);
	if (printed)
		line = api_json_for_display(printed, strlen(printed), false, n);
	cJSON_free(printed);
	cJSON_Delete(root);
	return line;
}

/* api_json_print_line on text (in a buffer of exactly its length): its
 * return; when 0, the line must be the tree's and take the whole value. */
static int fast_vs_tree(const char *text, size_t len, int line)
{
	char *copy = exact(text, len), *fast = NULL, *slow;
	size_t fast_n = 0, slow_n = 0, used = 0, end = len;
	int rc = api_json_print_line(copy, len, false, &fast, &fast_n, &used);

	while (end && strchr(" \t\n\r", text[end - 1]))
		end--;
	slow = tree_line(text, len, &slow_n);
	if (rc == 0 &&
	    !(slow && fast_n == slow_n && memcmp(fast, slow, slow_n) == 0 &&
	      fast[fast_n] == '\0' && used == end)) {
		failed++;
		fprintf(stderr,
			"%s:%d: fast \"%s\" (%zu used of %zu), tree \"%s\"\n",
			__FILE__, line, fast, used, end,
			slow ? slow : "(null)");
	} else if (rc == 0) {
		passed++;
	}
	free(fast);
	free(slow);
	free(copy);
	return rc;
}

#define FAST(text) CHECK(fast_vs_tree((text), strlen(text), __LINE__) == 0)
#define GIVES_UP(text)                                                         \
	CHECK(fast_vs_tree((text), strlen(text), __LINE__) == -EINVAL)

static void test_tokens(void)
{
	FAST("{}");
	FAST("[]");
	FAST("{\"a\":1}");
	FAST(" {\t\"a\" :\r\n 1 ,\n\"b\"  :  \"x\" }  \n");
	FAST("{\"a\":{\"b\":[1,{\"c\":[]},[[]],{}]},\"d\":[true,false,null]}");
	FAST("{ \"a\" : [ 1 , 2 , { \"b\" : null } ] , \"c\" : { } }");
	FAST("{\"a\":1,\"a\":2,\"a\":\"three\"}"); /* duplicate keys kept */
	FAST("{\"\":\"\",\"k\":\"\"}");
	FAST("[1,\"x\",[true]]");
	FAST("\"just a string\"");
	FAST("12345");
}

static void test_numbers(void)
{
	FAST("{\"n\":[0,-1,7,2147483647,2147483648,-2147483648,-2147483649]}");
	FAST("{\"n\":[1748732400000,-1748732400000,999999999999999]}");
	FAST("{\"n\":[100000000000000,-999999999999999]}");
	GIVES_UP("{\"n\":1234567890123456}"); /* 16 digits: %1.15g rounds */
	GIVES_UP("{\"n\":-0}");		      /* cJSON prints 0 */
	GIVES_UP("{\"n\":1.5}");
	GIVES_UP("{\"n\":1e3}");
	GIVES_UP("{\"n\":1E+3}");
	GIVES_UP("{\"n\":0.0}");
}

static void test_escapes(void)
{
	FAST("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}");
	FAST("{\"s\":\"\\u0001\\u0008\\u0009\\u000a\\u000B\\u000c\\u000D"
	     "\\u001f\\u0020\"}");
	FAST("{\"s\":\"\\u0041\\u00e9\\u00E9\\u0022\\u005c\\u005C\\u002f"
	     "\\u002F\"}");
	FAST("{\"s\":\"\\u007f\\u0080\\u009f\\u009F\\u00a0\\u07ff\\u0800"
	     "\\uffff\\uFFFE\\u2029\"}");
	FAST("{\"s\":\"\\u202a\\u202b\\u202c\\u202d\\u202E\\u2029\\u202f"
	     "\\u2065\\u2066\\u2067\\u2068\\u2069\\u206a\"}");
	FAST("{\"k\\u202e\\n\\u0041\":\"keys too\"}");
	/* the tree path takes surrogate pairs, the fast one leaves them
	 * (a clean answer has none) */
	GIVES_UP("{\"s\":\"\\ud83d\\ude03\"}");
	GIVES_UP("{\"s\":\"a\\u0000b\"}"); /* NUL: api_json_keep_nul's */
	GIVES_UP("{\"s\\u0000\":1}");
}

static void test_raw_bytes(void)
{
	FAST("{\"s\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
	     "\xf0\x9f\x98\x83\"}");
	FAST("{\"s\":\"del\x7f c1\xc2\x80\xc2\x9f nbsp\xc2\xa0\"}");
	FAST("{\"s\":\"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad"
	     "\xe2\x80\xae\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xa6"
	     "\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9\xe2\x81\xaa\"}");
	FAST("{\"\xe2\x80\xae\x7f\":\"hidden in a key\"}");
}

/* Every special at every offset of a long string: the eight-byte runs
 * must stop exactly at it. */
static void test_offsets(void)
{
	static const char *const specials[] = {
		"\\\"",	    "\\\\",	    "\\n",	    "\\u0001",
		"\\u00e9",  "\\u202e",	    "\x7f",	    "\xc2\x85",
		"\xc3\xa9", "\xe2\x80\xae", "\xe2\x82\xac", "\xf0\x9f\x98\x83",
		"\\/"};
	char text[128];
	size_t n;

	for (size_t s = 0; s < sizeof(specials) / sizeof(*specials); s++) {
		for (int pos = 0; pos < 24; pos++) {
			n = (size_t)snprintf(text, sizeof(text),
					     "{\"s\":\"%.*s%s%s\"}", pos,
					     "abcdefghijklmnopqrstuvwxyz",
					     specials[s], "0123456789ABCDEFG");
			CHECK(fast_vs_tree(text, n, __LINE__) == 0);
		}
	}
}

/* The page's lines against the tree path run on its own: cJSON's tree
 * (with api_json_keep_nul, as the parse does), each message printed. */
static void check_page(const char *body, int line)
{
	size_t len = strlen(body), k = 0, n;
	cJSON *root = cJSON_ParseWithLength(body, len), *item, *messages;
	struct api_page *p = NULL;
	struct api_error err;
	char *printed, *want;
	bool ok;

	ok = root && api_json_keep_nul(root, body, len) == 0 &&
	     parse_conv(body, &p, &err) == 0;
	messages = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "data"), "messages");
	cJSON_ArrayForEach(item, messages)
	{
		if (!ok || !cJSON_IsObject(item))
			continue;
		printed = cJSON_PrintUnformatted(item);
		want = api_json_for_display(printed, strlen(printed), false,
					    &n);
		ok = k < p->n_messages && p->messages[k].json_len == n &&
		     memcmp(p->messages[k].json, want, n) == 0;
		if (!ok)
			fprintf(stderr,
				"%s:%d: message %zu: \"%s\", want \"%s\"\n",
				__FILE__, line, k,
				k < p->n_messages ? p->messages[k].json : "-",
				want);
		k++;
		cJSON_free(printed);
		free(want);
	}
	ok = ok && k == p->n_messages;
	CHECK(ok);
	if (!ok)
		fprintf(stderr, "%s:%d: that page\n", __FILE__, line);
	api_page_free(p);
	cJSON_Delete(root);
}

#define PAGE(body) check_page((body), __LINE__)

/* Invalid UTF-8 (not clean): the tree, repaired, prints the line. */
static void test_invalid_utf8(void)
{
	struct api_page *p = NULL;
	struct api_error err;

	CHECK(parse_conv("{\"data\":{\"messages\":[{\"text\": \"bad "
			 "\xff\xc3\", \"n\": 1}]}}",
			 &p, &err) == 0);
	if (p && p->n_messages == 1)
		CHECK_STR(
			p->messages[0].json,
			"{\"text\":\"bad \xef\xbf\xbd\xef\xbf\xbd\",\"n\":1}");
	api_page_free(p);
}

static void test_pages(void)
{
	/* as the API spaces it, with numbers, strings and objects between */
	PAGE("{\"status\": \"success\", \"data\": {\"conversation_id\": "
	     "\"c\", \"x\": [1, {\"messages\": []}], \"messages\": [ "
	     "{\"text\": \"one \\u202e \\\"q\\\" \xe2\x81\xa6\", "
	     "\"timestamp\": 1748732400000, \"sender\": \"Ann\", "
	     "\"sender_info\": {\"first_name\": \"A\", \"last_name\": "
	     "\"B\"}} , 42, \"junk\", null, [ {\"a\": 1} ], "
	     "{\"text\": \"float\", \"score\": 0.5}, "
	     "{\"text\": \"after the float\", \"t\": -0}, "
	     "{\"text\": \"nul \\u0000 here\", \"n\": 1}, "
	     "{ \"text\" : \"last\" , \"deep\" : { \"a\" : [ [ ] ] } } "
	     "], \"pagination\": {\"has_next_page\": false}}}");
	/* the first of two data.messages is the one cJSON finds */
	PAGE("{\"data\":{\"messages\":[{\"text\":\"first\"}],"
	     "\"messages\":[{\"text\":\"second\"}]}}");
	/* a key spelt with an escape before the path: the tree decides */
	PAGE("{\"d\\u0061ta\":{\"messages\":[{\"text\":\"escaped\"}]},"
	     "\"data\":{\"messages\":[{\"text\":\"plain\"}]}}");
	PAGE("{\"data\":{\"mess\\u0061ges\":[{\"text\":\"escaped\"}],"
	     "\"messages\":[{\"text\":\"plain\"}]}}");
	/* not clean (invalid UTF-8, a surrogate pair, a raw control): the
	 * tree path throughout */
	PAGE("{\"data\":{\"messages\":[{\"text\":\"\\ud83d\\ude03\"}]}}");
	PAGE("{\"data\":{\"messages\":[{\"text\":\"tab\there\"}]}}");
	PAGE("{\"data\":{\"messages\":[]}}");
	PAGE("{\"data\":{\"messages\":[{}]}}");
}

int main(void)
{
	test_tokens();
	test_numbers();
	test_escapes();
	test_raw_bytes();
	test_offsets();
	test_pages();
	test_invalid_utf8();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
