/*
 * api/v2.c - what LinkupAPI v2 asks of a request (SPEC section 7): the
 * body {"account_id", "action", "params"} of /v2/messages, and /v2/login,
 * which turns a v1 login token into an account id.
 *
 * Sending is the same as v1's (http.c: pacing, retries, timeouts); the
 * answers are read by parse_v2.c and the parsers of each call.
 */
#include "internal.h"
#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool add_string(cJSON *obj, const char *key, const char *value)
{
	return !value || cJSON_AddStringToObject(obj, key, value);
}

/* {account_id, action, params}; params is returned borrowed in *params. */
static cJSON *envelope(struct api *api, const char *action, cJSON **params)
{
	cJSON *req = cJSON_CreateObject();
	bool ok = req && add_string(req, "account_id", api->account_id) &&
		  add_string(req, "action", action) &&
		  (*params = cJSON_AddObjectToObject(req, "params"));

	if (!ok) {
		api_request_free(req);
		return NULL;
	}
	return req;
}

/* The v2 docs name no "country" for /v2/messages (only /v2/login takes
 * one): it is not sent there. */
cJSON *api_v2_conversation_request(struct api *api,
				   const struct api_conv_ref *ref,
				   int page_size, const char *cursor)
{
	cJSON *params = NULL;
	cJSON *req = envelope(api, "get_conversation", &params);
	bool ok = req &&
		  add_string(params, "conversation_id", ref->conversation_id) &&
		  add_string(params, "profile_url", ref->linkedin_url) &&
		  cJSON_AddNumberToObject(params, "count", page_size) &&
		  add_string(params, "cursor", cursor);

	if (req && !ok) {
		api_request_free(req);
		return NULL;
	}
	return req;
}

cJSON *api_v2_inbox_request(struct api *api, int page_size, const char *cursor)
{
	cJSON *params = NULL;
	cJSON *req = envelope(api, "list_inbox", &params);
	bool ok = req && cJSON_AddNumberToObject(params, "count", page_size) &&
		  add_string(params, "cursor", cursor);

	if (req && !ok) {
		api_request_free(req);
		return NULL;
	}
	return req;
}

static cJSON *login_request(struct api *api)
{
	cJSON *req = cJSON_CreateObject();
	bool ok = req && add_string(req, "platform", "linkedin") &&
		  add_string(req, "login_token", api->login_token) &&
		  add_string(req, "country", api->country);

	if (!ok) {
		api_request_free(req);
		return NULL;
	}
	return req;
}

int api_import_token(struct api *api, char **account_id, struct api_error *err)
{
	struct api_error local;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (!err)
		err = &local;
	if (account_id)
		*account_id = NULL;
	if (!api || !account_id || api->version != 2 || !api->login_token) {
		api_set_error(err, API_ERR_PARSE,
			      "invalid request (bad arguments)");
		return -EINVAL;
	}
	rc = api_send_request(api, api->url_login, login_request(api), &body,
			      &len, err);
	if (!rc)
		rc = api_parse_login_v2(body, len, account_id, err);
	if (body)
		explicit_bzero(body, len); /* it holds the account id */
	free(body);
	if (rc)
		api_scrub_error(api, err);
	return rc;
}
