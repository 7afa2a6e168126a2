/*
 * fs/inval.c - kernel cache invalidation, off the callback threads.
 */
#include "inval.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Conversations queued at most; past that a change is not announced and
 * the kernel sees it when its attributes expire (the ttl). */
#define INVAL_QUEUE 256

struct invalidator {
	struct fuse *fuse;
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;
	struct conv *queue[INVAL_QUEUE];
	size_t n;
	bool root;
	bool stop;
};

static void forget(struct fuse *f, const char *path)
{
	/* -ENOENT: the kernel never looked it up, so it caches nothing */
	fuse_invalidate_path(f, path);
}

static void forget_files(struct fuse *f, struct conv *c)
{
	unsigned pages = conv_known_pages(c);
	const char *name = conv_name(c);
	char path[512];

	snprintf(path, sizeof(path), "/%s/transcript.txt", name);
	forget(f, path);
	snprintf(path, sizeof(path), "/%s/conversation.json", name);
	forget(f, path);
	for (unsigned p = 1; p <= pages; p++) {
		snprintf(path, sizeof(path), "/%s/page-%04u.txt", name, p);
		forget(f, path);
		snprintf(path, sizeof(path), "/%s/page-%04u.json", name, p);
		forget(f, path);
	}
}

static void forget_conv(struct fuse *f, struct conv *c)
{
	char path[512];

	forget_files(f, c);
	snprintf(path, sizeof(path), "/%s", conv_name(c));
	forget(f, path);
}

static void *inval_main(void *arg)
{
	struct invalidator *iv = arg;

	pthread_mutex_lock(&iv->lock);
	for (;;) {
		struct conv *c = NULL;
		bool root;

		while (!iv->stop && !iv->n && !iv->root)
			pthread_cond_wait(&iv->cond, &iv->lock);
		if (iv->stop)
			break;
		root = iv->root;
		iv->root = false;
		if (iv->n)
			c = iv->queue[--iv->n];
		pthread_mutex_unlock(&iv->lock);
		if (c)
			forget_conv(iv->fuse, c);
		if (root)
			forget(iv->fuse, "/");
		pthread_mutex_lock(&iv->lock);
	}
	pthread_mutex_unlock(&iv->lock);
	return NULL;
}

struct invalidator *inval_start(struct fuse *f)
{
	struct invalidator *iv = calloc(1, sizeof(*iv));

	if (!iv)
		return NULL;
	iv->fuse = f;
	pthread_mutex_init(&iv->lock, NULL);
	pthread_cond_init(&iv->cond, NULL);
	if (pthread_create(&iv->thread, NULL, inval_main, iv) != 0) {
		pthread_cond_destroy(&iv->cond);
		pthread_mutex_destroy(&iv->lock);
		free(iv);
		return NULL;
	}
	return iv;
}

void inval_conv(struct invalidator *iv, struct conv *c)
{
	bool queued = false;

	if (!iv)
		return;
	pthread_mutex_lock(&iv->lock);
	for (size_t i = 0; i < iv->n; i++)
		queued |= iv->queue[i] == c;
	if (!queued && iv->n < INVAL_QUEUE)
		iv->queue[iv->n++] = c;
	iv->root = true; /* its mtime moved the root's */
	pthread_cond_signal(&iv->cond);
	pthread_mutex_unlock(&iv->lock);
}

void inval_conv_now(struct invalidator *iv, struct conv *c)
{
	if (!iv)
		return;
	forget_files(iv->fuse, c);
	inval_conv(iv, c); /* the directory and the root, on the thread */
}

void inval_root(struct invalidator *iv)
{
	if (!iv)
		return;
	pthread_mutex_lock(&iv->lock);
	iv->root = true;
	pthread_cond_signal(&iv->cond);
	pthread_mutex_unlock(&iv->lock);
}

void inval_stop(struct invalidator *iv)
{
	if (!iv)
		return;
	pthread_mutex_lock(&iv->lock);
	iv->stop = true;
	pthread_cond_signal(&iv->cond);
	pthread_mutex_unlock(&iv->lock);
	pthread_join(iv->thread, NULL);
	pthread_cond_destroy(&iv->cond);
	pthread_mutex_destroy(&iv->lock);
	free(iv);
}
