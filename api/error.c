/*
 * api/error.c - what a failed LinkupAPI answer means, in one log line.
 *
 * Maps an HTTP status and an error body ({"status":"error","message":...},
 * an HTML error page, nothing at all) to a struct api_error, and an error
 * kind to an errno. The text quoted from the server is reduced to printable
 * ASCII so that a hostile answer cannot forge log lines.
 */
#include "parse.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Longest piece of API text quoted in an error line. */
#define API_MAX_ERRTEXT 160
/* How deep an error text is looked for inside nested objects. */
#define API_ERRTEXT_DEPTH 3

int api_error_errno(const struct api_error *err)
{
	switch (err ? err->kind : API_ERR_TRANSPORT) {
	case API_OK:
		return 0;
	case API_ERR_TIMEOUT:
		return -ETIMEDOUT;
	case API_ERR_AUTH:
		return -EACCES;
	case API_ERR_BUDGET:
		return -EDQUOT;
	case API_ERR_CANCELLED:
		return -EINTR;
	case API_ERR_NOT_FOUND:
		return -ENOENT;
	default:
		return -EIO;
	}
}

void api_error_clear(struct api_error *err)
{
	memset(err, 0, sizeof(*err));
}

/* Copy src into dst as one printable-ASCII line: control characters become
 * spaces, each run of non-ASCII bytes one '?', long texts end in "...". */
static void sanitise_text(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;
	bool space = true; /* drops leading and repeated spaces */

	for (; *s && o + 1 < size; s++) {
		char c = (char)*s;

		if (*s >= 0x80) {
			if (o && dst[o - 1] == '?' && s[-1] >= 0x80)
				continue;
			c = '?';
		} else if (*s < 0x20 || *s == 0x7f) {
			c = ' ';
		}
		if (c == ' ' && space)
			continue;
		space = c == ' ';
		dst[o++] = c;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	if (*s) { /* cut short: say so */
		if (o > size - 4)
			o = size - 4;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* Words for an HTTP status, when the body says nothing useful. */
static const char *status_words(long status)
{
	switch (status) {
	case 400:
		return "bad request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not found";
	case 429:
		return "rate limited";
	case 500:
		return "internal server error";
	case 502:
		return "bad gateway";
	case 503:
		return "service unavailable";
	case 504:
		return "gateway timeout";
	}
	if (status >= 300 && status < 400)
		return "redirect, not followed";
	if (status < 300)
		return "no details given";
	return status >= 500 ? "server error" : "error";
}

/* The human text of an error answer: "message", "error", "data"... as a
 * string, or inside an object or array one or two levels down. */
static const char *error_text(const cJSON *item, int depth)
{
	static const char *const keys[] = {"message", "error", "data",
					   "detail",  "msg",   "reason"};
	const char *text = NULL;
	size_t i;

	if (!item || depth > API_ERRTEXT_DEPTH)
		return NULL;
	if (cJSON_IsString(item) && item->valuestring && item->valuestring[0])
		return item->valuestring;
	if (cJSON_IsArray(item))
		return error_text(item->child, depth + 1);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && !text; i++)
		text = error_text(api_json_get(item, keys[i]), depth + 1);
	return text;
}

/* Does an error text say a credential was refused? (v1 answers some auth
 * failures with HTTP 200 and status "error".) */
static bool says_auth(const char *t)
{
	bool bad = strcasestr(t, "invalid") || strcasestr(t, "expired") ||
		   strcasestr(t, "revoked") || strcasestr(t, "missing");
	bool cred = strcasestr(t, "token") || strcasestr(t, "key") ||
		    strcasestr(t, "session") || strcasestr(t, "cookie") ||
		    strcasestr(t, "credential");

	return (bad && cred) || strcasestr(t, "unauthori") ||
	       strcasestr(t, "not authenticated");
}

/* Which setting the user should look at for a refused credential. */
static const char *auth_hint(long status, const char *t, bool api_text)
{
	if (strcasestr(t, "credit"))
		return "; check the credits of the LinkupAPI account";
	if (strcasestr(t, "api key") || strcasestr(t, "api_key") ||
	    strcasestr(t, "api-key"))
		return "; check LINKUP_API_KEY";
	if (strcasestr(t, "session") || strcasestr(t, "token") ||
	    strcasestr(t, "cookie") || strcasestr(t, "linkedin") ||
	    (status == 403 && !api_text))
		return "; check LINKUP_LOGIN_TOKEN";
	return "; check LINKUP_API_KEY";
}

static int fill_error(struct api_error *err, long status, const char *api_text)
{
	char text[API_MAX_ERRTEXT];
	const char *hint = "";
	bool http_error = status < 200 || status >= 300;
	bool auth;

	api_error_clear(err);
	err->http_status = status;
	sanitise_text(text, sizeof(text),
		      api_text ? api_text : status_words(status));
	auth = status == 401 || status == 403 ||
	       (!http_error && says_auth(text));
	err->kind = auth ? API_ERR_AUTH : API_ERR_HTTP;
	if (!auth && (status == 404 || strcasestr(text, "not found")))
		err->kind = API_ERR_NOT_FOUND;
	if (auth)
		hint = auth_hint(status, text, api_text != NULL);
	if (status == 0 || !http_error)
		snprintf(err->message, sizeof(err->message),
			 "API reported an error (%s)%s", text, hint);
	else
		snprintf(err->message, sizeof(err->message),
			 "API answered %ld (%s)%s", status, text, hint);
	return api_error_errno(err);
}

/* body (not NUL-terminated) parsed; NULL when it is not JSON (or when
 * memory is short: the error line then quotes the status words only). */
static cJSON *error_json(const char *body, size_t len)
{
	cJSON *json = NULL;

	if (body && len && len <= API_MAX_BODY)
		api_json_parse(body, len, &json);
	return json;
}

int api_parse_error(const char *body, size_t len, long http_status,
		    struct api_error *err)
{
	struct api_error local;
	cJSON *json = error_json(body, len);
	int rc;

	if (!err)
		err = &local;
	rc = fill_error(err, http_status, error_text(json, 0));
	err->html = api_looks_like_html(body, len);
	cJSON_Delete(json);
	return rc;
}

/* ---- v2 (SPEC section 7): error{code, message} in the envelope -------- */

/* What a v2 error code means for the user; NULL hint: none to give. */
static const struct {
	const char *code;
	enum api_err_kind kind;
	const char *hint;
} v2_codes[] = {
	{"INVALID_API_KEY", API_ERR_AUTH, "; check LINKUP_API_KEY"},
	{"ACCOUNT_INACTIVE", API_ERR_AUTH,
	 "; the account is suspended or inactive: check LINKUP_ACCOUNT_ID"},
	{"INVALID_ACCOUNT", API_ERR_AUTH,
	 "; unknown account: check LINKUP_ACCOUNT_ID (linkupfs "
	 "--import-token)"},
	{"INSUFFICIENT_CREDITS", API_ERR_BUDGET,
	 "; top up the LinkupAPI account's credits"},
	{"RATE_LIMITED", API_ERR_HTTP, NULL},
	{"INTERNAL_ERROR", API_ERR_HTTP, NULL},
	{"INVALID_PARAMS", API_ERR_HTTP, NULL},
	{"INVALID_ACTION", API_ERR_HTTP, NULL},
};

static int fill_error_v2(struct api_error *err, long status, const char *code,
			 const char *api_text)
{
	char text[API_MAX_ERRTEXT - 40], word[32];
	const char *hint = "";
	size_t i;

	api_error_clear(err);
	err->http_status = status;
	sanitise_text(word, sizeof(word), code);
	sanitise_text(text, sizeof(text),
		      api_text ? api_text : status_words(status));
	err->kind = API_ERR_HTTP;
	for (i = 0; i < sizeof(v2_codes) / sizeof(v2_codes[0]); i++)
		if (strcmp(code, v2_codes[i].code) == 0) {
			err->kind = v2_codes[i].kind;
			hint = v2_codes[i].hint ? v2_codes[i].hint : "";
			break;
		}
	if (i == sizeof(v2_codes) / sizeof(v2_codes[0])) {
		/* a code the docs do not list: go by the status */
		if (status == 401 || status == 403) {
			err->kind = API_ERR_AUTH;
			hint = "; check LINKUP_API_KEY and LINKUP_ACCOUNT_ID";
		} else if (status == 402) {
			err->kind = API_ERR_BUDGET;
			hint = "; top up the LinkupAPI account's credits";
		}
	}
	/* The v2 docs name no code for a conversation that does not exist;
	 * an INVALID_PARAMS (or unknown code) whose message says "not found"
	 * is taken for one (ENOENT, as v1's "Conversation not found"). */
	if (err->kind == API_ERR_HTTP && strcasestr(text, "not found"))
		err->kind = API_ERR_NOT_FOUND;
	if (status >= 200 && status < 300)
		snprintf(err->message, sizeof(err->message),
			 "API reported an error (%s: %s)%s", word, text, hint);
	else
		snprintf(err->message, sizeof(err->message),
			 "API answered %ld (%s: %s)%s", status, word, text,
			 hint);
	return api_error_errno(err);
}

int api_parse_error_v2(const char *body, size_t len, long http_status,
		       struct api_error *err)
{
	struct api_error local;
	cJSON *json = error_json(body, len);
	const cJSON *e = api_json_get(json, "error");
	const char *code = api_json_str(e, "code");
	int rc;

	if (!err)
		err = &local;
	if (code)
		rc = fill_error_v2(err, http_status, code,
				   api_json_str(e, "message"));
	else /* not a v2 envelope (a proxy's page, nothing): as v1 */
		rc = fill_error(err, http_status, error_text(json, 0));
	err->html = api_looks_like_html(body, len);
	cJSON_Delete(json);
	return rc;
}
