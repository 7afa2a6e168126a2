/*
 * tests/unit/test_view.c - a conversation's files over its chunks, with no
 * network: a chain of three chunks (the middle one empty, as a page whose
 * messages were all repeats) is spliced in at the end of the chain, as the
 * parallel walk does, and every file is read in pieces of every size:
 * pages count from the oldest message across chunk boundaries, the
 * transcript and messages.jsonl are the pages end to end, sizes are
 * exact, and a read past the end is empty.
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
	char buf[512];

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
	lru_free(cache);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
