/*
 * store.h - the daemon's state in SQLite (prefix store_).
 *
 * One database file holds what unikerneld must remember across restarts:
 * trusted keys and their domains, feeds and the highest serial accepted
 * from each URI, cached images, instances (desired and observed state,
 * backend handle, restarts) and a bounded log of events.  docs/daemon.md
 * ("Store") shows the schema.
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  Nothing here prints or exits.
 * - Codes: store_io (the file cannot be opened, read or written; the disk
 *   is full), store_corrupt (not a database, damaged, or not ours),
 *   store_too_new (written by a newer unikerneld), store_busy (another
 *   connection held the write lock past STORE_BUSY_TIMEOUT_MS),
 *   store_not_found, store_exists, store_conflict (an instance was not in
 *   the state the caller expected), store_bad_transition, image_in_use,
 *   feed_in_use, instance_active, key_last_domain, store_constraint (the
 *   database refused a row: a bug, since input is checked before),
 *   store_error (any other SQLite failure), invalid_argument,
 *   out_of_memory, and trust_pattern_invalid, uri_malformed,
 *   uri_unsupported_scheme, feed_rollback, feed_equivocation from
 *   signing/trust.h.  Messages name the object (key id, URI, digest,
 *   instance name) and, for SQLite failures, carry sqlite3_errmsg().
 * - Every change is one transaction (BEGIN IMMEDIATE): when any step
 *   fails, nothing of it is written.  Every read runs in one read
 *   transaction, so what a function returns is one consistent snapshot.
 * - Threads: a struct store is one SQLite connection and belongs to one
 *   thread at a time.  Each thread that needs the state opens its own with
 *   store_open() on the same file; SQLite's locks (WAL: readers never
 *   wait, writers queue for up to STORE_BUSY_TIMEOUT_MS) order them.
 * - Output: single objects are filled into the caller's struct and their
 *   strings released with the matching store_*_free(), which leaves the
 *   struct itself alone; lists are one malloc()ed array (NULL when empty)
 *   released with store_*_list_free().  Inputs are copied; the caller
 *   keeps its own.
 * - Times are Unix seconds from the store's clock (time() unless
 *   store_set_clock() says otherwise); 0 in an output means "never".
 */
#ifndef UNIKERNELD_STORE_H
#define UNIKERNELD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fileio.h"
#include "minisign.h"
#include "netspec.h"
#include "trust.h"

#define STORE_SCHEMA_VERSION 2		/* PRAGMA user_version written */
#define STORE_APPLICATION_ID 0x756b6431	/* application_id, "ukd1" */
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_EVENTS_KEEP 10000		/* events kept by default */

#define STORE_ID_LEN 32			/* instance ids: lowercase hex */
#define STORE_NAME_MAX 63		/* instance names */
#define STORE_URI_MAX 1024		/* as FEED_URL_MAX */
#define STORE_BACKEND_MAX 32
#define STORE_HANDLE_MAX 255		/* BACKEND_HANDLE_MAX - 1 */
#define STORE_VERSION_MAX 64		/* as VERSION_MAX_LEN */
#define STORE_RANGE_MAX 256		/* as RANGE_MAX_LEN */
#define STORE_IMAGE_NAME_MAX 64		/* as MANIFEST_NAME_MAX */
#define STORE_PATH_MAX 4096
#define STORE_CMDLINE_MAX 4096
#define STORE_REASON_MAX 1024		/* failure reasons, fetch errors */
#define STORE_KIND_MAX 32		/* event kinds */
#define STORE_EVENT_MSG_MAX 1024	/* longer event messages are cut */

struct store;	/* opaque: one connection */

/* --- opening --- */

/*
 * Opens the database (path), creating it if needed, in WAL mode with
 * foreign keys on, synchronous=FULL and a busy timeout, then brings its
 * schema up to STORE_SCHEMA_VERSION, one migration step per transaction.
 * Codes: store_io, store_corrupt (a file that is not an SQLite database,
 * or a database of another program), store_too_new (its user_version is
 * above STORE_SCHEMA_VERSION: a newer unikerneld wrote it, and this one
 * must not guess at its meaning), store_busy, out_of_memory.  On success
 * (*out) is the connection, for store_close().
 */
int store_open(const char *path, struct store **out, struct err *e);

/* store_open() that migrates no further than (version) (1..
 * STORE_SCHEMA_VERSION): for the tests of migrations, which need a file
 * as an older unikerneld left it. */
int store_open_version(const char *path, int version, struct store **out,
    struct err *e);

/* Closes (st); NULL is allowed. */
void store_close(struct store *st);

/* Replaces the clock that stamps added/created/started/... times (tests
 * use a fixed one); (now) NULL restores time(). */
void store_set_clock(struct store *st, int64_t (*now)(void *arg), void *arg);

/* How many events this connection keeps when it adds one (the newest
 * (keep), at least 1); STORE_EVENTS_KEEP by default. */
void store_set_event_limit(struct store *st, int64_t keep);

/* --- keys and their domains --- */

/* A key as `uk trust ls` shows it. */
struct store_key {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t pk[SIG_PK_LEN];
	char *comment;		/* "" when none */
	int64_t added;
	char **domains;		/* (ndomains) rules, sorted, lowercase */
	size_t ndomains;
};

/*
 * Trusts the key (pk) for the (ndomains) rules (domains) (at least one,
 * each valid for trust_pattern_check(); stored lowercase).  (comment) may
 * be NULL; it follows sig_comment_check() rules.  Codes: store_exists (the
 * key id is there already: add domains with store_key_domain_add()),
 * trust_pattern_invalid, comment_too_long, comment_invalid,
 * invalid_argument.
 */
int store_key_add(struct store *st, const struct sig_pubkey *pk,
    const char *comment, const char *const *domains, size_t ndomains,
    struct err *e);

/* Adds the rule (domain) to the key (keyid).  Codes: store_not_found,
 * store_exists (the key has that rule), trust_pattern_invalid. */
int store_key_domain_add(struct store *st, const uint8_t keyid[SIG_KEYID_LEN],
    const char *domain, struct err *e);

/* Removes the rule (domain) from the key (keyid).  Codes: store_not_found,
 * key_last_domain (a key keeps at least one rule: remove the key). */
int store_key_domain_remove(struct store *st,
    const uint8_t keyid[SIG_KEYID_LEN], const char *domain, struct err *e);

/* Removes the key (keyid) and its rules.  Accepted feed states stay: they
 * guard against rollback whoever signs next.  Codes: store_not_found. */
int store_key_remove(struct store *st, const uint8_t keyid[SIG_KEYID_LEN],
    struct err *e);

/* Fills (out) with the key (keyid); free with store_key_free().  Codes:
 * store_not_found. */
int store_key_get(struct store *st, const uint8_t keyid[SIG_KEYID_LEN],
    struct store_key *out, struct err *e);

/* Every key, ordered by key id. */
int store_key_list(struct store *st, struct store_key **out, size_t *n,
    struct err *e);
void store_key_free(struct store_key *k);
void store_key_list_free(struct store_key *keys, size_t n);

/*
 * Loads the trust store as trust_key_check() takes it.  (*keys) is ONE
 * malloc()ed block holding the array, every entry's domain array and the
 * domain strings; release it with store_trust_free() (which is free()).
 * No keys gives (*keys) NULL and (*nkeys) 0.
 */
int store_trust_load(struct store *st, struct trust_key **keys,
    size_t *nkeys, struct err *e);
void store_trust_free(struct trust_key *keys);

/* --- feeds and what was accepted from them --- */

/* The last feed accepted from one URI. */
struct store_feed_state {
	struct trust_feed_state trust;	/* serial, sha256 of its bytes */
	int64_t accepted;		/* when */
	int64_t expires;		/* the feed's own "expires" */
};

struct store_feed {
	char *uri;
	int64_t added;
	int64_t last_fetched;		/* 0: never */
	char *last_error_code;		/* NULL: last fetch succeeded */
	char *last_error;		/* its message, NULL with the code */
	int accepted;			/* 1: (state) is set */
	struct store_feed_state state;
};

/* Follows the feed (uri), an http, https or file URI that
 * trust_domain_of_uri() takes.  Codes: store_exists, uri_malformed,
 * uri_unsupported_scheme, invalid_argument (longer than STORE_URI_MAX). */
int store_feed_add(struct store *st, const char *uri, struct err *e);

/* Codes: store_not_found. */
int store_feed_get(struct store *st, const char *uri, struct store_feed *out,
    struct err *e);

/* Every feed, ordered by URI. */
int store_feed_list(struct store *st, struct store_feed **out, size_t *n,
    struct err *e);
void store_feed_free(struct store_feed *f);
void store_feed_list_free(struct store_feed *feeds, size_t n);

/* Stops following (uri).  Its accepted state stays, so that adding the
 * feed again cannot roll it back.  Codes: store_not_found, feed_in_use (an
 * instance runs from it). */
int store_feed_remove(struct store *st, const char *uri, struct err *e);

/* Records a fetch of (uri) now: (code) NULL or "" for success, else the
 * error code and (message) of the failure.  Codes: store_not_found. */
int store_feed_fetched(struct store *st, const char *uri, const char *code,
    const char *message, struct err *e);

/* The state last accepted from (uri), whether or not the feed is still
 * followed.  Codes: store_not_found (nothing accepted yet). */
int store_feed_state(struct store *st, const char *uri,
    struct store_feed_state *out, struct err *e);

/*
 * Accepts a verified feed from (uri) with (serial) (1..INT64_MAX), the
 * SHA-256 of its bytes and its (expires).  In one write transaction it
 * re-reads the state accepted before and judges the feed with
 * trust_serial_check(), so that of two connections accepting at once
 * exactly one sees the other's result: a newer serial replaces the state
 * (TRUST_SERIAL_NEW), the same serial and bytes leave it
 * (TRUST_SERIAL_UNCHANGED); both return 0 with trust_serial_check()'s
 * reason in (e)'s message and an empty code.  A rollback or equivocation
 * returns -1 with feed_rollback or feed_equivocation, as trust.h words
 * them.  (*verdict) (may be NULL) gets the verdict when one was reached.
 * The feed must be followed (store_feed_add()): store_not_found otherwise.
 */
int store_feed_accept(struct store *st, const char *uri, uint64_t serial,
    const uint8_t sha256[SHA256_LEN], int64_t expires,
    enum trust_serial_result *verdict, struct err *e);

/* --- images --- */

struct store_image {
	char sha256[SHA256_HEX_LEN + 1];	/* lowercase hex */
	uint64_t size;
	char *name;
	char *version;
	char *path;
	int64_t added;
	int64_t last_used;	/* 0: never */
	unsigned refs;		/* instances that use it */
};

/* Records the verified image (sha256) (64 hex digits, either case) of
 * (size) bytes at (path).  Codes: store_exists, invalid_argument. */
int store_image_add(struct store *st, const char *sha256, uint64_t size,
    const char *name, const char *version, const char *path, struct err *e);

/* Codes: store_not_found, invalid_argument. */
int store_image_get(struct store *st, const char *sha256,
    struct store_image *out, struct err *e);

/* Every image, ordered by name, then when it was added. */
int store_image_list(struct store *st, struct store_image **out, size_t *n,
    struct err *e);

/* Images no instance uses whose last use (or addition, if never used) is
 * before (before); INT64_MAX lists every unused image.  Removing them is
 * store_image_remove()'s job, which refuses any that came into use since. */
int store_image_prune_list(struct store *st, int64_t before,
    struct store_image **out, size_t *n, struct err *e);
void store_image_free(struct store_image *img);
void store_image_list_free(struct store_image *imgs, size_t n);

/* Sets the image's last use to now.  Codes: store_not_found. */
int store_image_touch(struct store *st, const char *sha256, struct err *e);

/* Forgets the image (the cache deletes the file).  Codes: store_not_found,
 * image_in_use (naming the instances that use it). */
int store_image_remove(struct store *st, const char *sha256, struct err *e);

/* --- instances --- */

/* Observed states, DESIGN §5.  The last four are terminal. */
enum store_state {
	STORE_CREATED,
	STORE_FETCHING,
	STORE_STARTING,
	STORE_RUNNING,
	STORE_STOPPING,
	STORE_STOPPED,
	STORE_EXITED,
	STORE_CRASHED,
	STORE_FAILED,
};

enum store_desired {
	STORE_DESIRED_RUNNING,
	STORE_DESIRED_STOPPED,
};

enum store_restart {
	STORE_RESTART_NO,
	STORE_RESTART_ON_FAILURE,
	STORE_RESTART_ALWAYS,
};

/* Names as stored and shown ("on-failure"); the parsers return 0, or -1
 * for an unknown name. */
const char *store_state_name(enum store_state s);
int store_state_parse(const char *name, enum store_state *s);
int store_state_terminal(enum store_state s);
const char *store_desired_name(enum store_desired d);
int store_desired_parse(const char *name, enum store_desired *d);
const char *store_restart_name(enum store_restart r);
int store_restart_parse(const char *name, enum store_restart *r);

/* What store_instance_create() takes.  NULL strings are "none". */
struct store_instance_new {
	const char *id;			/* NULL: the store makes one */
	const char *name;		/* [A-Za-z0-9][A-Za-z0-9_.-]*, <= 63 */
	const char *feed_uri;		/* a followed feed, or NULL */
	const char *version_range;	/* what `--version` asked, or NULL */
	const char *stability;		/* policy; NULL: "stable" */
	const char *backend;		/* [a-z0-9_-]+ */
	enum store_desired desired;
	enum store_restart restart;
	uint32_t memory_mib;		/* 1..1048576 */
	uint32_t vcpus;			/* 1..256 */
	const char *cmdline;		/* NULL: "" */
	const struct netspec *net;	/* NULL: mode none */
};

struct store_instance {
	char id[STORE_ID_LEN + 1];
	char name[STORE_NAME_MAX + 1];
	char *feed_uri;			/* NULL: none */
	char image[SHA256_HEX_LEN + 1];	/* "": none chosen yet */
	char *version;			/* the image's, NULL with it */
	char *version_range;		/* NULL: any */
	char *stability;
	char *backend;
	char *handle;			/* NULL: no guest */
	enum store_desired desired;
	enum store_state state;
	int exit_code;			/* EXITED: 0..255, -1 unknown */
	char *reason;			/* FAILED/CRASHED: why, or NULL */
	enum store_restart restart;
	uint32_t restart_count;
	int64_t next_restart;		/* 0: none planned */
	uint32_t memory_mib;
	uint32_t vcpus;
	char *cmdline;
	int64_t created;
	int64_t started;		/* 0: not running since started */
	int64_t ended;			/* 0: not ended */
	struct netspec net;		/* mode and forwards */
	uint32_t net_address;		/* its lease on the bridge, 0: none */
};

/*
 * Creates an instance in STORE_CREATED and records a "created" event; its
 * id (given or made) goes to (id) when not NULL.  Codes: store_exists (the
 * name or id is taken), store_not_found (the feed is not followed),
 * invalid_argument (naming the field).
 */
int store_instance_create(struct store *st, const struct store_instance_new *n,
    char id[STORE_ID_LEN + 1], struct err *e);

/* (ref) is a name or an id; a name wins.  Codes: store_not_found. */
int store_instance_get(struct store *st, const char *ref,
    struct store_instance *out, struct err *e);

/* The instance whose guest (backend) names (handle).  Codes:
 * store_not_found. */
int store_instance_get_by_handle(struct store *st, const char *backend,
    const char *handle, struct store_instance *out, struct err *e);

/* Every instance, ordered by name. */
int store_instance_list(struct store *st, struct store_instance **out,
    size_t *n, struct err *e);
void store_instance_free(struct store_instance *in);
void store_instance_list_free(struct store_instance *ins, size_t n);

enum store_restarts {
	STORE_RESTARTS_KEEP,
	STORE_RESTARTS_ADD,	/* this transition is an automatic restart */
	STORE_RESTARTS_RESET,	/* a person started it: count from 0 */
};

/* A move of the observed state. */
struct store_transition {
	enum store_state to;
	int exit_code;		/* to STORE_EXITED: 0..255, -1 unknown */
	const char *reason;	/* to FAILED or CRASHED: why (NULL: none) */
	int64_t next_restart;	/* when a restart is planned, 0: none */
	enum store_restarts restarts;
};

/*
 * Compare-and-set of the observed state: moves the instance (id) from
 * (from) to (t->to) only if it is in (from) now, and records a "state"
 * event, in one transaction.  Entering STORE_RUNNING sets (started);
 * entering a terminal state sets (ended); entering STORE_FETCHING or
 * STORE_STARTING clears both; exit code and reason are kept only in the
 * states they belong to.  Allowed moves (docs/daemon.md): forward along
 * created, fetching, starting, running, stopping; from any of those to a
 * terminal state; from a terminal state back to fetching or starting.
 * Codes: store_not_found, store_conflict (the instance is in another state
 * than (from): a stale writer, who should re-read), store_bad_transition,
 * invalid_argument.
 */
int store_instance_transition(struct store *st, const char *id,
    enum store_state from, const struct store_transition *t, struct err *e);

/* Setting STORE_DESIRED_STOPPED also cancels a planned restart
 * (next_restart 0).  Codes: store_not_found. */
int store_instance_set_desired(struct store *st, const char *id,
    enum store_desired desired, struct err *e);

/* Sets the guest's backend handle, or clears it with (handle) NULL.
 * Codes: store_not_found, store_exists (another instance of the same
 * backend has that handle), invalid_argument. */
int store_instance_set_handle(struct store *st, const char *id,
    const char *handle, struct err *e);

/* Points the instance at the image (sha256), which must be in the store,
 * or at none with NULL.  Codes: store_not_found (instance or image). */
int store_instance_set_image(struct store *st, const char *id,
    const char *sha256, struct err *e);

/*
 * Deletes the instance (id) and its events, and records a "deleted" event
 * without an instance.  Codes: store_not_found, instance_active (it is
 * fetching, starting, running or stopping: stop it first, so that no guest
 * is ever forgotten while it runs).
 */
int store_instance_delete(struct store *st, const char *id, struct err *e);

/* --- guest networks --- */

/*
 * The address of instance (id) on the bridge, leased from the pool
 * (first)..(last) (never (exclude), the bridge's own), into (*addr): the
 * lease it holds when that is in the pool, else the lowest free address,
 * recorded with a "network" event.  A lease outside the pool (the
 * bridge's subnet was changed) is given up for a new one.  The lease
 * stays across restarts of the instance and of the daemon, and goes with
 * the instance (store_instance_delete()).  Codes: store_not_found,
 * network_pool_exhausted (every address of the pool is leased),
 * invalid_argument.
 */
int store_net_lease(struct store *st, const char *id, uint32_t first,
    uint32_t last, uint32_t exclude, uint32_t *addr, struct err *e);

/* --- events --- */

struct store_event {
	int64_t id;		/* grows, never reused */
	int64_t time;
	char instance[STORE_ID_LEN + 1];	/* "": about no instance */
	char kind[STORE_KIND_MAX + 1];
	char *message;
};

/*
 * Adds an event about instance (instance_id) (NULL: none) of (kind)
 * ([a-z0-9_.-]+, <= STORE_KIND_MAX) with (message), cut to
 * STORE_EVENT_MSG_MAX bytes on a UTF-8 boundary; then drops the oldest
 * beyond the connection's limit.  Its id goes to (*id) when not NULL.
 * Codes: store_not_found (no such instance), invalid_argument.
 */
int store_event_add(struct store *st, const char *instance_id,
    const char *kind, const char *message, int64_t *id, struct err *e);

/* At most (limit) events with ids above (after), oldest first, of
 * (instance_id) only when not NULL. */
int store_event_list(struct store *st, int64_t after, const char *instance_id,
    size_t limit, struct store_event **out, size_t *n, struct err *e);
void store_event_list_free(struct store_event *evs, size_t n);

/* The id of the newest event, 0 when there is none. */
int store_event_last(struct store *st, int64_t *id, struct err *e);

#endif
