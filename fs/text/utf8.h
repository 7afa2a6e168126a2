/*
 * fs/text/utf8.h - decoding UTF-8 as Unicode says it is well formed
 * (Table 3-7): no overlong forms, surrogates or values above U+10FFFF.
 * Pure.
 */
#ifndef LINKUPFS_UTF8_H
#define LINKUPFS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* What utf8_next() reports for an ill-formed subsequence. */
#define UTF8_BAD 0xffffffffu

/*
 * Decode one character of s[0..n), n >= 1. Returns the bytes consumed and
 * sets *cp to the code point, or to UTF8_BAD for a maximal subpart of an
 * ill-formed sequence: the lead byte and the continuation bytes that were
 * still acceptable, so the byte that broke the sequence starts the next
 * character ("maximal subpart" practice, one U+FFFD each).
 */
size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

#endif
