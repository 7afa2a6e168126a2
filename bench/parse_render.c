/*
 * bench/parse_render.c - the CPU cost of one conversation page, for
 * callgrind (target 7 of the benchmark suite).
 *
 *   parse_render full|cjson N FILE
 *
 * FILE is a saved /v1/messages/conversation answer. "full" runs what
 * linkupfs does with a page N times: api_parse_conversation (parse, checks,
 * UTF-8 repair, the pretty-printed data_json) and render_messages (the text
 * of page-NNNN.txt). "cjson" runs cJSON_ParseWithLength alone on the same
 * bytes N times, the floor any JSON client pays. Both free what they built,
 * as linkupfs does.
 *
 * Only bench_run() is meant to be counted:
 *   valgrind --tool=callgrind --toggle-collect=bench_run ...
 * It prints the messages per page, so instructions per message is the
 * callgrind total / (N * messages).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api/api.h"
#include "../fs/text/buf.h"
#include "../fs/text/render.h"

enum mode { MODE_FULL, MODE_CJSON };

/* Keeps the compiler from dropping work whose result is unused. */
static volatile size_t sink;

static int run_full(const char *body, size_t len)
{
	struct api_error err = {0};
	struct api_page *page = NULL;
	struct buf txt = BUF_INIT;
	int r;

	r = api_parse_conversation(body, len, &page, &err);
	if (r < 0) {
		fprintf(stderr, "parse_render: %s\n", err.message);
		return r;
	}
	render_messages(&txt, page->messages, page->n_messages);
	sink += txt.len + strlen(page->data_json);
	buf_free(&txt);
	api_page_free(page);
	return 0;
}

static int run_cjson(const char *body, size_t len)
{
	cJSON *json = cJSON_ParseWithLength(body, len);

	if (!json) {
		fprintf(stderr, "parse_render: cJSON_Parse failed\n");
		return -1;
	}
	sink += (size_t)cJSON_GetArraySize(json);
	cJSON_Delete(json);
	return 0;
}

/* The counted part; noinline so callgrind can toggle on it by name. */
__attribute__((noinline)) int bench_run(enum mode mode, long n,
					const char *body, size_t len);
__attribute__((noinline)) int bench_run(enum mode mode, long n,
					const char *body, size_t len)
{
	for (long i = 0; i < n; i++) {
		int r = mode == MODE_FULL ? run_full(body, len)
					  : run_cjson(body, len);

		if (r < 0)
			return r;
	}
	return 0;
}

/* The whole file, NUL-terminated (cJSON_ParseWithLength does not need it,
 * but a stray strlen would not run off). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	data = malloc((size_t)size + 1);
	if (!data)
		goto out;
	if (fread(data, 1, (size_t)size, f) != (size_t)size) {
		free(data);
		data = NULL;
		goto out;
	}
	data[size] = '\0';
	*len = (size_t)size;
out:
	fclose(f);
	return data;
}

/* Messages in the page, from one uncounted parse. */
static long count_messages(const char *body, size_t len)
{
	struct api_error err = {0};
	struct api_page *page = NULL;
	long n;

	if (api_parse_conversation(body, len, &page, &err) < 0)
		return -1;
	n = (long)page->n_messages;
	api_page_free(page);
	return n;
}

int main(int argc, char *argv[])
{
	enum mode mode;
	size_t len = 0;
	char *body;
	long n, msgs;
	int r = 1;

	if (argc != 4 ||
	    (strcmp(argv[1], "full") && strcmp(argv[1], "cjson"))) {
		fprintf(stderr, "usage: %s full|cjson N FILE\n", argv[0]);
		return 2;
	}
	mode = strcmp(argv[1], "full") == 0 ? MODE_FULL : MODE_CJSON;
	n = strtol(argv[2], NULL, 10);
	body = slurp(argv[3], &len);
	if (!body) {
		perror(argv[3]);
		return 1;
	}
	tzset(); /* as linkupfs does once at start */
	msgs = count_messages(body, len);
	if (msgs < 0) {
		fprintf(stderr, "parse_render: %s is not a conversation page\n",
			argv[3]);
		goto out;
	}
	if (bench_run(mode, n, body, len) < 0)
		goto out;
	printf("messages %ld iterations %ld bytes %zu\n", msgs, n, len);
	r = 0;
out:
	free(body);
	return r;
}
