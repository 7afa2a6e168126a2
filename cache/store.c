/*
 * cache/store.c - the persistent store (store.h): SQLite, one table of
 * blobs with their checksum and the tick of their last use.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped when the layout of the table changes: an older file is emptied. */
#define STORE_SCHEMA 1
/* Another connection (the sqlite3 shell) may hold the file briefly. */
#define STORE_BUSY_MS 2000

/* Uses of blobs read, written down together (one transaction for many). */
#define STORE_STAMPS 128

struct store {
	pthread_mutex_t lock; /* guards everything below */
	sqlite3 *db;
	int lock_fd;   /* holds the flock of store.lock */
	uint64_t tick; /* the last use handed out */
	struct store_stats st;
	char *stamps[STORE_STAMPS]; /* keys read, their use not written yet */
	uint64_t stamp_tick[STORE_STAMPS];
	size_t n_stamps;
};

/* Two lanes of 8-byte words, multiplied and folded: not cryptographic
 * (damage, not an adversary, is what it detects), but any changed bit
 * changes it, at memory speed rather than a byte at a time. */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t sum_bytes(uint64_t seed, const unsigned char *p, size_t len)
{
	uint64_t a = seed, b = ~seed, w;
	size_t i = 0;

	for (; i + 16 <= len; i += 16) {
		memcpy(&w, p + i, 8);
		a = mix(a, w);
		memcpy(&w, p + i + 8, 8);
		b = mix(b, w);
	}
	for (; i < len; i++)
		a = mix(a, p[i]);
	return mix(mix(a, b), len);
}

uint64_t store_checksum(const char *key, const void *value, size_t len)
{
	uint64_t k = sum_bytes(0x6c696e6b75706673ull, (const void *)key,
			       strlen(key));

	return sum_bytes(k, value, len);
}

static void say(char *why, size_t size, const char *fmt, const char *a,
		const char *b)
{
	snprintf(why, size, fmt, a, b ? b : "");
}

/* dir exists (made 0700 if missing), is a directory of the user's that
 * neither group nor others may enter. */
static int check_dir(const char *dir, char *why, size_t size)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int e = errno;

		say(why, size, "store %s: cannot create it: %s", dir,
		    strerror(e));
		return -e;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		say(why, size, "store %s is not a directory%s", dir, NULL);
		return -ENOTDIR;
	}
	if (st.st_uid != getuid()) {
		say(why, size, "store %s is not owned by you; refusing it%s",
		    dir, NULL);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		say(why, size,
		    "store %s may be read by group or others; it holds your "
		    "conversations: run chmod 700 %s",
		    dir, dir);
		return -EPERM;
	}
	return 0;
}

/* Open (0600, created so) the file name of dir; refuse one others may
 * read. The descriptor, or a negative errno. */
static int open_private(const char *dir, const char *name, char *why,
			size_t size)
{
	char path[4096];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EROFS || errno == EACCES))
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		say(why, size, "store %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077)) {
		say(why, size,
		    "store file %s may be read by group or others (or is not "
		    "yours): run chmod 600 %s",
		    path, path);
		close(fd);
		return -EPERM;
	}
	return fd;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* One number from a query without parameters (0 when none). */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

/* The table, in a file opened for writing. An SQLite result code. */
static int schema(sqlite3 *db)
{
	int rc;

	if (query_int(db, "PRAGMA user_version") != STORE_SCHEMA)
		exec(db, "DROP TABLE IF EXISTS blob");
	rc = exec(db, "PRAGMA journal_mode=WAL");
	if (rc == SQLITE_OK)
		rc = exec(db, "PRAGMA synchronous=NORMAL");
	if (rc == SQLITE_OK)
		rc = exec(db,
			  "CREATE TABLE IF NOT EXISTS blob(key TEXT PRIMARY "
			  "KEY, sum INTEGER NOT NULL, used INTEGER NOT NULL,"
			  " value BLOB NOT NULL);"
			  "CREATE INDEX IF NOT EXISTS blob_used ON blob(used);"
			  "PRAGMA user_version=1");
	return rc;
}

static bool is_damage(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* Open path (the schema when writable) and let SQLite look at it (its
 * quick check). An SQLite result code; s->db stays open only on success. */
static int try_open(struct store *s, const char *path, bool ro)
{
	int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
		if (!ro)
			rc = schema(s->db);
	}
	if (rc == SQLITE_OK &&
	    query_int(s->db, "SELECT count(*) FROM pragma_quick_check "
			     "WHERE quick_check <> 'ok'") != 0)
		rc = SQLITE_CORRUPT;
	if (rc == SQLITE_OK && is_damage(sqlite3_errcode(s->db)))
		rc = sqlite3_errcode(s->db);
	if (rc != SQLITE_OK) {
		sqlite3_close(s->db);
		s->db = NULL;
	}
	return rc;
}

/* A damaged file is set aside (renamed store.db.damaged) and the store
 * starts empty; any other failure is returned, with why. */
static int open_db(struct store *s, const char *dir, char *why, size_t size)
{
	char path[4096], aside[4200];
	int fd = open_private(dir, "store.db", why, size), rc;
	bool ro;

	if (fd < 0)
		return fd;
	ro = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY;
	close(fd);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	rc = try_open(s, path, ro);
	if (rc != SQLITE_OK && is_damage(rc) && !ro) {
		snprintf(aside, sizeof(aside), "%s.damaged", path);
		rename(path, aside);
		unlink(path); /* in case the rename failed */
		fd = open_private(dir, "store.db", why, size);
		if (fd < 0)
			return fd;
		close(fd);
		rc = try_open(s, path, false);
		if (rc == SQLITE_OK)
			say(why, size,
			    "store %s was damaged: set aside as %s.damaged, "
			    "starting anew",
			    path, path);
	}
	if (rc != SQLITE_OK) {
		snprintf(why, size, "store %s: cannot be opened (%s)", path,
			 sqlite3_errstr(rc));
		return errno_of(rc);
	}
	s->st.writable = !ro;
	return 0;
}

int store_open(const char *dir, uint64_t budget, struct store **out, char *why,
	       size_t why_size)
{
	struct store *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	why[0] = '\0';
	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	r = check_dir(dir, why, why_size);
	if (r == 0 && (r = open_private(dir, "store.lock", why, why_size)) >= 0)
		s->lock_fd = r;
	if (r >= 0 && flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		say(why, why_size,
		    "store %s is in use by another linkupfs mount; unmount it "
		    "or give this one another store=PATH%s",
		    dir, NULL);
		r = -EBUSY;
	}
	if (r >= 0)
		r = open_db(s, dir, why, why_size);
	if (r < 0) {
		store_close(s);
		return r;
	}
	s->st.budget = budget;
	s->tick = (uint64_t)query_int(s->db, "SELECT max(used) FROM blob");
	s->st.bytes = (uint64_t)query_int(
		s->db, "SELECT total(length(value)) FROM blob");
	s->st.entries = (uint64_t)query_int(s->db, "SELECT count(*) FROM blob");
	*out = s;
	return 0;
}

static void flush_stamps(struct store *s);

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db && s->st.writable)
		flush_stamps(s);
	for (size_t i = 0; i < s->n_stamps; i++)
		free(s->stamps[i]);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* the flock goes with it */
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* A statement with key bound as ?1. Caller holds lock. */
static sqlite3_stmt *prepare(struct store *s, const char *sql, const char *key)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	return q;
}

/* Run a statement that returns no rows, and finalize it. */
static int run(sqlite3_stmt *q)
{
	int r;

	if (!q)
		return SQLITE_ERROR;
	r = sqlite3_step(q);
	sqlite3_finalize(q);
	return r == SQLITE_DONE ? SQLITE_OK : r;
}

/* Drop key, keeping the counts. Caller holds lock. */
static void drop(struct store *s, const char *key)
{
	sqlite3_stmt *q = prepare(s,
				  "SELECT length(value) FROM blob WHERE "
				  "key=?1",
				  key);
	int64_t len = -1;

	if (q && sqlite3_step(q) == SQLITE_ROW)
		len = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (len < 0 || !s->st.writable)
		return;
	if (run(prepare(s, "DELETE FROM blob WHERE key=?1", key)) ==
	    SQLITE_OK) {
		s->st.bytes -= (uint64_t)len < s->st.bytes ? (uint64_t)len
							   : s->st.bytes;
		s->st.entries -= s->st.entries > 0;
	}
}

/* Read the row's value (rowid, len bytes) into the buffer fn gives, and
 * check it. Caller holds lock. */
static int take_row(struct store *s, sqlite3_stmt *q, const char *key,
		    store_buffer_fn fn, void *arg)
{
	uint64_t sum = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_int64 rowid = sqlite3_column_int64(q, 2);
	int len = sqlite3_column_int(q, 3), rc = SQLITE_OK;
	sqlite3_blob *blob = NULL;
	void *buf = fn(arg, (size_t)len);

	if (!buf)
		return -ENOMEM;
	/* straight into the caller's buffer: no copy of SQLite's own */
	if (len > 0) {
		rc = sqlite3_blob_open(s->db, "main", "blob", "value", rowid, 0,
				       &blob);
		if (rc == SQLITE_OK)
			rc = sqlite3_blob_read(blob, buf, len, 0);
		sqlite3_blob_close(blob);
	}
	if (rc != SQLITE_OK)
		return is_damage(rc) ? -EBADMSG : -EIO;
	if (store_checksum(key, buf, (size_t)len) != sum)
		return -EBADMSG;
	return 0;
}

/* A get stamps a blob's use again only once it is older than this share
 * of the blobs: a write per get would cost more than the read. */
#define STORE_RESTAMP_SHARE 4

/* Write down the pending uses. Caller holds lock; in a transaction or
 * not (then one of its own). */
static void flush_stamps(struct store *s)
{
	bool own = sqlite3_get_autocommit(s->db) != 0;

	if (!s->n_stamps)
		return;
	if (own && exec(s->db, "BEGIN IMMEDIATE") != SQLITE_OK)
		own = false; /* each update then commits alone */
	for (size_t i = 0; i < s->n_stamps; i++) {
		sqlite3_stmt *q =
			prepare(s, "UPDATE blob SET used=?2 WHERE key=?1",
				s->stamps[i]);

		if (q)
			sqlite3_bind_int64(q, 2, (int64_t)s->stamp_tick[i]);
		run(q);
		free(s->stamps[i]);
	}
	s->n_stamps = 0;
	if (own && exec(s->db, "COMMIT") != SQLITE_OK)
		exec(s->db, "ROLLBACK"); /* uses only: nothing is lost */
}

/* A blob read: its use is written down (later, with others) if it grew
 * old. Caller holds lock. */
static void stamp(struct store *s, const char *key, uint64_t used)
{
	if (!s->st.writable ||
	    s->tick - used <= s->st.entries / STORE_RESTAMP_SHARE)
		return;
	if (s->n_stamps == STORE_STAMPS)
		flush_stamps(s);
	s->stamps[s->n_stamps] = strdup(key);
	if (s->stamps[s->n_stamps])
		s->stamp_tick[s->n_stamps++] = ++s->tick;
}

int store_read(struct store *s, const char *key, store_buffer_fn fn, void *arg)
{
	sqlite3_stmt *q;
	uint64_t used = 0;
	int r = -ENOENT, step;

	pthread_mutex_lock(&s->lock);
	q = prepare(s,
		    "SELECT sum, used, rowid, length(value) FROM blob "
		    "WHERE key=?1",
		    key);
	step = q ? sqlite3_step(q) : SQLITE_ERROR;
	if (step == SQLITE_ROW) {
		used = (uint64_t)sqlite3_column_int64(q, 1);
		r = take_row(s, q, key, fn, arg);
	} else if (step == SQLITE_CORRUPT || step == SQLITE_NOTADB) {
		r = -EBADMSG;
	} else if (step != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_finalize(q);
	if (r == -EBADMSG) {
		s->st.damaged++;
		drop(s, key);
		r = -ENOENT;
	}
	if (r == 0)
		stamp(s, key, used);
	if (r == 0)
		s->st.hits++;
	else
		s->st.misses++;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* store_get's buffer: its own, NUL-terminated. */
struct copy {
	char *value;
	size_t len;
};

static void *copy_buffer(void *arg, size_t len)
{
	struct copy *c = arg;

	c->value = malloc(len + 1);
	if (c->value) {
		c->value[len] = '\0';
		c->len = len;
	}
	return c->value;
}

int store_get(struct store *s, const char *key, void **value, size_t *len)
{
	struct copy c = {NULL, 0};
	int r = store_read(s, key, copy_buffer, &c);

	if (r < 0) {
		free(c.value);
		c = (struct copy){NULL, 0};
	}
	*value = c.value;
	*len = c.len;
	return r;
}

/* Evict least recently used blobs until the bytes fit the budget. Caller
 * holds lock, inside a transaction. */
static int evict(struct store *s)
{
	while (s->st.bytes > s->st.budget && s->st.entries > 0) {
		sqlite3_stmt *q = NULL;
		int step;

		if (sqlite3_prepare_v2(s->db,
				       "SELECT key, length(value) FROM blob "
				       "ORDER BY used LIMIT 32",
				       -1, &q, NULL) != SQLITE_OK)
			return -EIO;
		while ((step = sqlite3_step(q)) == SQLITE_ROW &&
		       s->st.bytes > s->st.budget) {
			const char *k = (const char *)sqlite3_column_text(q, 0);
			uint64_t n = (uint64_t)sqlite3_column_int64(q, 1);

			if (run(prepare(s, "DELETE FROM blob WHERE key=?1",
					k)) != SQLITE_OK) {
				sqlite3_finalize(q);
				return -EIO;
			}
			s->st.bytes -= n < s->st.bytes ? n : s->st.bytes;
			s->st.entries--;
			s->st.evicted++;
		}
		sqlite3_finalize(q);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return -EIO;
	}
	return 0;
}

/* The put itself, in the open transaction. Caller holds lock. */
static int put_row(struct store *s, const char *key, const void *value,
		   size_t len)
{
	sqlite3_stmt *q;
	int rc;

	drop(s, key);
	q = prepare(s,
		    "INSERT OR REPLACE INTO blob(key, sum, used, value) "
		    "VALUES(?1, ?2, ?3, ?4)",
		    key);
	if (!q)
		return errno_of(sqlite3_errcode(s->db));
	sqlite3_bind_int64(q, 2, (int64_t)store_checksum(key, value, len));
	sqlite3_bind_int64(q, 3, (int64_t)++s->tick);
	sqlite3_bind_blob(q, 4, len ? value : "", (int)len, SQLITE_STATIC);
	rc = run(q);
	if (rc != SQLITE_OK)
		return errno_of(rc);
	s->st.bytes += len;
	s->st.entries++;
	return evict(s);
}

int store_put(struct store *s, const char *key, const void *value, size_t len)
{
	struct store_stats before;
	int r, rc;

	pthread_mutex_lock(&s->lock); /* st is rewritten whole below */
	if (len > s->st.budget || len > INT32_MAX || !s->st.writable) {
		r = len > s->st.budget || len > INT32_MAX ? -EFBIG : -ECANCELED;
		pthread_mutex_unlock(&s->lock);
		return r;
	}
	before = s->st;
	rc = exec(s->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		flush_stamps(s); /* before the eviction reads them */
	r = rc == SQLITE_OK ? put_row(s, key, value, len) : errno_of(rc);
	if (r == 0 && (rc = exec(s->db, "COMMIT")) != SQLITE_OK)
		r = errno_of(rc);
	if (r < 0) {
		exec(s->db, "ROLLBACK");
		before.writable = false; /* the counts as they were */
		s->st = before;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void store_delete(struct store *s, const char *key)
{
	pthread_mutex_lock(&s->lock);
	drop(s, key);
	pthread_mutex_unlock(&s->lock);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}
