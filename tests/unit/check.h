/*
 * tests/unit/check.h - the one assertion the unit tests use: CHECK(cond)
 * counts a pass or prints the failing line and counts a failure; each test
 * program prints "N passed, M failed" and exits non-zero on a failure.
 */
#ifndef LINKUPFS_TEST_CHECK_H
#define LINKUPFS_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond) {                                                    \
			passed++;                                              \
		} else {                                                       \
			failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#endif
