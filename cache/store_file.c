/*
 * cache/store_file.c - opening and closing the store (store.h): its
 * private directory, the lock mounts share, the table's layout, and a
 * damaged or older file set aside.
 */
#include "store_impl.h"
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped when the layout of the tables changes: an older file is set
 * aside. 2: XXH3 checksums, compressed values and their size, the uses
 * in a table of their own (a stamp rewrites a small row, not the blob), a
 * rollback journal. */
#define STORE_SCHEMA 2
/* Another mount's batch, or the sqlite3 shell, may hold the file a while
 * (a commit syncs the disk). */
#define STORE_BUSY_MS 5000
/* SQLite's page for a new file. A compressed body is a few KiB: with 4
 * KiB pages one between 2 and 4 KiB fills a page alone (half of the file
 * was slack on the bench data); a blob larger than a small page lies in
 * full overflow pages, only its rest on a shared leaf. Small pages also
 * make the journal of a commit small (the pages it changes that were
 * there before: the last leaf of the table and of each index). */
#define STORE_PAGE_SIZE 1024
/* SQLite's page cache of the connection, in KiB (its default is 2000):
 * blobs are read once into the model's cache, not again from SQLite's;
 * its pages are resident memory on top of the cache (bench scenario 6). */
#define STORE_CACHE_KIB 128

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
		    "conversations: run chmod 700 %s (or mount with -o "
		    "nostore)",
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

/* The table, in a file opened for writing (another mount may be making
 * it at the same time: the transaction orders them). An SQLite code. */
static int schema(sqlite3 *db)
{
	char sql[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", STORE_PAGE_SIZE);
	rc = store_exec(db, sql); /* a new file only: the others keep theirs */
	if (rc == SQLITE_OK)
		rc = store_exec(db, "PRAGMA journal_mode=TRUNCATE");

	if (rc == SQLITE_OK)
		rc = store_exec(db, "PRAGMA synchronous=NORMAL");
	if (rc == SQLITE_OK)
		rc = store_exec(
			db,
			"BEGIN IMMEDIATE;"
			"CREATE TABLE IF NOT EXISTS blob(id INTEGER PRIMARY "
			"KEY, key TEXT NOT NULL UNIQUE, sum INTEGER NOT NULL,"
			" size INTEGER NOT NULL, value BLOB NOT NULL);"
			"CREATE TABLE IF NOT EXISTS lru(id INTEGER PRIMARY KEY,"
			" used INTEGER NOT NULL);"
			"CREATE INDEX IF NOT EXISTS lru_used ON lru(used);"
			"PRAGMA user_version=2; COMMIT");
	if (rc != SQLITE_OK)
		store_exec(db, "ROLLBACK");
	return rc;
}

/* Open path (the table made when writable and new) and let SQLite look at
 * it (its quick check). An SQLite result code, *old when the file has an
 * older layout; s->db stays open only on success. */
static int try_open(struct store *s, const char *path, bool ro, bool *old)
{
	int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
				 NULL);
	int64_t version = 0;

	*old = false;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
		version = store_query_int(s->db, "PRAGMA user_version");
		rc = sqlite3_errcode(s->db);
		*old = rc == SQLITE_OK && version != 0 &&
		       version != STORE_SCHEMA;
		if (*old)
			rc = SQLITE_SCHEMA;
	}
	if (rc == SQLITE_OK && !ro)
		rc = schema(s->db);
	if (rc == SQLITE_OK) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d",
			 STORE_CACHE_KIB);
		rc = store_exec(s->db, sql);
	}
	if (rc == SQLITE_OK &&
	    store_query_int(s->db, "SELECT count(*) FROM pragma_quick_check "
				   "WHERE quick_check <> 'ok'") != 0)
		rc = SQLITE_CORRUPT;
	if (rc == SQLITE_OK && store_is_damage(sqlite3_errcode(s->db)))
		rc = sqlite3_errcode(s->db);
	if (rc != SQLITE_OK) {
		sqlite3_close(s->db);
		s->db = NULL;
	}
	return rc;
}

/* Move store.db aside as store.db.<as> (with its journal, which belongs
 * to it) and start anew, which only a mount alone with the store may do.
 * An SQLite code, or -EBUSY (why says so). */
static int set_aside(struct store *s, const char *dir, const char *path,
		     const char *as, char *why, size_t size)
{
	static const char *const beside[] = {"-journal", "-wal", "-shm"};
	char aside[4200], extra[4200];
	bool old;
	int fd, rc;

	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(why, size, "store %s is %s, and another mount uses it",
			 path,
			 strcmp(as, "old") ? "damaged"
					   : "of an older "
					     "linkupfs");
		return -EBUSY;
	}
	snprintf(aside, sizeof(aside), "%s.%s", path, as);
	rename(path, aside);
	unlink(path); /* in case the rename failed */
	for (size_t i = 0; i < sizeof(beside) / sizeof(*beside); i++) {
		snprintf(extra, sizeof(extra), "%s%s", path, beside[i]);
		unlink(extra);
	}
	fd = open_private(dir, "store.db", why, size);
	if (fd < 0)
		return fd;
	close(fd);
	rc = try_open(s, path, false, &old);
	flock(s->lock_fd, LOCK_SH); /* shared again */
	if (rc == SQLITE_OK && strcmp(as, "old") == 0)
		snprintf(why, size,
			 "store %s was made by an older linkupfs: set aside as "
			 "%s (delete it at will), starting anew",
			 path, aside);
	else if (rc == SQLITE_OK)
		snprintf(why, size,
			 "store %s was damaged: set aside as %s, starting anew",
			 path, aside);
	return rc;
}

/* The database: opened, or set aside and made anew. 0, or a negative
 * errno with why. */
static int open_db(struct store *s, const char *dir, char *why, size_t size)
{
	char path[4096];
	int fd = open_private(dir, "store.db", why, size), rc;
	bool ro, old;

	if (fd < 0)
		return fd;
	ro = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY;
	close(fd);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	rc = try_open(s, path, ro, &old);
	if (rc != SQLITE_OK && (old || store_is_damage(rc)) && !ro) {
		rc = set_aside(s, dir, path, old ? "old" : "damaged", why,
			       size);
		if (rc < 0)
			return rc;
	}
	if (rc != SQLITE_OK) {
		snprintf(why, size, "store %s: cannot be opened (%s)", path,
			 old ? "made by an older linkupfs, on a read-only disk"
			     : sqlite3_errstr(rc));
		return store_errno_of(rc);
	}
	s->st.writable = !ro;
	return 0;
}

/* Take the shared lock of the mounts using dir: a linkupfs before
 * sharing holds it alone. 0, or -EBUSY with why. */
static int share(struct store *s, const char *dir, char *why, size_t size)
{
	int fd = open_private(dir, "store.lock", why, size);

	if (fd < 0)
		return fd;
	s->lock_fd = fd;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	say(why, size,
	    "store %s is in use by an older linkupfs that keeps it to "
	    "itself%s",
	    dir, NULL);
	return -EBUSY;
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
	s->data_version = -1;
	pthread_mutex_init(&s->lock, NULL);
	r = check_dir(dir, why, why_size);
	if (r == 0)
		r = share(s, dir, why, why_size);
	if (r == 0)
		r = open_db(s, dir, why, why_size);
	if (r == 0 && s->st.writable &&
	    !(s->spool = spool_new(store_write_batch, s)))
		r = -ENOMEM;
	if (r < 0) {
		store_close(s);
		return r;
	}
	if (!s->st.writable) /* read-only: nothing to tell */
		atomic_store(&s->write_error, -EROFS);
	s->budget = s->st.budget = budget;
	s->expand = pack_ctx_new(); /* without it, each read makes its own */
	store_recount(s);
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	spool_free(s->spool); /* writes what waits: before the connection */
	if (s->db && s->st.writable)
		store_flush_stamps(s);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* the flock goes with it */
	pack_ctx_free(s->expand);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
