/*
 * fs/loop.h - the threads that serve the session's requests.
 *
 * One thread at a time reads a request from the kernel and serves it
 * itself, then reads the next: a request that waits for nothing is never
 * handed from thread to thread. (libfuse's own loop keeps every idle
 * thread waiting on the kernel, which wakes another one for each request
 * it queues: a warm `grep -r` sends thousands, each close's RELEASE right
 * beside the next OPEN, and paid a context switch for most of them.) Once
 * the thread serving has been at one request for a tick (LOOP_TICK_MS: a
 * network call, a lock held by one), another thread takes over reading,
 * and so on up to max threads: a slow request holds the others up for a
 * tick or two, never for its whole wait.
 */
#ifndef LINKUPFS_LOOP_H
#define LINKUPFS_LOOP_H

#include <fuse_lowlevel.h>

#define LOOP_TICK_MS 1

/* Serve se until it ends (unmounted, or fuse_session_exit from a signal
 * handler) with at most max_threads threads besides the caller's, which
 * watches them. 0, or a negative errno when reading the kernel failed or
 * no thread could start. */
int loop_run(struct fuse_session *se, unsigned max_threads);

#endif
