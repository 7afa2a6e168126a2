/*
 * tests/unit/api_check.h - what the unit tests of api/ share: CHECK_STR
 * (beside check.h's CHECK) and bodies handed to the parsers in buffers of
 * exactly their length.
 */
#ifndef LINKUPFS_TEST_API_CHECK_H
#define LINKUPFS_TEST_API_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "../../api/api.h"

#include "check.h"

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                         \
			passed++;                                              \
		} else {                                                       \
			failed++;                                              \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n",    \
				__FILE__, __LINE__, g_ ? g_ : "(null)",        \
				w_ ? w_ : "(null)");                           \
		}                                                              \
	} while (0)

/* The body in a buffer of exactly its length, so ASan catches a parser
 * reading past it (bodies from the network are not NUL-terminated). */
static inline char *exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	memcpy(copy, s, len);
	return copy;
}

static inline int parse_conv(const char *body, struct api_page **page,
			     struct api_error *err)
{
	size_t len = strlen(body);
	char *copy = exact(body, len);
	int rc = api_parse_conversation(copy, len, page, err);

	free(copy);
	return rc;
}

static inline int parse_inbox(const char *body, struct api_inbox_page **page,
			      struct api_error *err)
{
	size_t len = strlen(body);
	char *copy = exact(body, len);
	int rc = api_parse_inbox(copy, len, page, err);

	free(copy);
	return rc;
}

#endif
