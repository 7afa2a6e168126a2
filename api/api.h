/*
 * api/api.h - LinkupAPI client (v1 or v2): HTTP (libcurl) and JSON (cJSON)
 * to C structs.
 *
 * Knows nothing of FUSE or of the cache. v1 (SPEC section 6): two endpoints,
 * /v1/messages/conversation and /v1/messages/inbox; v2 (SPEC section 7): one,
 * /v2/messages, with the actions get_conversation and list_inbox, and
 * /v2/login (api_import_token). All POST with a JSON body and the header
 * "x-api-key"; api_config.version says which API a client speaks, and the
 * structs it returns are the same either way. All go through one request
 * function
 * (keep-alive connection reuse, timeouts, bounded retries of 429 and 5xx with
 * backoff honouring Retry-After, a cap on the body size, cancellation).
 *
 * Pacing: every HTTP try of every thread waits for its turn in one limiter
 * (api/pace.h: at most rate_limit tries in any rate_seconds, first come first
 * served, retries at the head of the line). That wait counts neither in the
 * timeout nor in the 2 x timeout bound of a call's retries. A 429 with no
 * Retry-After (the API's way) marks the window full: turns come again as
 * our earlier requests slide out of it, and the call retries in its turn
 * for up to one window after its first 429, then fails (-EIO). A 429 with
 * Retry-After is retried as a 5xx is. With no limit (rate_limit 0), a 429
 * is retried as a 5xx is.
 *
 * Credits are counted as v1 charges them: a success 1 per 10 results or
 * fraction (at least 1); any other answer below 500 (an error answered with
 * 200, 400, 401, 403, 404, 429...) 1; a 5xx, or no complete answer, none.
 * v2 says what each call cost: the sum of metadata.credits_consumed of the
 * answers read (errors cost nothing in v2; a success whose metadata holds
 * no figure is counted as v1 would; an answer refused for its shape counts
 * what its metadata says; one that cannot be read at all, whose figure is
 * therefore unknown, counts 0).
 *
 * v2 errors (error.code) map to kinds: INVALID_API_KEY, ACCOUNT_INACTIVE and
 * INVALID_ACCOUNT to API_ERR_AUTH (naming the key or the account_id),
 * INSUFFICIENT_CREDITS to API_ERR_BUDGET ("top up"), RATE_LIMITED (429) is
 * paced and retried as a v1 429, INTERNAL_ERROR (500) retried as a 5xx,
 * INVALID_PARAMS and INVALID_ACTION to API_ERR_HTTP with the API's message.
 *
 * Thread safety: one struct api is shared by all threads. Each call borrows a
 * libcurl easy handle from an internal pool (so connections are reused and no
 * handle is used by two threads at once). Counters are updated atomically.
 *
 * Errors: functions return 0 or a negative errno; on failure the caller's
 * struct api_error says what failed, in words fit for one log line. The
 * error never contains the API key, the login token or the account id.
 */
#ifndef LINKUPFS_API_H
#define LINKUPFS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest response body accepted; a larger one fails with API_ERR_PARSE. */
#define API_MAX_BODY (16u * 1024 * 1024)

enum api_err_kind {
	API_OK = 0,
	API_ERR_TRANSPORT, /* connect refused, DNS, reset, TLS: -EIO */
	API_ERR_TIMEOUT,   /* request or low-speed timeout: -ETIMEDOUT */
	API_ERR_HTTP,	   /* HTTP status >= 400 or status:"error": -EIO */
	API_ERR_AUTH,	   /* 401/403: key refused or token expired: -EACCES */
	API_ERR_PARSE,	   /* body not JSON, wrong shape, too large: -EIO */
	API_ERR_CHAIN,	/* cursor chain broken (did not move, missing): -EIO */
	API_ERR_BUDGET, /* credit_limit reached, request not sent: -EDQUOT */
	API_ERR_CANCELLED, /* api_cancel() was called: -EINTR */
	API_ERR_NOT_FOUND, /* 404, or the API says the conversation or
			      profile does not exist: -ENOENT */
};

struct api_error {
	enum api_err_kind kind;
	long http_status;  /* 0 when no HTTP answer was received */
	int retries;	   /* retries made for this call */
	bool html;	   /* the body was an HTML page where JSON was due (a
			      proxy's or a captive portal's, not the API's) */
	char message[256]; /* e.g. "API answered 401 (Invalid API key)" */
};

/* The negative errno that matches err->kind (see enum above). */
int api_error_errno(const struct api_error *err);

struct api_config {
	const char *base_url; /* e.g. "https://api.linkupapi.com", no trailing /
				 needed */
	const char *api_key;  /* copied; zeroed on api_free */
	const char *login_token; /* copied; zeroed on api_free; v1: required,
				    v2: only for api_import_token */
	int version;		 /* 1 (also for 0) or 2 */
	const char *account_id;	 /* v2: copied; zeroed on api_free */
	const char *country;	 /* NULL: API default, not sent */
	long timeout_s;		 /* whole request, connection included; > 0 */
	int max_retries;	 /* retries of 429/5xx/transport, e.g. 4 */
	long credit_limit; /* 0: none; else refuse requests once spent >= limit
			    */
	/* NULL, or asked (in the calling thread) during a transfer and its
	 * backoff: true makes the call fail with API_ERR_CANCELLED at once.
	 * linkupfs passes "the kernel interrupted this request" (Ctrl-C). */
	bool (*interrupted)(void);
	/* At most rate_limit requests in any rate_seconds; 0: no limit. */
	long rate_limit;
	long rate_seconds;
	/* Log each HTTP try on stderr (-d): method, endpoint path, HTTP
	 * status, duration; never the key or the token. */
	bool debug;
};

struct api_stats {
	uint64_t requests; /* HTTP requests sent, retries included */
	uint64_t retries;
	uint64_t credits;     /* as the API charges them (see the top) */
	int version;	      /* the API spoken: 1 or 2 */
	uint64_t errors;      /* calls that returned an error */
	uint64_t successes;   /* calls that returned 0 (an answer came) */
	uint64_t connections; /* new TCP connections opened */
	long rate_limit, rate_seconds; /* as configured; 0, 0: no limit */
	uint64_t requests_waiting;     /* waiting for their turn now */
	uint64_t rate_wait_ms;	       /* total time spent waiting for turns */
	uint64_t rate_wait_max_ms;     /* the longest one call waited for its
					  turns (its retries' included) */
	uint64_t answers_429;	       /* HTTP 429 answers received */
};

struct api_message {
	char *text; /* never NULL ("" when absent); NUL-terminated, but
		       may hold NUL bytes ("\u0000"): text_len counts
		       them; the bytes as sent (invalid UTF-8 kept) */
	size_t text_len;
	int64_t timestamp_ms;
	char *sender; /* "sender", else "first last" of sender_info; never NULL
		       */
	char *message_type; /* e.g. "TEXT", "SYSTEM"; never NULL ("TEXT" when
			       absent) */
	char *entity_urn;   /* never NULL ("" when absent) */
	char *json;	    /* never NULL: the message object as one line of
			       compact, valid JSON in valid UTF-8 (no newline,
			       raw or trailing; the text whole, NULs as \u0000;
			       DEL, C1 and bidi controls as \u escapes) */
	size_t json_len;    /* strlen(json) */
};

/* One page of a conversation (v1 /v1/messages/conversation, v2
 * get_conversation). */
struct api_page {
	char *conversation_id; /* never NULL; v2 sends none (undocumented
				  there): the one asked for, else "" */
	char *profile_url;     /* NULL when the API sent none; v2: the one
				  asked for, when asked by profile URL */
	long total_other_member_message_count; /* -1 when absent (v2 never
						  sends it) */
	long total_message_count;     /* v2's count of all messages; -1 absent
					 (v1 never sends it) */
	long credits_consumed;	      /* v2's metadata.credits_consumed; -1 when
					 absent, and always under v1 */
	long unread_count;	      /* -1 when absent */
	char *last_seen_message;      /* the value sent (SPEC's example: true;
					 a string, a number, null) as JSON
					 text; NULL when absent */
	int64_t last_seen_at;	      /* 0 when absent */
	struct api_message *messages; /* newest first, as the API sends them */
	size_t n_messages;
	bool has_next_page;   /* v2 has none: true exactly when a next_cursor
				 came (the chain's end is a missing cursor) */
	char *next_cursor;    /* NULL when none */
	char *data_json;      /* valid JSON text whatever was sent, ending in
				 "\n": the "data" object re-serialised, or,
				 when data_json_whole, the answer's own bytes
				 (already valid: no need to print them anew);
				 either way DEL, C1 and bidi controls appear
				 as \u escapes, never raw */
	bool data_json_whole; /* data_json is the whole answer: v1's
				 {"status":..., "data": {...}}, v2's
				 {"success":..., "data":..., "metadata":...} */
};

struct api_inbox_entry {
	char *conversation_id; /* never NULL (entries without one are dropped)
				*/
	char *name;	       /* participant name, NULL when absent */
	char *headline;	       /* NULL when absent */
	char *profile_url;     /* NULL when absent */
	char *last_text;       /* NULL when absent */
	char *last_sender;     /* NULL when absent; v2 may send an object
				  (name, is_me): its name */
	int64_t last_time_ms;  /* 0 when absent; accepts a number or a string */
	long unread;	       /* 0 when absent (true counts as 1) */
};

struct api_inbox_page {
	struct api_inbox_entry *entries;
	size_t n_entries;
	char *next_cursor;     /* NULL or "" means the list ends */
	long credits_consumed; /* as in struct api_page */
};

/* Which conversation: exactly one of the two is non-NULL. Borrowed. */
struct api_conv_ref {
	const char *conversation_id;
	const char *linkedin_url;
};

/* Call once at start-up, before any thread (curl_global_init). */
int api_global_init(void);
void api_global_cleanup(void);

/* A new client; copies everything in cfg. NULL on allocation failure. */
struct api *api_new(const struct api_config *cfg);
/* Frees the client, zeroing the stored secrets. api_free(NULL) is a no-op. */
void api_free(struct api *api);

/*
 * Fetch one conversation page: total_results = page_size, cursor NULL for the
 * newest page. Blocks for the network (bounded by timeout_s times tries plus
 * backoff). On success *out is the caller's, freed with api_page_free.
 */
int api_get_conversation(struct api *api, const struct api_conv_ref *ref,
			 int page_size, const char *cursor,
			 struct api_page **out, struct api_error *err);

/* Fetch one inbox page (cursor NULL for the first). *out freed with
 * api_inbox_page_free. */
int api_get_inbox(struct api *api, int page_size, const char *cursor,
		  struct api_inbox_page **out, struct api_error *err);

/*
 * v2 only: turn the client's login_token (a v1 one) into a persistent
 * account id with POST /v2/login ({"platform":"linkedin", "login_token",
 * "country"}; free, and the same id again for a token already migrated).
 * On success *account_id is the caller's, to zero and free. Blocks.
 */
int api_import_token(struct api *api, char **account_id, struct api_error *err);

/* Make every request in flight or waiting for its turn, and every later
 * one, fail promptly with API_ERR_CANCELLED. Safe from any thread (not from
 * a signal handler). */
void api_cancel(struct api *api);

/* A snapshot of the counters. */
void api_get_stats(struct api *api, struct api_stats *out);

/* Parsers of network input, pure (no I/O): used by the calls above, the unit
 * tests and the fuzzers. body need not be NUL-terminated. */
int api_parse_conversation(const char *body, size_t len, struct api_page **out,
			   struct api_error *err);
int api_parse_inbox(const char *body, size_t len, struct api_inbox_page **out,
		    struct api_error *err);
/* Fill err from an error answer (HTTP status, body with "message", "error"
 * or "data" text); always returns a negative errno. */
int api_parse_error(const char *body, size_t len, long http_status,
		    struct api_error *err);

/* The same for v2 answers (the envelope of SPEC section 7). An error
 * envelope fills err as api_parse_error_v2 does. */
int api_parse_conversation_v2(const char *body, size_t len,
			      struct api_page **out, struct api_error *err);
int api_parse_inbox_v2(const char *body, size_t len,
		       struct api_inbox_page **out, struct api_error *err);
/* v2: fill err from an error envelope (error.code, error.message), else
 * as api_parse_error does; always returns a negative errno. */
int api_parse_error_v2(const char *body, size_t len, long http_status,
		       struct api_error *err);
/* v2: the account_id of a /v2/login answer (malloc'd into *out). */
int api_parse_login_v2(const char *body, size_t len, char **out,
		       struct api_error *err);

void api_page_free(struct api_page *page);
void api_inbox_page_free(struct api_inbox_page *page);

#endif
