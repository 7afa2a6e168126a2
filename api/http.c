/*
 * api/http.c - one POST over libcurl: a pool of easy handles (so keep-alive
 * connections are reused and no handle is shared by two threads), timeouts,
 * a cap on the body, bounded retries with backoff, and cancellation.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef LINKUPFS_VERSION
#define LINKUPFS_VERSION "dev"
#endif

/* Backoff between tries: 250 ms, doubling, at most 8 s. */
#define API_BACKOFF_FIRST_MS 250L
#define API_BACKOFF_MAX_MS 8000L
/* Retrying one call stops past this many times the request timeout. */
#define API_RETRY_BUDGET 2
/* How often a backoff sleep looks at api_config.interrupted. */
#define API_INTERRUPT_SLICE_MS 200L
/* A server's Retry-After is honoured up to this many seconds. */
#define API_RETRY_AFTER_MAX_S 30L
/* Connecting takes at most this long (or the whole timeout if shorter). */
#define API_CONNECT_MAX_S 10L
/* A transfer slower than 64 bytes/s for this long (or the whole timeout if
 * shorter) is a stalled server; generous because the API waits on LinkedIn
 * before it sends anything. */
#define API_LOW_SPEED_BYTES 64L
#define API_LOW_SPEED_MAX_S 20L

/* One HTTP try: the response collected by the callbacks, and its outcome. */
struct attempt {
	char *body; /* NUL-terminated; len bytes */
	size_t len, cap;
	bool too_big, oom;
	long retry_after; /* seconds, -1 when the answer sent none */
	long status;
	CURLcode rc;
	double elapsed;
	long os_errno; /* of a failed connect, e.g. ECONNREFUSED */
	char errbuf[CURL_ERROR_SIZE];
};

enum verdict { TRY_DONE, TRY_AGAIN, TRY_FAIL };

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct attempt *a = userdata;
	size_t n = size * nmemb, want;
	char *grown;

	if (n > API_MAX_BODY - a->len) {
		a->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (a->len + n + 1 > a->cap) {
		want = a->cap ? a->cap : 16384;
		while (want < a->len + n + 1)
			want *= 2;
		if (want > API_MAX_BODY + 1)
			want = API_MAX_BODY + 1;
		grown = realloc(a->body, want);
		if (!grown) {
			a->oom = true;
			return 0;
		}
		a->body = grown;
		a->cap = want;
	}
	memcpy(a->body + a->len, ptr, n);
	a->len += n;
	a->body[a->len] = '\0';
	return n;
}

/* Seconds of "Retry-After: 12"; -1 for the HTTP-date form or garbage. */
static long parse_retry_after(const char *s, size_t n)
{
	size_t i = 0;
	long v = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || !isdigit((unsigned char)s[i]))
		return -1;
	for (; i < n && isdigit((unsigned char)s[i]); i++)
		if (v <= API_RETRY_AFTER_MAX_S)
			v = v * 10 + (s[i] - '0');
	return v > API_RETRY_AFTER_MAX_S ? API_RETRY_AFTER_MAX_S : v;
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *userdata)
{
	static const char name[] = "retry-after:";
	struct attempt *a = userdata;
	size_t n = size * nitems, k = sizeof(name) - 1;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0)
		a->retry_after = -1; /* a new response (after a 100) */
	else if (n > k && strncasecmp(line, name, k) == 0)
		a->retry_after = parse_retry_after(line + k, n - k);
	return n;
}

/* Cancelled for everyone, or interrupted for this thread's caller. */
static bool api_should_stop(struct api *api)
{
	return atomic_load(&api->cancelled) ||
	       (api->interrupted && api->interrupted());
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct api *api = userdata;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return api_should_stop(api) ? 1 : 0;
}

static CURL *pool_take(struct api *api)
{
	CURL *h = NULL;

	pthread_mutex_lock(&api->pool_lock);
	if (api->n_pool)
		h = api->pool[--api->n_pool];
	pthread_mutex_unlock(&api->pool_lock);
	return h ? h : curl_easy_init();
}

static void pool_give(struct api *api, CURL *h)
{
	/* forget our pointers (body, error buffer); live connections stay */
	curl_easy_reset(h);
	pthread_mutex_lock(&api->pool_lock);
	if (api->n_pool < API_POOL_MAX) {
		api->pool[api->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&api->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

/* t_ms: this try's time limit, what is left of the call's bound. */
static void handle_setup(struct api *api, CURL *h, const char *url,
			 const char *req, long t_ms, struct attempt *a)
{
	long t = (t_ms + 999) / 1000;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, api->headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(req));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "linkupfs/" LINKUPFS_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 t < API_CONNECT_MAX_S ? t_ms
					       : API_CONNECT_MAX_S * 1000);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, API_LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
			 t < API_LOW_SPEED_MAX_S ? t : API_LOW_SPEED_MAX_S);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, api);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf);
}

/* -d: one line per try, with the endpoint's path only (no host, and the
 * key and token travel in headers and body, never in the URL). */
static void debug_try(const char *url, const struct attempt *a)
{
	CURLU *u = curl_url();
	char *path = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
		curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (a->rc == CURLE_OK)
		fprintf(stderr, "linkupfs: POST %s: HTTP %ld, %.0f ms\n",
			path ? path : "?", a->status, a->elapsed * 1000);
	else
		fprintf(stderr, "linkupfs: POST %s: no answer (%s), %.0f ms\n",
			path ? path : "?", curl_easy_strerror(a->rc),
			a->elapsed * 1000);
	curl_free(path);
	curl_url_cleanup(u);
}

static void perform_once(struct api *api, const char *url, const char *req,
			 long t_ms, struct attempt *a)
{
	CURL *h = pool_take(api);
	long conns = 0;

	free(a->body);
	memset(a, 0, sizeof(*a));
	a->retry_after = -1;
	a->rc = CURLE_OUT_OF_MEMORY;
	if (!h)
		return;
	handle_setup(api, h, url, req, t_ms, a);
	atomic_fetch_add(&api->requests, 1);
	a->rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &a->elapsed);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &a->os_errno);
	if (conns > 0)
		atomic_fetch_add(&api->connections, (uint64_t)conns);
	pool_give(api, h);
	if (api->debug)
		debug_try(url, a);
}

void api_set_error(struct api_error *err, enum api_err_kind kind,
		   const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static void timeout_error(struct api *api, const struct attempt *a,
			  struct api_error *err)
{
	long t = api->timeout_s;
	long slow = t < API_LOW_SPEED_MAX_S ? t : API_LOW_SPEED_MAX_S;
	enum api_err_kind k = API_ERR_TIMEOUT;

	/* curl says "Operation too slow" for the low-speed limit and
	 * "Connection timed out" / "Failed to connect" while connecting */
	if (strstr(a->errbuf, "too slow"))
		api_set_error(
			err, k,
			"timed out: %s sent less than %ld bytes/s for %ld s",
			api->where, API_LOW_SPEED_BYTES, slow);
	else if (strstr(a->errbuf, "onnect"))
		api_set_error(err, k, "timed out connecting to %s after %.0f s",
			      api->where, a->elapsed);
	else
		api_set_error(err, k, "timed out after %.0f s", a->elapsed);
}

/* A failure below HTTP; true when another try may succeed. */
static bool transport_error(struct api *api, const struct attempt *a,
			    struct api_error *err)
{
	const char *why = a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->rc);
	enum api_err_kind k = API_ERR_TRANSPORT;

	switch (a->rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		api_set_error(err, API_ERR_CANCELLED, "request cancelled");
		return false;
	case CURLE_OPERATION_TIMEDOUT:
		timeout_error(api, a, err);
		return false; /* a whole timeout again would double the wait */
	case CURLE_WRITE_ERROR:
		if (a->too_big || a->oom) {
			api_set_error(
				err, API_ERR_PARSE, "%s",
				a->too_big
					? "response larger than 16 MiB"
					: "out of memory reading the response");
			return false;
		}
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		api_set_error(err, k, "cannot resolve host (%s)", api->where);
		return true;
	case CURLE_COULDNT_CONNECT:
		if (a->os_errno == ECONNREFUSED)
			api_set_error(err, k, "connection refused (%s)",
				      api->where);
		else
			api_set_error(
				err, k, "cannot connect to %s (%s)", api->where,
				a->os_errno ? strerror((int)a->os_errno) : why);
		return true;
	case CURLE_GOT_NOTHING:
		api_set_error(err, k,
			      "%s closed the connection without answering",
			      api->where);
		return true;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		api_set_error(err, k, "connection to %s failed: %s", api->where,
			      why);
		return true;
	default:
		break;
	}
	api_set_error(err, k, "request to %s failed: %s", api->where, why);
	return false;
}

static bool retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

/* What one try came to; err is filled unless it is TRY_DONE. */
static enum verdict judge(struct api *api, const struct attempt *a,
			  struct api_error *err)
{
	if (a->rc != CURLE_OK)
		return transport_error(api, a, err) ? TRY_AGAIN : TRY_FAIL;
	if (a->status >= 200 && a->status < 300)
		return TRY_DONE;
	if (a->status < 100) {
		api_set_error(err, API_ERR_TRANSPORT, "%s sent no HTTP answer",
			      api->where);
		return TRY_FAIL;
	}
	if (api->version == 2)
		api_parse_error_v2(a->body, a->len, a->status, err);
	else
		api_parse_error(a->body, a->len, a->status, err);
	return retryable_status(a->status) ? TRY_AGAIN : TRY_FAIL;
}

/* How long to wait before try number `done` + 1. */
static long backoff_ms(int done, long retry_after)
{
	long ms = API_BACKOFF_FIRST_MS;

	for (int i = 1; i < done && ms < API_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > API_BACKOFF_MAX_MS)
		ms = API_BACKOFF_MAX_MS;
	if (retry_after >= 0)
		ms = retry_after * 1000;
	return ms;
}

/* Wait ms; false when stopped meanwhile. cancel_cond is on the monotonic
 * clock of pace_now_ms (api.c); it is signalled by api_cancel, and an
 * interrupt is polled every API_INTERRUPT_SLICE_MS. */
static bool backoff_sleep(struct api *api, long ms)
{
	int64_t until = pace_now_ms() + ms, now, next;
	struct timespec ts;

	pthread_mutex_lock(&api->cancel_lock);
	while (!api_should_stop(api) && (now = pace_now_ms()) < until) {
		next = now + API_INTERRUPT_SLICE_MS;
		if (next > until)
			next = until;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		pthread_cond_timedwait(&api->cancel_cond, &api->cancel_lock,
				       &ts);
	}
	pthread_mutex_unlock(&api->cancel_lock);
	return !api_should_stop(api);
}

/* Refuse to send when cancelled or over budget. */
static int may_send(struct api *api, struct api_error *err)
{
	if (api_should_stop(api)) {
		api_set_error(err, API_ERR_CANCELLED, "request cancelled");
		return api_error_errno(err);
	}
	if (api->credit_limit > 0 &&
	    atomic_load(&api->credits) >= (uint64_t)api->credit_limit) {
		api_set_error(err, API_ERR_BUDGET,
			      "credit limit of %ld reached", api->credit_limit);
		return api_error_errno(err);
	}
	return 0;
}

/* After the last try: say how many were made. */
static void note_tries(struct api_error *err, int tries)
{
	size_t n = strlen(err->message);

	if (tries < 2)
		return;
	if (err->http_status)
		snprintf(err->message + n, sizeof(err->message) - n,
			 " %d times; giving up", tries);
	else
		snprintf(err->message + n, sizeof(err->message) - n,
			 "; gave up after %d tries", tries);
}

/* v1 charges every answer below 500 (SPEC section 6); a 2xx is charged by
 * the caller, who knows how many results it held. v2 errors cost nothing
 * (SPEC section 7). */
static void charge_answer(struct api *api, const struct attempt *a)
{
	if (a->rc != CURLE_OK || a->status < 100)
		return;
	if (a->status == 429)
		atomic_fetch_add(&api->answers_429, 1);
	if (api->version != 2 && a->status >= 300 && a->status < 500)
		atomic_fetch_add(&api->credits, 1);
}

/* Keep the longest wait of one call for .stats. */
static void note_wait(struct api *api, int64_t waited)
{
	uint64_t w = waited > 0 ? (uint64_t)waited : 0;
	uint64_t old = atomic_load(&api->rate_wait_max_ms);

	while (w > old &&
	       !atomic_compare_exchange_weak(&api->rate_wait_max_ms, &old, w))
		; /* old was reloaded: another call may have set more */
}

static bool pace_stop(void *arg)
{
	return api_should_stop(arg);
}

/* One call's state across its tries. */
struct call {
	struct attempt a;  /* the last try's answer */
	enum verdict v;	   /* what it came to */
	int tries;	   /* sent */
	bool paced;	   /* the last try drew a paced 429 */
	int64_t deadline;  /* retries stop past this (pace_now_ms) */
	int64_t first_429; /* when a paced 429 first came; 0: none yet */
	int counted;	   /* tries counted against max_retries */
	int64_t waited;	   /* ms waited for turns, all tries */
	int slot;	   /* this try's turn (pace.h) */
};

/* Wait for this try's turn (retries at the head of the line); the wait
 * moves the retry deadline, as it is no part of it. -ETIMEDOUT: a paced
 * 429's window is over (err still says 429). */
static int take_turn(struct api *api, struct call *c, bool retry,
		     struct api_error *err)
{
	int64_t until = 0, waited;
	int rc;

	if (c->first_429)
		until = c->first_429 + api->rate_window_ms;
	rc = pace_take(api->pace, retry, until, pace_stop, api, &c->slot,
		       &waited);
	c->deadline += waited;
	c->waited += waited;
	if (rc == -EINTR) {
		api_set_error(err, API_ERR_CANCELLED, "request cancelled");
		return api_error_errno(err);
	}
	return rc;
}

/* A 429 the limiter answers for: the API's own kind, with no Retry-After. */
static bool paced_429(const struct api *api, const struct attempt *a)
{
	return api->rate_window_ms && a->rc == CURLE_OK && a->status == 429 &&
	       a->retry_after < 0;
}

/* Before a try: refuse to send when cancelled or over budget, else wait
 * for its turn. -ETIMEDOUT: a paced 429's window is over (c->v and err
 * are still that 429's). */
static int before_try(struct api *api, struct call *c, struct api_error *err)
{
	int rc = may_send(api, err);

	if (rc)
		return rc;
	rc = take_turn(api, c, c->tries > 0, err);
	if (!rc && c->paced)
		atomic_fetch_add(&api->retries, 1);
	return rc;
}

/* One try, ended by the call's deadline too (not only started before it);
 * c->v says what it came to, err why unless TRY_DONE. */
static void try_once(struct api *api, struct call *c, const char *url,
		     const char *req, struct api_error *err)
{
	int64_t left = c->deadline - pace_now_ms();

	if (left > api->timeout_s * 1000)
		left = api->timeout_s * 1000;
	if (left < 1)
		left = 1;
	perform_once(api, url, req, (long)left, &c->a);
	c->tries++;
	c->paced = paced_429(api, &c->a);
	pace_done(api->pace, c->slot, c->paced);
	charge_answer(api, &c->a);
	c->v = judge(api, &c->a, err);
}

/* After a try worth doing again: whether to, once the wait it needs is
 * over (a paced 429 waits in the next turn instead). */
static bool retry_wait(struct api *api, struct call *c, struct api_error *err)
{
	long wait;

	if (c->paced) {
		/* the window is full: the next turn is the wait, for up to
		 * one window from the first 429 */
		if (!c->first_429)
			c->first_429 = pace_now_ms();
		return true;
	}
	if (++c->counted > api->max_retries)
		return false;
	wait = backoff_ms(c->counted, c->a.retry_after);
	if (pace_now_ms() + wait > c->deadline)
		return false;
	atomic_fetch_add(&api->retries, 1);
	if (backoff_sleep(api, wait))
		return true;
	api_set_error(err, API_ERR_CANCELLED, "request cancelled");
	c->v = TRY_FAIL;
	return false;
}

int api_request(struct api *api, const char *url, const char *req, char **body,
		size_t *len, struct api_error *err)
{
	/* Retries stop when the next wait would end past the deadline: a
	 * read fails in bounded time even when every answer asks to wait. */
	struct call c = {
		.v = TRY_FAIL,
		.deadline = pace_now_ms() +
			    API_RETRY_BUDGET * api->timeout_s * 1000,
	};
	int rc;

	do {
		rc = before_try(api, &c, err);
		if (rc)
			break;
		try_once(api, &c, url, req, err);
	} while (c.v == TRY_AGAIN && retry_wait(api, &c, err));
	if (rc == -ETIMEDOUT)
		rc = 0; /* c.v and err: the last 429 */
	if (!rc && c.v == TRY_DONE) {
		*body = c.a.body;
		*len = c.a.len;
		c.a.body = NULL;
	} else if (!rc) {
		if (c.v == TRY_AGAIN)
			note_tries(err, c.tries);
		rc = api_error_errno(err);
	}
	err->retries = c.tries > 1 ? c.tries - 1 : 0;
	note_wait(api, c.waited);
	free(c.a.body);
	return rc;
}
