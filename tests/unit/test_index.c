/*
 * tests/unit/test_index.c - a conversation's index and chunk bodies: which
 * chunk holds a position, the text bytes before it, the position that
 * holds a byte (empty chunks included), and a body that is one block whose
 * cost covers what it holds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/text/buf.h"
#include "../../fs/model/internal.h"
#include "../../fs/text/render.h"

#include "check.h"

/* Chunks of 3, 0 (a page with nothing kept), 2 and 1 messages, then the
 * unknown chunk the walk goes on with. */
static const size_t chunk_n[] = {3, 0, 2, 1, 0};
static const uint32_t msg_len[] = {5, 1, 7, 2, 4, 3};
#define N_CHUNKS (sizeof(chunk_n) / sizeof(chunk_n[0]))
#define N_POS (sizeof(msg_len) / sizeof(msg_len[0]))

/* A message's bytes in track t: the JSON line twice the text. */
static uint32_t len_of(int t, size_t q)
{
	return t == CONV_TEXT ? msg_len[q] : 2 * msg_len[q];
}

static void make_index(struct conv *c, struct chunk *chunks, int64_t *ts,
		       uint32_t len[CONV_TRACKS][N_POS])
{
	size_t p = 0, bytes[CONV_TRACKS] = {0, 0};

	memset(c, 0, sizeof(*c));
	memset(chunks, 0, N_CHUNKS * sizeof(*chunks));
	for (size_t i = 0; i < N_CHUNKS; i++) {
		chunks[i].uid = (unsigned)i;
		chunks[i].n = chunk_n[i];
		chunks[i].first = p;
		for (int t = 0; t < CONV_TRACKS; t++)
			chunks[i].before[t] = bytes[t];
		for (size_t j = 0; j < chunk_n[i]; j++, p++)
			for (int t = 0; t < CONV_TRACKS; t++)
				bytes[t] += len_of(t, p);
	}
	for (size_t q = 0; q < N_POS; q++) {
		ts[q] = 1000 - (int64_t)q;
		for (int t = 0; t < CONV_TRACKS; t++)
			len[t][q] = len_of(t, q);
	}
	c->chunks = chunks;
	c->n_chunks = N_CHUNKS;
	c->ts = ts;
	for (int t = 0; t < CONV_TRACKS; t++)
		c->len[t] = len[t];
	c->n_pos = c->cap_pos = N_POS;
}

static void test_index(void)
{
	struct chunk chunks[N_CHUNKS];
	int64_t ts[N_POS];
	uint32_t len[CONV_TRACKS][N_POS];
	struct conv c;
	size_t want_chunk[N_POS] = {0, 0, 0, 2, 2, 3};

	make_index(&c, chunks, ts, len);
	for (int t = 0; t < CONV_TRACKS; t++) {
		size_t cum = 0, total = 0;

		for (size_t q = 0; q < N_POS; q++)
			total += len_of(t, q);
		for (size_t p = 0; p <= N_POS; p++) {
			CHECK(index_bytes_before(&c, t, p) == cum);
			if (p == N_POS)
				break;
			CHECK(index_chunk_of(&c, p) == want_chunk[p]);
			cum += len_of(t, p);
		}
		/* byte y - 1 lies in the p with before(p) < y <= before(p + 1)
		 */
		for (size_t y = 1; y <= total; y++) {
			size_t at = SIZE_MAX,
			       p = index_pos_of_byte(&c, t, y, &at);

			CHECK(p < N_POS);
			CHECK(at == index_bytes_before(&c, t, p));
			CHECK(at < y && y <= at + len_of(t, p));
		}
	}
}

static void test_body(void)
{
	struct api_message msgs[3] = {
		{.text = "newest",
		 .text_len = 6,
		 .timestamp_ms = 3000,
		 .sender = "Ann",
		 .message_type = "TEXT",
		 .entity_urn = "urn:3",
		 .json = "{\"n\":3}",
		 .json_len = 7},
		{.text = "middle\nline",
		 .text_len = 11,
		 .timestamp_ms = 2000,
		 .sender = "Bob",
		 .message_type = "TEXT",
		 .entity_urn = "urn:2",
		 .json = "{\"n\":2}",
		 .json_len = 7},
		{.text = "oldest",
		 .text_len = 6,
		 .timestamp_ms = 1000,
		 .sender = "Ann",
		 .message_type = "TEXT",
		 .entity_urn = "urn:1",
		 .json = "{\"n\":1}",
		 .json_len = 7},
	};
	const char *lines = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n";
	struct taken t = {.kept = msgs, .n = 3};
	struct buf want = BUF_INIT;
	struct chunk_body *b = chunk_body_build(&t);

	CHECK(b != NULL);
	if (!b)
		return;
	for (size_t i = 3; i-- > 0;) /* oldest first */
		render_message(&want, &msgs[i]);
	CHECK(b->n == 3);
	CHECK(b->off[CONV_TEXT][0] == 0 && b->off[CONV_TEXT][3] == want.len);
	CHECK(strcmp(b->bytes[CONV_TEXT], want.data) == 0);
	CHECK(strcmp(b->bytes[CONV_JSONL], lines) == 0);
	CHECK(b->off[CONV_JSONL][1] == 8 && b->off[CONV_JSONL][3] == 24);
	CHECK(b->ts[0] == 1000 && b->ts[2] == 3000);
	CHECK(chunk_body_cost(b) >= sizeof(*b) + 8 * sizeof(size_t) +
					    3 * sizeof(int64_t) + want.len + 1 +
					    strlen(lines) + 1);
	buf_free(&want);
	chunk_body_free(b);
}

int main(void)
{
	test_index();
	test_body();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
