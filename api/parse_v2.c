/*
 * api/parse_v2.c - the envelope of LinkupAPI v2 answers (SPEC section 7):
 * {"success", "data" | "error": {"code", "message"}, "metadata":
 * {"action", "account_id", "credits_consumed", "timestamp"}}, and the
 * answer of /v2/login.
 *
 * Reads untrusted network input. Pure functions: no I/O, no locks, no
 * global state.
 */
#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether the envelope says the call failed: success false (or not true),
 * or an error object. The docs always send "success"; an answer without it
 * but with a data object is read as a success (the docs are silent). */
static bool envelope_failed(const cJSON *root)
{
	const cJSON *ok = api_json_get(root, "success");

	if (cJSON_IsObject(api_json_get(root, "error")))
		return true;
	if (!ok)
		return false;
	return !cJSON_IsTrue(ok);
}

int api_parse_root_v2(const char *body, size_t len, cJSON **root,
		      const cJSON **data, long *credits, struct api_error *err)
{
	const cJSON *meta;
	int rc;

	*credits = -1;
	rc = api_parse_object(body, len, root, err);
	if (rc)
		return rc;
	if (envelope_failed(*root)) {
		rc = api_parse_error_v2(body, len, 200, err);
		goto fail;
	}
	meta = api_json_get(*root, "metadata");
	*credits = api_json_count(api_json_get(meta, "credits_consumed"), -1);
	if (cJSON_IsBool(api_json_get(meta, "credits_consumed")))
		*credits = -1; /* a flag is no figure */
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

/* SPEC section 7 does not show the /v2/login answer: we read it as every
 * v2 answer, the id in data.account_id, else metadata.account_id (which
 * every envelope carries). */
int api_parse_login_v2(const char *body, size_t len, char **out,
		       struct api_error *err)
{
	struct api_parse_ctx ctx = {0};
	struct api_error local;
	const cJSON *data;
	cJSON *root;
	long credits;
	int rc;

	if (!err)
		err = &local;
	api_error_clear(err);
	*out = NULL;
	rc = api_parse_root_v2(body, len, &root, &data, &credits, err);
	if (rc)
		return rc;
	*out = api_json_token_dup(&ctx, api_json_get(data, "account_id"));
	if (!*out && !ctx.oom)
		*out = api_json_token_dup(
			&ctx, api_json_get(api_json_get(root, "metadata"),
					   "account_id"));
	cJSON_Delete(root);
	if (ctx.oom)
		return api_parse_oom(err);
	if (!*out)
		return api_parse_fail(err, "response has no data.account_id");
	return 0;
}
