/*
 * tests/unit/test_node.c - the codec of inode numbers and file names: every
 * node a conversation has goes to a number and a name and back to itself,
 * numbers of different nodes differ, and names that are not ours name
 * nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../fs/fuse/node.h"

#include "check.h"

static bool same(const struct node_id *a, const struct node_id *b)
{
	return a->kind == b->kind && a->conv == b->conv &&
	       (a->kind != NODE_FILE ||
		(a->file == b->file && a->page == b->page));
}

/* Every file of a conversation with 3 pages, listed, named, numbered. */
static void test_round_trip(void)
{
	const char *want[] = {
		"conversation.json", "transcript.txt",	"messages.jsonl",
		"page-0001.txt",     "page-0001.jsonl", "page-0002.txt",
		"page-0002.jsonl",   "page-0003.txt",	"page-0003.jsonl"};
	fuse_ino_t seen[16];
	struct node_id id, back;
	size_t k;

	for (k = 0; node_file_at(7, 3, k, &id) == 0; k++) {
		char name[64];

		CHECK(k < sizeof(want) / sizeof(want[0]));
		if (k >= sizeof(want) / sizeof(want[0]))
			break;
		node_file_name(&id, name, sizeof(name));
		CHECK(strcmp(name, want[k]) == 0);
		CHECK(node_file_from_name(7, name, &back) == 0);
		CHECK(same(&id, &back));
		seen[k] = node_ino(&id);
		CHECK(node_from_ino(seen[k], &back) == 0);
		CHECK(same(&id, &back));
		CHECK((seen[k] >> 32) == 8); /* place 7 + 1 */
		for (size_t j = 0; j < k; j++)
			CHECK(seen[j] != seen[k]);
	}
	CHECK(k == sizeof(want) / sizeof(want[0]));
}

static void test_root_stats_and_directories(void)
{
	struct node_id id = {.kind = NODE_ROOT}, back;

	CHECK(node_ino(&id) == FUSE_ROOT_ID);
	CHECK(node_from_ino(FUSE_ROOT_ID, &back) == 0 &&
	      back.kind == NODE_ROOT);
	id.kind = NODE_STATS;
	CHECK(node_from_ino(node_ino(&id), &back) == 0 &&
	      back.kind == NODE_STATS);
	id = (struct node_id){.kind = NODE_CONV, .conv = 0};
	CHECK(node_ino(&id) == (fuse_ino_t)1 << 32);
	CHECK(node_from_ino(node_ino(&id), &back) == 0 && same(&id, &back));
	id.conv = 0xfffffffeu; /* the last place there is */
	CHECK(node_from_ino(node_ino(&id), &back) == 0 && same(&id, &back));
}

static void test_what_names_nothing(void)
{
	const char *names[] = {"page-1.txt",	   "page-0000.txt",
			       "page-0001.json",   "page-0001.txt.bak",
			       "page-+001.txt",	   "page-00001.txt",
			       "Transcript.txt",   "",
			       "page-1000000.txt", ".stats"};
	struct node_id id;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(node_file_from_name(0, names[i], &id) == -ENOENT);
	CHECK(node_from_ino(3, &id) == -ENOENT); /* below any directory */
	CHECK(node_from_ino(((fuse_ino_t)1 << 32) | 0xffffffffu, &id) ==
	      -ENOENT); /* past the last page */
	CHECK(node_file_at(0, 0, 3, &id) ==
	      -ENOENT); /* no page, no page file */
	/* a page as large as names go is still a name */
	CHECK(node_file_from_name(0, "page-999999.jsonl", &id) == 0 &&
	      id.page == 999999 && id.file == CONV_PAGE_JSONL);
}

int main(void)
{
	test_round_trip();
	test_root_stats_and_directories();
	test_what_names_nothing();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
