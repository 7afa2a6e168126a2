/*
 * fs/model/link.h - the one link state to the API, for the whole mount:
 * online; down since a request met a failure that says the API cannot be
 * reached or is failing (link_classify); or offline for the life of the
 * mount (-o offline). Every reader of "may the API be asked" asks this
 * object: each request (a chunk, an inbox page, a probe of parallel=), the
 * checks for news, the store's offline mode, .stats and the log.
 *
 * While down, requests are not sent (link_ask says -ENETDOWN: the caller
 * serves what the cache or the store holds, or fails at once), except one
 * probe at a time once the back-off has run out: it starts at
 * LINK_BACKOFF_FIRST_MS and doubles with each failed probe, up to
 * LINK_BACKOFF_MAX_MS. The first answer the API gives ends the down state.
 * A bad answer (a body that is not JSON, JSON cut short) fails the request
 * that met it but says nothing of the link. Each change is logged once.
 *
 * Thread safety: any function from any thread; one mutex guards the state.
 * Never blocks, never sends anything.
 */
#ifndef LINKUPFS_LINK_H
#define LINKUPFS_LINK_H

#include <stdbool.h>
#include <time.h>

#include "../../api/api.h"

/* The back-off of a down link: the first, and the longest, wait before a
 * probe. Short first, so that one failure never hides the API for long;
 * at most 30 s, the time a user waits at most for the mount to notice that
 * the API is back. */
#define LINK_BACKOFF_FIRST_MS 1000
#define LINK_BACKOFF_MAX_MS 30000

/* What an outcome of a request says of the link. */
enum link_verdict {
	LINK_ANSWERED,	  /* the API answered, a success or an error it
			     means (400, 401, 403, 404, 429, status:"error") */
	LINK_UNREACHABLE, /* the API cannot be reached or is failing: no
			     answer (connection, DNS, reset, TLS, timeout), a
			     5xx or a redirect, an HTML page (a proxy's, a
			     captive portal's) where JSON was due */
	LINK_SILENT,	  /* says nothing of the link: a bad answer (not JSON,
			     cut short, wrong shape), not sent (credit_limit),
			     cancelled */
};

enum link_state {
	LINK_ONLINE,
	LINK_DOWN,
	LINK_OFFLINE, /* -o offline: never asks */
};

/* A snapshot of the state, for .stats. */
struct link_stats {
	enum link_state state;
	time_t down_since;    /* wall clock; 0 unless down */
	long next_try_ms;     /* down: until the back-off runs out (0: a
				 probe may go now) */
	time_t last_error_at; /* wall clock of the last failed request; 0:
				 none yet */
	char last_error[256]; /* what it met (api_error.message: never a
				 secret); "" when none */
};

/* The outcome r of an API call (0, or a negative errno with err filled),
 * classified. Pure. */
enum link_verdict link_classify(int r, const struct api_error *err);

struct link;

/* A link, online (offline for good with offline), whose back-off runs from
 * first_ms to max_ms (LINK_BACKOFF_*). NULL on allocation failure. */
struct link *link_new(bool offline, long first_ms, long max_ms);
void link_free(struct link *l);

/* May a request be sent now? 0: yes (*probe says whether it is the probe
 * of a down link); the caller sends it and then calls link_note, always,
 * with the same probe. -ENETDOWN: not now; err->message says why, for the
 * caller's log line. */
int link_ask(struct link *l, bool *probe, struct api_error *err);

/* The outcome of a request link_ask let go (r, err as the API call gave
 * them): see link_classify. */
void link_note(struct link *l, bool probe, int r, const struct api_error *err);

/* Whether link_ask would say yes now, no slot taken (a check for news
 * starts only then): 0, or -ENETDOWN with why in err (when not NULL). */
int link_open(struct link *l, struct api_error *err);

/* Whether the link is online: down or offline, the store serves what it
 * holds in place of the API's answer. */
bool link_up(struct link *l);

void link_get_stats(struct link *l, struct link_stats *out);

#endif
