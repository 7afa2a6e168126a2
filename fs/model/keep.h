/*
 * fs/model/keep.h - what the model keeps in the persistent store
 * (cache/store.h) and how it is named: per conversation its chain (each
 * chunk's cursors, floor, edge urns, and per message its time and lengths:
 * the index; the times exact in ms for each chunk's newest and oldest
 * message, to the second for the others, as the index holds them), its
 * metadata, and each chunk's body (the rendered bytes the
 * files are made of); per inbox page the entries as the API listed them.
 * Keys begin with the account (env.account), so one store never mixes two
 * accounts. Never the API key or the login token.
 *
 * A mount without a store (env.store NULL): every function does nothing
 * and every get misses. A failed write is logged once (the store then
 * stops writing; the mount goes on from memory).
 */
#ifndef LINKUPFS_KEEP_H
#define LINKUPFS_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Keep the body of the chunk fetched with cursor (NULL for an empty
 * newest chunk) and floor. */
void keep_body_put(struct conv *c, const char *cursor, int64_t floor,
		   const struct chunk_body *b);
/* The kept body of that chunk, if it holds n messages: 0 and *b (the
 * caller's), or -ENOENT. */
int keep_body_get(struct conv *c, const char *cursor, int64_t floor, size_t n,
		  struct chunk_body **b);

/* Keep the chain and metadata if they changed since they were last kept
 * (chain_dirty, set under c->lock by what changes them): once per walk,
 * refresh or splice, not per chunk. The record is built under c->lock
 * and handed to the store after (its write is the store's thread's);
 * records of one conversation reach the store in the order they were
 * built (keep_lock). Caller holds no lock of c. */
void keep_chain_sync(struct conv *c);

/* Once per conversation, before its first walk: install the kept chain,
 * if any, in place of the unknown newest chunk (no request), and decide
 * whether the conversation is fresh (keep_fresh). Caller holds c->lock. */
void keep_restore(struct conv *c);

/* Whether what is known is as new as the inbox says: the inbox's last
 * message time is not past the newest known message (nor past the inbox
 * time seen when the chain was kept: an empty conversation's is its
 * creation). Caller holds c->lock. */
bool keep_fresh(const struct conv *c);

/* Keep one inbox page (the answer to want entries at cursor, NULL for the
 * first), and get it back: 0 and *pg (api_inbox_page_free), or -ENOENT. */
void keep_inbox_put(const struct conv_env *env, int want, const char *cursor,
		    const struct api_inbox_page *pg);
int keep_inbox_get(const struct conv_env *env, int want, const char *cursor,
		   struct api_inbox_page **pg);

/* A body's bytes for the store, and back (NULL when they do not make a
 * well-formed body). Exposed for the unit tests. */
char *keep_body_encode(const struct chunk_body *b, size_t *len);
struct chunk_body *keep_body_decode(const char *p, size_t len);

#endif
