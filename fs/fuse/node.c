/*
 * fs/fuse/node.c - the codec of inode numbers and file names (node.h).
 */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The files every conversation has, in listing order; their code is
 * their row + 1. Page files follow, two per page. */
static const struct {
	const char *name;
	enum conv_file file;
} whole_files[] = {
	{"conversation.json", CONV_META_JSON},
	{"transcript.txt", CONV_TRANSCRIPT},
	{"messages.jsonl", CONV_MESSAGES},
};

#define N_WHOLE (sizeof(whole_files) / sizeof(whole_files[0]))

/* The code of a page file: the k-th file after the whole ones, the text
 * and the JSON Lines of page p being files 2(p - 1) and 2(p - 1) + 1. */
static fuse_ino_t page_code(unsigned page, enum conv_file file)
{
	return N_WHOLE + 1 + 2 * ((fuse_ino_t)page - 1) +
	       (file == CONV_PAGE_JSONL);
}

static const char *page_ext(enum conv_file file)
{
	return file == CONV_PAGE_JSONL ? ".jsonl" : ".txt";
}

fuse_ino_t node_ino(const struct node_id *id)
{
	fuse_ino_t dir = ((fuse_ino_t)id->conv + 1) << 32;

	switch (id->kind) {
	case NODE_ROOT:
		return FUSE_ROOT_ID;
	case NODE_STATS:
		return INO_STATS;
	case NODE_CONV:
		return dir;
	case NODE_FILE:
		break;
	}
	for (size_t i = 0; i < N_WHOLE; i++)
		if (whole_files[i].file == id->file)
			return dir | (i + 1);
	return dir | page_code(id->page, id->file);
}

int node_from_ino(fuse_ino_t ino, struct node_id *id)
{
	fuse_ino_t code = ino & 0xffffffffu, high = ino >> 32;

	memset(id, 0, sizeof(*id));
	if (ino == FUSE_ROOT_ID) {
		id->kind = NODE_ROOT;
		return 0;
	}
	if (ino == INO_STATS) {
		id->kind = NODE_STATS;
		return 0;
	}
	if (high == 0 || high > 0xffffffffu)
		return -ENOENT;
	id->conv = (unsigned)(high - 1);
	id->kind = NODE_CONV;
	if (code == 0)
		return 0;
	id->kind = NODE_FILE;
	if (code <= N_WHOLE) {
		id->file = whole_files[code - 1].file;
		return 0;
	}
	code -= N_WHOLE + 1;
	id->page = (unsigned)(code / 2) + 1;
	id->file = code % 2 ? CONV_PAGE_JSONL : CONV_PAGE_TXT;
	return id->page > NODE_MAX_PAGE ? -ENOENT : 0;
}

void node_file_name(const struct node_id *id, char *buf, size_t size)
{
	for (size_t i = 0; i < N_WHOLE; i++) {
		if (whole_files[i].file == id->file) {
			snprintf(buf, size, "%s", whole_files[i].name);
			return;
		}
	}
	snprintf(buf, size, "page-%04u%s", id->page, page_ext(id->file));
}

int node_file_from_name(unsigned conv, const char *name, struct node_id *id)
{
	char canon[32];
	unsigned long page;
	char *end;

	*id = (struct node_id){.kind = NODE_FILE, .conv = conv};
	for (size_t i = 0; i < N_WHOLE; i++) {
		if (strcmp(name, whole_files[i].name) == 0) {
			id->file = whole_files[i].file;
			return 0;
		}
	}
	if (strncmp(name, "page-", 5) != 0 || name[5] < '0' || name[5] > '9')
		return -ENOENT;
	page = strtoul(name + 5, &end, 10);
	if (page < 1 || page > NODE_MAX_PAGE)
		return -ENOENT;
	id->page = (unsigned)page;
	id->file = strcmp(end, ".jsonl") == 0 ? CONV_PAGE_JSONL : CONV_PAGE_TXT;
	node_file_name(id, canon, sizeof(canon)); /* "page-7.txt" is no name */
	return strcmp(canon, name) == 0 ? 0 : -ENOENT;
}

int node_file_at(unsigned conv, unsigned pages, size_t k, struct node_id *id)
{
	*id = (struct node_id){.kind = NODE_FILE, .conv = conv};
	if (k < N_WHOLE) {
		id->file = whole_files[k].file;
		return 0;
	}
	k -= N_WHOLE;
	if (k >= 2 * (size_t)pages)
		return -ENOENT;
	id->page = (unsigned)(k / 2) + 1;
	id->file = k % 2 ? CONV_PAGE_JSONL : CONV_PAGE_TXT;
	return 0;
}
