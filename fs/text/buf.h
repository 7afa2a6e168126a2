/*
 * fs/text/buf.h - a growable byte buffer.
 *
 * Appends never fail loudly: on allocation failure the buffer remembers it
 * (b->oom) and ignores further appends, so a caller checks once at the end.
 * The data is always NUL-terminated after len bytes (when not oom).
 */
#ifndef LINKUPFS_BUF_H
#define LINKUPFS_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	bool oom;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0, false                                              \
	}

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the data to the caller (malloc'd, NUL-terminated; NULL if oom or
 * empty), leaving b empty. *len receives the length. */
char *buf_steal(struct buf *b, size_t *len);
void buf_free(struct buf *b);

#endif
