/*
 * cache/store.c - the persistent store (store.h): SQLite, one table of
 * blobs with their checksum, their expanded size and the tick of their
 * last use; gets, the batches the spool writes, eviction. Opening the
 * file (its directory, lock and layout) is store_file.c's.
 */
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"

/* A get stamps a blob's use again only once it is older than this share
 * of the blobs: a write per get would cost more than the read. */
#define STORE_RESTAMP_SHARE 4
/* The most a blob may expand to (a damaged size must not make us
 * allocate more): the largest record the model keeps is far below. */
#define STORE_MAX_RAW (256u << 20)

int store_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int64_t store_query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

int store_errno_of(int rc)
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

bool store_is_damage(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* The counts again when another mount wrote since we last looked (its
 * commits change data_version). Caller holds lock; in a transaction to
 * count what it will change. */
void store_recount(struct store *s)
{
	int64_t v = store_query_int(s->db, "PRAGMA data_version");

	if (v == s->data_version)
		return;
	s->data_version = v;
	s->tick =
		(uint64_t)store_query_int(s->db, "SELECT max(used) FROM blob");
	s->st.bytes = (uint64_t)store_query_int(
		s->db, "SELECT total(length(value)) FROM blob");
	s->st.entries =
		(uint64_t)store_query_int(s->db, "SELECT count(*) FROM blob");
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

/* A statement with id bound as ?1. Caller holds lock. */
static sqlite3_stmt *prepare_id(struct store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(q, 1, id);
	return q;
}

/* Delete the blob id (len bytes), keeping the counts. Caller holds lock. */
static int delete_id(struct store *s, int64_t id, uint64_t len)
{
	if (run(prepare_id(s, "DELETE FROM blob WHERE id=?1", id)) !=
		    SQLITE_OK ||
	    run(prepare_id(s, "DELETE FROM lru WHERE id=?1", id)) != SQLITE_OK)
		return -EIO;
	s->st.bytes -= len < s->st.bytes ? len : s->st.bytes;
	s->st.entries -= s->st.entries > 0;
	return 0;
}

/* Drop key, keeping the counts. Caller holds lock. */
static void drop(struct store *s, const char *key)
{
	sqlite3_stmt *q = prepare(s,
				  "SELECT id, length(value) FROM blob WHERE "
				  "key=?1",
				  key);
	int64_t id = 0, len = -1;

	if (q && sqlite3_step(q) == SQLITE_ROW) {
		id = sqlite3_column_int64(q, 0);
		len = sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	if (len >= 0 && s->st.writable)
		delete_id(s, id, (uint64_t)len);
}

/* Where a get puts what it found, and the context it expands in (the
 * store's, under its lock; NULL outside). */
struct fill {
	store_buffer_fn fn;
	void *arg;
	struct pack_ctx *ctx;
};

/* A blob's bytes as kept (len of them, raw once expanded) into the
 * caller's buffer. */
static int fill_from(struct fill *f, const void *bytes, size_t len, size_t raw)
{
	void *buf = f->fn(f->arg, raw);

	if (!buf)
		return -ENOMEM;
	if (raw == len) {
		memcpy(buf, bytes, len);
		return 0;
	}
	return pack_expand(f->ctx, bytes, len, buf, raw);
}

/* spool_find's callback: a blob not on disk yet. */
static int fill_waiting(void *arg, const struct spool_item *it)
{
	return fill_from(arg, it->bytes, it->len, it->raw);
}

/* Read len bytes of the row's value into buf. Caller holds lock. */
static int read_value(struct store *s, sqlite3_int64 rowid, void *buf, int len)
{
	sqlite3_blob *blob = NULL;
	int rc;

	if (len == 0)
		return 0;
	rc = sqlite3_blob_open(s->db, "main", "blob", "value", rowid, 0, &blob);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_read(blob, buf, len, 0);
	sqlite3_blob_close(blob);
	if (rc != SQLITE_OK)
		return store_is_damage(rc) ? -EBADMSG : -EIO;
	return 0;
}

/* Read the row (sum, used, id, length, size) into the buffer f gives,
 * and check it. Caller holds lock. */
static int take_row(struct store *s, sqlite3_stmt *q, const char *key,
		    struct fill *f)
{
	uint64_t sum = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_int64 rowid = sqlite3_column_int64(q, 2);
	int len = sqlite3_column_int(q, 3), r;
	int64_t raw = sqlite3_column_int64(q, 4);
	void *buf;

	if (len < 0 || raw < len || raw > STORE_MAX_RAW)
		return -EBADMSG;
	if (raw == len) { /* straight into the caller's buffer */
		if (!(buf = f->fn(f->arg, (size_t)len)))
			return -ENOMEM;
		r = read_value(s, rowid, buf, len);
		if (r == 0 && pack_checksum(key, buf, (size_t)len) != sum)
			r = -EBADMSG;
		return r;
	}
	if (!(buf = malloc((size_t)len)))
		return -ENOMEM;
	r = read_value(s, rowid, buf, len);
	if (r == 0 && pack_checksum(key, buf, (size_t)len) != sum)
		r = -EBADMSG;
	if (r == 0)
		r = fill_from(f, buf, (size_t)len, (size_t)raw);
	free(buf);
	return r;
}

/* Write down the pending uses. Caller holds lock; in a transaction or
 * not (then one of its own). */
void store_flush_stamps(struct store *s)
{
	bool own = sqlite3_get_autocommit(s->db) != 0;

	if (!s->n_stamps)
		return;
	if (own && store_exec(s->db, "BEGIN IMMEDIATE") != SQLITE_OK)
		own = false; /* each update then commits alone */
	for (size_t i = 0; i < s->n_stamps; i++) {
		sqlite3_stmt *q = prepare_id(
			s, "UPDATE lru SET used=?2 WHERE id=?1", s->stamps[i]);

		if (q)
			sqlite3_bind_int64(q, 2, (int64_t)s->stamp_tick[i]);
		run(q);
	}
	s->n_stamps = 0;
	if (own && store_exec(s->db, "COMMIT") != SQLITE_OK)
		store_exec(s->db, "ROLLBACK"); /* uses only: nothing is lost */
}

/* Blob id was read: its use is written down (later, with others) if it
 * grew old. Caller holds lock. */
static void stamp(struct store *s, int64_t id, uint64_t used)
{
	if (!s->st.writable ||
	    s->tick - used <= s->st.entries / STORE_RESTAMP_SHARE)
		return;
	if (s->n_stamps == STORE_STAMPS)
		store_flush_stamps(s);
	s->stamps[s->n_stamps] = id;
	s->stamp_tick[s->n_stamps++] = ++s->tick;
}

/* The blob of key from the file. Caller holds lock. */
static int read_kept(struct store *s, const char *key, struct fill *f)
{
	sqlite3_stmt *q;
	uint64_t used = 0;
	int64_t id = 0;
	int r = -ENOENT, step;

	/* the use apart: stamping it rewrites a small row, not the blob's */
	q = prepare(s,
		    "SELECT b.sum, l.used, b.id, length(b.value), b.size FROM "
		    "blob b LEFT JOIN lru l ON l.id = b.id WHERE b.key=?1",
		    key);
	step = q ? sqlite3_step(q) : SQLITE_ERROR;
	if (step == SQLITE_ROW) {
		used = (uint64_t)sqlite3_column_int64(q, 1);
		id = sqlite3_column_int64(q, 2);
		r = take_row(s, q, key, f);
	} else if (store_is_damage(step)) {
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
		stamp(s, id, used);
	return r;
}

int store_read(struct store *s, const char *key, store_buffer_fn fn, void *arg)
{
	struct fill f = {fn, arg, NULL};
	int r = s->spool ? spool_find(s->spool, key, fill_waiting, &f)
			 : -ENOENT;

	pthread_mutex_lock(&s->lock);
	f.ctx = s->expand;
	if (r == -ENOENT)
		r = read_kept(s, key, &f);
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
		int step, r = 0;

		if (sqlite3_prepare_v2(
			    s->db,
			    "SELECT l.id, length(b.value) FROM lru l "
			    "JOIN blob b ON b.id = l.id "
			    "ORDER BY l.used LIMIT 32",
			    -1, &q, NULL) != SQLITE_OK)
			return -EIO;
		while (r == 0 && (step = sqlite3_step(q)) == SQLITE_ROW &&
		       s->st.bytes > s->st.budget) {
			r = delete_id(s, sqlite3_column_int64(q, 0),
				      (uint64_t)sqlite3_column_int64(q, 1));
			s->st.evicted += r == 0;
		}
		sqlite3_finalize(q);
		if (r < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
			return -EIO;
	}
	return 0;
}

/* Whether key holds it already (the same checksum and sizes): then its
 * use is written down instead of its bytes again (an inbox page read
 * anew, a chain that did not change). Caller holds lock. */
static bool same_kept(struct store *s, const struct spool_item *it)
{
	sqlite3_stmt *q = prepare(s,
				  "SELECT id, sum, size, length(value) FROM "
				  "blob WHERE key=?1",
				  it->key);
	bool same = q && sqlite3_step(q) == SQLITE_ROW &&
		    (uint64_t)sqlite3_column_int64(q, 1) == it->sum &&
		    sqlite3_column_int64(q, 2) == (int64_t)it->raw &&
		    sqlite3_column_int64(q, 3) == (int64_t)it->len;
	int64_t id = same ? sqlite3_column_int64(q, 0) : 0;

	sqlite3_finalize(q);
	if (same) {
		q = prepare_id(s, "UPDATE lru SET used=?2 WHERE id=?1", id);
		if (q)
			sqlite3_bind_int64(q, 2, (int64_t)++s->tick);
		same = run(q) == SQLITE_OK;
	}
	return same;
}

/* One blob into the open transaction. Caller holds lock. */
static int put_row(struct store *s, const struct spool_item *it)
{
	sqlite3_stmt *q;
	int rc;

	if (same_kept(s, it))
		return 0;
	drop(s, it->key);
	q = prepare(s,
		    "INSERT INTO blob(key, sum, size, value) "
		    "VALUES(?1, ?2, ?3, ?4)",
		    it->key);
	if (!q)
		return store_errno_of(sqlite3_errcode(s->db));
	sqlite3_bind_int64(q, 2, (int64_t)it->sum);
	sqlite3_bind_int64(q, 3, (int64_t)it->raw);
	sqlite3_bind_blob(q, 4, it->len ? it->bytes : "", (int)it->len,
			  SQLITE_STATIC);
	rc = run(q);
	if (rc == SQLITE_OK) {
		q = prepare_id(s, "INSERT INTO lru(id, used) VALUES(?1, ?2)",
			       sqlite3_last_insert_rowid(s->db));
		if (q)
			sqlite3_bind_int64(q, 2, (int64_t)++s->tick);
		rc = run(q);
	}
	if (rc != SQLITE_OK)
		return store_errno_of(rc);
	s->st.bytes += it->len;
	s->st.entries++;
	return 0;
}

/* Turn writes off for good after error r. Caller holds lock. Whether
 * this was the first failure (to be told). */
static bool writes_off(struct store *s, int r)
{
	int none = 0;

	s->st.writable = false;
	return atomic_compare_exchange_strong(&s->write_error, &none, r);
}

/* The spool's writer: a batch in one transaction, then the eviction it
 * calls for. Another mount holding the file too long costs the batch,
 * nothing more; any other failure turns writes off. */
int store_write_batch(void *arg, const struct spool_item *items, size_t n)
{
	struct store *s = arg;
	struct store_stats before;
	bool first = false;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (!s->st.writable) {
		pthread_mutex_unlock(&s->lock);
		return -ECANCELED;
	}
	rc = store_exec(s->db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		r = store_errno_of(rc);
	if (r == 0) {
		store_recount(s);
		store_flush_stamps(s); /* before the eviction reads them */
	}
	before = s->st;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = put_row(s, &items[i]);
	if (r == 0)
		r = evict(s);
	if (r == 0 && (rc = store_exec(s->db, "COMMIT")) != SQLITE_OK)
		r = store_errno_of(rc);
	if (r < 0) {
		store_exec(s->db, "ROLLBACK");
		s->st = before; /* the counts as they were */
		if (r != -EBUSY)
			first = writes_off(s, r);
	}
	pthread_mutex_unlock(&s->lock);
	if (first && s->report)
		s->report(s->report_arg, r);
	return r;
}

int store_put(struct store *s, const char *key, const void *value, size_t len)
{
	struct spool_item it = {.raw = len};
	int e;

	if (atomic_load(&s->write_error))
		return -ECANCELED;
	if (len > INT32_MAX)
		return -EFBIG;
	it.bytes = pack_compress(value, len, &it.len);
	if (!it.bytes && (it.bytes = malloc(len ? len : 1))) {
		memcpy(it.bytes, value, len); /* kept as it is */
		it.len = len;
	}
	it.key = strdup(key);
	if (!it.bytes || !it.key || it.len > s->budget) {
		e = it.bytes && it.key ? -EFBIG : -ENOMEM;
		free(it.bytes);
		free(it.key);
		return e;
	}
	it.sum = pack_checksum(key, it.bytes, it.len);
	spool_put(s->spool, &it);
	return 0;
}

void store_delete(struct store *s, const char *key)
{
	if (s->spool)
		spool_forget(s->spool, key);
	pthread_mutex_lock(&s->lock);
	drop(s, key);
	pthread_mutex_unlock(&s->lock);
}

void store_on_failure(struct store *s, void (*fn)(void *arg, int err),
		      void *arg)
{
	s->report = fn;
	s->report_arg = arg;
}

int store_start(struct store *s)
{
	return s->spool ? spool_start(s->spool) : 0;
}

void store_sync(struct store *s)
{
	if (s->spool)
		spool_sync(s->spool);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	uint64_t pending = s->spool ? spool_pending(s->spool) : 0;

	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
	out->pending = pending;
}

int store_name(const void *secret, size_t len, char *hex, size_t size)
{
	return pack_name(secret, len, hex, size);
}
