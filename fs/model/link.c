/*
 * fs/model/link.c - the one link state to the API (link.h).
 */
#include "link.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "clock.h"

struct link {
	long first_ms, max_ms; /* the back-off's bounds */
	pthread_mutex_t lock;  /* guards everything below */
	enum link_state state;
	time_t down_since;    /* wall clock */
	long backoff_ms;      /* the current wait between probes */
	long long retry_at;   /* monotonic ms: a probe may go from then */
	bool probing;	      /* a probe is out */
	time_t last_error_at; /* wall clock */
	char last_error[256];
};

enum link_verdict link_classify(int r, const struct api_error *err)
{
	if (r == 0)
		return LINK_ANSWERED;
	if (!err)
		return LINK_SILENT;
	/* the API answers JSON only: an HTML page comes from something in
	 * between (a proxy, a captive portal), whatever its status */
	if (err->html)
		return LINK_UNREACHABLE;
	switch (err->kind) {
	case API_ERR_TRANSPORT:
	case API_ERR_TIMEOUT:
		return LINK_UNREACHABLE;
	case API_ERR_HTTP:
		/* retried already (api.h); the API never redirects */
		if (err->http_status >= 500 ||
		    (err->http_status >= 300 && err->http_status < 400))
			return LINK_UNREACHABLE;
		return LINK_ANSWERED;
	case API_ERR_AUTH:
	case API_ERR_NOT_FOUND:
		return LINK_ANSWERED;
	case API_ERR_BUDGET: /* v2's INSUFFICIENT_CREDITS, or not sent */
		return err->http_status ? LINK_ANSWERED : LINK_SILENT;
	default: /* PARSE, CHAIN, CANCELLED */
		return LINK_SILENT;
	}
}

struct link *link_new(bool offline, long first_ms, long max_ms)
{
	struct link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->first_ms = first_ms > 0 ? first_ms : 1;
	l->max_ms = max_ms > l->first_ms ? max_ms : l->first_ms;
	l->state = offline ? LINK_OFFLINE : LINK_ONLINE;
	return l;
}

void link_free(struct link *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* "HH:MM:SSZ" of a wall-clock time, into when. */
static void utc_time(time_t t, char *when, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, size, "%H:%M:%SZ", &tm);
}

/* Caller holds lock. Whether a request may go now, and as the probe. */
static bool may_go(const struct link *l, long long now, bool *probe)
{
	*probe = false;
	if (l->state == LINK_ONLINE)
		return true;
	if (l->state == LINK_OFFLINE || l->probing || now < l->retry_at)
		return false;
	*probe = true;
	return true;
}

/* Caller holds lock. Why a request is not sent, into err. */
static void refusal(const struct link *l, long long now, struct api_error *err)
{
	char when[16];
	long long left = l->retry_at - now;

	memset(err, 0, sizeof(*err));
	err->kind = API_ERR_TRANSPORT;
	if (l->state == LINK_OFFLINE) {
		snprintf(err->message, sizeof(err->message),
			 "not sent: offline (-o offline)");
		return;
	}
	utc_time(l->down_since, when, sizeof(when));
	if (l->probing)
		snprintf(err->message, sizeof(err->message),
			 "not sent: the API is down since %s (%.150s); a try "
			 "is under way",
			 when, l->last_error);
	else
		snprintf(err->message, sizeof(err->message),
			 "not sent: the API is down since %s (%.150s); next "
			 "try in %lld s",
			 when, l->last_error, (left + 999) / 1000);
}

int link_ask(struct link *l, bool *probe, struct api_error *err)
{
	long long now = clock_now_ms();
	bool go;

	pthread_mutex_lock(&l->lock);
	go = may_go(l, now, probe);
	if (go && *probe)
		l->probing = true;
	if (!go)
		refusal(l, now, err);
	pthread_mutex_unlock(&l->lock);
	return go ? 0 : -ENETDOWN;
}

int link_open(struct link *l, struct api_error *err)
{
	long long now = clock_now_ms();
	bool probe, go;

	pthread_mutex_lock(&l->lock);
	go = may_go(l, now, &probe);
	if (!go && err)
		refusal(l, now, err);
	pthread_mutex_unlock(&l->lock);
	return go ? 0 : -ENETDOWN;
}

bool link_up(struct link *l)
{
	bool up;

	pthread_mutex_lock(&l->lock);
	up = l->state == LINK_ONLINE;
	pthread_mutex_unlock(&l->lock);
	return up;
}

/* Caller holds lock. A failure that says the link is down; true when it
 * went down now (to be logged). */
static bool fail(struct link *l, bool probe, long long now)
{
	if (l->state == LINK_ONLINE) {
		l->state = LINK_DOWN;
		l->down_since = time(NULL);
		l->backoff_ms = l->first_ms;
		l->retry_at = now + l->backoff_ms;
		return true;
	}
	if (probe) { /* failures go on: wait longer */
		l->backoff_ms *= 2;
		if (l->backoff_ms > l->max_ms)
			l->backoff_ms = l->max_ms;
		l->retry_at = now + l->backoff_ms;
	}
	return false;
}

void link_note(struct link *l, bool probe, int r, const struct api_error *err)
{
	enum link_verdict v = link_classify(r, err);
	long long now = clock_now_ms();
	bool went_down = false, came_back = false;
	time_t down_for = 0;

	pthread_mutex_lock(&l->lock);
	if (probe)
		l->probing = false;
	/* the last error a request met: not a cancel, nor credit_limit's
	 * refusal to send */
	if (r < 0 && err && err->kind != API_ERR_CANCELLED &&
	    (err->kind != API_ERR_BUDGET || err->http_status)) {
		l->last_error_at = time(NULL);
		snprintf(l->last_error, sizeof(l->last_error), "%s",
			 err->message);
	}
	if (l->state != LINK_OFFLINE && v == LINK_UNREACHABLE)
		went_down = fail(l, probe, now);
	if (l->state == LINK_DOWN && v == LINK_ANSWERED) {
		l->state = LINK_ONLINE;
		down_for = time(NULL) - l->down_since;
		l->down_since = 0;
		came_back = true;
	}
	pthread_mutex_unlock(&l->lock);
	if (went_down)
		log_error("the API %s (%s); serving what is cached, next try "
			  "in %ld s, then less often while it fails",
			  err->http_status ? "is failing" : "cannot be reached",
			  err->message, (l->first_ms + 999) / 1000);
	if (came_back)
		log_info("the API answers again (down for %lld s)",
			 (long long)down_for);
}

void link_get_stats(struct link *l, struct link_stats *out)
{
	long long now = clock_now_ms();

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&l->lock);
	out->state = l->state;
	out->down_since = l->down_since;
	if (l->state == LINK_DOWN && l->retry_at > now)
		out->next_try_ms = (long)(l->retry_at - now);
	out->last_error_at = l->last_error_at;
	snprintf(out->last_error, sizeof(out->last_error), "%s", l->last_error);
	pthread_mutex_unlock(&l->lock);
}
