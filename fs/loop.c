/*
 * fs/loop.c - the threads that serve the session's requests (loop.h): the
 * thread whose turn it is reads a request and serves it; the caller's
 * thread watches them, and while one is held up, lets every idle thread
 * read (as libfuse's loop does), with one more started when none is left.
 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Ticks with no request read before the watcher rests, IDLE_MS at a time
 * (or until a request comes), so that an idle mount costs nothing. */
#define QUIET_TICKS 50
#define IDLE_MS 200

struct loop;

struct worker {
	pthread_t tid;
	struct fuse_buf buf; /* the request it serves (libfuse's buffer) */
	struct loop *l;
	unsigned long serving; /* the number of that request, 0: none */
	unsigned long seen;    /* serving at the watcher's last tick */
};

struct loop {
	struct fuse_session *se;
	struct worker *w; /* max of them, n started */
	unsigned max, n;
	pthread_mutex_t lock; /* guards n and what follows */
	pthread_cond_t turn;  /* threads wait here for their turn to read */
	pthread_cond_t tick;  /* the watcher waits here */
	unsigned readers;     /* threads reading: at most 1 unless held_up */
	bool held_up;	      /* a thread has served one request for a tick */
	bool resting;	      /* the watcher waits for the next request */
	bool ending;
	unsigned waiting;    /* threads waiting for the turn */
	unsigned long taken; /* requests read so far */
	int err;
};

static int start(struct loop *l);

/* The session is over: every thread leaves. Caller holds lock. */
static void end(struct loop *l, int err)
{
	if (err < 0 && !l->err)
		l->err = err;
	l->ending = true;
	fuse_session_exit(l->se);
	pthread_cond_broadcast(&l->turn);
	pthread_cond_signal(&l->tick);
}

/* The next request: a thread may be cancelled only while it waits here. */
static int receive(struct worker *w)
{
	int r;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	r = fuse_session_receive_buf(w->l->se, &w->buf);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	return r;
}

/* Whether a thread may read now. Caller holds lock. */
static bool my_turn(const struct loop *l)
{
	return l->readers == 0 || l->held_up;
}

/* A request was read: while threads are held up, one more must be ready
 * to read. Caller holds lock. */
static void taken(struct loop *l, struct worker *w)
{
	w->serving = ++l->taken;
	if (l->resting) {
		l->resting = false;
		pthread_cond_signal(&l->tick);
	}
	if (l->held_up && !l->readers && !l->waiting && l->n < l->max)
		start(l);
}

static void *serve(void *arg)
{
	struct worker *w = arg;
	struct loop *l = w->l;
	int r;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&l->lock);
	while (!l->ending) {
		if (!my_turn(l)) {
			l->waiting++;
			pthread_cond_wait(&l->turn, &l->lock);
			l->waiting--;
			continue;
		}
		l->readers++;
		pthread_mutex_unlock(&l->lock);
		r = receive(w);
		pthread_mutex_lock(&l->lock);
		l->readers--;
		if (r == -EINTR)
			continue;
		if (r <= 0) { /* 0: unmounted, or the session was ended */
			end(l, r);
			break;
		}
		taken(l, w);
		pthread_mutex_unlock(&l->lock);
		fuse_session_process_buf(l->se, &w->buf);
		pthread_mutex_lock(&l->lock);
		w->serving = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* One more thread, with every signal blocked (the caller's thread takes
 * them). Caller holds lock. 0 or a negative errno. */
static int start(struct loop *l)
{
	struct worker *w = &l->w[l->n];
	sigset_t all, old;
	int r;

	if (l->ending || l->n == l->max)
		return -EAGAIN;
	w->l = l;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->tid, NULL, serve, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	l->n++;
	return 0;
}

static void wait_ms(struct loop *l, long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += ms * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&l->tick, &l->lock, &t);
}

/* Whether a thread has served the same request since the last tick
 * (a network call, a lock held across one). Caller holds lock. */
static bool any_held_up(struct loop *l)
{
	bool held = false;

	for (unsigned i = 0; i < l->n; i++) {
		struct worker *w = &l->w[i];

		held |= w->serving && w->serving == w->seen;
		w->seen = w->serving;
	}
	return held;
}

/* Until the session ends, every tick: while a thread is held up, every
 * idle thread may read, and one more starts if none can; else one reads
 * at a time. Caller holds lock. */
static void watch(struct loop *l)
{
	unsigned long seen = 0;
	unsigned quiet = 0;

	while (!l->ending && !fuse_session_exited(l->se)) {
		l->held_up = any_held_up(l);
		if (l->held_up) {
			pthread_cond_broadcast(&l->turn);
			if (!l->readers && !l->waiting)
				start(l); /* at max (or failing): the next tick
					   */
		}
		quiet = l->taken == seen ? quiet + 1 : 0;
		seen = l->taken;
		l->resting = quiet > QUIET_TICKS && !l->held_up;
		wait_ms(l, l->resting ? IDLE_MS : LOOP_TICK_MS);
	}
}

static int loop_init(struct loop *l)
{
	pthread_condattr_t ca;

	l->w = calloc(l->max, sizeof(*l->w));
	if (!l->w)
		return -ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->tick, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&l->turn, NULL);
	pthread_mutex_init(&l->lock, NULL);
	return 0;
}

int loop_run(struct fuse_session *se, unsigned max_threads)
{
	struct loop l = {.se = se, .max = max_threads ? max_threads : 1};
	int r = loop_init(&l);

	if (r < 0)
		return r;
	pthread_mutex_lock(&l.lock);
	r = start(&l);
	if (r == 0)
		watch(&l);
	end(&l, 0);
	pthread_mutex_unlock(&l.lock);
	/* a thread waiting for a request leaves now; one serving a request
	 * ends it first (the API calls in flight are cancelled, main.c) */
	for (unsigned i = 0; i < l.n; i++)
		pthread_cancel(l.w[i].tid);
	for (unsigned i = 0; i < l.n; i++) {
		pthread_join(l.w[i].tid, NULL);
		free(l.w[i].buf.mem);
	}
	pthread_cond_destroy(&l.turn);
	pthread_cond_destroy(&l.tick);
	pthread_mutex_destroy(&l.lock);
	free(l.w);
	fuse_session_reset(se);
	return r < 0 ? r : l.err;
}
