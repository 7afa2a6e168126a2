/*
 * fs/model/check.h - the checks for news, beside the callbacks that ask for
 * them.
 *
 * An access that finds a check due (the inbox's head after the ttl,
 * root.h; a conversation's newest page, conv.h) hands it to the checker's
 * thread, which runs the checks one after the other from a queue; the
 * access waits for its checks at most CHECK_WAIT_MS (not at all for a
 * check that runs already, nor while one outlasted a wait), then answers
 * from what is cached. No check starts while the link backs off (link.h):
 * cached data never waits for an API that is down.
 *
 * What a check finds is told through the hook that whoever shows it (the
 * FUSE adapter: the kernel's caches) registered once, struct
 * check_announce, before the news can be read.
 *
 * A forced check (check_now: the user asked) goes through the same gate
 * and the same runs, in the caller's thread, and says whether anything
 * changed.
 *
 * Thread safety: every function but check_new and check_free from any
 * thread; a mutex guards the queue, never held across a check.
 */
#ifndef LINKUPFS_CHECK_H
#define LINKUPFS_CHECK_H

#include <stdbool.h>

#include "conv.h"
#include "link.h"
#include "root.h"

/* The longest an access waits for the checks it found due. */
#define CHECK_WAIT_MS 1000

/* Who is told what the checks found (called in the thread that checked). */
struct check_announce {
	/* A conversation's files grew (struct conv_announce's fn). */
	void (*conv)(void *arg, struct conv *c, const struct conv_growth *g);
	/* The inbox was read or its head listed news: the root's listing and
	 * each conversation's metadata may have changed. */
	void (*root)(void *arg);
	void *arg;
};

struct checker;

/* A checker of root's conversations (root, link borrowed: they outlive
 * it; *to copied), with a thread of its own (when none can be started,
 * the checks run in the callers). Start it after any fork. NULL on
 * allocation failure. */
struct checker *check_new(struct root *root, struct link *link,
			  const struct check_announce *to);

/* Stop the thread: the check in flight ends (the caller cancels the API
 * first, api_cancel, to end it at once). NULL is a no-op. */
void check_free(struct checker *ck);

/* An access to conversation conv (NULL: to the root): run the checks due,
 * the inbox's head first (it may mark conv due), waiting for them as the
 * top says. Returns at once when nothing is due or the link backs off. */
void check_freshen(struct checker *ck, struct conv *conv);

/* Check now, whatever the ttl: conversation conv's newest page, or (conv
 * NULL) the whole inbox. Blocks for the network. 0 and *changed (new
 * messages; on the root, conversations that appeared, changed or left), or
 * a negative errno: -ENETDOWN at once while the link backs off. */
int check_now(struct checker *ck, struct conv *conv, bool *changed);

#endif
