/*
 * tests/unit/test_store.c - the persistent store (cache/store.h): get and
 * put across a close, least recently used eviction under the budget, a
 * damaged blob dropped and never handed out, refusals (permissions, a
 * second opener); and the body records of fs/model/keep.h, there and back.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cache/store.h"
#include "../../fs/model/keep.h"
#include "check.h"

static char dir[256];

static void fresh_dir(const char *name)
{
	char cmd[400];

	snprintf(dir, sizeof(dir), "/tmp/linkupfs-unit-store-%d-%s",
		 (int)getpid(), name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

static struct store *open_ok(uint64_t budget)
{
	struct store *s = NULL;
	char why[256];

	CHECK(store_open(dir, budget, &s, why, sizeof(why)) == 0);
	return s;
}

static bool has(struct store *s, const char *key, const char *want)
{
	void *v = NULL;
	size_t len = 0;
	bool ok = store_get(s, key, &v, &len) == 0 && len == strlen(want) &&
		  memcmp(v, want, len) == 0;

	free(v);
	return ok;
}

static void test_put_get_across_close(void)
{
	struct store *s;
	struct store_stats st;
	struct stat sb;
	char path[300];

	fresh_dir("basic");
	s = open_ok(1 << 20);
	CHECK(store_put(s, "k1", "hello", 5) == 0);
	CHECK(store_put(s, "k2", "", 0) == 0);
	CHECK(store_put(s, "k1", "hello again", 11) == 0); /* replaced */
	CHECK(has(s, "k1", "hello again") && has(s, "k2", ""));
	store_close(s);
	s = open_ok(1 << 20);
	CHECK(has(s, "k1", "hello again"));
	store_get_stats(s, &st);
	CHECK(st.bytes == 11 && st.entries == 2 && st.hits == 1);
	CHECK(!has(s, "k3", "x"));
	store_delete(s, "k1");
	CHECK(!has(s, "k1", "hello again"));
	store_get_stats(s, &st);
	CHECK(st.misses == 2 && st.entries == 1 && st.bytes == 0);
	CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	store_close(s);
}

static void test_lru_eviction(void)
{
	struct store *s;
	struct store_stats st;
	char v[100];

	fresh_dir("lru");
	memset(v, 'x', sizeof(v));
	s = open_ok(300);
	CHECK(store_put(s, "a", v, 100) == 0);
	CHECK(store_put(s, "b", v, 100) == 0);
	CHECK(store_put(s, "c", v, 100) == 0);
	store_get_stats(s, &st);
	CHECK(st.bytes == 300);
	{
		void *got = NULL;
		size_t len;

		CHECK(store_get(s, "a", &got, &len) == 0); /* b the oldest */
		free(got);
	}
	CHECK(store_put(s, "d", v, 100) == 0);
	store_get_stats(s, &st);
	CHECK(st.bytes == 300 && st.entries == 3 && st.evicted == 1);
	{
		void *got = NULL;
		size_t len;

		CHECK(store_get(s, "b", &got, &len) == -ENOENT);
		CHECK(store_get(s, "a", &got, &len) == 0);
		free(got);
	}
	{
		char big[301] = {0};

		CHECK(store_put(s, "too big", big, sizeof(big)) == -EFBIG);
	}
	store_close(s);
}

static void test_damage_is_dropped(void)
{
	char path[300], sql[200];
	struct store_stats st;
	struct store *s;
	sqlite3 *db;
	void *got = NULL;
	size_t len;

	fresh_dir("damage");
	s = open_ok(1 << 20);
	CHECK(store_put(s, "kept", "the right bytes", 15) == 0);
	store_close(s);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "UPDATE blob SET value=CAST('the wrong bytes' AS BLOB)");
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	s = open_ok(1 << 20);
	CHECK(store_get(s, "kept", &got, &len) == -ENOENT && !got);
	store_get_stats(s, &st);
	CHECK(st.damaged == 1 && st.entries == 0);
	store_close(s);
}

static void test_refusals(void)
{
	struct store *s = NULL, *t = NULL;
	char why[256], path[300];

	fresh_dir("refuse");
	s = open_ok(1 << 20);
	CHECK(store_open(dir, 1 << 20, &t, why, sizeof(why)) == -EBUSY);
	CHECK(strstr(why, "in use") != NULL && !t);
	store_close(s);
	CHECK(chmod(dir, 0755) == 0);
	CHECK(store_open(dir, 1 << 20, &t, why, sizeof(why)) == -EPERM);
	CHECK(strstr(why, "chmod 700") != NULL);
	CHECK(chmod(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	CHECK(chmod(path, 0640) == 0);
	CHECK(store_open(dir, 1 << 20, &t, why, sizeof(why)) == -EPERM);
	CHECK(strstr(why, "chmod 600") != NULL);
}

static void test_body_record_round_trip(void)
{
	size_t len[CONV_TRACKS] = {5, 9}, n;
	struct chunk_body *b = chunk_body_alloc(2, len), *back;
	char *bytes;

	CHECK(b != NULL);
	memcpy(b->bytes[CONV_TEXT], "ab\ncd", 6);
	memcpy(b->bytes[CONV_JSONL], "{1}\n{22}\n", 10);
	b->off[CONV_TEXT][0] = 0, b->off[CONV_TEXT][1] = 3;
	b->off[CONV_TEXT][2] = 5;
	b->off[CONV_JSONL][0] = 0, b->off[CONV_JSONL][1] = 4;
	b->off[CONV_JSONL][2] = 9;
	b->ts[0] = 1000, b->ts[1] = 2000;
	bytes = keep_body_encode(b, &n);
	CHECK(bytes != NULL);
	back = keep_body_decode(bytes, n);
	CHECK(back && back->n == 2 && back->ts[1] == 2000);
	CHECK(back && memcmp(back->bytes[CONV_JSONL], "{1}\n{22}\n", 9) == 0);
	CHECK(back && back->off[CONV_TEXT][2] == 5);
	CHECK(keep_body_decode(bytes, n - 1) == NULL); /* cut short */
	bytes[32 + 8] = 9; /* past the header: text offsets 0, 9, 5 */
	CHECK(keep_body_decode(bytes, n) == NULL);
	chunk_body_free(back);
	chunk_body_free(b);
	free(bytes);
}

int main(void)
{
	char cmd[400];

	test_put_get_across_close();
	test_lru_eviction();
	test_damage_is_dropped();
	test_refusals();
	test_body_record_round_trip();
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/linkupfs-unit-store-%d-*",
		 (int)getpid());
	CHECK(system(cmd) == 0);
	printf("test_store: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
