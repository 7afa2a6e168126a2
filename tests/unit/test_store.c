/*
 * tests/unit/test_store.c - the persistent store (cache/store.h): get and
 * put across a close, blobs found before and after their batch is
 * written, compression, least recently used eviction under the budget, a
 * damaged blob dropped and never handed out, refusals (permissions) and
 * sharing (two openers; an older linkupfs that keeps the store to itself),
 * a file of an older layout set aside; the account name (SHA-256) against
 * the standard's vector; and the body records of fs/model/keep.h, there
 * and back.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cache/pack.h"
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
	CHECK(store_start(s) == 0);
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

/* n bytes that do not compress. */
static void noise(char *v, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (char)(seed >> 16);
	}
}

static void test_lru_eviction(void)
{
	struct store *s;
	struct store_stats st;
	char v[100];

	fresh_dir("lru");
	noise(v, sizeof(v), 1);
	s = open_ok(300);
	CHECK(store_put(s, "a", v, 100) == 0);
	CHECK(store_put(s, "b", v, 100) == 0);
	CHECK(store_put(s, "c", v, 100) == 0);
	store_sync(s);
	store_get_stats(s, &st);
	CHECK(st.bytes == 300 && st.pending == 0);
	{
		void *got = NULL;
		size_t len;

		CHECK(store_get(s, "a", &got, &len) == 0); /* b the oldest */
		free(got);
	}
	CHECK(store_put(s, "d", v, 100) == 0);
	store_sync(s);
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
		char big[301];

		noise(big, sizeof(big), 2);
		CHECK(store_put(s, "too big", big, sizeof(big)) == -EFBIG);
	}
	store_close(s);
}

/* A blob is found while it waits for the disk, once written, and after a
 * close; a repetitive one is kept compressed. */
static void test_waiting_and_compressed(void)
{
	static char big[100000];
	struct store_stats st;
	struct store *s;
	void *got = NULL;
	size_t len = 0;

	fresh_dir("spool");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = "linkupfs keeps what it read\n"[i % 28];
	s = open_ok(1 << 20);
	CHECK(store_put(s, "big", big, sizeof(big)) == 0);
	store_get_stats(s, &st);
	CHECK(st.pending > 0 && st.pending < sizeof(big) / 10);
	CHECK(store_get(s, "big", &got, &len) == 0 && len == sizeof(big) &&
	      memcmp(got, big, len) == 0); /* from memory, not written yet */
	free(got);
	store_sync(s);
	store_get_stats(s, &st);
	CHECK(st.pending == 0 && st.entries == 1);
	CHECK(st.bytes > 0 && st.bytes < sizeof(big) / 10);
	store_close(s);
	s = open_ok(1 << 20);
	CHECK(store_get(s, "big", &got, &len) == 0 && len == sizeof(big) &&
	      memcmp(got, big, len) == 0);
	free(got);
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
	struct store *t = NULL;
	char why[256], path[300];

	fresh_dir("refuse");
	store_close(open_ok(1 << 20));
	CHECK(chmod(dir, 0755) == 0);
	CHECK(store_open(dir, 1 << 20, &t, why, sizeof(why)) == -EPERM);
	CHECK(strstr(why, "chmod 700") != NULL);
	CHECK(chmod(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	CHECK(chmod(path, 0640) == 0);
	CHECK(store_open(dir, 1 << 20, &t, why, sizeof(why)) == -EPERM);
	CHECK(strstr(why, "chmod 600") != NULL);
}

/* Two openers share the store; an older linkupfs holding it alone keeps
 * a new opener out (which then runs from memory). */
static void test_sharing(void)
{
	struct store *s, *t = NULL;
	char why[256], path[300];
	int fd;

	fresh_dir("share");
	s = open_ok(1 << 20);
	t = open_ok(1 << 20);
	CHECK(store_put(s, "from s", "one", 3) == 0);
	CHECK(store_put(t, "from t", "two", 3) == 0);
	store_sync(s);
	store_sync(t);
	CHECK(has(t, "from s", "one") && has(s, "from t", "two"));
	CHECK(store_put(s, "again", "three", 5) == 0); /* after t wrote */
	store_sync(s);
	{
		struct store_stats st;

		store_get_stats(s, &st); /* counts t's blob too */
		CHECK(st.entries == 3 && st.bytes == 11);
	}
	store_close(t);
	store_close(s);
	snprintf(path, sizeof(path), "%s/store.lock", dir);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
	t = NULL;
	CHECK(store_open(dir, 1 << 20, &t, why, sizeof(why)) == -EBUSY);
	CHECK(!t && strstr(why, "older linkupfs") != NULL);
	close(fd);
}

/* A file of the layout before XXH3 and compression is set aside. */
static void test_older_layout_set_aside(void)
{
	char path[300], why[256];
	struct store *s = NULL;
	struct stat sb;
	sqlite3 *db;

	fresh_dir("older");
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE TABLE blob(key TEXT PRIMARY KEY, sum "
			   "INTEGER NOT NULL, used INTEGER NOT NULL, value "
			   "BLOB NOT NULL); INSERT INTO blob VALUES('k', 1, 1, "
			   "x'00'); PRAGMA user_version=1",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(chmod(path, 0600) == 0);
	CHECK(store_open(dir, 1 << 20, &s, why, sizeof(why)) == 0);
	CHECK(strstr(why, "older linkupfs: set aside as") != NULL);
	CHECK(!has(s, "k", ""));
	CHECK(store_put(s, "k", "new", 3) == 0);
	store_close(s);
	snprintf(path, sizeof(path), "%s/store.db.old", dir);
	CHECK(stat(path, &sb) == 0);
	s = open_ok(1 << 20);
	CHECK(has(s, "k", "new"));
	store_close(s);
}

/* The account's name: SHA-256 (FIPS 180-2's vector for "abc"), cut. */
static void test_name(void)
{
	char hex[65], cut[33];

	CHECK(store_name("abc", 3, hex, sizeof(hex)) == 0);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
			  "10ff61f20015ad") == 0);
	CHECK(store_name("abc", 3, cut, sizeof(cut)) == 0);
	CHECK(strcmp(cut, "ba7816bf8f01cfea414140de5dae2223") == 0);
	/* the checksum depends on the key as well as the bytes */
	CHECK(pack_checksum("a", "x", 1) != pack_checksum("b", "x", 1));
	CHECK(pack_checksum("a", "x", 1) == pack_checksum("a", "x", 1));
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
	test_waiting_and_compressed();
	test_damage_is_dropped();
	test_refusals();
	test_sharing();
	test_older_layout_set_aside();
	test_name();
	test_body_record_round_trip();
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/linkupfs-unit-store-%d-*",
		 (int)getpid());
	CHECK(system(cmd) == 0);
	printf("test_store: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
