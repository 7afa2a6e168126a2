/*
 * api/internal.h - shared by the files of api/ only; never include it from
 * elsewhere (the module's contract is api.h).
 *
 * api.c builds requests and owns the client; http.c sends them.
 */
#ifndef LINKUPFS_API_INTERNAL_H
#define LINKUPFS_API_INTERNAL_H

#include "api.h"
#include "pace.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

/* Idle easy handles kept (each keeps its connection alive); FUSE runs about
 * ten worker threads, so more than this would only hold sockets open. */
#define API_POOL_MAX 32
/* Absurd retry counts are user error; keep the time to fail bounded. */
#define API_MAX_RETRIES 20
/* The largest rate_limit kept slot by slot (pace.h); more is no limit
 * anyone could reach. */
#define API_MAX_RATE 100000L

struct api {
	int version;		/* 1 or 2 */
	char *url_conversation; /* base_url + path, built once (v2: both
				   /v2/messages) */
	char *url_inbox;
	char *url_login;   /* v2: /v2/login */
	char *account_id;  /* v2; secret: zeroed on free */
	char *where;	   /* "host:port" for error lines (no userinfo) */
	char *api_key;	   /* secret: zeroed on free */
	char *login_token; /* secret: zeroed on free */
	char *country;	   /* NULL: not sent */
	long timeout_s;
	int max_retries;
	long credit_limit;
	bool (*interrupted)(void); /* see api_config */
	bool debug;		   /* see api_config */
	struct curl_slist
		*headers;  /* read-only, shared by all handles; holds the key */
	struct pace *pace; /* every try waits here for its turn */
	long rate_window_ms; /* the limiter's window; 0: no limit */

	pthread_mutex_t pool_lock; /* guards pool[] and n_pool */
	CURL *pool[API_POOL_MAX];
	size_t n_pool;

	/* cancel_lock guards nothing but the wait on cancel_cond, which
	 * api_cancel signals to cut backoff sleeps short; the flag is atomic
	 * so the transfer callbacks can read it without a lock. */
	pthread_mutex_t cancel_lock;
	pthread_cond_t cancel_cond;
	atomic_bool cancelled;

	_Atomic uint64_t requests, retries, credits, errors, connections;
	_Atomic uint64_t successes; /* calls that returned 0 */
	_Atomic uint64_t answers_429;
	_Atomic uint64_t rate_wait_max_ms; /* see api_stats */
};

/*
 * POST req (JSON text) to url, retrying 429, 5xx and transport failures with
 * backoff; refuses to send when cancelled or over the credit limit. On
 * success *body (NUL-terminated, *len bytes) is the caller's to free.
 * Blocks; err->retries says how many retries were made.
 */
int api_request(struct api *api, const char *url, const char *req, char **body,
		size_t *len, struct api_error *err);

/* The request trees of v2 (v2.c): {account_id, action, params}; NULL when
 * memory is short. Freed with api_request_free. */
cJSON *api_v2_conversation_request(struct api *api,
				   const struct api_conv_ref *ref,
				   int page_size, const char *cursor);
cJSON *api_v2_inbox_request(struct api *api, int page_size, const char *cursor);

/* Zero the secrets inside a request tree (login_token, account_id), then
 * free it. In api.c. */
void api_request_free(cJSON *req);

/* Send a request tree (consumed) and collect the answer's body. In api.c. */
int api_send_request(struct api *api, const char *url, cJSON *req, char **body,
		     size_t *len, struct api_error *err);

/* Remove the secrets from err->message, should the API echo one. */
void api_scrub_error(struct api *api, struct api_error *err);

/* Fill err (cleared first) with kind and a printf-formatted message. */
void api_set_error(struct api_error *err, enum api_err_kind kind,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
