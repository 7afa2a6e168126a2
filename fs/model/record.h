/*
 * fs/model/record.h - the framing of the records the model keeps in the
 * store (keep.c): numbers as 8 bytes little-endian, strings as a length
 * (UINT64_MAX for NULL) and their bytes, so a record reads the same on
 * any machine. Writing appends to a buf (fs/text/buf.h: out of memory is
 * its oom flag); reading takes from a record_rd, and any length that does
 * not fit what is left marks it bad (then every later get gives 0 or
 * NULL): a damaged record is never read past its end, nor makes us
 * allocate more than RECORD_MAX_ITEMS items. Pure; no lock.
 */
#ifndef LINKUPFS_RECORD_H
#define LINKUPFS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/buf.h"

/* Bound on what a record may make us allocate (a damaged length). */
#define RECORD_MAX_ITEMS (64u * 1024 * 1024)

/* A record being read: its bytes left, and whether one was missing. */
struct record_rd {
	const unsigned char *p;
	size_t left;
	bool bad;
};

void record_put_u64(struct buf *b, uint64_t v);
void record_put_str(struct buf *b, const char *s); /* s may be NULL */

uint64_t record_get_u64(struct record_rd *r);
int64_t record_get_i64(struct record_rd *r);
/* A count of items of at least each bytes: bad past what is left. */
size_t record_get_count(struct record_rd *r, size_t each);
/* A string (malloc'd, the caller's) or NULL (NULL kept, or bad). */
char *record_get_str(struct record_rd *r);

#endif
