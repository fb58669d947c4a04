/*
 * store.c - the daemon's state in SQLite (store.h, docs/daemon.md "Store").
 *
 * Every public function is one transaction: writes BEGIN IMMEDIATE, so
 * that the check a write depends on (the accepted serial, the observed
 * state) is read under the write lock; reads BEGIN (deferred), so that a
 * function that runs two queries sees one snapshot.  Statements are
 * prepared once per connection and reset when the transaction ends, so
 * that no half-stepped SELECT keeps an old snapshot open.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"

/* ------------------------------------------------------------------ */
/* schema */

/*
 * Migration steps: migrations[i] takes a database from user_version i to
 * i + 1, in one transaction with the user_version update.  Never edit a
 * step once released; add one.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE keys ("
	"  key_id TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(key_id) = 16 AND key_id NOT GLOB '*[^0-9A-F]*'),"
	"  public_key BLOB NOT NULL"
	"    CHECK (typeof(public_key) = 'blob' AND length(public_key) = 32),"
	"  comment TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(comment AS BLOB)) <= 1003"
	"      AND instr(comment, char(10)) = 0"
	"      AND instr(comment, char(13)) = 0),"
	"  added INTEGER NOT NULL CHECK (typeof(added) = 'integer')"
	");"
	"CREATE TABLE key_domains ("
	"  key_id TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,"
	"  pattern TEXT NOT NULL"
	"    CHECK (length(pattern) BETWEEN 1 AND 255"
	"      AND pattern = lower(pattern)),"
	"  PRIMARY KEY (key_id, pattern)"
	");"
	"CREATE TABLE feeds ("
	"  uri TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(uri AS BLOB)) BETWEEN 1 AND 1024),"
	"  added INTEGER NOT NULL CHECK (typeof(added) = 'integer'),"
	"  last_fetched INTEGER CHECK (last_fetched IS NULL"
	"    OR typeof(last_fetched) = 'integer'),"
	"  last_error_code TEXT CHECK (last_error_code IS NULL"
	"    OR length(last_error_code) BETWEEN 1 AND 64),"
	"  last_error TEXT CHECK (last_error IS NULL"
	"    OR length(CAST(last_error AS BLOB)) <= 1024),"
	"  CHECK ((last_error_code IS NULL) = (last_error IS NULL))"
	");"
	/* No foreign key to feeds: the state outlives the feed's removal,
	 * so that removing and adding a feed cannot undo rollback checks. */
	"CREATE TABLE feed_accepted ("
	"  uri TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(uri AS BLOB)) BETWEEN 1 AND 1024),"
	"  serial INTEGER NOT NULL"
	"    CHECK (typeof(serial) = 'integer' AND serial >= 1),"
	"  sha256 TEXT NOT NULL"
	"    CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
	"  accepted INTEGER NOT NULL CHECK (typeof(accepted) = 'integer'),"
	"  expires INTEGER NOT NULL CHECK (typeof(expires) = 'integer')"
	");"
	"CREATE TABLE images ("
	"  sha256 TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),"
	"  size INTEGER NOT NULL"
	"    CHECK (typeof(size) = 'integer' AND size >= 0),"
	"  name TEXT NOT NULL"
	"    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 64),"
	"  version TEXT NOT NULL"
	"    CHECK (length(CAST(version AS BLOB)) BETWEEN 1 AND 64),"
	"  path TEXT NOT NULL"
	"    CHECK (length(CAST(path AS BLOB)) BETWEEN 1 AND 4096),"
	"  added INTEGER NOT NULL CHECK (typeof(added) = 'integer'),"
	"  last_used INTEGER CHECK (last_used IS NULL"
	"    OR typeof(last_used) = 'integer')"
	");"
	"CREATE TABLE instances ("
	"  id TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),"
	"  name TEXT NOT NULL UNIQUE"
	"    CHECK (length(name) BETWEEN 1 AND 63"
	"      AND name GLOB '[A-Za-z0-9]*'"
	"      AND name NOT GLOB '*[^A-Za-z0-9_.-]*'),"
	"  feed_uri TEXT REFERENCES feeds (uri) ON DELETE RESTRICT,"
	"  image_sha256 TEXT REFERENCES images (sha256) ON DELETE RESTRICT,"
	"  version_range TEXT CHECK (version_range IS NULL"
	"    OR length(CAST(version_range AS BLOB)) BETWEEN 1 AND 256),"
	"  stability TEXT NOT NULL DEFAULT 'stable' CHECK (stability IN"
	"    ('stable', 'testing', 'developer', 'buggy', 'insecure')),"
	"  backend TEXT NOT NULL CHECK (length(backend) BETWEEN 1 AND 32"
	"    AND backend NOT GLOB '*[^a-z0-9_-]*'),"
	"  handle TEXT CHECK (handle IS NULL"
	"    OR length(CAST(handle AS BLOB)) BETWEEN 1 AND 255),"
	"  desired TEXT NOT NULL CHECK (desired IN ('running', 'stopped')),"
	"  state TEXT NOT NULL CHECK (state IN ('created', 'fetching',"
	"    'starting', 'running', 'stopping', 'stopped', 'exited',"
	"    'crashed', 'failed')),"
	"  exit_code INTEGER CHECK (exit_code IS NULL"
	"    OR (typeof(exit_code) = 'integer'"
	"      AND exit_code BETWEEN -1 AND 255)),"
	"  reason TEXT CHECK (reason IS NULL"
	"    OR length(CAST(reason AS BLOB)) <= 1024),"
	"  restart TEXT NOT NULL"
	"    CHECK (restart IN ('no', 'on-failure', 'always')),"
	"  restart_count INTEGER NOT NULL DEFAULT 0"
	"    CHECK (typeof(restart_count) = 'integer'"
	"      AND restart_count BETWEEN 0 AND 4294967295),"
	"  next_restart INTEGER CHECK (next_restart IS NULL"
	"    OR typeof(next_restart) = 'integer'),"
	"  memory_mib INTEGER NOT NULL CHECK (typeof(memory_mib) = 'integer'"
	"    AND memory_mib BETWEEN 1 AND 1048576),"
	"  vcpus INTEGER NOT NULL CHECK (typeof(vcpus) = 'integer'"
	"    AND vcpus BETWEEN 1 AND 256),"
	"  cmdline TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(cmdline AS BLOB)) <= 4096),"
	"  created INTEGER NOT NULL CHECK (typeof(created) = 'integer'),"
	"  started INTEGER CHECK (started IS NULL"
	"    OR typeof(started) = 'integer'),"
	"  ended INTEGER CHECK (ended IS NULL OR typeof(ended) = 'integer'),"
	"  CHECK (state = 'exited' OR exit_code IS NULL),"
	"  CHECK (state = 'exited' OR state = 'crashed' OR state = 'failed'"
	"    OR reason IS NULL)"
	");"
	"CREATE INDEX instances_feed ON instances (feed_uri);"
	"CREATE INDEX instances_image ON instances (image_sha256);"
	"CREATE UNIQUE INDEX instances_handle ON instances (backend, handle)"
	"  WHERE handle IS NOT NULL;"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time INTEGER NOT NULL CHECK (typeof(time) = 'integer'),"
	"  instance_id TEXT REFERENCES instances (id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 32"
	"    AND kind NOT GLOB '*[^a-z0-9_.-]*'),"
	"  message TEXT NOT NULL"
	"    CHECK (length(CAST(message AS BLOB)) <= 1024)"
	");"
	"CREATE INDEX events_instance ON events (instance_id, id);",
	/* 1 -> 2: guest networks (docs/daemon.md, "Guest networks").  An
	 * instance made before has none, as it had then. */
	"ALTER TABLE instances ADD COLUMN net_mode TEXT NOT NULL"
	"  DEFAULT 'none' CHECK (net_mode IN ('none', 'user', 'bridge'));"
	"CREATE TABLE net_forwards ("
	"  instance_id TEXT NOT NULL"
	"    REFERENCES instances (id) ON DELETE CASCADE,"
	"  pos INTEGER NOT NULL"
	"    CHECK (typeof(pos) = 'integer' AND pos BETWEEN 0 AND 31),"
	"  proto TEXT NOT NULL CHECK (proto IN ('tcp', 'udp')),"
	"  host_ip TEXT NOT NULL CHECK (length(host_ip) BETWEEN 7 AND 15"
	"    AND host_ip NOT GLOB '*[^0-9.]*'),"
	"  host_port INTEGER NOT NULL CHECK (typeof(host_port) = 'integer'"
	"    AND host_port BETWEEN 1 AND 65535),"
	"  guest_port INTEGER NOT NULL CHECK (typeof(guest_port) = 'integer'"
	"    AND guest_port BETWEEN 1 AND 65535),"
	"  PRIMARY KEY (instance_id, pos),"
	"  UNIQUE (instance_id, proto, host_ip, host_port)"
	");"
	/* The bridge's pool: one address per instance, each address once;
	 * the lease goes with its instance. */
	"CREATE TABLE net_leases ("
	"  address INTEGER PRIMARY KEY NOT NULL"
	"    CHECK (typeof(address) = 'integer'"
	"      AND address BETWEEN 1 AND 4294967294),"
	"  instance_id TEXT NOT NULL UNIQUE"
	"    REFERENCES instances (id) ON DELETE CASCADE,"
	"  leased INTEGER NOT NULL CHECK (typeof(leased) = 'integer')"
	");",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
    STORE_SCHEMA_VERSION, "one migration step per schema version");

/* ------------------------------------------------------------------ */
/* statements */

enum q {
	Q_BEGIN,
	Q_BEGIN_WRITE,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_KEY_INSERT,
	Q_KEY_EXISTS,
	Q_KEY_DELETE,
	Q_DOMAIN_INSERT,
	Q_DOMAIN_DELETE,
	Q_DOMAIN_COUNT,
	Q_KEY_LIST,
	Q_KEY_GET,
	Q_TRUST_SIZES,
	Q_FEED_INSERT,
	Q_FEED_EXISTS,
	Q_FEED_GET,
	Q_FEED_LIST,
	Q_FEED_DELETE,
	Q_FEED_USERS,
	Q_FEED_FETCHED,
	Q_FEED_STATE,
	Q_FEED_ACCEPT,
	Q_IMAGE_INSERT,
	Q_IMAGE_EXISTS,
	Q_IMAGE_GET,
	Q_IMAGE_LIST,
	Q_IMAGE_PRUNE,
	Q_IMAGE_TOUCH,
	Q_IMAGE_USERS,
	Q_IMAGE_DELETE,
	Q_INST_INSERT,
	Q_INST_ID_EXISTS,
	Q_INST_NAME_EXISTS,
	Q_INST_BY_NAME,
	Q_INST_BY_ID,
	Q_INST_BY_HANDLE,
	Q_INST_LIST,
	Q_INST_CURRENT,
	Q_INST_MOVE,
	Q_INST_DESIRED,
	Q_INST_HANDLE,
	Q_INST_HANDLE_USER,
	Q_INST_IMAGE,
	Q_INST_DELETE,
	Q_FWD_INSERT,
	Q_LEASE_OF,
	Q_LEASE_DROP,
	Q_LEASES_IN,
	Q_LEASE_INSERT,
	Q_EVENT_INSERT,
	Q_EVENT_TRIM,
	Q_EVENT_LIST,
	Q_EVENT_LIST_INST,
	Q_EVENT_LAST,
	Q_COUNT
};

#define KEY_COLS "SELECT k.key_id, k.public_key, k.comment, k.added, " \
	"d.pattern FROM keys k LEFT JOIN key_domains d ON d.key_id = k.key_id"
#define FEED_COLS "SELECT f.uri, f.added, f.last_fetched, " \
	"f.last_error_code, f.last_error, a.serial, a.sha256, a.accepted, " \
	"a.expires FROM feeds f LEFT JOIN feed_accepted a ON a.uri = f.uri"
#define IMAGE_COLS "SELECT i.sha256, i.size, i.name, i.version, i.path, " \
	"i.added, i.last_used, (SELECT count(*) FROM instances n " \
	"WHERE n.image_sha256 = i.sha256) FROM images i"
#define INST_COLS "SELECT n.id, n.name, n.feed_uri, n.image_sha256, " \
	"i.version, n.version_range, n.stability, n.backend, n.handle, " \
	"n.desired, n.state, n.exit_code, n.reason, n.restart, " \
	"n.restart_count, n.next_restart, n.memory_mib, n.vcpus, n.cmdline, " \
	"n.created, n.started, n.ended, n.net_mode, " \
	"(SELECT address FROM net_leases l WHERE l.instance_id = n.id), " \
	"(SELECT group_concat(proto || ' ' || host_ip || ' ' || host_port " \
	"|| ' ' || guest_port, ',') FROM (SELECT * FROM net_forwards f " \
	"WHERE f.instance_id = n.id ORDER BY f.pos)) " \
	"FROM instances n LEFT JOIN images i ON i.sha256 = n.image_sha256"
#define EVENT_COLS "SELECT id, time, instance_id, kind, message FROM events"

static const char *const sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN",
	[Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_KEY_INSERT] = "INSERT INTO keys (key_id, public_key, comment, "
	    "added) VALUES (?1, ?2, ?3, ?4)",
	[Q_KEY_EXISTS] = "SELECT 1 FROM keys WHERE key_id = ?1",
	[Q_KEY_DELETE] = "DELETE FROM keys WHERE key_id = ?1",
	[Q_DOMAIN_INSERT] = "INSERT OR IGNORE INTO key_domains (key_id, "
	    "pattern) VALUES (?1, ?2)",
	[Q_DOMAIN_DELETE] = "DELETE FROM key_domains WHERE key_id = ?1 "
	    "AND pattern = ?2",
	[Q_DOMAIN_COUNT] = "SELECT count(*) FROM key_domains WHERE key_id = ?1",
	[Q_KEY_LIST] = KEY_COLS " ORDER BY k.key_id, d.pattern",
	[Q_KEY_GET] = KEY_COLS " WHERE k.key_id = ?1 ORDER BY d.pattern",
	[Q_TRUST_SIZES] = "SELECT (SELECT count(*) FROM keys), "
	    "(SELECT count(*) FROM key_domains), "
	    "(SELECT coalesce(sum(length(CAST(pattern AS BLOB)) + 1), 0) "
	    "FROM key_domains)",
	[Q_FEED_INSERT] = "INSERT OR IGNORE INTO feeds (uri, added) "
	    "VALUES (?1, ?2)",
	[Q_FEED_EXISTS] = "SELECT 1 FROM feeds WHERE uri = ?1",
	[Q_FEED_GET] = FEED_COLS " WHERE f.uri = ?1",
	[Q_FEED_LIST] = FEED_COLS " ORDER BY f.uri",
	[Q_FEED_DELETE] = "DELETE FROM feeds WHERE uri = ?1",
	[Q_FEED_USERS] = "SELECT name FROM instances WHERE feed_uri = ?1 "
	    "ORDER BY name",
	[Q_FEED_FETCHED] = "UPDATE feeds SET last_fetched = ?2, "
	    "last_error_code = ?3, last_error = ?4 WHERE uri = ?1",
	[Q_FEED_STATE] = "SELECT serial, sha256, accepted, expires "
	    "FROM feed_accepted WHERE uri = ?1",
	[Q_FEED_ACCEPT] = "INSERT INTO feed_accepted (uri, serial, sha256, "
	    "accepted, expires) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (uri) DO UPDATE SET serial = excluded.serial, "
	    "sha256 = excluded.sha256, accepted = excluded.accepted, "
	    "expires = excluded.expires",
	[Q_IMAGE_INSERT] = "INSERT OR IGNORE INTO images (sha256, size, name, "
	    "version, path, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_IMAGE_EXISTS] = "SELECT 1 FROM images WHERE sha256 = ?1",
	[Q_IMAGE_GET] = IMAGE_COLS " WHERE i.sha256 = ?1",
	[Q_IMAGE_LIST] = IMAGE_COLS " ORDER BY i.name, i.added, i.sha256",
	[Q_IMAGE_PRUNE] = IMAGE_COLS " WHERE NOT EXISTS (SELECT 1 FROM "
	    "instances n WHERE n.image_sha256 = i.sha256) "
	    "AND coalesce(i.last_used, i.added) < ?1 "
	    "ORDER BY i.name, i.added, i.sha256",
	[Q_IMAGE_TOUCH] = "UPDATE images SET last_used = ?2 WHERE sha256 = ?1",
	[Q_IMAGE_USERS] = "SELECT name FROM instances WHERE image_sha256 = ?1 "
	    "ORDER BY name",
	[Q_IMAGE_DELETE] = "DELETE FROM images WHERE sha256 = ?1",
	[Q_INST_INSERT] = "INSERT INTO instances (id, name, feed_uri, "
	    "version_range, stability, backend, desired, state, restart, "
	    "memory_mib, vcpus, cmdline, created, net_mode) VALUES (?1, ?2, "
	    "?3, ?4, ?5, ?6, ?7, 'created', ?8, ?9, ?10, ?11, ?12, ?13)",
	[Q_INST_ID_EXISTS] = "SELECT 1 FROM instances WHERE id = ?1",
	[Q_INST_NAME_EXISTS] = "SELECT 1 FROM instances WHERE name = ?1",
	[Q_INST_BY_NAME] = INST_COLS " WHERE n.name = ?1",
	[Q_INST_BY_ID] = INST_COLS " WHERE n.id = ?1",
	[Q_INST_BY_HANDLE] = INST_COLS " WHERE n.backend = ?1 "
	    "AND n.handle = ?2",
	[Q_INST_LIST] = INST_COLS " ORDER BY n.name",
	[Q_INST_CURRENT] = "SELECT name, state, restart_count, started, ended "
	    "FROM instances WHERE id = ?1",
	[Q_INST_MOVE] = "UPDATE instances SET state = ?2, exit_code = ?3, "
	    "reason = ?4, next_restart = ?5, restart_count = ?6, "
	    "started = ?7, ended = ?8 WHERE id = ?1 AND state = ?9",
	/* wanting it stopped cancels a planned restart */
	[Q_INST_DESIRED] = "UPDATE instances SET desired = ?2, next_restart = "
	    "CASE WHEN ?2 = 'stopped' THEN NULL ELSE next_restart END "
	    "WHERE id = ?1",
	[Q_INST_HANDLE] = "UPDATE instances SET handle = ?2 WHERE id = ?1",
	[Q_INST_HANDLE_USER] = "SELECT o.name FROM instances o "
	    "JOIN instances n ON n.id = ?1 AND o.backend = n.backend "
	    "WHERE o.handle = ?2 AND o.id <> ?1",
	[Q_INST_IMAGE] = "UPDATE instances SET image_sha256 = ?2 WHERE id = ?1",
	[Q_INST_DELETE] = "DELETE FROM instances WHERE id = ?1",
	[Q_FWD_INSERT] = "INSERT INTO net_forwards (instance_id, pos, proto, "
	    "host_ip, host_port, guest_port) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_LEASE_OF] = "SELECT address FROM net_leases WHERE instance_id = ?1",
	[Q_LEASE_DROP] = "DELETE FROM net_leases WHERE instance_id = ?1",
	[Q_LEASES_IN] = "SELECT address FROM net_leases WHERE address "
	    "BETWEEN ?1 AND ?2 ORDER BY address",
	[Q_LEASE_INSERT] = "INSERT INTO net_leases (address, instance_id, "
	    "leased) VALUES (?1, ?2, ?3)",
	[Q_EVENT_INSERT] = "INSERT INTO events (time, instance_id, kind, "
	    "message) VALUES (?1, ?2, ?3, ?4)",
	[Q_EVENT_TRIM] = "DELETE FROM events WHERE id <= ?1",
	[Q_EVENT_LIST] = EVENT_COLS " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[Q_EVENT_LIST_INST] = EVENT_COLS " WHERE instance_id = ?3 AND id > ?1 "
	    "ORDER BY id LIMIT ?2",
	[Q_EVENT_LAST] = "SELECT coalesce(max(id), 0) FROM events",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	int bind_rc;		/* first failed bind since q() */
	int64_t (*now)(void *);
	void *now_arg;
	int64_t keep;		/* events kept */
	char what[320];		/* what the current call does */
};

/* Sets the context that SQLite failures are reported in. */
__attribute__((format(printf, 2, 3))) static void
ctx(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->what, sizeof(st->what), fmt, ap);
	va_end(ap);
}

static const char *
code_of(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return "store_exists";
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "store_busy";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "store_corrupt";
	case SQLITE_NOMEM:
		return ERR_NOMEM;
	case SQLITE_CONSTRAINT:
		return "store_constraint";
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
		return "store_io";
	}
	return "store_error";
}

/* Reports the connection's last SQLite failure in the current context. */
static int
dberr(struct store *st, struct err *e)
{
	return err_set(e, code_of(sqlite3_extended_errcode(st->db)), "%s: %s",
	    st->what, sqlite3_errmsg(st->db));
}

/* The statement (id), prepared once and reset for a new use. */
static sqlite3_stmt *
q(struct store *st, enum q id, struct err *e)
{
	sqlite3_stmt *s = st->stmt[id];

	st->bind_rc = SQLITE_OK;
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
	    &s, NULL) != SQLITE_OK) {
		dberr(st, e);
		return NULL;
	}
	st->stmt[id] = s;
	return s;
}

static void
bound(struct store *st, int rc)
{
	if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK)
		st->bind_rc = rc;
}

/* NULL binds SQL NULL. */
static void
b_text(struct store *st, sqlite3_stmt *s, int i, const char *v)
{
	bound(st, v == NULL ? sqlite3_bind_null(s, i) :
	    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT));
}

static void
b_int(struct store *st, sqlite3_stmt *s, int i, int64_t v)
{
	bound(st, sqlite3_bind_int64(s, i, v));
}

/* 0 binds SQL NULL: "never" / "none". */
static void
b_time(struct store *st, sqlite3_stmt *s, int i, int64_t v)
{
	bound(st, v == 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i,
	    v));
}

static void
b_blob(struct store *st, sqlite3_stmt *s, int i, const void *v, int n)
{
	bound(st, sqlite3_bind_blob(s, i, v, n, SQLITE_TRANSIENT));
}

/* 1: a row, 0: done, -1: failed with (e) set. */
static int
step(struct store *st, sqlite3_stmt *s, struct err *e)
{
	int rc;

	if (s == NULL)
		return -1;
	if (st->bind_rc != SQLITE_OK)
		return err_set(e, code_of(st->bind_rc), "%s: %s", st->what,
		    sqlite3_errstr(st->bind_rc));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return dberr(st, e);
}

/* Steps a query that always returns one row (count(*), max()). */
static int
one_row(struct store *st, sqlite3_stmt *s, struct err *e)
{
	int r = step(st, s, e);

	if (r == 0)
		err_set(e, "store_error", "%s: a query returned no row",
		    st->what);
	return r == 1 ? 0 : -1;
}

/* Runs a statement that returns no rows. */
static int
run(struct store *st, sqlite3_stmt *s, struct err *e)
{
	return step(st, s, e) == -1 ? -1 : 0;
}

/* Runs a statement that changes rows; (*n) gets how many. */
static int
run_changes(struct store *st, sqlite3_stmt *s, int *n, struct err *e)
{
	if (run(st, s, e) == -1)
		return -1;
	*n = sqlite3_changes(st->db);
	return 0;
}

static void
reset_all(struct store *st)
{
	size_t i;

	for (i = 0; i < Q_COUNT; i++)
		if (st->stmt[i] != NULL)
			sqlite3_reset(st->stmt[i]);
}

static int
tx_begin(struct store *st, int write, struct err *e)
{
	return run(st, q(st, write ? Q_BEGIN_WRITE : Q_BEGIN, e), e);
}

/* Ends the transaction after a failure; (e) keeps the first error. */
static void
tx_rollback(struct store *st)
{
	reset_all(st);
	if (!sqlite3_get_autocommit(st->db))
		run(st, q(st, Q_ROLLBACK, NULL), NULL);
	reset_all(st);
}

static int
tx_commit(struct store *st, struct err *e)
{
	reset_all(st);
	if (run(st, q(st, Q_COMMIT, e), e) == -1) {
		tx_rollback(st);
		return -1;
	}
	reset_all(st);
	return 0;
}

static int64_t
now(struct store *st)
{
	return st->now != NULL ? st->now(st->now_arg) : (int64_t)time(NULL);
}

/* ------------------------------------------------------------------ */
/* columns */

static int
corrupt(struct store *st, struct err *e, const char *what)
{
	return err_set(e, "store_corrupt", "%s: %s", st->what, what);
}

static int
nomem(struct store *st, struct err *e)
{
	return err_set(e, ERR_NOMEM, "%s: out of memory", st->what);
}

/* Copies a nullable text column into a new string ((*out) NULL for NULL). */
static int
col_dup(struct store *st, sqlite3_stmt *s, int i, char **out, struct err *e)
{
	const unsigned char *t;

	*out = NULL;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return 0;
	if ((t = sqlite3_column_text(s, i)) == NULL ||
	    (*out = strdup((const char *)t)) == NULL)
		return nomem(st, e);
	return 0;
}

/* Copies a text column into (buf) of (size) bytes ("" for NULL). */
static int
col_copy(struct store *st, sqlite3_stmt *s, int i, char *buf, size_t size,
    struct err *e)
{
	const unsigned char *t;
	size_t n;

	buf[0] = '\0';
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return 0;
	if ((t = sqlite3_column_text(s, i)) == NULL)
		return nomem(st, e);
	if ((n = strlen((const char *)t)) >= size)
		return corrupt(st, e, "a stored value is too long");
	memcpy(buf, t, n + 1);
	return 0;
}

/* "" for NULL. */
static const char *
col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

/* 0 for NULL. */
static int64_t
col_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int64(s, i);
}

typedef int (*row_fn)(struct store *, sqlite3_stmt *, void *, struct err *);
typedef void (*free_fn)(void *);

/* Frees (n) elements of (size) bytes at (arr) with (ffn), then (arr). */
static void
rows_free(void *arr, size_t n, size_t size, free_fn ffn)
{
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		ffn((char *)arr + i * size);
	free(arr);
}

/* Reads every row of (s) into a new array of (size)-byte elements. */
static int
read_rows(struct store *st, sqlite3_stmt *s, size_t size, row_fn fn,
    free_fn ffn, void **out, size_t *n, struct err *e)
{
	char *arr = NULL, *p;
	size_t cnt = 0, cap = 0;
	int r;

	while ((r = step(st, s, e)) == 1) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((p = reallocarray(arr, cap, size)) == NULL) {
				nomem(st, e);
				goto fail;
			}
			arr = p;
		}
		p = arr + cnt * size;
		memset(p, 0, size);
		if (fn(st, s, p, e) == -1) {
			ffn(p);
			goto fail;
		}
		cnt++;
	}
	if (r == -1)
		goto fail;
	if (cnt == 0) {
		free(arr);
		arr = NULL;
	}
	*out = arr;
	*n = cnt;
	return 0;
fail:
	rows_free(arr, cnt, size, ffn);
	return -1;
}

/* ------------------------------------------------------------------ */
/* checks of the caller's input */

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
is_lower_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static int
is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* Exactly (n) hex digits, copied lowercase into (out) (n + 1 bytes). */
static int
hex_arg(const char *what, const char *in, size_t n, char *out,
    struct err *e)
{
	size_t i;

	if (in == NULL)
		return err_set(e, ERR_INVALID, "no %s", what);
	for (i = 0; i < n; i++) {
		if (!is_hex(in[i]))
			break;
		out[i] = in[i] >= 'A' && in[i] <= 'F' ?
		    (char)(in[i] - 'A' + 'a') : in[i];
	}
	if (i != n || in[n] != '\0')
		return err_set(e, ERR_INVALID, "%s '%.80s' is not %zu hex "
		    "digits", what, in, n);
	out[n] = '\0';
	return 0;
}

static int
sha_arg(const char *in, char out[SHA256_HEX_LEN + 1], struct err *e)
{
	return hex_arg("image sha256", in, SHA256_HEX_LEN, out, e);
}

static int
id_arg(const char *in, char out[STORE_ID_LEN + 1], struct err *e)
{
	return hex_arg("instance id", in, STORE_ID_LEN, out, e);
}

/* A string of (min)..(max) bytes. */
static int
len_arg(const char *what, const char *s, size_t min, size_t max,
    struct err *e)
{
	size_t n;

	if (s == NULL)
		return min == 0 ? 0 : err_set(e, ERR_INVALID, "no %s", what);
	n = strlen(s);
	if (n < min)
		return err_set(e, ERR_INVALID, "empty %s", what);
	if (n > max)
		return err_set(e, ERR_INVALID, "%s is %zu bytes, longer than "
		    "%zu", what, n, max);
	return 0;
}

static int
uri_arg(const char *uri, struct err *e)
{
	char domain[TRUST_DOMAIN_MAX];

	if (len_arg("feed URI", uri, 1, STORE_URI_MAX, e) == -1)
		return -1;
	return trust_domain_of_uri(uri, domain, e);
}

/* A domain rule, lowercased into (out). */
static int
rule_arg(const char *rule, char out[TRUST_DOMAIN_MAX + 2], struct err *e)
{
	size_t i;

	if (trust_pattern_check(rule, e) == -1)
		return -1;
	if (strlen(rule) > TRUST_DOMAIN_MAX + 1)
		return err_set(e, "trust_pattern_invalid", "domain rule is too "
		    "long");
	for (i = 0; rule[i] != '\0'; i++)
		out[i] = rule[i] >= 'A' && rule[i] <= 'Z' ?
		    (char)(rule[i] - 'A' + 'a') : rule[i];
	out[i] = '\0';
	return 0;
}

/* Copies at most (max) bytes of (s) into (out), cut before a UTF-8
 * sequence rather than inside one. */
static void
cut_utf8(const char *s, size_t max, char *out)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* opening and migrations */

/* Runs (text), which may hold several statements. */
static int
exec(struct store *st, const char *text, struct err *e)
{
	if (sqlite3_exec(st->db, text, NULL, NULL, NULL) != SQLITE_OK)
		return dberr(st, e);
	return 0;
}

/* The first column of the first row of (text), as an integer or text. */
static int
exec_value(struct store *st, const char *text, int64_t *iv, char *tv,
    size_t tsize, struct err *e)
{
	sqlite3_stmt *s;
	int r;

	if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK)
		return dberr(st, e);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		if (r == SQLITE_DONE)
			err_set(e, "store_error", "%s: %s returned nothing",
			    st->what, text);
		else
			dberr(st, e);
		sqlite3_finalize(s);
		return -1;
	}
	if (iv != NULL)
		*iv = sqlite3_column_int64(s, 0);
	if (tv != NULL)
		snprintf(tv, tsize, "%s", col_str(s, 0));
	sqlite3_finalize(s);
	return 0;
}

/* Applies one step if one is due; (*done) says the schema is current. */
static int
migrate_step(struct store *st, int target, int *done, struct err *e)
{
	int64_t version, appid, ntables;
	char text[128];

	*done = 0;
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (exec_value(st, "PRAGMA user_version", &version, NULL, 0, e) ==
	    -1 ||
	    exec_value(st, "PRAGMA application_id", &appid, NULL, 0, e) ==
	    -1 ||
	    exec_value(st, "SELECT count(*) FROM sqlite_master", &ntables,
	    NULL, 0, e) == -1)
		goto fail;
	if (appid != STORE_APPLICATION_ID &&
	    !(appid == 0 && version == 0 && ntables == 0)) {
		err_set(e, "store_corrupt", "%s: not a unikerneld database "
		    "(application_id %#" PRIx64 ", user_version %" PRId64 ")",
		    st->what, (uint64_t)appid, version);
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION || version < 0) {
		err_set(e, "store_too_new", "%s: schema version %" PRId64
		    " was written by a newer unikerneld; this one knows "
		    "versions up to %d", st->what, version,
		    STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version >= target) {
		*done = 1;
		return tx_commit(st, e);
	}
	snprintf(text, sizeof(text), "PRAGMA user_version = %d;"
	    "PRAGMA application_id = %d;", (int)version + 1,
	    STORE_APPLICATION_ID);
	if (exec(st, migrations[version], e) == -1 || exec(st, text, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

static int
migrate(struct store *st, int target, struct err *e)
{
	int done = 0;

	while (!done)
		if (migrate_step(st, target, &done, e) == -1)
			return -1;
	return 0;
}

static int
configure(struct store *st, struct err *e)
{
	char mode[16];
	int64_t fk;

	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/* No writable_schema or other ways to corrupt the file by SQL. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (exec(st, "PRAGMA foreign_keys = ON", e) == -1 ||
	    exec_value(st, "PRAGMA foreign_keys", &fk, NULL, 0, e) == -1)
		return -1;
	if (fk != 1)
		return err_set(e, "store_error", "%s: SQLite was built without "
		    "foreign keys", st->what);
	if (exec_value(st, "PRAGMA journal_mode = WAL", NULL, mode,
	    sizeof(mode), e) == -1)
		return -1;
	if (strcmp(mode, "wal") != 0)
		return err_set(e, "store_io", "%s: cannot use WAL (journal "
		    "mode stays %s)", st->what, mode);
	/* FULL: an accepted serial must survive a power loss, or a crash at
	 * the right moment would let a rolled-back feed in again. */
	if (exec(st, "PRAGMA synchronous = FULL", e) == -1 ||
	    exec(st, "PRAGMA trusted_schema = OFF", e) == -1)
		return -1;
	return 0;
}

int
store_open(const char *path, struct store **out, struct err *e)
{
	return store_open_version(path, STORE_SCHEMA_VERSION, out, e);
}

int
store_open_version(const char *path, int version, struct store **out,
    struct err *e)
{
	struct store *st;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return err_set(e, ERR_INVALID, "no database path");
	if (version < 1 || version > STORE_SCHEMA_VERSION)
		return err_set(e, ERR_INVALID, "schema version %d is not in "
		    "1..%d", version, STORE_SCHEMA_VERSION);
	if (!sqlite3_threadsafe())
		return err_set(e, "store_error", "SQLite was built without "
		    "thread support");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return err_set(e, ERR_NOMEM, "opening %s: out of memory", path);
	st->keep = STORE_EVENTS_KEEP;
	ctx(st, "opening %s", path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			err_set(e, ERR_NOMEM, "opening %s: out of memory",
			    path);
		else
			err_set(e, "store_io", "%s: %s", st->what,
			    sqlite3_errmsg(st->db));
		goto fail;
	}
	if (configure(st, e) == -1 || migrate(st, version, e) == -1)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

void
store_set_clock(struct store *st, int64_t (*fn)(void *), void *arg)
{
	st->now = fn;
	st->now_arg = arg;
}

void
store_set_event_limit(struct store *st, int64_t keep)
{
	st->keep = keep < 1 ? 1 : keep;
}

/* ------------------------------------------------------------------ */
/* events (first: other changes record them in their own transaction) */

static int
event_insert(struct store *st, const char *instance, const char *kind,
    const char *message, int64_t *id, struct err *e)
{
	char msg[STORE_EVENT_MSG_MAX + 1];
	sqlite3_stmt *s;
	int64_t last;

	cut_utf8(message != NULL ? message : "", STORE_EVENT_MSG_MAX, msg);
	s = q(st, Q_EVENT_INSERT, e);
	if (s == NULL)
		return -1;
	b_int(st, s, 1, now(st));
	b_text(st, s, 2, instance);
	b_text(st, s, 3, kind);
	b_text(st, s, 4, msg);
	if (run(st, s, e) == -1)
		return -1;
	last = sqlite3_last_insert_rowid(st->db);
	if (id != NULL)
		*id = last;
	/* Ids grow by one per event (AUTOINCREMENT never reuses one), so
	 * this keeps the newest (keep) ids: fewer events when an instance's
	 * were deleted, never more. */
	if (last > st->keep) {
		if ((s = q(st, Q_EVENT_TRIM, e)) == NULL)
			return -1;
		b_int(st, s, 1, last - st->keep);
		if (run(st, s, e) == -1)
			return -1;
	}
	return 0;
}

static int
kind_arg(const char *kind, struct err *e)
{
	size_t i;

	if (len_arg("event kind", kind, 1, STORE_KIND_MAX, e) == -1)
		return -1;
	for (i = 0; kind[i] != '\0'; i++)
		if (!is_lower_alnum(kind[i]) && kind[i] != '_' &&
		    kind[i] != '.' && kind[i] != '-')
			return err_set(e, ERR_INVALID, "event kind '%s' is not "
			    "[a-z0-9_.-]", kind);
	return 0;
}

/* 1 if the row (q)(key) exists, 0 if not, -1 on failure. */
static int
exists(struct store *st, enum q id, const char *key, struct err *e)
{
	sqlite3_stmt *s = q(st, id, e);

	if (s == NULL)
		return -1;
	b_text(st, s, 1, key);
	return step(st, s, e);
}

int
store_event_add(struct store *st, const char *instance_id, const char *kind,
    const char *message, int64_t *id, struct err *e)
{
	char iid[STORE_ID_LEN + 1];
	int r;

	if ((instance_id != NULL && id_arg(instance_id, iid, e) == -1) ||
	    kind_arg(kind, e) == -1)
		return -1;
	ctx(st, "adding a %s event", kind);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (instance_id != NULL) {
		if ((r = exists(st, Q_INST_ID_EXISTS, iid, e)) == -1)
			goto fail;
		if (r == 0) {
			err_set(e, "store_not_found", "no instance %s", iid);
			goto fail;
		}
	}
	if (event_insert(st, instance_id != NULL ? iid : NULL, kind, message,
	    id, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

static int
event_row(struct store *st, sqlite3_stmt *s, void *p, struct err *e)
{
	struct store_event *ev = p;

	ev->id = col_int(s, 0);
	ev->time = col_int(s, 1);
	if (col_copy(st, s, 2, ev->instance, sizeof(ev->instance), e) == -1 ||
	    col_copy(st, s, 3, ev->kind, sizeof(ev->kind), e) == -1 ||
	    col_dup(st, s, 4, &ev->message, e) == -1)
		return -1;
	if (ev->message == NULL)
		return corrupt(st, e, "an event has no message");
	return 0;
}

static void
event_free(void *p)
{
	struct store_event *ev = p;

	free(ev->message);
	ev->message = NULL;
}

int
store_event_list(struct store *st, int64_t after, const char *instance_id,
    size_t limit, struct store_event **out, size_t *n, struct err *e)
{
	char iid[STORE_ID_LEN + 1];
	sqlite3_stmt *s;

	*out = NULL;
	*n = 0;
	if (instance_id != NULL && id_arg(instance_id, iid, e) == -1)
		return -1;
	if (limit == 0)
		return 0;
	if (limit > INT64_MAX)
		limit = INT64_MAX;
	ctx(st, "listing events");
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((s = q(st, instance_id != NULL ? Q_EVENT_LIST_INST : Q_EVENT_LIST,
	    e)) == NULL)
		goto fail;
	b_int(st, s, 1, after);
	b_int(st, s, 2, (int64_t)limit);
	if (instance_id != NULL)
		b_text(st, s, 3, iid);
	if (read_rows(st, s, sizeof(**out), event_row, event_free,
	    (void **)out, n, e) == -1)
		goto fail;
	if (tx_commit(st, e) == -1) {
		store_event_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
fail:
	tx_rollback(st);
	return -1;
}

void
store_event_list_free(struct store_event *evs, size_t n)
{
	rows_free(evs, n, sizeof(*evs), event_free);
}

int
store_event_last(struct store *st, int64_t *id, struct err *e)
{
	sqlite3_stmt *s;

	*id = 0;
	ctx(st, "reading the last event id");
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if (one_row(st, (s = q(st, Q_EVENT_LAST, e)), e) == -1)
		goto fail;
	*id = col_int(s, 0);
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* ------------------------------------------------------------------ */
/* keys */

static int
domain_insert(struct store *st, const char *kid, const char *rule, int *n,
    struct err *e)
{
	sqlite3_stmt *s = q(st, Q_DOMAIN_INSERT, e);

	if (s == NULL)
		return -1;
	b_text(st, s, 1, kid);
	b_text(st, s, 2, rule);
	return run_changes(st, s, n, e);
}

int
store_key_add(struct store *st, const struct sig_pubkey *pk,
    const char *comment, const char *const *domains, size_t ndomains,
    struct err *e)
{
	char kid[SIG_KEYID_HEX_LEN + 1], rule[TRUST_DOMAIN_MAX + 2];
	sqlite3_stmt *s;
	size_t i;
	int r;

	if (pk == NULL)
		return err_set(e, ERR_INVALID, "no key");
	sig_keyid_format(pk->keyid, kid);
	if (ndomains == 0 || domains == NULL)
		return err_set(e, ERR_INVALID, "key %s: no domain to trust it "
		    "for", kid);
	if (comment == NULL)
		comment = "";
	if (sig_comment_check(comment, 0, e) == -1)
		return err_prefix(e, "key %s", kid);
	for (i = 0; i < ndomains; i++)
		if (rule_arg(domains[i], rule, e) == -1)
			return err_prefix(e, "key %s", kid);
	ctx(st, "adding key %s", kid);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((r = exists(st, Q_KEY_EXISTS, kid, e)) == -1)
		goto fail;
	if (r == 1) {
		err_set(e, "store_exists", "key %s is in the trust store "
		    "already", kid);
		goto fail;
	}
	if ((s = q(st, Q_KEY_INSERT, e)) == NULL)
		goto fail;
	b_text(st, s, 1, kid);
	b_blob(st, s, 2, pk->pk, SIG_PK_LEN);
	b_text(st, s, 3, comment);
	b_int(st, s, 4, now(st));
	if (run(st, s, e) == -1)
		goto fail;
	/* Duplicates in (domains) ("a.org", "A.org") collapse into one. */
	for (i = 0; i < ndomains; i++)
		if (rule_arg(domains[i], rule, e) == -1 ||
		    domain_insert(st, kid, rule, &r, e) == -1)
			goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* Begins a write on the key (kid), which must exist. */
static int
key_begin(struct store *st, const char *kid, struct err *e)
{
	int r;

	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((r = exists(st, Q_KEY_EXISTS, kid, e)) == 1)
		return 0;
	if (r == 0)
		err_set(e, "store_not_found", "key %s is not in the trust "
		    "store", kid);
	tx_rollback(st);
	return -1;
}

int
store_key_domain_add(struct store *st, const uint8_t keyid[SIG_KEYID_LEN],
    const char *domain, struct err *e)
{
	char kid[SIG_KEYID_HEX_LEN + 1], rule[TRUST_DOMAIN_MAX + 2];
	int n;

	sig_keyid_format(keyid, kid);
	if (rule_arg(domain, rule, e) == -1)
		return err_prefix(e, "key %s", kid);
	ctx(st, "trusting key %s for %s", kid, rule);
	if (key_begin(st, kid, e) == -1)
		return -1;
	if (domain_insert(st, kid, rule, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_exists", "key %s is trusted for %s already",
		    kid, rule);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_key_domain_remove(struct store *st,
    const uint8_t keyid[SIG_KEYID_LEN], const char *domain, struct err *e)
{
	char kid[SIG_KEYID_HEX_LEN + 1], rule[TRUST_DOMAIN_MAX + 2];
	sqlite3_stmt *s;
	int n;

	sig_keyid_format(keyid, kid);
	if (rule_arg(domain, rule, e) == -1)
		return err_prefix(e, "key %s", kid);
	ctx(st, "removing rule %s of key %s", rule, kid);
	if (key_begin(st, kid, e) == -1)
		return -1;
	if ((s = q(st, Q_DOMAIN_DELETE, e)) == NULL)
		goto fail;
	b_text(st, s, 1, kid);
	b_text(st, s, 2, rule);
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "key %s has no rule %s", kid,
		    rule);
		goto fail;
	}
	if ((s = q(st, Q_DOMAIN_COUNT, e)) == NULL)
		goto fail;
	b_text(st, s, 1, kid);
	if (one_row(st, s, e) == -1)
		goto fail;
	if (col_int(s, 0) == 0) {
		err_set(e, "key_last_domain", "%s is the last rule of key %s: "
		    "remove the key instead", rule, kid);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_key_remove(struct store *st, const uint8_t keyid[SIG_KEYID_LEN],
    struct err *e)
{
	char kid[SIG_KEYID_HEX_LEN + 1];
	sqlite3_stmt *s;
	int n;

	sig_keyid_format(keyid, kid);
	ctx(st, "removing key %s", kid);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((s = q(st, Q_KEY_DELETE, e)) == NULL)
		goto fail;
	b_text(st, s, 1, kid);
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "key %s is not in the trust "
		    "store", kid);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

void
store_key_free(struct store_key *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->ndomains; i++)
		free(k->domains[i]);
	free(k->domains);
	free(k->comment);
	k->domains = NULL;
	k->ndomains = 0;
	k->comment = NULL;
}

void
store_key_list_free(struct store_key *keys, size_t n)
{
	size_t i;

	for (i = 0; keys != NULL && i < n; i++)
		store_key_free(&keys[i]);
	free(keys);
}

/* Key id and public key of a KEY_COLS row. */
static int
key_ids(struct store *st, sqlite3_stmt *s, uint8_t keyid[SIG_KEYID_LEN],
    uint8_t pk[SIG_PK_LEN], struct err *e)
{
	const char *kid = (const char *)sqlite3_column_text(s, 0);
	const void *blob = sqlite3_column_blob(s, 1);

	if (kid == NULL || sig_keyid_parse(kid, keyid) == -1 ||
	    blob == NULL || sqlite3_column_bytes(s, 1) != SIG_PK_LEN)
		return corrupt(st, e, "a key has a bad id or public key");
	memcpy(pk, blob, SIG_PK_LEN);
	return 0;
}

/* Reads KEY_COLS rows, one per (key, rule), into keys with their rules. */
static int
keys_read(struct store *st, sqlite3_stmt *s, struct store_key **out,
    size_t *n, struct err *e)
{
	struct store_key *keys = NULL, *k = NULL, *p;
	uint8_t keyid[SIG_KEYID_LEN], pk[SIG_PK_LEN];
	size_t cnt = 0, cap = 0;
	char **d;
	int r;

	while ((r = step(st, s, e)) == 1) {
		if (key_ids(st, s, keyid, pk, e) == -1)
			goto fail;
		if (k == NULL || memcmp(k->keyid, keyid, SIG_KEYID_LEN) != 0) {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 8;
				if ((p = reallocarray(keys, cap,
				    sizeof(*keys))) == NULL)
					goto oom;
				keys = p;
			}
			k = &keys[cnt++];
			memset(k, 0, sizeof(*k));
			memcpy(k->keyid, keyid, SIG_KEYID_LEN);
			memcpy(k->pk, pk, SIG_PK_LEN);
			k->added = col_int(s, 3);
			if (col_dup(st, s, 2, &k->comment, e) == -1)
				goto fail;
			if (k->comment == NULL && (k->comment = strdup("")) ==
			    NULL)
				goto oom;
		}
		if (sqlite3_column_type(s, 4) == SQLITE_NULL)
			continue;
		if ((d = reallocarray(k->domains, k->ndomains + 1,
		    sizeof(*d))) == NULL)
			goto oom;
		k->domains = d;
		if (col_dup(st, s, 4, &d[k->ndomains], e) == -1)
			goto fail;
		k->ndomains++;
	}
	if (r == -1)
		goto fail;
	*out = keys;
	*n = cnt;
	return 0;
oom:
	nomem(st, e);
fail:
	store_key_list_free(keys, cnt);
	return -1;
}

int
store_key_get(struct store *st, const uint8_t keyid[SIG_KEYID_LEN],
    struct store_key *out, struct err *e)
{
	char kid[SIG_KEYID_HEX_LEN + 1];
	struct store_key *keys;
	sqlite3_stmt *s;
	size_t n;

	memset(out, 0, sizeof(*out));
	sig_keyid_format(keyid, kid);
	ctx(st, "reading key %s", kid);
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((s = q(st, Q_KEY_GET, e)) == NULL)
		goto fail;
	b_text(st, s, 1, kid);
	if (keys_read(st, s, &keys, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "key %s is not in the trust "
		    "store", kid);
		goto fail;
	}
	*out = keys[0];
	free(keys);
	return tx_commit(st, e) == -1 ? (store_key_free(out), -1) : 0;
fail:
	tx_rollback(st);
	return -1;
}

int
store_key_list(struct store *st, struct store_key **out, size_t *n,
    struct err *e)
{
	*out = NULL;
	*n = 0;
	ctx(st, "listing keys");
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if (keys_read(st, q(st, Q_KEY_LIST, e), out, n, e) == -1) {
		tx_rollback(st);
		return -1;
	}
	if (tx_commit(st, e) == -1) {
		store_key_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* The block store_trust_load() returns: the array, then every entry's
 * domain pointers, then the strings. */
static int
trust_fill(struct store *st, struct trust_key *keys, size_t nk,
    const char **ptrs, size_t nd, char *str, size_t strbytes, struct err *e)
{
	sqlite3_stmt *s = q(st, Q_KEY_LIST, e);
	struct trust_key *k = NULL;
	size_t ki = 0, di = 0, used = 0, len;
	const char *t;
	int r;

	while ((r = step(st, s, e)) == 1) {
		uint8_t keyid[SIG_KEYID_LEN], pk[SIG_PK_LEN];

		if (key_ids(st, s, keyid, pk, e) == -1)
			return -1;
		if (k == NULL || memcmp(k->keyid, keyid, SIG_KEYID_LEN) != 0) {
			if (ki == nk)
				return corrupt(st, e, "more keys than counted");
			k = &keys[ki++];
			memcpy(k->keyid, keyid, SIG_KEYID_LEN);
			memcpy(k->pk, pk, SIG_PK_LEN);
			k->domains = ptrs + di;
			k->ndomains = 0;
		}
		if ((t = (const char *)sqlite3_column_text(s, 4)) == NULL)
			continue;
		len = strlen(t) + 1;
		if (di == nd || len > strbytes - used)
			return corrupt(st, e, "more domain rules than counted");
		memcpy(str + used, t, len);
		ptrs[di++] = str + used;
		used += len;
		k->ndomains++;
	}
	if (r == -1)
		return -1;
	if (ki != nk)
		return corrupt(st, e, "fewer keys than counted");
	return 0;
}

int
store_trust_load(struct store *st, struct trust_key **keys, size_t *nkeys,
    struct err *e)
{
	size_t nk, nd, strbytes, size;
	struct trust_key *block = NULL;
	sqlite3_stmt *s;

	*keys = NULL;
	*nkeys = 0;
	ctx(st, "loading the trust store");
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if (one_row(st, (s = q(st, Q_TRUST_SIZES, e)), e) == -1)
		goto fail;
	if (col_int(s, 0) < 0 || col_int(s, 1) < 0 || col_int(s, 2) < 0 ||
	    (uint64_t)col_int(s, 0) > SIZE_MAX / 4 / sizeof(*block) ||
	    (uint64_t)col_int(s, 1) > SIZE_MAX / 4 / sizeof(char *) ||
	    (uint64_t)col_int(s, 2) > SIZE_MAX / 4) {
		corrupt(st, e, "impossible sizes");
		goto fail;
	}
	nk = (size_t)col_int(s, 0);
	nd = (size_t)col_int(s, 1);
	strbytes = (size_t)col_int(s, 2);
	if (nk == 0)
		return tx_commit(st, e);
	size = nk * sizeof(*block) + nd * sizeof(char *) + strbytes;
	if ((block = malloc(size)) == NULL) {
		nomem(st, e);
		goto fail;
	}
	if (trust_fill(st, block, nk, (const char **)(void *)(block + nk), nd,
	    (char *)(block + nk) + nd * sizeof(char *), strbytes, e) == -1)
		goto fail;
	if (tx_commit(st, e) == -1) {
		free(block);
		return -1;
	}
	*keys = block;
	*nkeys = nk;
	return 0;
fail:
	free(block);
	tx_rollback(st);
	return -1;
}

void
store_trust_free(struct trust_key *keys)
{
	free(keys);
}

/* ------------------------------------------------------------------ */
/* feeds */

int
store_feed_add(struct store *st, const char *uri, struct err *e)
{
	sqlite3_stmt *s;
	int n;

	if (uri_arg(uri, e) == -1)
		return -1;
	ctx(st, "adding feed %s", uri);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((s = q(st, Q_FEED_INSERT, e)) == NULL)
		goto fail;
	b_text(st, s, 1, uri);
	b_int(st, s, 2, now(st));
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_exists", "feed %s is followed already", uri);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* Columns (first).. of a feed_accepted row into (fs). */
static int
state_cols(struct store *st, sqlite3_stmt *s, int first,
    struct store_feed_state *fs, struct err *e)
{
	const char *hex = (const char *)sqlite3_column_text(s, first + 1);
	int64_t serial = col_int(s, first);

	if (serial < 1 || hex == NULL || strlen(hex) != SHA256_HEX_LEN ||
	    hex_decode(hex, fs->trust.sha256, SHA256_LEN) == -1)
		return corrupt(st, e, "a feed's accepted state is damaged");
	fs->trust.serial = (uint64_t)serial;
	fs->accepted = col_int(s, first + 2);
	fs->expires = col_int(s, first + 3);
	return 0;
}

static int
feed_row(struct store *st, sqlite3_stmt *s, void *p, struct err *e)
{
	struct store_feed *f = p;

	if (col_dup(st, s, 0, &f->uri, e) == -1 ||
	    col_dup(st, s, 3, &f->last_error_code, e) == -1 ||
	    col_dup(st, s, 4, &f->last_error, e) == -1)
		return -1;
	if (f->uri == NULL)
		return corrupt(st, e, "a feed has no URI");
	f->added = col_int(s, 1);
	f->last_fetched = col_int(s, 2);
	if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
		f->accepted = 1;
		if (state_cols(st, s, 5, &f->state, e) == -1)
			return -1;
	}
	return 0;
}

void
store_feed_free(struct store_feed *f)
{
	if (f == NULL)
		return;
	free(f->uri);
	free(f->last_error_code);
	free(f->last_error);
	f->uri = f->last_error_code = f->last_error = NULL;
}

static void
feed_free_v(void *p)
{
	store_feed_free(p);
}

void
store_feed_list_free(struct store_feed *feeds, size_t n)
{
	rows_free(feeds, n, sizeof(*feeds), feed_free_v);
}

int
store_feed_get(struct store *st, const char *uri, struct store_feed *out,
    struct err *e)
{
	sqlite3_stmt *s;
	int r;

	memset(out, 0, sizeof(*out));
	if (uri == NULL)
		return err_set(e, ERR_INVALID, "no feed URI");
	ctx(st, "reading feed %s", uri);
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((s = q(st, Q_FEED_GET, e)) == NULL)
		goto fail;
	b_text(st, s, 1, uri);
	if ((r = step(st, s, e)) == -1)
		goto fail;
	if (r == 0) {
		err_set(e, "store_not_found", "feed %s is not followed", uri);
		goto fail;
	}
	if (feed_row(st, s, out, e) == -1) {
		store_feed_free(out);
		goto fail;
	}
	return tx_commit(st, e) == -1 ? (store_feed_free(out), -1) : 0;
fail:
	tx_rollback(st);
	return -1;
}

/* Runs a list query (q) with no parameters into an array. */
static int
list_all(struct store *st, enum q id, size_t size, row_fn fn, free_fn ffn,
    void **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if (read_rows(st, q(st, id, e), size, fn, ffn, out, n, e) == -1) {
		tx_rollback(st);
		return -1;
	}
	if (tx_commit(st, e) == -1) {
		rows_free(*out, *n, size, ffn);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
store_feed_list(struct store *st, struct store_feed **out, size_t *n,
    struct err *e)
{
	ctx(st, "listing feeds");
	return list_all(st, Q_FEED_LIST, sizeof(**out), feed_row, feed_free_v,
	    (void **)out, n, e);
}

/* "a, b, c" of the instances that (id) returns for (key), at most a few;
 * 0 when none do. */
static int
users(struct store *st, enum q id, const char *key, char *buf, size_t size,
    int *count, struct err *e)
{
	sqlite3_stmt *s = q(st, id, e);
	size_t used = 0;
	int r, w;

	*count = 0;
	buf[0] = '\0';
	if (s == NULL)
		return -1;
	b_text(st, s, 1, key);
	while ((r = step(st, s, e)) == 1) {
		if (++*count > 5)
			continue;
		w = snprintf(buf + used, size - used, "%s%s",
		    *count > 1 ? ", " : "", col_str(s, 0));
		if (w > 0 && (size_t)w < size - used)
			used += (size_t)w;
	}
	if (r == -1)
		return -1;
	if (*count > 5)
		snprintf(buf + used, size - used, " and %d more", *count - 5);
	return 0;
}

int
store_feed_remove(struct store *st, const char *uri, struct err *e)
{
	char names[512];
	sqlite3_stmt *s;
	int n;

	if (uri == NULL)
		return err_set(e, ERR_INVALID, "no feed URI");
	ctx(st, "removing feed %s", uri);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (users(st, Q_FEED_USERS, uri, names, sizeof(names), &n, e) == -1)
		goto fail;
	if (n > 0) {
		err_set(e, "feed_in_use", "feed %s is used by instance%s %s",
		    uri, n > 1 ? "s" : "", names);
		goto fail;
	}
	if ((s = q(st, Q_FEED_DELETE, e)) == NULL)
		goto fail;
	b_text(st, s, 1, uri);
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "feed %s is not followed", uri);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_feed_fetched(struct store *st, const char *uri, const char *code,
    const char *message, struct err *e)
{
	char msg[STORE_REASON_MAX + 1];
	sqlite3_stmt *s;
	int n, failed = code != NULL && *code != '\0';

	if (uri == NULL)
		return err_set(e, ERR_INVALID, "no feed URI");
	if (failed && len_arg("error code", code, 1, 64, e) == -1)
		return -1;
	cut_utf8(failed && message != NULL ? message : "", STORE_REASON_MAX,
	    msg);
	ctx(st, "recording a fetch of feed %s", uri);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((s = q(st, Q_FEED_FETCHED, e)) == NULL)
		goto fail;
	b_text(st, s, 1, uri);
	b_int(st, s, 2, now(st));
	b_text(st, s, 3, failed ? code : NULL);
	b_text(st, s, 4, failed ? msg : NULL);
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "feed %s is not followed", uri);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* Reads the accepted state of (uri) inside a transaction: 1 found, 0 not. */
static int
state_read(struct store *st, const char *uri, struct store_feed_state *fs,
    struct err *e)
{
	sqlite3_stmt *s = q(st, Q_FEED_STATE, e);
	int r;

	memset(fs, 0, sizeof(*fs));
	if (s == NULL)
		return -1;
	b_text(st, s, 1, uri);
	if ((r = step(st, s, e)) != 1)
		return r;
	return state_cols(st, s, 0, fs, e) == -1 ? -1 : 1;
}

int
store_feed_state(struct store *st, const char *uri,
    struct store_feed_state *out, struct err *e)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (uri == NULL)
		return err_set(e, ERR_INVALID, "no feed URI");
	ctx(st, "reading the accepted state of feed %s", uri);
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((r = state_read(st, uri, out, e)) == -1)
		goto fail;
	if (r == 0) {
		err_set(e, "store_not_found", "nothing was accepted from feed "
		    "%s yet", uri);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_feed_accept(struct store *st, const char *uri, uint64_t serial,
    const uint8_t sha256[SHA256_LEN], int64_t expires,
    enum trust_serial_result *verdict, struct err *e)
{
	char hex[SHA256_HEX_LEN + 1];
	struct store_feed_state prev;
	enum trust_serial_result v;
	sqlite3_stmt *s;
	int r;

	if (uri == NULL || sha256 == NULL)
		return err_set(e, ERR_INVALID, "no feed URI or digest");
	if (serial < 1 || serial > INT64_MAX)
		return err_set(e, ERR_INVALID, "feed %s: serial %" PRIu64
		    " is not in 1..%" PRId64, uri, serial, INT64_MAX);
	hex_encode(sha256, SHA256_LEN, hex);
	ctx(st, "accepting serial %" PRIu64 " of feed %s", serial, uri);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((r = exists(st, Q_FEED_EXISTS, uri, e)) == -1)
		goto fail;
	if (r == 0) {
		err_set(e, "store_not_found", "feed %s is not followed", uri);
		goto fail;
	}
	/* The check that matters, under the write lock: whoever accepted
	 * first is what this feed is judged against. */
	if ((r = state_read(st, uri, &prev, e)) == -1)
		goto fail;
	v = trust_serial_check(r == 1 ? &prev.trust : NULL, serial, sha256, e);
	if (verdict != NULL)
		*verdict = v;
	if (v == TRUST_SERIAL_ROLLBACK || v == TRUST_SERIAL_EQUIVOCATION)
		goto fail;
	if (v == TRUST_SERIAL_NEW) {
		if ((s = q(st, Q_FEED_ACCEPT, e)) == NULL)
			goto fail;
		b_text(st, s, 1, uri);
		b_int(st, s, 2, (int64_t)serial);
		b_text(st, s, 3, hex);
		b_int(st, s, 4, now(st));
		b_int(st, s, 5, expires);
		if (run(st, s, e) == -1)
			goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* ------------------------------------------------------------------ */
/* images */

/* A name, version or path: no control characters. */
static int
text_arg(const char *what, const char *s, size_t min, size_t max,
    struct err *e)
{
	size_t i;

	if (len_arg(what, s, min, max, e) == -1)
		return -1;
	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(e, ERR_INVALID, "%s contains a control "
			    "character", what);
	return 0;
}

int
store_image_add(struct store *st, const char *sha256, uint64_t size,
    const char *name, const char *version, const char *path, struct err *e)
{
	char hex[SHA256_HEX_LEN + 1];
	sqlite3_stmt *s;
	int n;

	if (sha_arg(sha256, hex, e) == -1)
		return -1;
	if (text_arg("image name", name, 1, STORE_IMAGE_NAME_MAX, e) == -1 ||
	    text_arg("image version", version, 1, STORE_VERSION_MAX, e) ==
	    -1 ||
	    text_arg("image path", path, 1, STORE_PATH_MAX, e) == -1)
		return err_prefix(e, "image %s", hex);
	if (size > INT64_MAX)
		return err_set(e, ERR_INVALID, "image %s: size %" PRIu64 " is "
		    "too large", hex, size);
	ctx(st, "adding image %s", hex);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((s = q(st, Q_IMAGE_INSERT, e)) == NULL)
		goto fail;
	b_text(st, s, 1, hex);
	b_int(st, s, 2, (int64_t)size);
	b_text(st, s, 3, name);
	b_text(st, s, 4, version);
	b_text(st, s, 5, path);
	b_int(st, s, 6, now(st));
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_exists", "image %s is in the store already",
		    hex);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

static int
image_row(struct store *st, sqlite3_stmt *s, void *p, struct err *e)
{
	struct store_image *img = p;

	if (col_copy(st, s, 0, img->sha256, sizeof(img->sha256), e) == -1 ||
	    col_dup(st, s, 2, &img->name, e) == -1 ||
	    col_dup(st, s, 3, &img->version, e) == -1 ||
	    col_dup(st, s, 4, &img->path, e) == -1)
		return -1;
	if (img->name == NULL || img->version == NULL || img->path == NULL ||
	    col_int(s, 1) < 0)
		return corrupt(st, e, "an image row is damaged");
	img->size = (uint64_t)col_int(s, 1);
	img->added = col_int(s, 5);
	img->last_used = col_int(s, 6);
	img->refs = (unsigned)col_int(s, 7);
	return 0;
}

void
store_image_free(struct store_image *img)
{
	if (img == NULL)
		return;
	free(img->name);
	free(img->version);
	free(img->path);
	img->name = img->version = img->path = NULL;
}

static void
image_free_v(void *p)
{
	store_image_free(p);
}

void
store_image_list_free(struct store_image *imgs, size_t n)
{
	rows_free(imgs, n, sizeof(*imgs), image_free_v);
}

int
store_image_get(struct store *st, const char *sha256,
    struct store_image *out, struct err *e)
{
	char hex[SHA256_HEX_LEN + 1];
	sqlite3_stmt *s;
	int r;

	memset(out, 0, sizeof(*out));
	if (sha_arg(sha256, hex, e) == -1)
		return -1;
	ctx(st, "reading image %s", hex);
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((s = q(st, Q_IMAGE_GET, e)) == NULL)
		goto fail;
	b_text(st, s, 1, hex);
	if ((r = step(st, s, e)) == -1)
		goto fail;
	if (r == 0) {
		err_set(e, "store_not_found", "image %s is not in the store",
		    hex);
		goto fail;
	}
	if (image_row(st, s, out, e) == -1) {
		store_image_free(out);
		goto fail;
	}
	return tx_commit(st, e) == -1 ? (store_image_free(out), -1) : 0;
fail:
	tx_rollback(st);
	return -1;
}

int
store_image_list(struct store *st, struct store_image **out, size_t *n,
    struct err *e)
{
	ctx(st, "listing images");
	return list_all(st, Q_IMAGE_LIST, sizeof(**out), image_row,
	    image_free_v, (void **)out, n, e);
}

int
store_image_prune_list(struct store *st, int64_t before,
    struct store_image **out, size_t *n, struct err *e)
{
	sqlite3_stmt *s;

	*out = NULL;
	*n = 0;
	ctx(st, "listing unused images");
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((s = q(st, Q_IMAGE_PRUNE, e)) == NULL)
		goto fail;
	b_int(st, s, 1, before);
	if (read_rows(st, s, sizeof(**out), image_row, image_free_v,
	    (void **)out, n, e) == -1)
		goto fail;
	if (tx_commit(st, e) == -1) {
		store_image_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
fail:
	tx_rollback(st);
	return -1;
}

int
store_image_touch(struct store *st, const char *sha256, struct err *e)
{
	char hex[SHA256_HEX_LEN + 1];
	sqlite3_stmt *s;
	int n;

	if (sha_arg(sha256, hex, e) == -1)
		return -1;
	ctx(st, "marking image %s used", hex);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((s = q(st, Q_IMAGE_TOUCH, e)) == NULL)
		goto fail;
	b_text(st, s, 1, hex);
	b_int(st, s, 2, now(st));
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "image %s is not in the store",
		    hex);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_image_remove(struct store *st, const char *sha256, struct err *e)
{
	char hex[SHA256_HEX_LEN + 1], names[512];
	sqlite3_stmt *s;
	int n;

	if (sha_arg(sha256, hex, e) == -1)
		return -1;
	ctx(st, "removing image %s", hex);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	/* Checked here for the message; the foreign key (ON DELETE
	 * RESTRICT) would refuse the delete all the same. */
	if (users(st, Q_IMAGE_USERS, hex, names, sizeof(names), &n, e) == -1)
		goto fail;
	if (n > 0) {
		err_set(e, "image_in_use", "image %s is used by instance%s %s",
		    hex, n > 1 ? "s" : "", names);
		goto fail;
	}
	if ((s = q(st, Q_IMAGE_DELETE, e)) == NULL)
		goto fail;
	b_text(st, s, 1, hex);
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n == 0) {
		err_set(e, "store_not_found", "image %s is not in the store",
		    hex);
		goto fail;
	}
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* ------------------------------------------------------------------ */
/* instances */

static const char *const state_names[] = {
	[STORE_CREATED] = "created",
	[STORE_FETCHING] = "fetching",
	[STORE_STARTING] = "starting",
	[STORE_RUNNING] = "running",
	[STORE_STOPPING] = "stopping",
	[STORE_STOPPED] = "stopped",
	[STORE_EXITED] = "exited",
	[STORE_CRASHED] = "crashed",
	[STORE_FAILED] = "failed",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

static const char *const desired_names[] = {
	[STORE_DESIRED_RUNNING] = "running",
	[STORE_DESIRED_STOPPED] = "stopped",
};

static const char *const restart_names[] = {
	[STORE_RESTART_NO] = "no",
	[STORE_RESTART_ON_FAILURE] = "on-failure",
	[STORE_RESTART_ALWAYS] = "always",
};

/* The names of feed.h's enum feed_stability. */
static const char *const stabilities[] = {
	"stable", "testing", "developer", "buggy", "insecure",
};

static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "?";
}

static int
parse_name(const char *const *names, size_t n, const char *s, unsigned *v)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0) {
			*v = (unsigned)i;
			return 0;
		}
	return -1;
}

#define NAMES(a) (a), (sizeof(a) / sizeof((a)[0]))

const char *
store_state_name(enum store_state s)
{
	return name_of(NAMES(state_names), (unsigned)s);
}

int
store_state_parse(const char *name, enum store_state *s)
{
	unsigned v = 0;

	if (parse_name(NAMES(state_names), name, &v) == -1)
		return -1;
	*s = (enum store_state)v;
	return 0;
}

int
store_state_terminal(enum store_state s)
{
	return s == STORE_STOPPED || s == STORE_EXITED || s == STORE_CRASHED ||
	    s == STORE_FAILED;
}

const char *
store_desired_name(enum store_desired d)
{
	return name_of(NAMES(desired_names), (unsigned)d);
}

int
store_desired_parse(const char *name, enum store_desired *d)
{
	unsigned v = 0;

	if (parse_name(NAMES(desired_names), name, &v) == -1)
		return -1;
	*d = (enum store_desired)v;
	return 0;
}

const char *
store_restart_name(enum store_restart r)
{
	return name_of(NAMES(restart_names), (unsigned)r);
}

int
store_restart_parse(const char *name, enum store_restart *r)
{
	unsigned v = 0;

	if (parse_name(NAMES(restart_names), name, &v) == -1)
		return -1;
	*r = (enum store_restart)v;
	return 0;
}

static int
instance_name_arg(const char *name, struct err *e)
{
	size_t i;

	if (len_arg("instance name", name, 1, STORE_NAME_MAX, e) == -1)
		return -1;
	if (!is_alnum(name[0]))
		return err_set(e, ERR_INVALID, "instance name '%s' does not "
		    "start with a letter or digit", name);
	for (i = 1; name[i] != '\0'; i++)
		if (!is_alnum(name[i]) && name[i] != '_' && name[i] != '.' &&
		    name[i] != '-')
			return err_set(e, ERR_INVALID, "instance name '%s' has "
			    "characters other than [A-Za-z0-9_.-]", name);
	return 0;
}

static int
backend_arg(const char *b, struct err *e)
{
	size_t i;

	if (len_arg("backend", b, 1, STORE_BACKEND_MAX, e) == -1)
		return -1;
	for (i = 0; b[i] != '\0'; i++)
		if (!is_lower_alnum(b[i]) && b[i] != '_' && b[i] != '-')
			return err_set(e, ERR_INVALID, "backend name '%s' is "
			    "not [a-z0-9_-]", b);
	return 0;
}

static int
new_args(const struct store_instance_new *n, struct err *e)
{
	unsigned v = 0;

	if (backend_arg(n->backend, e) == -1)
		return -1;
	if (n->feed_uri != NULL && uri_arg(n->feed_uri, e) == -1)
		return -1;
	if (text_arg("version range", n->version_range, 0, STORE_RANGE_MAX,
	    e) == -1 ||
	    text_arg("command line", n->cmdline, 0, STORE_CMDLINE_MAX, e) == -1)
		return -1;
	if (n->version_range != NULL && *n->version_range == '\0')
		return err_set(e, ERR_INVALID, "empty version range");
	if (n->stability != NULL &&
	    parse_name(NAMES(stabilities), n->stability, &v) == -1)
		return err_set(e, ERR_INVALID, "unknown stability '%.32s'",
		    n->stability);
	if ((unsigned)n->desired >= 2 || (unsigned)n->restart >= 3)
		return err_set(e, ERR_INVALID, "bad desired state or restart "
		    "policy");
	if (n->memory_mib < 1 || n->memory_mib > (1u << 20))
		return err_set(e, ERR_INVALID, "memory %" PRIu32 " MiB is not "
		    "in 1..1048576", n->memory_mib);
	if (n->vcpus < 1 || n->vcpus > 256)
		return err_set(e, ERR_INVALID, "%" PRIu32 " vCPUs is not in "
		    "1..256", n->vcpus);
	return 0;
}

/* What the store keeps of a network: the host addresses a daemon lets
 * forwards use are its policy, not the store's (netspec_check()). */
static int
net_args(const struct netspec *ns, struct err *e)
{
	const struct netspec_forward *f;
	uint32_t ip;
	size_t i;

	if (ns == NULL)
		return 0;
	if ((unsigned)ns->mode > NETSPEC_BRIDGE)
		return err_set(e, ERR_INVALID, "unknown network mode");
	if (ns->nforwards > NETSPEC_FORWARDS_MAX)
		return err_set(e, ERR_INVALID, "%zu forwards, more than %d",
		    ns->nforwards, NETSPEC_FORWARDS_MAX);
	if (ns->nforwards > 0 && ns->mode != NETSPEC_USER)
		return err_set(e, ERR_INVALID, "forwards without user "
		    "networking");
	for (i = 0; i < ns->nforwards; i++) {
		f = &ns->forwards[i];
		if ((unsigned)f->proto > NETSPEC_UDP || f->host_port == 0 ||
		    f->guest_port == 0 ||
		    netspec_ip_parse(f->host_ip, &ip) == -1)
			return err_set(e, ERR_INVALID, "forward %zu is not a "
			    "protocol, a host address and two ports", i);
	}
	return 0;
}

/* The forwards of a new instance (iid). */
static int
forwards_insert(struct store *st, const char *iid, const struct netspec *ns,
    struct err *e)
{
	const struct netspec_forward *f;
	sqlite3_stmt *s;
	size_t i;

	for (i = 0; ns != NULL && i < ns->nforwards; i++) {
		f = &ns->forwards[i];
		if ((s = q(st, Q_FWD_INSERT, e)) == NULL)
			return -1;
		b_text(st, s, 1, iid);
		b_int(st, s, 2, (int64_t)i);
		b_text(st, s, 3, netspec_proto_name(f->proto));
		b_text(st, s, 4, f->host_ip);
		b_int(st, s, 5, f->host_port);
		b_int(st, s, 6, f->guest_port);
		if (run(st, s, e) == -1)
			return -1;
	}
	return 0;
}

static int
random_id(char out[STORE_ID_LEN + 1], struct err *e)
{
	uint8_t b[STORE_ID_LEN / 2];
	size_t got = 0;
	ssize_t r;

	while (got < sizeof(b)) {
		r = getrandom(b + got, sizeof(b) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_errno(e, "store_error", errno,
			    "making an instance id");
		got += (size_t)r;
	}
	hex_encode(b, sizeof(b), out);
	return 0;
}

/* Refuses (name) and (id) if taken, (feed) if not followed. */
static int
create_check(struct store *st, const char *name, const char *id,
    const char *feed, struct err *e)
{
	int r;

	if ((r = exists(st, Q_INST_NAME_EXISTS, name, e)) != 0)
		return r == 1 ? err_set(e, "store_exists", "instance name %s "
		    "is taken", name) : -1;
	if ((r = exists(st, Q_INST_ID_EXISTS, id, e)) != 0)
		return r == 1 ? err_set(e, "store_exists", "instance id %s is "
		    "taken", id) : -1;
	if (feed != NULL && (r = exists(st, Q_FEED_EXISTS, feed, e)) != 1)
		return r == 0 ? err_set(e, "store_not_found", "feed %s is not "
		    "followed", feed) : -1;
	return 0;
}

int
store_instance_create(struct store *st, const struct store_instance_new *n,
    char id[STORE_ID_LEN + 1], struct err *e)
{
	char iid[STORE_ID_LEN + 1], msg[160];
	sqlite3_stmt *s;

	if (n == NULL)
		return err_set(e, ERR_INVALID, "no instance");
	if (instance_name_arg(n->name, e) == -1)
		return -1;
	if (new_args(n, e) == -1 || net_args(n->net, e) == -1)
		return err_prefix(e, "instance %s", n->name);
	if ((n->id != NULL ? id_arg(n->id, iid, e) : random_id(iid, e)) == -1)
		return -1;
	ctx(st, "creating instance %s", n->name);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (create_check(st, n->name, iid, n->feed_uri, e) == -1 ||
	    (s = q(st, Q_INST_INSERT, e)) == NULL)
		goto fail;
	b_text(st, s, 1, iid);
	b_text(st, s, 2, n->name);
	b_text(st, s, 3, n->feed_uri);
	b_text(st, s, 4, n->version_range);
	b_text(st, s, 5, n->stability != NULL ? n->stability : "stable");
	b_text(st, s, 6, n->backend);
	b_text(st, s, 7, store_desired_name(n->desired));
	b_text(st, s, 8, store_restart_name(n->restart));
	b_int(st, s, 9, n->memory_mib);
	b_int(st, s, 10, n->vcpus);
	b_text(st, s, 11, n->cmdline != NULL ? n->cmdline : "");
	b_int(st, s, 12, now(st));
	b_text(st, s, 13, netspec_mode_name(n->net != NULL ? n->net->mode :
	    NETSPEC_NONE));
	if (run(st, s, e) == -1 || forwards_insert(st, iid, n->net, e) == -1)
		goto fail;
	snprintf(msg, sizeof(msg), "instance %s created on %s", n->name,
	    n->backend);
	if (event_insert(st, iid, "created", msg, NULL, e) == -1 ||
	    tx_commit(st, e) == -1)
		goto fail;
	if (id != NULL)
		memcpy(id, iid, sizeof(iid));
	return 0;
fail:
	tx_rollback(st);
	return -1;
}

/* The enum value of the text column (i) among (names). */
static int
col_enum(struct store *st, sqlite3_stmt *s, int i, const char *const *names,
    size_t n, unsigned *v, struct err *e)
{
	if (parse_name(names, n, (const char *)sqlite3_column_text(s, i),
	    v) == -1)
		return corrupt(st, e, "an instance has an unknown state, "
		    "desired state or restart policy");
	return 0;
}

/* The forwards as INST_COLS joins them: "tcp 127.0.0.1 8080 80,...". */
static int
forwards_read(struct store *st, const char *text, struct netspec *ns,
    struct err *e)
{
	struct netspec_forward *f;
	char proto[8];
	unsigned hp, gp;
	int used;

	ns->nforwards = 0;
	while (*text != '\0') {
		if (ns->nforwards == NETSPEC_FORWARDS_MAX)
			return corrupt(st, e, "an instance has too many "
			    "forwards");
		f = &ns->forwards[ns->nforwards];
		used = 0;
		if (sscanf(text, "%7s %15s %u %u%n", proto, f->host_ip, &hp,
		    &gp, &used) != 4 || used == 0 ||
		    netspec_proto_parse(proto, &f->proto) == -1 || hp < 1 ||
		    hp > 65535 || gp < 1 || gp > 65535)
			return corrupt(st, e, "an instance's forward is "
			    "damaged");
		f->host_port = (uint16_t)hp;
		f->guest_port = (uint16_t)gp;
		ns->nforwards++;
		text += used;
		if (*text == ',')
			text++;
	}
	return 0;
}

static int
instance_row(struct store *st, sqlite3_stmt *s, void *p, struct err *e)
{
	struct store_instance *in = p;
	unsigned desired = 0, state = 0, restart = 0;

	if (col_copy(st, s, 0, in->id, sizeof(in->id), e) == -1 ||
	    col_copy(st, s, 1, in->name, sizeof(in->name), e) == -1 ||
	    col_dup(st, s, 2, &in->feed_uri, e) == -1 ||
	    col_copy(st, s, 3, in->image, sizeof(in->image), e) == -1 ||
	    col_dup(st, s, 4, &in->version, e) == -1 ||
	    col_dup(st, s, 5, &in->version_range, e) == -1 ||
	    col_dup(st, s, 6, &in->stability, e) == -1 ||
	    col_dup(st, s, 7, &in->backend, e) == -1 ||
	    col_dup(st, s, 8, &in->handle, e) == -1 ||
	    col_enum(st, s, 9, NAMES(desired_names), &desired, e) == -1 ||
	    col_enum(st, s, 10, NAMES(state_names), &state, e) == -1 ||
	    col_dup(st, s, 12, &in->reason, e) == -1 ||
	    col_enum(st, s, 13, NAMES(restart_names), &restart, e) == -1 ||
	    col_dup(st, s, 18, &in->cmdline, e) == -1)
		return -1;
	if (in->stability == NULL || in->backend == NULL ||
	    in->cmdline == NULL)
		return corrupt(st, e, "an instance row is damaged");
	in->desired = (enum store_desired)desired;
	in->state = (enum store_state)state;
	in->restart = (enum store_restart)restart;
	in->exit_code = sqlite3_column_type(s, 11) == SQLITE_NULL ? -1 :
	    (int)col_int(s, 11);
	in->restart_count = (uint32_t)col_int(s, 14);
	in->next_restart = col_int(s, 15);
	in->memory_mib = (uint32_t)col_int(s, 16);
	in->vcpus = (uint32_t)col_int(s, 17);
	in->created = col_int(s, 19);
	in->started = col_int(s, 20);
	in->ended = col_int(s, 21);
	if (netspec_mode_parse(col_str(s, 22), &in->net.mode) == -1)
		return corrupt(st, e, "an instance has an unknown network mode");
	in->net_address = (uint32_t)col_int(s, 23);
	return forwards_read(st, col_str(s, 24), &in->net, e);
}

void
store_instance_free(struct store_instance *in)
{
	if (in == NULL)
		return;
	free(in->feed_uri);
	free(in->version);
	free(in->version_range);
	free(in->stability);
	free(in->backend);
	free(in->handle);
	free(in->reason);
	free(in->cmdline);
	in->feed_uri = in->version = in->version_range = in->stability = NULL;
	in->backend = in->handle = in->reason = in->cmdline = NULL;
}

static void
instance_free_v(void *p)
{
	store_instance_free(p);
}

void
store_instance_list_free(struct store_instance *ins, size_t n)
{
	rows_free(ins, n, sizeof(*ins), instance_free_v);
}

/* Runs an INST_COLS query with (a) (and (b)) into (out): 1 found, 0 not. */
static int
instance_query(struct store *st, enum q id, const char *a, const char *b,
    struct store_instance *out, struct err *e)
{
	sqlite3_stmt *s = q(st, id, e);
	int r;

	if (s == NULL)
		return -1;
	b_text(st, s, 1, a);
	if (b != NULL)
		b_text(st, s, 2, b);
	if ((r = step(st, s, e)) != 1)
		return r;
	if (instance_row(st, s, out, e) == -1) {
		store_instance_free(out);
		return -1;
	}
	return 1;
}

int
store_instance_get(struct store *st, const char *ref,
    struct store_instance *out, struct err *e)
{
	char iid[STORE_ID_LEN + 1];
	int r;

	memset(out, 0, sizeof(*out));
	if (ref == NULL)
		return err_set(e, ERR_INVALID, "no instance name or id");
	ctx(st, "reading instance %.64s", ref);
	if (tx_begin(st, 0, e) == -1)
		return -1;
	r = instance_query(st, Q_INST_BY_NAME, ref, NULL, out, e);
	if (r == 0 && hex_arg("id", ref, STORE_ID_LEN, iid, NULL) == 0)
		r = instance_query(st, Q_INST_BY_ID, iid, NULL, out, e);
	if (r == -1)
		goto fail;
	if (r == 0) {
		err_set(e, "store_not_found", "no instance %.64s", ref);
		goto fail;
	}
	return tx_commit(st, e) == -1 ? (store_instance_free(out), -1) : 0;
fail:
	tx_rollback(st);
	return -1;
}

int
store_instance_get_by_handle(struct store *st, const char *backend,
    const char *handle, struct store_instance *out, struct err *e)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (backend == NULL || handle == NULL)
		return err_set(e, ERR_INVALID, "no backend or handle");
	ctx(st, "reading the instance of %s guest %.255s", backend, handle);
	if (tx_begin(st, 0, e) == -1)
		return -1;
	if ((r = instance_query(st, Q_INST_BY_HANDLE, backend, handle, out,
	    e)) == -1)
		goto fail;
	if (r == 0) {
		err_set(e, "store_not_found", "no instance has %s guest %.255s",
		    backend, handle);
		goto fail;
	}
	return tx_commit(st, e) == -1 ? (store_instance_free(out), -1) : 0;
fail:
	tx_rollback(st);
	return -1;
}

int
store_instance_list(struct store *st, struct store_instance **out,
    size_t *n, struct err *e)
{
	ctx(st, "listing instances");
	return list_all(st, Q_INST_LIST, sizeof(**out), instance_row,
	    instance_free_v, (void **)out, n, e);
}

/* Is (from) -> (to) a move of the state machine (store.h)? */
static int
move_allowed(enum store_state from, enum store_state to)
{
	if (store_state_terminal(from))
		return to == STORE_FETCHING || to == STORE_STARTING;
	return store_state_terminal(to) || to > from;
}

/* The row a transition starts from. */
struct current {
	char name[STORE_NAME_MAX + 1];
	enum store_state state;
	int64_t restarts, started, ended;
};

/* Reads the instance (id) inside a write: 1 found, 0 not. */
static int
current_read(struct store *st, const char *id, struct current *c,
    struct err *e)
{
	sqlite3_stmt *s = q(st, Q_INST_CURRENT, e);
	unsigned v = 0;
	int r;

	if (s == NULL)
		return -1;
	b_text(st, s, 1, id);
	if ((r = step(st, s, e)) != 1)
		return r;
	if (col_copy(st, s, 0, c->name, sizeof(c->name), e) == -1 ||
	    col_enum(st, s, 1, NAMES(state_names), &v, e) == -1)
		return -1;
	c->state = (enum store_state)v;
	c->restarts = col_int(s, 2);
	c->started = col_int(s, 3);
	c->ended = col_int(s, 4);
	return 1;
}

/* Begins a write on instance (id), which must exist. */
static int
instance_begin(struct store *st, const char *id, struct current *c,
    struct err *e)
{
	int r;

	if (tx_begin(st, 1, e) == -1)
		return -1;
	if ((r = current_read(st, id, c, e)) == 1)
		return 0;
	if (r == 0)
		err_set(e, "store_not_found", "no instance %s", id);
	tx_rollback(st);
	return -1;
}

static int
transition_args(const char *id, char iid[STORE_ID_LEN + 1],
    enum store_state from, const struct store_transition *t, struct err *e)
{
	if (id_arg(id, iid, e) == -1)
		return -1;
	if (t == NULL || (unsigned)from >= NSTATES ||
	    (unsigned)t->to >= NSTATES || (unsigned)t->restarts > 2)
		return err_set(e, ERR_INVALID, "instance %s: bad transition",
		    iid);
	if (!move_allowed(from, t->to))
		return err_set(e, "store_bad_transition", "instance %s: %s -> "
		    "%s is not a move of the state machine", iid,
		    store_state_name(from), store_state_name(t->to));
	if (t->to == STORE_EXITED && (t->exit_code < -1 || t->exit_code > 255))
		return err_set(e, ERR_INVALID, "instance %s: exit code %d is "
		    "not in -1..255", iid, t->exit_code);
	return 0;
}

/* Fills the UPDATE of a transition from (c) to (t). */
static void
transition_bind(struct store *st, sqlite3_stmt *s, const char *iid,
    const struct current *c, const struct store_transition *t,
    const char *reason, int64_t ts)
{
	int64_t restarts = c->restarts, started = c->started, ended = c->ended;

	if (t->restarts == STORE_RESTARTS_ADD && restarts < UINT32_MAX)
		restarts++;
	else if (t->restarts == STORE_RESTARTS_RESET)
		restarts = 0;
	if (t->to == STORE_FETCHING || t->to == STORE_STARTING)
		started = ended = 0;
	else if (t->to == STORE_RUNNING)
		started = ts;
	else if (store_state_terminal(t->to))
		ended = ts;
	b_text(st, s, 1, iid);
	b_text(st, s, 2, store_state_name(t->to));
	if (t->to == STORE_EXITED)
		b_int(st, s, 3, t->exit_code);
	else
		b_text(st, s, 3, NULL);
	b_text(st, s, 4, t->to == STORE_FAILED || t->to == STORE_CRASHED ?
	    reason : NULL);
	b_time(st, s, 5, t->next_restart);
	b_int(st, s, 6, restarts);
	b_time(st, s, 7, started);
	b_time(st, s, 8, ended);
	b_text(st, s, 9, store_state_name(c->state));
}

int
store_instance_transition(struct store *st, const char *id,
    enum store_state from, const struct store_transition *t, struct err *e)
{
	char iid[STORE_ID_LEN + 1], reason[STORE_REASON_MAX + 1];
	char msg[STORE_NAME_MAX + STORE_REASON_MAX + 64];	/* then cut */
	struct current c;
	sqlite3_stmt *s;
	int n;

	if (transition_args(id, iid, from, t, e) == -1)
		return -1;
	cut_utf8(t->reason != NULL ? t->reason : "", STORE_REASON_MAX, reason);
	ctx(st, "moving instance %s to %s", iid, store_state_name(t->to));
	if (instance_begin(st, iid, &c, e) == -1)
		return -1;
	if (c.state != from) {
		err_set(e, "store_conflict", "instance %s is %s, not %s",
		    c.name, store_state_name(c.state), store_state_name(from));
		goto fail;
	}
	if ((s = q(st, Q_INST_MOVE, e)) == NULL)
		goto fail;
	transition_bind(st, s, iid, &c, t, t->reason != NULL ? reason : NULL,
	    now(st));
	if (run_changes(st, s, &n, e) == -1)
		goto fail;
	if (n != 1) {
		err_set(e, "store_conflict", "instance %s changed meanwhile",
		    c.name);
		goto fail;
	}
	if (t->to == STORE_EXITED)
		snprintf(msg, sizeof(msg), "%s: %s -> exited (code %d)",
		    c.name, store_state_name(from), t->exit_code);
	else
		snprintf(msg, sizeof(msg), "%s: %s -> %s%s%s", c.name,
		    store_state_name(from), store_state_name(t->to),
		    t->reason != NULL ? ": " : "", t->reason != NULL ?
		    reason : "");
	if (event_insert(st, iid, "state", msg, NULL, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* One UPDATE of instance (id) binding (v) as ?2. */
static int
instance_update(struct store *st, enum q qid, const char *iid,
    const char *v, struct err *e)
{
	sqlite3_stmt *s = q(st, qid, e);
	int n;

	if (s == NULL)
		return -1;
	b_text(st, s, 1, iid);
	b_text(st, s, 2, v);
	if (run_changes(st, s, &n, e) == -1)
		return -1;
	if (n == 0)
		return err_set(e, "store_not_found", "no instance %s", iid);
	return 0;
}

int
store_instance_set_desired(struct store *st, const char *id,
    enum store_desired desired, struct err *e)
{
	char iid[STORE_ID_LEN + 1];

	if (id_arg(id, iid, e) == -1)
		return -1;
	if ((unsigned)desired >= 2)
		return err_set(e, ERR_INVALID, "bad desired state");
	ctx(st, "setting the desired state of instance %s", iid);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (instance_update(st, Q_INST_DESIRED, iid,
	    store_desired_name(desired), e) == -1) {
		tx_rollback(st);
		return -1;
	}
	return tx_commit(st, e);
}

int
store_instance_set_handle(struct store *st, const char *id,
    const char *handle, struct err *e)
{
	char iid[STORE_ID_LEN + 1], names[512];
	int n;

	if (id_arg(id, iid, e) == -1)
		return -1;
	if (handle != NULL && len_arg("backend handle", handle, 1,
	    STORE_HANDLE_MAX, e) == -1)
		return err_prefix(e, "instance %s", iid);
	ctx(st, "setting the handle of instance %s", iid);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (handle != NULL) {
		/* Q_INST_HANDLE_USER takes the id as ?1, the handle as ?2. */
		sqlite3_stmt *s = q(st, Q_INST_HANDLE_USER, e);

		if (s == NULL)
			goto fail;
		b_text(st, s, 1, iid);
		b_text(st, s, 2, handle);
		if ((n = step(st, s, e)) == -1)
			goto fail;
		if (n == 1) {
			snprintf(names, sizeof(names), "%s", col_str(s, 0));
			err_set(e, "store_exists", "guest %.255s belongs to "
			    "instance %s", handle, names);
			goto fail;
		}
	}
	if (instance_update(st, Q_INST_HANDLE, iid, handle, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_instance_set_image(struct store *st, const char *id,
    const char *sha256, struct err *e)
{
	char iid[STORE_ID_LEN + 1], hex[SHA256_HEX_LEN + 1];
	int r;

	if (id_arg(id, iid, e) == -1 ||
	    (sha256 != NULL && sha_arg(sha256, hex, e) == -1))
		return -1;
	ctx(st, "setting the image of instance %s", iid);
	if (tx_begin(st, 1, e) == -1)
		return -1;
	if (sha256 != NULL) {
		if ((r = exists(st, Q_IMAGE_EXISTS, hex, e)) == -1)
			goto fail;
		if (r == 0) {
			err_set(e, "store_not_found", "image %s is not in the "
			    "store", hex);
			goto fail;
		}
	}
	if (instance_update(st, Q_INST_IMAGE, iid, sha256 != NULL ? hex :
	    NULL, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

/* The lowest address of (first)..(last), not (exclude), that no lease
 * holds: 1 with (*addr), 0 when none is free. */
static int
lease_free(struct store *st, uint32_t first, uint32_t last, uint32_t exclude,
    uint32_t *addr, struct err *e)
{
	sqlite3_stmt *s = q(st, Q_LEASES_IN, e);
	uint64_t cand = first, used;
	int r;

	if (s == NULL)
		return -1;
	b_int(st, s, 1, first);
	b_int(st, s, 2, last);
	if (cand == exclude)
		cand++;
	while ((r = step(st, s, e)) == 1) {
		used = (uint64_t)col_int(s, 0);
		if (used > cand)
			break;
		if (used == cand) {
			cand++;
			if (cand == exclude)
				cand++;
		}
	}
	if (r == -1)
		return -1;
	if (cand > last)
		return 0;
	*addr = (uint32_t)cand;
	return 1;
}

int
store_net_lease(struct store *st, const char *id, uint32_t first,
    uint32_t last, uint32_t exclude, uint32_t *addr, struct err *e)
{
	char iid[STORE_ID_LEN + 1], a[NETSPEC_IP_MAX], b[NETSPEC_IP_MAX];
	char msg[STORE_NAME_MAX + 96];
	struct current c;
	sqlite3_stmt *s;
	uint32_t held = 0;
	int r;

	if (id_arg(id, iid, e) == -1)
		return -1;
	if (first == 0 || last < first || last == UINT32_MAX)
		return err_set(e, ERR_INVALID, "bad address pool");
	ctx(st, "leasing an address for instance %s", iid);
	if (instance_begin(st, iid, &c, e) == -1)
		return -1;
	if ((s = q(st, Q_LEASE_OF, e)) == NULL)
		goto fail;
	b_text(st, s, 1, iid);
	if ((r = step(st, s, e)) == -1)
		goto fail;
	if (r == 1)
		held = (uint32_t)col_int(s, 0);
	if (held != 0 && held >= first && held <= last && held != exclude) {
		*addr = held;
		return tx_commit(st, e);
	}
	if (held != 0) {
		/* outside the pool: the bridge's subnet was changed */
		if ((s = q(st, Q_LEASE_DROP, e)) == NULL)
			goto fail;
		b_text(st, s, 1, iid);
		if (run(st, s, e) == -1)
			goto fail;
	}
	if ((r = lease_free(st, first, last, exclude, addr, e)) == -1)
		goto fail;
	/* the pool as people count it: without the bridge's at an end */
	netspec_ip_format(first == exclude ? first + 1 : first, a);
	netspec_ip_format(last == exclude ? last - 1 : last, b);
	if (r == 0) {
		err_set(e, "network_pool_exhausted", "instance %s: every "
		    "address of the pool %s-%s is leased; remove an instance "
		    "on the bridge (uk rm) or widen bridge_address", c.name, a,
		    b);
		goto fail;
	}
	if ((s = q(st, Q_LEASE_INSERT, e)) == NULL)
		goto fail;
	b_int(st, s, 1, *addr);
	b_text(st, s, 2, iid);
	b_int(st, s, 3, now(st));
	if (run(st, s, e) == -1)
		goto fail;
	netspec_ip_format(*addr, a);
	snprintf(msg, sizeof(msg), "%s: address %s leased", c.name, a);
	if (event_insert(st, iid, "network", msg, NULL, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}

int
store_instance_delete(struct store *st, const char *id, struct err *e)
{
	char iid[STORE_ID_LEN + 1], msg[160];
	struct current c;
	sqlite3_stmt *s;

	if (id_arg(id, iid, e) == -1)
		return -1;
	ctx(st, "deleting instance %s", iid);
	if (instance_begin(st, iid, &c, e) == -1)
		return -1;
	if (c.state != STORE_CREATED && !store_state_terminal(c.state)) {
		err_set(e, "instance_active", "instance %s is %s: stop it "
		    "first", c.name, store_state_name(c.state));
		goto fail;
	}
	if ((s = q(st, Q_INST_DELETE, e)) == NULL)
		goto fail;
	b_text(st, s, 1, iid);
	if (run(st, s, e) == -1)
		goto fail;
	snprintf(msg, sizeof(msg), "instance %s (%s) deleted", c.name, iid);
	if (event_insert(st, NULL, "deleted", msg, NULL, e) == -1)
		goto fail;
	return tx_commit(st, e);
fail:
	tx_rollback(st);
	return -1;
}
