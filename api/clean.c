/*
 * api/clean.c - the JSON text kept of an answer (parse.h): whether the body
 * is strictly valid JSON, so its own bytes can be kept; when not, its
 * strings repaired to valid UTF-8 and the tree printed anew.
 *
 * Reads untrusted network input. Pure functions: no I/O, no locks, no
 * global state.
 */
#include "json.h"
#include "parse.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

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

/* One pass over the bytes. */
bool api_json_strict(const char *body, size_t len)
{
	const unsigned char *s = (const unsigned char *)body;
	int depth = 0;
	size_t i = 0, n;

	while (i < len) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '-' || (ch >= '0' && ch <= '9')) {
			if (ch == '"')
				n = api_json_string_len(body + i, len - i,
							true);
			else
				n = number_len(s + i, len - i);
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
		} else if (ch != ' ' && ch != '\t' && ch != '\n' &&
			   ch != '\r' && ch != ',' && ch != ':' &&
			   !(ch >= 'a' && ch <= 'z')) {
			return false; /* letters: true false null, cJSON checked
				       */
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
static void utf8_repair_field(struct api_parse_ctx *ctx, char **field)
{
	const unsigned char *s = (const unsigned char *)*field;
	size_t n, i, len, bad = 0, o = 0;
	char *fixed;

	if (!s)
		return;
	n = strlen(*field);
	for (i = 0; i < n; i += len ? len : 1) {
		len = api_json_utf8_len(s + i, n - i);
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
		len = api_json_utf8_len(s + i, n - i);
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
static void json_repair_utf8(struct api_parse_ctx *ctx, cJSON *item)
{
	for (; item; item = item->next) {
		if (!(item->type & cJSON_StringIsConst))
			utf8_repair_field(ctx, &item->string);
		if (cJSON_IsString(item) || cJSON_IsRaw(item))
			utf8_repair_field(ctx, &item->valuestring);
		json_repair_utf8(ctx, item->child);
	}
}

char *api_json_line(struct api_parse_ctx *ctx, cJSON *item,
		    struct api_json_elems *raw, bool newline, size_t *n)
{
	char *printed, *text = NULL;
	size_t used;
	int rc;

	if (ctx->clean && raw) {
		rc = api_json_print_line(raw->s + raw->at, raw->len - raw->at,
					 newline, &text, n, &used);
		if (!rc)
			api_json_elems_done(raw, used);
		if (rc == -ENOMEM)
			ctx->oom = true;
		if (rc != -EINVAL)
			return text;
	}
	if (!ctx->clean && (cJSON_IsString(item) || cJSON_IsRaw(item)))
		utf8_repair_field(ctx, &item->valuestring); /* a lone value */
	if (!ctx->clean)
		json_repair_utf8(ctx, item->child);
	printed = cJSON_PrintUnformatted(item);
	if (printed)
		text = api_json_for_display(printed, strlen(printed), newline,
					    n);
	cJSON_free(printed);
	if (!text)
		ctx->oom = true;
	return text;
}

char *api_json_compact(struct api_parse_ctx *ctx, cJSON *data, const char *body,
		       size_t len, bool *whole)
{
	char *text;
	size_t n;

	*whole = ctx->clean;
	if (!ctx->clean)
		return api_json_line(ctx, data, NULL, true, &n);
	while (len && strchr(" \t\n\r", *body)) {
		body++; /* the text starts with its object */
		len--;
	}
	text = api_json_for_display(body, len, true, &n);
	if (!text)
		ctx->oom = true;
	return text;
}
