/*
 * fs/model/net.h - whether the API can be reached: online, offline since a
 * request could not reach it (connection refused, name not resolved,
 * timeout), or offline because the user said so (-o offline).
 *
 * While offline, requests are not sent (callers serve what the store
 * holds and fail fast otherwise), but one request every NET_PROBE_SECONDS
 * may go out as a probe: when the API answers it, the mount is online
 * again. Each change is logged once. A mount without a store has no net
 * (NULL): every function then says "online" and does nothing.
 *
 * Thread safety: every function may be called from any thread; a mutex
 * guards the state. Never blocks.
 */
#ifndef LINKUPFS_NET_H
#define LINKUPFS_NET_H

#include <stdbool.h>

#include "../../api/api.h"

/* Seconds between probes of an unreachable API. */
#define NET_PROBE_SECONDS 5

struct net;

/* forced: offline for the life of the mount (-o offline). NULL on
 * allocation failure. */
struct net *net_new(bool forced);
void net_free(struct net *n);

/* Whether a request may be sent now (online, or a probe is due; the
 * probe's slot is taken). */
bool net_may_ask(struct net *n);

/* What a request sent met (r its result, err its error): a transport
 * failure or a timeout makes the mount offline; any answer of the API
 * makes it online. */
void net_note(struct net *n, int r, const struct api_error *err);

/* Whether the mount is offline now. */
bool net_offline(struct net *n);

#endif
