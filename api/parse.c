/*
 * api/parse.c - LinkupAPI v1 answers (JSON) to the C structs of api.h.
 *
 * Everything here reads untrusted network input: any value may be missing,
 * of the wrong type or absurdly large, and no input may crash the process.
 * Pure functions: no I/O, no locks, no global state.
 */
#include "api.h"
#include "json.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A page with more entries than this is not an answer we can trust. */
#define API_MAX_ENTRIES 100000
/* Counts are clamped here: no conversation holds a billion messages. */
#define API_MAX_COUNT 1000000000L
/* Latest timestamp accepted, 9999-12-31 23:59:59.999 UTC in ms: later ones
 * would overflow the calendar functions of whoever renders them. */
#define API_MAX_TIME_MS 253402300799999.0

struct parse_ctx {
	bool oom;   /* an allocation failed: the result is incomplete */
	bool clean; /* the body is valid UTF-8 with no \uD800-\uDFFF escape,
	               so no string needs repair */
};

static void err_clear(struct api_error *err)
{
	memset(err, 0, sizeof(*err));
}

static int parse_fail(struct api_error *err, const char *what)
{
	err->kind = API_ERR_PARSE;
	snprintf(err->message, sizeof(err->message), "%s", what);
	return -EIO;
}

/* Out of memory is no fault of the server, but the caller only needs to
 * know the answer could not be turned into structs. */
static int oom_fail(struct api_error *err)
{
	parse_fail(err, "out of memory parsing the response");
	return -ENOMEM;
}

/* obj[key], or NULL when obj is not an object or has no such member. */
static const cJSON *json_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The string obj[key], or NULL when absent, not a string, or empty. */
static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *item = json_get(obj, key);

	if (!cJSON_IsString(item) || !item->valuestring || !item->valuestring[0])
		return NULL;
	return item->valuestring;
}

static char *ctx_strdup(struct parse_ctx *ctx, const char *s)
{
	char *copy;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		ctx->oom = true;
	return copy;
}

/* A finite number from a JSON number or a decimal string ("1745269538000"):
 * the API is not consistent about which it sends. */
static bool json_number(const cJSON *item, double *out)
{
	const char *p;
	char *end;
	double v;

	if (cJSON_IsNumber(item)) {
		v = item->valuedouble;
	} else if (cJSON_IsString(item) && item->valuestring) {
		/* strtod also takes hex, "inf" and "nan": allow decimal only */
		for (p = item->valuestring; *p; p++)
			if (!isdigit((unsigned char)*p) && !strchr("+-.eE ", *p))
				return false;
		errno = 0;
		v = strtod(item->valuestring, &end);
		if (end == item->valuestring || errno == ERANGE)
			return false;
		while (*end == ' ')
			end++;
		if (*end)
			return false;
	} else {
		return false;
	}
	if (!isfinite(v))
		return false;
	*out = v;
	return true;
}

/* Milliseconds since the epoch; 0 for anything absent or implausible. */
static int64_t json_time_ms(const cJSON *item)
{
	double v;

	if (!json_number(item, &v) || v < 0 || v > API_MAX_TIME_MS)
		return 0;
	return (int64_t)v;
}

/* A count: number, numeric string or bool (true is 1); absent otherwise. */
static long json_count(const cJSON *item, long absent)
{
	double v;

	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item) ? 1 : 0;
	if (!json_number(item, &v) || v < 0)
		return absent;
	if (v > API_MAX_COUNT)
		return API_MAX_COUNT;
	return (long)v;
}

/* true, a non-zero number or the string "true"; anything else is false. */
static bool json_flag(const cJSON *item)
{
	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item);
	if (cJSON_IsNumber(item))
		return item->valuedouble != 0;
	if (cJSON_IsString(item) && item->valuestring)
		return strcasecmp(item->valuestring, "true") == 0;
	return false;
}

/* An id or cursor as a C string: a string as sent, a number in decimal (the
 * conversation cursor is a timestamp and sometimes comes as a number).
 * NULL when absent, empty or of another type. */
static char *json_token_dup(struct parse_ctx *ctx, const cJSON *item)
{
	char num[40];
	double v;

	if (cJSON_IsString(item) && item->valuestring && item->valuestring[0])
		return ctx_strdup(ctx, item->valuestring);
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		return NULL;
	v = item->valuedouble;
	/* every integer below 2^53 is exact in a double: print it whole */
	if (v > -9.0e15 && v < 9.0e15 && (double)(int64_t)v == v)
		snprintf(num, sizeof(num), "%" PRId64, (int64_t)v);
	else
		snprintf(num, sizeof(num), "%.17g", v);
	return ctx_strdup(ctx, num);
}

/* "first last" from an object's first_name and last_name; NULL if neither. */
static char *full_name(struct parse_ctx *ctx, const cJSON *obj)
{
	const char *first = json_str(obj, "first_name");
	const char *last = json_str(obj, "last_name");
	char *name;

	if (!first && !last)
		return NULL;
	if (asprintf(&name, "%s%s%s", first ? first : "",
		     first && last ? " " : "", last ? last : "") < 0) {
		ctx->oom = true;
		return NULL;
	}
	return name;
}

/* Length of the valid UTF-8 sequence at s (n bytes left); 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Length of the JSON string at s (s[0] is '"'), 0 unless it is strictly
 * valid: UTF-8, no raw control character, known escapes, no surrogate
 * escape (a lone one would decode to bytes that are not UTF-8). */
static size_t string_len(const unsigned char *s, size_t n)
{
	static const char escapes[] = "\"\\/bfnrt";
	size_t i = 1, m;

	while (i < n) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] < 0x20)
			return 0;
		if (s[i] == '\\') {
			if (i + 1 >= n)
				return 0;
			if (s[i + 1] == 'u') {
				if (i + 5 >= n || (s[i + 2] | 0x20) == 'd' ||
				    !isxdigit(s[i + 2]) || !isxdigit(s[i + 3]) ||
				    !isxdigit(s[i + 4]) || !isxdigit(s[i + 5]))
					return 0; /* short, a surrogate, not hex */
				i += 6;
			} else if (s[i + 1] && strchr(escapes, s[i + 1])) {
				i += 2;
			} else {
				return 0;
			}
			continue;
		}
		m = utf8_seq_len(s + i, n - i);
		if (!m)
			return 0;
		i += m;
	}
	return 0;
}

static size_t digits(const unsigned char *s, size_t n, size_t i)
{
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* Length of the number at s as JSON spells it (no "01", "1.", "+1"), 0 if
 * it is not one. */
static size_t number_len(const unsigned char *s, size_t n)
{
	size_t i = s[0] == '-', d;

	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		i = digits(s, n, i);
	else
		return 0;
	if (i < n && s[i] == '.') {
		d = digits(s, n, ++i);
		if (d == i)
			return 0;
		i = d;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i += i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-') ? 2 : 1;
		d = digits(s, n, i);
		if (d == i)
			return 0;
		i = d;
	}
	return i < n && !strchr(",]} \t\n\r", s[i]) ? 0 : i;
}

/*
 * Whether body, which cJSON parsed as an object, is also strictly valid
 * JSON wherever cJSON is lenient (UTF-8, strings, numbers, no NUL, nothing
 * after the value), so that its own bytes can be kept as the page's JSON
 * instead of printing the tree anew. One pass over the bytes.
 */
static bool body_clean(const char *body, size_t len)
{
	const unsigned char *s = (const unsigned char *)body;
	int depth = 0;
	size_t i = 0, n;

	while (i < len) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '-' || (ch >= '0' && ch <= '9')) {
			n = ch == '"' ? string_len(s + i, len - i)
				      : number_len(s + i, len - i);
			if (!n)
				return false;
			i += n;
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (--depth == 0)
				break; /* the value ends here */
		} else if (!ch || (!strchr(" \t\n\r,:", ch) &&
				   !(ch >= 'a' && ch <= 'z'))) {
			return false; /* letters: true false null, cJSON checked */
		}
		i++;
	}
	if (depth != 0 || i >= len)
		return false;
	for (i++; i < len; i++)
		if (!strchr(" \t\n\r", s[i]) || !s[i])
			return false;
	return true;
}

/* Replace *field by a copy where each invalid UTF-8 byte is U+FFFD, so the
 * re-serialised JSON is valid UTF-8 (RFC 8259) whatever the server sent. */
static void utf8_repair_field(struct parse_ctx *ctx, char **field)
{
	const unsigned char *s = (const unsigned char *)*field;
	size_t n, i, len, bad = 0, o = 0;
	char *fixed;

	if (!s)
		return;
	n = strlen(*field);
	for (i = 0; i < n; i += len ? len : 1) {
		len = utf8_seq_len(s + i, n - i);
		bad += !len;
	}
	if (!bad)
		return;
	fixed = cJSON_malloc(n + 2 * bad + 1);
	if (!fixed) {
		ctx->oom = true;
		return;
	}
	for (i = 0; i < n; i += len ? len : 1) {
		len = utf8_seq_len(s + i, n - i);
		if (len) {
			memcpy(fixed + o, s + i, len);
			o += len;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	fixed[o] = '\0';
	cJSON_free(*field);
	*field = fixed;
}

/* Repair every key and string value of item, its siblings and children. */
static void json_repair_utf8(struct parse_ctx *ctx, cJSON *item)
{
	for (; item; item = item->next) {
		if (!(item->type & cJSON_StringIsConst))
			utf8_repair_field(ctx, &item->string);
		if (cJSON_IsString(item) || cJSON_IsRaw(item))
			utf8_repair_field(ctx, &item->valuestring);
		json_repair_utf8(ctx, item->child);
	}
}

/* item printed as one line of JSON fit for display (api_json_for_display),
 * repaired first unless the body is clean; *n its length. */
static char *json_line(struct parse_ctx *ctx, cJSON *item, bool newline,
		       size_t *n)
{
	char *printed, *text = NULL;

	if (!ctx->clean)
		json_repair_utf8(ctx, item->child);
	printed = cJSON_PrintUnformatted(item);
	if (printed)
		text = api_json_for_display(printed, strlen(printed), newline, n);
	cJSON_free(printed);
	if (!text)
		ctx->oom = true;
	return text;
}

/* data as JSON text ending in "\n" (for page-NNNN.json): the body itself
 * when it is clean (*whole), else data repaired and printed anew; either
 * way with the characters api_json_for_display hides escaped. */
static char *json_compact(struct parse_ctx *ctx, cJSON *data, const char *body,
			  size_t len, bool *whole)
{
	char *text;
	size_t n;

	*whole = ctx->clean;
	if (!ctx->clean)
		return json_line(ctx, data, true, &n);
	while (len && strchr(" \t\n\r", *body)) {
		body++; /* the text starts with its object */
		len--;
	}
	text = api_json_for_display(body, len, true, &n);
	if (!text)
		ctx->oom = true;
	return text;
}

/* body (not NUL-terminated) parsed; NULL when it is not JSON. */
static cJSON *json_parse(const char *body, size_t len, bool *oom)
{
	char *copy;
	cJSON *json;

	*oom = false;
	/* a terminated copy: cJSON must never read past what we were given */
	copy = malloc(len + 1);
	if (!copy) {
		*oom = true;
		return NULL;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	json = cJSON_ParseWithLength(copy, len);
	free(copy);
	return json;
}

static bool looks_like_html(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return i < len && body[i] == '<';
}

/* Whether some string of body may hold a NUL: a raw one, or "\u0000" (or
 * "\\u0000", which is not one: a cheap test, not an exact one). */
static bool may_hold_nul(const char *body, size_t len)
{
	return memchr(body, '\0', len) || memmem(body, len, "\\u0000", 6);
}

/* The answer's root object and its "data" object; an error answer
 * (status "error", even under HTTP 200) fills err instead. */
static int parse_root(const char *body, size_t len, cJSON **root,
		      const cJSON **data, struct api_error *err)
{
	const cJSON *status;
	bool oom;
	int rc;

	*root = NULL;
	if (!body || !len)
		return parse_fail(err, "response is empty");
	if (len > API_MAX_BODY)
		return parse_fail(err, "response larger than 16 MiB");
	*root = json_parse(body, len, &oom);
	if (oom)
		return oom_fail(err);
	if (!*root)
		return parse_fail(err, looks_like_html(body, len) ?
				  "response is HTML, not JSON" :
				  "response is not JSON");
	if (!cJSON_IsObject(*root)) {
		rc = parse_fail(err, "response is not a JSON object");
		goto fail;
	}
	status = json_get(*root, "status");
	if (cJSON_IsString(status) && status->valuestring &&
	    strcasecmp(status->valuestring, "error") == 0) {
		rc = api_parse_error(body, len, 200, err);
		goto fail;
	}
	*data = json_get(*root, "data");
	if (!cJSON_IsObject(*data)) {
		rc = parse_fail(err, "response has no data object");
		goto fail;
	}
	return 0;
fail:
	cJSON_Delete(*root);
	*root = NULL;
	return rc;
}

/* Number of objects in array (other entries are skipped), or -1 when the
 * array is longer than we accept. */
static long count_objects(const cJSON *array)
{
	const cJSON *item;
	long n = 0, seen = 0;

	cJSON_ArrayForEach(item, array) {
		if (++seen > API_MAX_ENTRIES)
			return -1;
		n += cJSON_IsObject(item);
	}
	return n;
}

/* The message's text, NUL bytes included (api_json_keep_nul made a text
 * that holds one a raw item). */
static void parse_text(struct parse_ctx *ctx, const cJSON *item,
		       struct api_message *m)
{
	const cJSON *text = json_get(item, "text");
	const char *s = json_str(item, "text");

	if (cJSON_IsRaw(text)) {
		if (api_json_raw_bytes(text, &m->text, &m->text_len) == -ENOMEM)
			ctx->oom = true;
		if (m->text)
			return;
	}
	m->text = ctx_strdup(ctx, s ? s : "");
	m->text_len = m->text ? strlen(m->text) : 0;
}

static void parse_message(struct parse_ctx *ctx, cJSON *item,
			  struct api_message *m)
{
	const char *s;

	parse_text(ctx, item, m);
	m->timestamp_ms = json_time_ms(json_get(item, "timestamp"));
	s = json_str(item, "sender");
	m->sender = s ? ctx_strdup(ctx, s) :
			full_name(ctx, json_get(item, "sender_info"));
	if (!m->sender)
		m->sender = ctx_strdup(ctx, "unknown");
	s = json_str(item, "message_type");
	m->message_type = ctx_strdup(ctx, s ? s : "TEXT");
	s = json_str(item, "entity_urn");
	m->entity_urn = ctx_strdup(ctx, s ? s : "");
	/* last: the fields above are read as sent, before any repair */
	m->json = json_line(ctx, item, false, &m->json_len);
}

static int parse_messages(struct parse_ctx *ctx, cJSON *array,
			  struct api_page *page, struct api_error *err)
{
	cJSON *item;
	long n = count_objects(array);

	if (n < 0)
		return parse_fail(err, "response has more than 100000 messages");
	if (!n)
		return 0;
	page->messages = calloc((size_t)n, sizeof(*page->messages));
	if (!page->messages)
		return oom_fail(err);
	cJSON_ArrayForEach(item, array) {
		if (cJSON_IsObject(item))
			parse_message(ctx, item, &page->messages[page->n_messages++]);
	}
	return 0;
}

static void parse_page_meta(struct parse_ctx *ctx, const cJSON *data,
			    struct api_page *page)
{
	const cJSON *pagination = json_get(data, "pagination");

	page->conversation_id = json_token_dup(ctx, json_get(data, "conversation_id"));
	if (!page->conversation_id)
		page->conversation_id = ctx_strdup(ctx, "");
	page->profile_url = ctx_strdup(ctx, json_str(data, "profile_url"));
	page->total_other_member_message_count =
		json_count(json_get(data, "total_other_member_message_count"), -1);
	page->unread_count = json_count(json_get(data, "unread_count"), -1);
	page->last_seen_message = ctx_strdup(ctx, json_str(data, "last_seen_message"));
	page->last_seen_at = json_time_ms(json_get(data, "last_seen_at"));
	page->has_next_page = json_flag(json_get(pagination, "has_next_page"));
	page->next_cursor = json_token_dup(ctx, json_get(pagination, "next_cursor"));
}

int api_parse_conversation(const char *body, size_t len,
			   struct api_page **out, struct api_error *err)
{
	struct parse_ctx ctx = { 0 };
	struct api_error local;
	struct api_page *page = NULL;
	const cJSON *data, *pagination;
	cJSON *root, *messages;
	int rc;

	if (!err)
		err = &local;
	err_clear(err);
	*out = NULL;
	rc = parse_root(body, len, &root, &data, err);
	if (rc)
		return rc;
	ctx.clean = body_clean(body, len); /* len is checked: within the cap */
	if (may_hold_nul(body, len) && api_json_keep_nul(root, body, len)) {
		rc = oom_fail(err);
		goto out;
	}
	messages = (cJSON *)json_get(data, "messages");
	if (!cJSON_IsArray(messages)) {
		rc = parse_fail(err, "response has no data.messages array");
		goto out;
	}
	/* null or a string where pagination belongs would read as "no more
	 * pages" and cut the conversation short: refuse it (absent still
	 * means the last page) */
	pagination = json_get(data, "pagination");
	if (pagination && !cJSON_IsObject(pagination)) {
		rc = parse_fail(err, "response has a data.pagination that is "
				"not an object");
		goto out;
	}
	page = calloc(1, sizeof(*page));
	if (!page) {
		rc = oom_fail(err);
		goto out;
	}
	parse_page_meta(&ctx, data, page);
	rc = parse_messages(&ctx, messages, page, err);
	if (rc)
		goto out;
	page->data_json = json_compact(&ctx, (cJSON *)data, body, len,
				       &page->data_json_whole);
	rc = ctx.oom ? oom_fail(err) : 0;
	if (!rc) {
		*out = page;
		page = NULL;
	}
out:
	api_page_free(page);
	cJSON_Delete(root);
	return rc;
}

/* false when the entry has no conversation id (it could not be opened). */
static bool parse_inbox_entry(struct parse_ctx *ctx, const cJSON *item,
			      struct api_inbox_entry *e)
{
	const cJSON *who = json_get(item, "participant");
	const cJSON *last = json_get(item, "last_message");

	e->conversation_id = json_token_dup(ctx, json_get(item, "conversation_id"));
	if (!e->conversation_id)
		return false;
	e->name = ctx_strdup(ctx, json_str(who, "name"));
	if (!e->name)
		e->name = full_name(ctx, who);
	e->headline = ctx_strdup(ctx, json_str(who, "headline"));
	e->profile_url = ctx_strdup(ctx, json_str(who, "profile_url"));
	e->last_text = ctx_strdup(ctx, json_str(last, "text"));
	e->last_sender = ctx_strdup(ctx, json_str(last, "sender"));
	e->last_time_ms = json_time_ms(json_get(last, "time"));
	e->unread = json_count(json_get(item, "unread"), 0);
	return true;
}

static int parse_inbox_entries(struct parse_ctx *ctx, const cJSON *array,
			       struct api_inbox_page *page,
			       struct api_error *err)
{
	const cJSON *item;
	long n = count_objects(array);

	if (n < 0)
		return parse_fail(err, "response has more than 100000 conversations");
	if (!n)
		return 0;
	page->entries = calloc((size_t)n, sizeof(*page->entries));
	if (!page->entries)
		return oom_fail(err);
	cJSON_ArrayForEach(item, array) {
		struct api_inbox_entry *e = &page->entries[page->n_entries];

		if (!cJSON_IsObject(item))
			continue;
		if (parse_inbox_entry(ctx, item, e))
			page->n_entries++;
		else
			free(e->conversation_id); /* NULL: nothing else was set */
	}
	return 0;
}

int api_parse_inbox(const char *body, size_t len,
		    struct api_inbox_page **out, struct api_error *err)
{
	struct parse_ctx ctx = { 0 };
	struct api_error local;
	struct api_inbox_page *page = NULL;
	const cJSON *data, *list;
	cJSON *root;
	int rc;

	if (!err)
		err = &local;
	err_clear(err);
	*out = NULL;
	rc = parse_root(body, len, &root, &data, err);
	if (rc)
		return rc;
	list = json_get(data, "conversations");
	if (!cJSON_IsArray(list)) {
		rc = parse_fail(err, "response has no data.conversations array");
		goto out;
	}
	page = calloc(1, sizeof(*page));
	if (!page) {
		rc = oom_fail(err);
		goto out;
	}
	rc = parse_inbox_entries(&ctx, list, page, err);
	if (rc)
		goto out;
	page->next_cursor = json_token_dup(&ctx, json_get(data, "next_cursor"));
	rc = ctx.oom ? oom_fail(err) : 0;
	if (!rc) {
		*out = page;
		page = NULL;
	}
out:
	api_inbox_page_free(page);
	cJSON_Delete(root);
	return rc;
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

void api_inbox_page_free(struct api_inbox_page *page)
{
	size_t i;

	if (!page)
		return;
	for (i = 0; i < page->n_entries; i++) {
		free(page->entries[i].conversation_id);
		free(page->entries[i].name);
		free(page->entries[i].headline);
		free(page->entries[i].profile_url);
		free(page->entries[i].last_text);
		free(page->entries[i].last_sender);
	}
	free(page->entries);
	free(page->next_cursor);
	free(page);
}
