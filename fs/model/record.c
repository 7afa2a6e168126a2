/*
 * fs/model/record.c - the framing of the store's records (record.h).
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#define RECORD_NULL_STR UINT64_MAX

void record_put_u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, x, 8);
}

void record_put_str(struct buf *b, const char *s)
{
	if (!s) {
		record_put_u64(b, RECORD_NULL_STR);
		return;
	}
	record_put_u64(b, strlen(s));
	buf_append(b, s, strlen(s));
}

uint64_t record_get_u64(struct record_rd *r)
{
	uint64_t v = 0;

	if (r->left < 8) {
		r->bad = true;
		r->left = 0;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	r->left -= 8;
	return v;
}

int64_t record_get_i64(struct record_rd *r)
{
	return (int64_t)record_get_u64(r);
}

/* A count of items of at least each bytes: bad past what is left. */
size_t record_get_count(struct record_rd *r, size_t each)
{
	uint64_t n = record_get_u64(r);

	if (n > RECORD_MAX_ITEMS || n * each > r->left) {
		r->bad = true;
		return 0;
	}
	return (size_t)n;
}

/* A string (malloc'd) or NULL; bad when it does not fit. */
char *record_get_str(struct record_rd *r)
{
	uint64_t n = record_get_u64(r);
	char *s;

	if (r->bad || n == RECORD_NULL_STR)
		return NULL;
	if (n > r->left || !(s = malloc((size_t)n + 1))) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p, (size_t)n);
	s[n] = '\0';
	r->p += n;
	r->left -= (size_t)n;
	return s;
}
