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

#include "../../fs/buf.h"
#include "../../fs/conv_impl.h"
#include "../../fs/render.h"

#include "check.h"

/* Chunks of 3, 0 (a page with nothing kept), 2 and 1 messages, then the
 * unknown chunk the walk goes on with. */
static const size_t chunk_n[] = {3, 0, 2, 1, 0};
static const uint32_t msg_len[] = {5, 1, 7, 2, 4, 3};
#define N_CHUNKS (sizeof(chunk_n) / sizeof(chunk_n[0]))
#define N_POS (sizeof(msg_len) / sizeof(msg_len[0]))

static void make_index(struct conv *c, struct chunk *chunks, int64_t *ts,
		       uint32_t *len)
{
	size_t p = 0, bytes = 0;

	memset(c, 0, sizeof(*c));
	memset(chunks, 0, N_CHUNKS * sizeof(*chunks));
	for (size_t i = 0; i < N_CHUNKS; i++) {
		chunks[i].uid = (unsigned)i;
		chunks[i].n = chunk_n[i];
		chunks[i].first = p;
		chunks[i].before = bytes;
		for (size_t j = 0; j < chunk_n[i]; j++, p++)
			bytes += msg_len[p];
	}
	for (size_t q = 0; q < N_POS; q++) {
		ts[q] = 1000 - (int64_t)q;
		len[q] = msg_len[q];
	}
	c->chunks = chunks;
	c->n_chunks = N_CHUNKS;
	c->ts = ts;
	c->len = len;
	c->n_pos = c->cap_pos = N_POS;
}

static void test_index(void)
{
	struct chunk chunks[N_CHUNKS];
	int64_t ts[N_POS];
	uint32_t len[N_POS];
	struct conv c;
	size_t want_chunk[N_POS] = {0, 0, 0, 2, 2, 3}, cum = 0, total = 0;

	make_index(&c, chunks, ts, len);
	for (size_t q = 0; q < N_POS; q++)
		total += msg_len[q];
	for (size_t p = 0; p <= N_POS; p++) {
		CHECK(bytes_before(&c, p) == cum);
		if (p == N_POS)
			break;
		CHECK(chunk_of_pos(&c, p) == want_chunk[p]);
		cum += msg_len[p];
	}
	/* byte y - 1 lies in the p with before(p) < y <= before(p + 1) */
	for (size_t y = 1; y <= total; y++) {
		size_t at = SIZE_MAX, p = pos_of_byte(&c, y, &at);

		CHECK(p < N_POS);
		CHECK(at == bytes_before(&c, p));
		CHECK(at < y && y <= at + msg_len[p]);
	}
}

static void test_body(void)
{
	struct api_message msgs[3] = {
		{"newest", 6, 3000, "Ann", "TEXT", "urn:3", NULL, 0},
		{"middle\nline", 11, 2000, "Bob", "TEXT", "urn:2", NULL, 0},
		{"oldest", 6, 1000, "Ann", "TEXT", "urn:1", NULL, 0},
	};
	int orig[3] = {0, 1, 2};
	char json[] = "{\"messages\":[]}\n";
	struct api_page page = {.messages = msgs, .n_messages = 3,
				.data_json = json};
	struct taken t = {.kept = msgs, .orig = orig, .n = 3};
	struct buf want = BUF_INIT;
	struct chunk_body *b = build_body(&page, &t);

	CHECK(b != NULL);
	if (!b)
		return;
	for (size_t i = 3; i-- > 0;) /* oldest first */
		render_message(&want, &msgs[i]);
	CHECK(b->n == 3);
	CHECK(b->off[0] == 0 && b->off[3] == want.len);
	CHECK(strcmp(b->txt, want.data) == 0);
	CHECK(b->ts[0] == 1000 && b->ts[2] == 3000);
	CHECK(b->orig[0] == 2 && b->orig[2] == 0);
	CHECK(b->json_len == strlen(json) && strcmp(b->data_json, json) == 0);
	CHECK(chunk_body_cost(b) >=
	      sizeof(*b) + 4 * sizeof(size_t) +
		      3 * (sizeof(int64_t) + sizeof(int)) + want.len + 1 +
		      strlen(json) + 1);
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
