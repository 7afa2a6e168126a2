/*
 * api/parse.c - what the parsers of LinkupAPI answers share (parse.h): the
 * root of an answer, typed readers of its values, parse errors.
 *
 * Everything here reads untrusted network input: any value may be missing,
 * of the wrong type or absurdly large, and no input may crash the process.
 * Pure functions: no I/O, no locks, no global state.
 */
#include "parse.h"

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

int api_parse_fail(struct api_error *err, const char *what)
{
	err->kind = API_ERR_PARSE;
	err->html = false;
	snprintf(err->message, sizeof(err->message), "%s", what);
	return -EIO;
}

/* Out of memory is no fault of the server, but the caller only needs to
 * know the answer could not be turned into structs. */
int api_parse_oom(struct api_error *err)
{
	api_parse_fail(err, "out of memory parsing the response");
	return -ENOMEM;
}

const cJSON *api_json_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *api_json_str(const cJSON *obj, const char *key)
{
	const cJSON *item = api_json_get(obj, key);

	if (!cJSON_IsString(item) || !item->valuestring ||
	    !item->valuestring[0])
		return NULL;
	return item->valuestring;
}

char *api_parse_strdup(struct api_parse_ctx *ctx, const char *s)
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
			if (!isdigit((unsigned char)*p) &&
			    !strchr("+-.eE ", *p))
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

int64_t api_json_time_ms(const cJSON *item)
{
	double v;

	if (!json_number(item, &v) || v < 0 || v > API_MAX_TIME_MS)
		return 0;
	return (int64_t)v;
}

long api_json_count(const cJSON *item, long absent)
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

bool api_json_flag(const cJSON *item)
{
	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item);
	if (cJSON_IsNumber(item))
		return item->valuedouble != 0;
	if (cJSON_IsString(item) && item->valuestring)
		return strcasecmp(item->valuestring, "true") == 0;
	return false;
}

/* The conversation cursor is a timestamp and sometimes comes as a number. */
char *api_json_token_dup(struct api_parse_ctx *ctx, const cJSON *item)
{
	char num[40];
	double v;

	if (cJSON_IsString(item) && item->valuestring && item->valuestring[0])
		return api_parse_strdup(ctx, item->valuestring);
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		return NULL;
	v = item->valuedouble;
	/* every integer below 2^53 is exact in a double: print it whole */
	if (v > -9.0e15 && v < 9.0e15 && (double)(int64_t)v == v)
		snprintf(num, sizeof(num), "%" PRId64, (int64_t)v);
	else
		snprintf(num, sizeof(num), "%.17g", v);
	return api_parse_strdup(ctx, num);
}

char *api_json_full_name(struct api_parse_ctx *ctx, const cJSON *obj)
{
	const char *first = api_json_str(obj, "first_name");
	const char *last = api_json_str(obj, "last_name");
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

int api_json_parse(const char *body, size_t len, cJSON **out)
{
	char *copy;

	*out = NULL;
	/* a terminated copy: cJSON must never read past what we were given */
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, body, len);
	copy[len] = '\0';
	*out = cJSON_ParseWithLength(copy, len);
	free(copy);
	return *out ? 0 : -EBADMSG;
}

bool api_looks_like_html(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return i < len && body[i] == '<';
}

int api_parse_object(const char *body, size_t len, cJSON **root,
		     struct api_error *err)
{
	int rc;

	*root = NULL;
	if (!body || !len)
		return api_parse_fail(err, "response is empty");
	if (len > API_MAX_BODY)
		return api_parse_fail(err, "response larger than 16 MiB");
	rc = api_json_parse(body, len, root);
	if (rc == -ENOMEM)
		return api_parse_oom(err);
	if (rc && api_looks_like_html(body, len)) {
		api_parse_fail(err, "response is HTML, not JSON");
		err->html = true;
		return -EIO;
	}
	if (rc)
		return api_parse_fail(err, "response is not JSON");
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return api_parse_fail(err, "response is not a JSON object");
	}
	return 0;
}

int api_parse_root(const char *body, size_t len, cJSON **root,
		   const cJSON **data, struct api_error *err)
{
	const cJSON *status;
	int rc = api_parse_object(body, len, root, err);

	if (rc)
		return rc;
	status = api_json_get(*root, "status");
	if (cJSON_IsString(status) && status->valuestring &&
	    strcasecmp(status->valuestring, "error") == 0) {
		rc = api_parse_error(body, len, 200, err);
		goto fail;
	}
	*data = api_json_get(*root, "data");
	if (!cJSON_IsObject(*data)) {
		rc = api_parse_fail(err, "response has no data object");
		goto fail;
	}
	return 0;
fail:
	cJSON_Delete(*root);
	*root = NULL;
	return rc;
}

int api_parse_count_objects(const cJSON *array, long *n)
{
	const cJSON *item;
	long seen = 0;

	*n = 0;
	cJSON_ArrayForEach(item, array)
	{
		if (++seen > API_MAX_ENTRIES)
			return -E2BIG;
		*n += cJSON_IsObject(item);
	}
	return 0;
}
