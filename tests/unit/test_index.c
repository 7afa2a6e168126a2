/*
 * tests/unit/test_index.c - a conversation's index and chunk bodies: which
 * chunk holds a position, the text bytes before it, the position that
 * holds a byte (empty chunks included), messages of 64 KiB and more (their
 * lengths kept apart) through appends, a prepend and a fit, and a body that
 * is one block whose cost covers what it holds.
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
static uint16_t len_of(int t, size_t q)
{
	return (uint16_t)(t == CONV_TEXT ? msg_len[q] : 2 * msg_len[q]);
}

static void make_index(struct conv *c, struct chunk *chunks, uint32_t *sec,
		       uint16_t len[CONV_TRACKS][N_POS])
{
	size_t p = 0, bytes[CONV_TRACKS] = {0, 0};

	memset(c, 0, sizeof(*c));
	memset(chunks, 0, N_CHUNKS * sizeof(*chunks));
	for (size_t i = 0; i < N_CHUNKS; i++) {
		chunks[i].uid = (unsigned)i;
		chunks[i].n = chunk_n[i];
		chunks[i].first = p;
		chunks[i].newest_ms = 1000000 - (int64_t)p * 1000 - 1;
		chunks[i].oldest_ms =
			1000000 - (int64_t)(p + chunk_n[i] - 1) * 1000 - 2;
		for (int t = 0; t < CONV_TRACKS; t++)
			chunks[i].before[t] = bytes[t];
		for (size_t j = 0; j < chunk_n[i]; j++, p++)
			for (int t = 0; t < CONV_TRACKS; t++)
				bytes[t] += len_of(t, p);
	}
	for (size_t q = 0; q < N_POS; q++) {
		sec[q] = 1000 - (uint32_t)q;
		for (int t = 0; t < CONV_TRACKS; t++)
			len[t][q] = len_of(t, q);
	}
	c->chunks = chunks;
	c->n_chunks = N_CHUNKS;
	c->sec = sec;
	for (int t = 0; t < CONV_TRACKS; t++)
		c->len[t] = len[t];
	c->n_pos = c->cap_pos = N_POS;
}

static void test_index(void)
{
	struct chunk chunks[N_CHUNKS];
	uint32_t sec[N_POS];
	uint16_t len[CONV_TRACKS][N_POS];
	struct conv c;
	size_t want_chunk[N_POS] = {0, 0, 0, 2, 2, 3};

	make_index(&c, chunks, sec, len);
	/* the ends in ms from the chunks that hold them (not the empty ones
	 * around them), the others to the second */
	CHECK(index_newest_ms(&c) == 999999);
	CHECK(index_oldest_ms(&c) == 1000000 - 5 * 1000 - 2);
	for (size_t q = 0; q < N_POS; q++)
		CHECK(index_time_of(&c, q) == (time_t)(1000 - q));
	c.n_pos = 0;
	CHECK(index_newest_ms(&c) == INT64_MIN);
	CHECK(index_oldest_ms(&c) == INT64_MIN);
	c.n_pos = N_POS;
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

/* A body of n messages of text[i] and 2 * text[i] bytes (oldest first),
 * sent at ms0 + i seconds; its bytes are left as allocated. */
static struct chunk_body *sized_body(size_t n, const size_t *text, int64_t ms0)
{
	size_t len[CONV_TRACKS] = {0, 0};
	struct chunk_body *b;

	for (size_t i = 0; i < n; i++)
		len[CONV_TEXT] += text[i], len[CONV_JSONL] += 2 * text[i];
	b = chunk_body_alloc(n, len);
	if (!b)
		return NULL;
	b->off[CONV_TEXT][0] = b->off[CONV_JSONL][0] = 0;
	for (size_t i = 0; i < n; i++) {
		b->off[CONV_TEXT][i + 1] = b->off[CONV_TEXT][i] + text[i];
		b->off[CONV_JSONL][i + 1] = b->off[CONV_JSONL][i] + 2 * text[i];
		b->ts[i] = ms0 + (int64_t)i * 1000;
	}
	return b;
}

/* The lengths of positions 0.. (newest first) are want[], in both
 * tracks, and the bytes before each add up. */
static void check_lengths(const struct conv *c, const size_t *want, size_t n)
{
	size_t before = 0;

	CHECK(c->n_pos == n);
	for (size_t p = 0; p < n; p++) {
		size_t at = SIZE_MAX;

		CHECK(index_len(c, CONV_TEXT, p) == want[p]);
		CHECK(index_len(c, CONV_JSONL, p) == 2 * want[p]);
		CHECK(index_bytes_before(c, CONV_TEXT, p) == before);
		CHECK(index_pos_of_byte(c, CONV_TEXT, before + 1, &at) == p);
		CHECK(at == before);
		before += want[p];
	}
}

static void test_big_messages(void)
{
	/* oldest first in each body; 40 000 bytes of text is 80 000 of JSON:
	 * big in one track only */
	const size_t older[] = {70000, 10, 40000}, newer[] = {5, 65535};
	const size_t want1[] = {40000, 10, 70000},
		     want2[] = {65535, 5, 40000, 10, 70000};
	struct chunk chunks[2];
	struct chunk_body *b1 = sized_body(3, older, 1000000),
			  *b2 = sized_body(2, newer, 2000000);
	struct conv c;

	CHECK(b1 && b2);
	if (!b1 || !b2)
		return;
	memset(&c, 0, sizeof(c));
	memset(chunks, 0, sizeof(chunks));
	c.chunks = chunks;
	c.n_chunks = 1;
	chunks[0].n = 3;
	chunks[0].known = true; /* and no next: the chain is complete */
	/* room for exactly the big ones: 70 000 and 40 000 (its JSON line) */
	CHECK(index_reserve(&c, (const struct chunk_body *const *)&b1, 1) == 0);
	CHECK(c.cap_pos >= 3 && c.cap_big == 2);
	index_append(&c, 0, b1);
	check_lengths(&c, want1, 3);
	CHECK(c.n_big == 2);
	/* newer messages in front: the big ones move with their positions */
	CHECK(index_shift(&c, (const struct chunk_body *const *)&b2, 1) == 0);
	CHECK(c.cap_pos == 5 && c.cap_big == 3);
	chunks[1] = chunks[0];
	chunks[1].first = 2;
	chunks[1].before[CONV_TEXT] = 65540;
	chunks[1].before[CONV_JSONL] = 2 * 65540;
	chunks[0].n = 2;
	c.n_chunks = 2;
	c.n_pos = 0;
	index_append(&c, 0, b2);
	c.n_pos = 5;
	check_lengths(&c, want2, 5);
	CHECK(c.n_big == 3 && c.big[0].pos == 0 && c.big[2].pos == 4);
	CHECK(index_newest_ms(&c) == 2001000 && index_oldest_ms(&c) == 1000000);
	CHECK(index_time_of(&c, 2) == 1002);
	/* a chain read anew, shorter: the fit forgets what lay past it */
	c.n_pos = 3;
	chunks[1].n = 1;
	index_fit(&c);
	CHECK(c.n_big == 2 && c.cap_big == 2 && c.cap_pos == 3);
	CHECK(index_len(&c, CONV_TEXT, 2) == 40000);
	free(c.sec);
	free(c.len[CONV_TEXT]);
	free(c.len[CONV_JSONL]);
	free(c.big);
	chunk_body_free(b1);
	chunk_body_free(b2);
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
	test_big_messages();
	test_body();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
