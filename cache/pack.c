/*
 * cache/pack.c - compression, checksum and one-way names (pack.h).
 */
#include "pack.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

/* zstd's level 1: the bodies are rendered text and JSON lines, which it
 * shrinks about as well as level 3 at twice the speed (BENCHMARKS.md). */
#define PACK_LEVEL 1
/* Below this, a frame's own header eats what compression would save. */
#define PACK_MIN 64

uint64_t pack_checksum(const char *key, const void *bytes, size_t len)
{
	XXH64_hash_t seed = XXH3_64bits(key, strlen(key));

	return XXH3_64bits_withSeed(len ? bytes : "", len, seed);
}

void *pack_compress(const void *bytes, size_t len, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len), n;
	void *out, *shrunk;

	if (len < PACK_MIN || !(out = malloc(cap)))
		return NULL;
	n = ZSTD_compress(out, cap, bytes, len, PACK_LEVEL);
	if (ZSTD_isError(n) || n >= len) {
		free(out);
		return NULL;
	}
	*out_len = n;
	/* it waits in the spool: give back the room it did not need */
	shrunk = realloc(out, n);
	return shrunk ? shrunk : out;
}

struct pack_ctx {
	ZSTD_DCtx *d;
};

struct pack_ctx *pack_ctx_new(void)
{
	struct pack_ctx *ctx = malloc(sizeof(*ctx));

	if (ctx && !(ctx->d = ZSTD_createDCtx())) {
		free(ctx);
		ctx = NULL;
	}
	return ctx;
}

void pack_ctx_free(struct pack_ctx *ctx)
{
	if (!ctx)
		return;
	ZSTD_freeDCtx(ctx->d);
	free(ctx);
}

int pack_expand(struct pack_ctx *ctx, const void *bytes, size_t len, void *out,
		size_t raw)
{
	unsigned long long want = ZSTD_getFrameContentSize(bytes, len);
	size_t n;

	if (want != raw)
		return -EBADMSG;
	n = ctx ? ZSTD_decompressDCtx(ctx->d, out, raw, bytes, len)
		: ZSTD_decompress(out, raw, bytes, len);
	return ZSTD_isError(n) || n != raw ? -EBADMSG : 0;
}

int pack_name(const void *bytes, size_t len, char *hex, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t i;

	if (!size)
		return -EIO;
	hex[0] = '\0';
	if (!EVP_Digest(bytes, len, md, &n, EVP_sha256(), NULL))
		return -EIO;
	for (i = 0; i + 1 < size && i < 2 * (size_t)n; i++)
		hex[i] = digits[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	hex[i] = '\0';
	explicit_bzero(md, sizeof(md));
	return 0;
}
