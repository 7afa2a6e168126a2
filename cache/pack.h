/*
 * cache/pack.h - how the store's bytes lie on disk: compressed (zstd),
 * checked (XXH3), and the one-way name of what must not be read back
 * (SHA-256). Thin wrappers over Debian's libzstd, libxxhash and OpenSSL's
 * libcrypto, so that the store says what it does, not how.
 *
 * Pure functions of their arguments (a compression context is made per
 * call; an expansion context may be given, one thread at a time in each);
 * any thread may call them at any time; nothing blocks.
 */
#ifndef LINKUPFS_PACK_H
#define LINKUPFS_PACK_H

#include <stddef.h>
#include <stdint.h>

/* The checksum kept with a blob: XXH3 (64 bits) of its bytes, seeded with
 * the XXH3 of its key, so a blob read under another key fails too. Not
 * cryptographic: it detects damage, not an adversary. */
uint64_t pack_checksum(const char *key, const void *bytes, size_t len);

/* The bytes compressed: a malloc'd block (the caller's) and *out_len, or
 * NULL when compressing would not make them smaller (or no memory): then
 * they are kept as they are. */
void *pack_compress(const void *bytes, size_t len, size_t *out_len);

/* What pack_expand works in, made once: made per call, its 100 KiB or so
 * were mapped and unmapped for every body read back, and each unmap
 * interrupted every thread of the process (a TLB shootdown). NULL on
 * allocation failure. */
struct pack_ctx *pack_ctx_new(void);
void pack_ctx_free(struct pack_ctx *ctx);

/* Expand len compressed bytes into out, which holds exactly raw bytes,
 * in ctx (NULL: one made for the call). 0, or -EBADMSG when they are not
 * a frame of exactly raw bytes. */
int pack_expand(struct pack_ctx *ctx, const void *bytes, size_t len, void *out,
		size_t raw);

/* A name for bytes that does not give them back: the lowercase hex of
 * their SHA-256, cut to size - 1 characters (at most 64) and terminated.
 * 0, or -EIO when libcrypto fails. */
int pack_name(const void *bytes, size_t len, char *hex, size_t size);

#endif
