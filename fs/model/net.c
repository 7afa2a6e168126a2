/*
 * fs/model/net.c - online or offline (net.h).
 */
#include "net.h"

#include <pthread.h>
#include <stdlib.h>

#include "../log.h"
#include "clock.h"

struct net {
	pthread_mutex_t lock; /* guards the fields below */
	bool forced;
	bool offline;
	time_t probe_at; /* monotonic seconds: the next probe may go */
};

struct net *net_new(bool forced)
{
	struct net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	n->forced = n->offline = forced;
	return n;
}

void net_free(struct net *n)
{
	if (!n)
		return;
	pthread_mutex_destroy(&n->lock);
	free(n);
}

bool net_may_ask(struct net *n)
{
	bool may;

	if (!n)
		return true;
	pthread_mutex_lock(&n->lock);
	may = !n->forced && (!n->offline || clock_now() >= n->probe_at);
	if (may && n->offline)
		n->probe_at = clock_now() + NET_PROBE_SECONDS;
	pthread_mutex_unlock(&n->lock);
	return may;
}

static bool unreachable(int r, const struct api_error *err)
{
	return r < 0 &&
	       (err->kind == API_ERR_TRANSPORT || err->kind == API_ERR_TIMEOUT);
}

void net_note(struct net *n, int r, const struct api_error *err)
{
	bool down = unreachable(r, err), was;

	if (!n || n->forced || (r < 0 && err->kind == API_ERR_CANCELLED))
		return;
	pthread_mutex_lock(&n->lock);
	was = n->offline;
	n->offline = down;
	if (down && !was)
		n->probe_at = clock_now() + NET_PROBE_SECONDS;
	pthread_mutex_unlock(&n->lock);
	if (down && !was)
		log_error("offline: the API cannot be reached (%s); serving "
			  "what the store holds, trying again every %d s",
			  err->message, NET_PROBE_SECONDS);
	else if (!down && was)
		log_info("online: the API answers again");
}

bool net_offline(struct net *n)
{
	bool off;

	if (!n)
		return false;
	pthread_mutex_lock(&n->lock);
	off = n->offline;
	pthread_mutex_unlock(&n->lock);
	return off;
}
