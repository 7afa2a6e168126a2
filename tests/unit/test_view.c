/*
 * tests/unit/test_view.c - a conversation's files over its chunks, with no
 * network: a chain of three chunks (the middle one empty, as a page whose
 * messages were all repeats) is spliced in at the end of the chain, as the
 * parallel walk does, and every file is read in pieces of every size:
 * pages count from the oldest message across chunk boundaries, the
 * transcript and messages.jsonl are the pages end to end, sizes are
 * exact, and a read past the end is empty. Then a chain of one-message
 * chunks (what refreshes leave): a read's bytes in place span more chunks
 * than a read holds in itself, and flattened they are the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/model/internal.h"
#include "../../fs/text/render.h"

#include "check.h"

#define PER_PAGE 3

/* Messages oldest first: m[0] .. m[4]; chunks newest first hold m[4..2],
 * nothing, m[1..0]. */
static struct api_message msgs[5];
static char texts[5][32], jsons[5][64], urns[5][16];

static void make_messages(void)
{
	for (int i = 0; i < 5; i++) {
		snprintf(texts[i], sizeof(texts[i]), "message %d%s", i,
			 i == 2 ? "\nsecond line" : "");
		snprintf(jsons[i], sizeof(jsons[i]), "{\"n\":%d}", i);
		snprintf(urns[i], sizeof(urns[i]), "urn:%d", i);
		msgs[i] = (struct api_message){.text = texts[i],
					       .text_len = strlen(texts[i]),
					       .timestamp_ms = 1000 * (i + 1),
					       .sender = "Ann",
					       .message_type = "TEXT",
					       .entity_urn = urns[i],
					       .json = jsons[i],
					       .json_len = strlen(jsons[i])};
	}
}

/* A chunk of the messages [from, to) (oldest first), newest first as the
 * API sends them. */
static struct chunk_body *body_of(int from, int to, struct chunk *k, bool last)
{
	struct api_message kept[5];
	struct taken t = {.kept = kept, .n = 0};

	for (int i = to - 1; i >= from; i--)
		kept[t.n++] = msgs[i];
	*k = (struct chunk){.known = true,
			    .n = t.n,
			    .has_next = !last,
			    .floor_ms = INT64_MIN};
	k->cursor = chunk_cursor_of(1000 * (to + 1));
	k->next_cursor = last ? NULL : chunk_cursor_of(1000 * (from + 1));
	return chunk_body_build(&t);
}

static char *expect(enum conv_track t, int from, int to)
{
	struct buf b = BUF_INIT;
	size_t n;

	for (int i = from; i < to; i++) {
		if (t == CONV_TEXT) {
			render_message(&b, &msgs[i]);
		} else {
			buf_puts(&b, jsons[i]);
			buf_putc(&b, '\n');
		}
	}
	return buf_steal(&b, &n);
}

/* Read a whole file piece by piece; every piece as asked or the end. */
static void check_file(struct conv *c, enum conv_file kind, unsigned page,
		       const char *want)
{
	size_t len = want ? strlen(want) : 0;
	struct conv_attr a;
	char *buf = malloc(len + 1);

	CHECK(conv_file_attr(c, kind, page, &a) == 0 && a.size == len);
	for (size_t piece = 1; piece <= len + 1; piece++) {
		size_t off = 0;
		ssize_t got;

		while ((got = conv_file_read(c, kind, page, buf, piece,
					     (off_t)off)) > 0) {
			CHECK(off + (size_t)got <= len &&
			      memcmp(buf, want + off, (size_t)got) == 0);
			/* never short before the end */
			CHECK((size_t)got == piece || off + (size_t)got == len);
			off += (size_t)got;
		}
		CHECK(got == 0 && off == len);
	}
	free(buf);
}

/* The bytes of rd, joined (malloc'd). */
static char *joined(const struct conv_read *rd)
{
	char *out = malloc(rd->len + 1), *p = out;
	size_t sum = 0;

	for (size_t i = 0; i < rd->n; i++) {
		memcpy(p, rd->iov[i].iov_base, rd->iov[i].iov_len);
		p += rd->iov[i].iov_len;
		sum += rd->iov[i].iov_len;
	}
	CHECK(sum == rd->len);
	*p = '\0';
	return out;
}

#define SMALL 300 /* one-message chunks: more than CONV_READ_SPANS */

static struct api_message small_msgs[SMALL];

/* SMALL messages, one per chunk, into c; their transcript into want */
static void splice_small(struct conv *c, struct buf *want)
{
	static char text[SMALL][24], urn[SMALL][16];
	struct chunk chunks[SMALL];
	struct chunk_body *bodies[SMALL];

	for (int i = 0; i < SMALL; i++) { /* oldest first */
		snprintf(text[i], sizeof(text[i]), "small %d", i);
		snprintf(urn[i], sizeof(urn[i]), "urn:s%d", i);
		small_msgs[i] =
			(struct api_message){.text = text[i],
					     .text_len = strlen(text[i]),
					     .timestamp_ms = 1000 * (i + 1),
					     .sender = "Bob",
					     .message_type = "TEXT",
					     .entity_urn = urn[i],
					     .json = "{}",
					     .json_len = 2};
		render_message(want, &small_msgs[i]);
	}
	for (int k = 0; k < SMALL; k++) { /* newest chunk first */
		int i = SMALL - 1 - k;
		struct taken t = {.kept = &small_msgs[i], .n = 1};

		chunks[k] = (struct chunk){.known = true,
					   .n = 1,
					   .has_next = i > 0,
					   .floor_ms = INT64_MIN};
		chunks[k].cursor = chunk_cursor_of(1000 * (i + 2));
		chunks[k].next_cursor =
			i ? chunk_cursor_of(1000 * (i + 1)) : NULL;
		bodies[k] = chunk_body_build(&t);
	}
	CHECK(conv_splice(c, 0, chunks, bodies, SMALL) == 0);
}

static void check_small_chunks(struct lru *cache)
{
	struct conv_env env = {.cache = cache, .page_size = 100, .parallel = 1};
	struct conv *c = conv_new(&env, 1, "bob", "urn:bob", NULL);
	struct buf want = BUF_INIT;
	struct conv_read rd;
	char *got, *all;
	size_t len;

	splice_small(c, &want);
	all = buf_steal(&want, &len);
	CHECK(conv_file_spans(c, CONV_TRANSCRIPT, 0, len + 10, 0, &rd) ==
	      (ssize_t)len);
	CHECK(rd.n == SMALL && rd.iov != rd.iov_in); /* grew past the struct */
	got = joined(&rd);
	CHECK(strcmp(got, all) == 0);
	free(got);
	CHECK(conv_read_flatten(&rd) == 0 && rd.n == 1 && rd.len == len);
	got = joined(&rd);
	CHECK(strcmp(got, all) == 0);
	free(got);
	conv_read_done(&rd);
	CHECK(rd.n == 0 && rd.len == 0);
	/* from inside a message, across chunks, to inside another */
	CHECK(conv_file_spans(c, CONV_TRANSCRIPT, 0, len / 2, 3, &rd) ==
	      (ssize_t)(len / 2));
	got = joined(&rd);
	CHECK(memcmp(got, all + 3, len / 2) == 0);
	free(got);
	conv_read_done(&rd);
	free(all);
	for (int i = 200; i < SMALL; i++) /* page 3: a hundred chunks */
		render_message(&want, &small_msgs[i]);
	all = buf_steal(&want, &len);
	check_file(c, CONV_PAGE_TXT, 3, all);
	free(all);
	conv_free(c);
}

int main(void)
{
	struct lru *cache = lru_new(1 << 20);
	struct conv_env env = {.cache = cache,
			       .page_size = PER_PAGE,
			       .ttl = 60,
			       .parallel = 1};
	struct conv *c = conv_new(&env, 0, "ann", "urn:conv", NULL);
	struct chunk chunks[3];
	struct chunk_body *bodies[3];
	unsigned pages = 0;
	struct conv_attr a;

	setenv("TZ", "UTC", 1);
	tzset();
	make_messages();
	bodies[0] = body_of(2, 5, &chunks[0], false);
	bodies[1] = body_of(2, 2, &chunks[1], false); /* kept nothing */
	bodies[2] = body_of(0, 2, &chunks[2], true);
	/* the end of the chain: in place of the unknown newest chunk */
	CHECK(conv_splice(c, 0, chunks, bodies, 3) == 0);
	CHECK(conv_page_count(c, &pages) == 0 && pages == 2);
	for (int t = 0; t < CONV_TRACKS; t++) {
		enum conv_file page =
			t == CONV_TEXT ? CONV_PAGE_TXT : CONV_PAGE_JSONL;
		enum conv_file whole =
			t == CONV_TEXT ? CONV_TRANSCRIPT : CONV_MESSAGES;
		char *p1 = expect(t, 0, 3), *p2 = expect(t, 3, 5);
		char *all = expect(t, 0, 5);

		check_file(c, page, 1, p1); /* across the empty chunk */
		check_file(c, page, 2, p2);
		check_file(c, whole, 0, all);
		CHECK(conv_file_attr(c, page, 3, &a) == -ENOENT);
		free(p1);
		free(p2);
		free(all);
	}
	CHECK(conv_file_attr(c, CONV_PAGE_TXT, 1, &a) == 0 && a.messages == 3 &&
	      a.mtime == 3);
	CHECK(conv_file_attr(c, CONV_PAGE_TXT, 2, &a) == 0 && a.messages == 2 &&
	      a.mtime == 5);
	conv_free(c);
	check_small_chunks(cache);
	lru_free(cache);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
