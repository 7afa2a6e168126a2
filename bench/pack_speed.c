/*
 * bench/pack_speed.c - what the store's packing costs per byte, for
 * callgrind and the clock (issue 17 and 18 in BENCHMARKS.md).
 *
 *   pack_speed mix|xxh3|compress|expand N < FILE
 *
 * FILE holds the bytes of one chunk body (a page's text and JSON lines).
 * bench_run() runs one of these N times over them:
 *   mix       the checksum the store used before issue 18 (a home-made
 *             multiply-and-shift over 8-byte words, kept here to compare)
 *   xxh3      pack_checksum: XXH3 of the key, then of the bytes
 *   compress  pack_compress: zstd, as a put does
 *   expand    pack_expand: as a get of a kept body does
 * It prints the bytes, the compressed size and the seconds taken, so
 * that callgrind's total over N * bytes is the instructions per byte:
 *   valgrind --tool=callgrind --toggle-collect=bench_run ...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cache/pack.h"

/* Keeps the compiler from dropping work whose result is unused. */
static volatile uint64_t sink;

/* The checksum of cache/store.c before issue 18 (commit ddf9262). */
static uint64_t old_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t old_sum(uint64_t seed, const unsigned char *p, size_t len)
{
	uint64_t a = seed, b = ~seed, w;
	size_t i = 0;

	for (; i + 16 <= len; i += 16) {
		memcpy(&w, p + i, 8);
		a = old_mix(a, w);
		memcpy(&w, p + i + 8, 8);
		b = old_mix(b, w);
	}
	for (; i < len; i++)
		a = old_mix(a, p[i]);
	return old_mix(old_mix(a, b), len);
}

static const char key[] = "0123456789abcdef0123456789abcdef/body/"
			  "urn:li:msg_conversation:2-bench/1700000000000/-1";

struct input {
	const char *mode;
	const char *bytes;
	size_t len;
	void *packed;
	size_t packed_len;
	char *out;
	struct pack_ctx *ctx; /* the store's, made once */
};

/* The work callgrind counts. */
__attribute__((noinline)) static int bench_run(struct input *in, long n)
{
	for (long i = 0; i < n; i++) {
		if (strcmp(in->mode, "mix") == 0) {
			uint64_t k = old_sum(0x6c696e6b75706673ull,
					     (const void *)key, strlen(key));

			sink += old_sum(k, (const void *)in->bytes, in->len);
		} else if (strcmp(in->mode, "xxh3") == 0) {
			sink += pack_checksum(key, in->bytes, in->len);
		} else if (strcmp(in->mode, "compress") == 0) {
			size_t len = 0;
			void *p = pack_compress(in->bytes, in->len, &len);

			sink += len;
			free(p);
		} else if (pack_expand(in->ctx, in->packed, in->packed_len,
				       in->out, in->len) < 0) {
			return -1;
		}
	}
	return 0;
}

/* All of f, in a buffer grown as it comes. */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n;
	char *buf = malloc(cap);

	*len = 0;
	while (buf && (n = fread(buf + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			char *grown = realloc(buf, cap * 2);

			if (!grown)
				free(buf);
			buf = grown;
			cap *= 2;
		}
	}
	return buf;
}

int main(int argc, char *argv[])
{
	struct input in = {0};
	struct timespec t0, t1;
	long n;
	int r;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: pack_speed mix|xxh3|compress|expand N "
				"< FILE\n");
		return 2;
	}
	in.mode = argv[1];
	in.bytes = read_all(stdin, &in.len);
	if (!in.bytes || !in.len) {
		fprintf(stderr, "pack_speed: nothing to read on stdin\n");
		return 1;
	}
	in.packed = pack_compress(in.bytes, in.len, &in.packed_len);
	in.out = malloc(in.len);
	in.ctx = pack_ctx_new();
	if (!in.packed || !in.out || !in.ctx) {
		fprintf(stderr, "pack_speed: the input does not compress\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = bench_run(&in, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0 && strcmp(in.mode, "expand") == 0 &&
	    memcmp(in.out, in.bytes, in.len) != 0)
		r = -1;
	printf("bytes %zu packed %zu seconds %.6f\n", in.len, in.packed_len,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(in.packed);
	free(in.out);
	pack_ctx_free(in.ctx);
	free((void *)in.bytes);
	return r ? 1 : 0;
}
