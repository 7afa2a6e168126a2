/*
 * api/api.c - the LinkupAPI client: owns the configuration and secrets,
 * builds the two requests, accounts for credits and errors.
 *
 * Sending is in http.c, parsing in parse*.c and clean.c, error answers in
 * error.c.
 */
#include "internal.h"
#include "parse.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int api_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void api_global_cleanup(void)
{
	curl_global_cleanup();
}

void api_request_free(cJSON *req)
{
	static const char *const secrets[] = {"login_token", "account_id"};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
		cJSON *s = cJSON_GetObjectItemCaseSensitive(req, secrets[i]);

		if (cJSON_IsString(s) && s->valuestring)
			explicit_bzero(s->valuestring, strlen(s->valuestring));
	}
	cJSON_Delete(req);
}

int api_send_request(struct api *api, const char *url, cJSON *req, char **body,
		     size_t *len, struct api_error *err)
{
	char *text = req ? cJSON_PrintUnformatted(req) : NULL;
	int rc;

	api_request_free(req);
	if (!text) {
		api_set_error(err, API_ERR_PARSE,
			      "out of memory building the request");
		return -ENOMEM;
	}
	rc = api_request(api, url, text, body, len, err);
	explicit_bzero(text, strlen(text)); /* it holds a secret */
	cJSON_free(text);
	return rc;
}

static bool add_string(cJSON *obj, const char *key, const char *value)
{
	return !value || cJSON_AddStringToObject(obj, key, value);
}

static cJSON *conversation_request(struct api *api,
				   const struct api_conv_ref *ref,
				   int page_size, const char *cursor)
{
	cJSON *req = cJSON_CreateObject();
	bool ok = req && add_string(req, "linkedin_url", ref->linkedin_url) &&
		  add_string(req, "conversation_id", ref->conversation_id) &&
		  cJSON_AddNumberToObject(req, "total_results", page_size) &&
		  add_string(req, "cursor", cursor) &&
		  add_string(req, "country", api->country) &&
		  add_string(req, "login_token", api->login_token);

	if (!ok) {
		api_request_free(req);
		return NULL;
	}
	return req;
}

static cJSON *inbox_request(struct api *api, int page_size, const char *cursor)
{
	cJSON *req = cJSON_CreateObject();
	bool ok = req && add_string(req, "login_token", api->login_token) &&
		  cJSON_AddNumberToObject(req, "total_results", page_size) &&
		  add_string(req, "next_cursor", cursor) &&
		  add_string(req, "country", api->country);

	if (!ok) {
		api_request_free(req);
		return NULL;
	}
	return req;
}

/* Remove every occurrence of secret from msg, should the API echo it. */
static void scrub_secret(char *msg, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 4)
		return;
	while ((p = strstr(msg, secret))) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
	}
}

void api_scrub_error(struct api *api, struct api_error *err)
{
	scrub_secret(err->message, api->api_key);
	scrub_secret(err->message, api->login_token);
	scrub_secret(err->message, api->account_id);
}

/* Account for a finished call: the credits of its 2xx answer (answered:
 * one came; http.c charged the other answers), errors. v2: the answer's
 * own figure (consumed, -1 when it gave none). */
static int finish_call(struct api *api, int rc, bool answered, size_t n_results,
		       long consumed, int retries, struct api_error *err)
{
	if (!rc && api->version == 2 && consumed >= 0) {
		atomic_fetch_add(&api->credits, (uint64_t)consumed);
		memset(err, 0, sizeof(*err));
	} else if (!rc) {
		/* 1 credit per 10 results or fraction, at least 1 a request
		 * (v1's rule; v2's too, when its metadata says nothing) */
		atomic_fetch_add(&api->credits,
				 n_results ? (n_results + 9) / 10 : 1);
		atomic_fetch_add(&api->successes, 1);
		memset(err, 0, sizeof(*err));
	} else {
		/* an error in a 2xx answer ("status": "error", not JSON) is
		 * an answered call: v1 charges it. v2 errors cost nothing,
		 * an answer refused for its shape what its metadata says;
		 * what v2 charged for an answer we cannot read at all is
		 * unknown (its figure is in the unreadable part): counted 0 */
		if (answered && api->version != 2)
			atomic_fetch_add(&api->credits, 1);
		if (answered && api->version == 2 && consumed > 0)
			atomic_fetch_add(&api->credits, (uint64_t)consumed);
		atomic_fetch_add(&api->errors, 1);
		api_scrub_error(api, err);
	}
	err->retries = retries;
	return rc;
}

/* v2's get_conversation sends neither conversation_id nor profile_url
 * (SPEC section 7 lists neither): the page says what was asked, as v1's
 * does (v1 echoes profile_url only when asked by linkedin_url). */
static int fill_v2_ref(struct api_page **out, const struct api_conv_ref *ref,
		       struct api_error *err)
{
	struct api_page *page = *out;
	char *copy;

	if (!page->conversation_id[0] && ref->conversation_id) {
		copy = strdup(ref->conversation_id);
		if (!copy)
			goto oom;
		free(page->conversation_id);
		page->conversation_id = copy;
	}
	if (!page->profile_url && ref->linkedin_url) {
		page->profile_url = strdup(ref->linkedin_url);
		if (!page->profile_url)
			goto oom;
	}
	return 0;
oom:
	api_page_free(page);
	*out = NULL;
	api_set_error(err, API_ERR_PARSE, "out of memory parsing the response");
	return -ENOMEM;
}

static int invalid_call(struct api *api, struct api_error *err)
{
	if (api)
		atomic_fetch_add(&api->errors, 1);
	api_set_error(err, API_ERR_PARSE, "invalid request (bad arguments)");
	return -EINVAL;
}

int api_get_conversation(struct api *api, const struct api_conv_ref *ref,
			 int page_size, const char *cursor,
			 struct api_page **out, struct api_error *err)
{
	struct api_error local;
	char *body = NULL;
	size_t len = 0, n = 0;
	long consumed = -1;
	int rc, retries;
	bool answered, v2;

	if (!err)
		err = &local;
	if (out)
		*out = NULL;
	if (!api || !ref || !out || page_size <= 0 ||
	    !ref->conversation_id == !ref->linkedin_url ||
	    (api->version == 2 && !api->account_id))
		return invalid_call(api, err);
	v2 = api->version == 2;
	rc = api_send_request(
		api, api->url_conversation,
		v2 ? api_v2_conversation_request(api, ref, page_size, cursor)
		   : conversation_request(api, ref, page_size, cursor),
		&body, &len, err);
	retries = err->retries;
	answered = !rc;
	if (!rc)
		rc = api_parse_conversation_as(body, len, out, err,
					       v2 ? API_V2 : API_V1, &consumed);
	if (!rc)
		n = (*out)->n_messages;
	if (!rc && v2)
		rc = fill_v2_ref(out, ref, err);
	free(body);
	return finish_call(api, rc, answered, n, consumed, retries, err);
}

int api_get_inbox(struct api *api, int page_size, const char *cursor,
		  struct api_inbox_page **out, struct api_error *err)
{
	struct api_error local;
	char *body = NULL;
	size_t len = 0, n = 0;
	long consumed = -1;
	int rc, retries;
	bool answered, v2;

	if (!err)
		err = &local;
	if (out)
		*out = NULL;
	if (!api || !out || page_size <= 0 ||
	    (api->version == 2 && !api->account_id))
		return invalid_call(api, err);
	v2 = api->version == 2;
	rc = api_send_request(api, api->url_inbox,
			      v2 ? api_v2_inbox_request(api, page_size, cursor)
				 : inbox_request(api, page_size, cursor),
			      &body, &len, err);
	retries = err->retries;
	answered = !rc;
	if (!rc)
		rc = api_parse_inbox_as(body, len, out, err,
					v2 ? API_V2 : API_V1, &consumed);
	if (!rc)
		n = (*out)->n_entries;
	free(body);
	return finish_call(api, rc, answered, n, consumed, retries, err);
}

void api_cancel(struct api *api)
{
	if (!api)
		return;
	atomic_store(&api->cancelled, true);
	pthread_mutex_lock(&api->cancel_lock);
	pthread_cond_broadcast(&api->cancel_cond);
	pthread_mutex_unlock(&api->cancel_lock);
	pace_wake(api->pace);
}

void api_get_stats(struct api *api, struct api_stats *out)
{
	struct pace_stats ps;

	out->requests = atomic_load(&api->requests);
	out->retries = atomic_load(&api->retries);
	out->credits = atomic_load(&api->credits);
	out->version = api->version;
	out->errors = atomic_load(&api->errors);
	out->successes = atomic_load(&api->successes);
	out->connections = atomic_load(&api->connections);
	out->answers_429 = atomic_load(&api->answers_429);
	pace_get_stats(api->pace, &ps);
	out->rate_limit = ps.limit;
	out->rate_seconds = ps.seconds;
	out->requests_waiting = ps.waiting;
	out->rate_wait_ms = ps.wait_ms;
	out->rate_wait_max_ms = atomic_load(&api->rate_wait_max_ms);
}

/* base (any trailing '/' dropped) + path. */
static char *join_url(const char *base, const char *path)
{
	size_t n = strlen(base);
	char *url;

	while (n && base[n - 1] == '/')
		n--;
	if (n > 4096 || asprintf(&url, "%.*s%s", (int)n, base, path) < 0)
		return NULL;
	return url;
}

/* "host:port" of a URL, for error lines: never its user:password part. */
static char *url_where(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *where = NULL;
	bool ok = u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
		  !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
		  !curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);

	if (ok && asprintf(&where, "%s:%s", host, port) < 0)
		where = NULL;
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return where ? where : strdup("the API server");
}

/* The list holds the key: zero it before freeing. */
static void headers_free(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

static bool slist_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *grown = curl_slist_append(*list, line);

	if (grown)
		*list = grown;
	return grown != NULL;
}

static struct curl_slist *make_headers(const char *key)
{
	struct curl_slist *list = NULL;
	char *line;
	bool ok;

	if (asprintf(&line, "x-api-key: %s", key) < 0)
		return NULL;
	ok = slist_add(&list, line) &&
	     slist_add(&list, "Content-Type: application/json") &&
	     slist_add(&list, "Accept: application/json") &&
	     slist_add(&list, "Expect:"); /* no 100-continue round trip */
	explicit_bzero(line, strlen(line));
	free(line);
	if (!ok) {
		headers_free(list);
		return NULL;
	}
	return list;
}

/* Locks and condition first: api_free must be able to destroy them. */
static struct api *api_alloc(void)
{
	struct api *api = calloc(1, sizeof(*api));
	pthread_condattr_t attr;

	if (!api)
		return NULL;
	if (pthread_condattr_init(&attr))
		goto fail;
	/* backoff deadlines are on the monotonic clock */
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&api->cancel_cond, &attr)) {
		pthread_condattr_destroy(&attr);
		goto fail;
	}
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&api->pool_lock, NULL);
	pthread_mutex_init(&api->cancel_lock, NULL);
	atomic_init(&api->cancelled, false);
	return api;
fail:
	free(api);
	return NULL;
}

struct api *api_new(const struct api_config *cfg)
{
	struct api *api;

	int version = cfg && cfg->version == 2 ? 2 : 1;

	if (!cfg || !cfg->base_url || !cfg->api_key ||
	    (cfg->version != 0 && cfg->version != 1 && cfg->version != 2))
		return NULL;
	/* v1 needs the token; v2 the account id, or the token to import */
	if (version == 1 ? !cfg->login_token
			 : !cfg->account_id && !cfg->login_token)
		return NULL;
	api = api_alloc();
	if (!api)
		return NULL;
	api->version = version;
	if (version == 2) {
		api->url_conversation = join_url(cfg->base_url, "/v2/messages");
		api->url_inbox = join_url(cfg->base_url, "/v2/messages");
	} else {
		api->url_conversation =
			join_url(cfg->base_url, "/v1/messages/conversation");
		api->url_inbox = join_url(cfg->base_url, "/v1/messages/inbox");
	}
	api->url_login = join_url(cfg->base_url, "/v2/login");
	api->where = url_where(cfg->base_url);
	api->debug = cfg->debug;
	api->api_key = strdup(cfg->api_key);
	api->login_token = cfg->login_token ? strdup(cfg->login_token) : NULL;
	api->account_id = cfg->account_id ? strdup(cfg->account_id) : NULL;
	api->country = cfg->country ? strdup(cfg->country) : NULL;
	api->headers = make_headers(cfg->api_key);
	api->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 30;
	api->max_retries = cfg->max_retries < 0 ? 0
			   : cfg->max_retries > API_MAX_RETRIES
				   ? API_MAX_RETRIES
				   : cfg->max_retries;
	api->credit_limit = cfg->credit_limit > 0 ? cfg->credit_limit : 0;
	api->interrupted = cfg->interrupted;
	if (cfg->rate_limit > 0 && cfg->rate_seconds > 0) {
		api->rate_window_ms = cfg->rate_seconds * 1000 + PACE_MARGIN_MS;
		api->pace = pace_new(cfg->rate_limit > API_MAX_RATE
					     ? API_MAX_RATE
					     : cfg->rate_limit,
				     cfg->rate_seconds);
	} else {
		api->pace = pace_new(0, 0);
	}
	if (!api->pace || !api->url_conversation || !api->url_inbox ||
	    !api->url_login || !api->where || !api->api_key ||
	    (cfg->login_token && !api->login_token) ||
	    (cfg->account_id && !api->account_id) || !api->headers ||
	    (cfg->country && !api->country)) {
		api_free(api);
		return NULL;
	}
	return api;
}

static void secret_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void api_free(struct api *api)
{
	size_t i;

	if (!api)
		return;
	for (i = 0; i < api->n_pool; i++)
		curl_easy_cleanup(api->pool[i]);
	headers_free(api->headers);
	pace_free(api->pace);
	secret_free(api->api_key);
	secret_free(api->login_token);
	secret_free(api->account_id);
	free(api->url_login);
	free(api->country);
	free(api->url_conversation);
	free(api->url_inbox);
	free(api->where);
	pthread_mutex_destroy(&api->pool_lock);
	pthread_mutex_destroy(&api->cancel_lock);
	pthread_cond_destroy(&api->cancel_cond);
	free(api);
}
