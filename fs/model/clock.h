/*
 * fs/model/clock.h - the model's clock: monotonic milliseconds, for ttls
 * (a change of the wall clock neither expires nor prolongs what is
 * cached; whole seconds would make a ttl of N last anywhere from N - 1).
 */
#ifndef LINKUPFS_MODEL_CLOCK_H
#define LINKUPFS_MODEL_CLOCK_H

#include <time.h>

static inline long long clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
