/*
 * test-store.c - unikerneld/store: schema and migrations, every call with
 * good and bad input, compare-and-set, concurrent accepts from two
 * connections, event trimming, and failures inside a transaction leaving
 * nothing behind.  Real SQLite files in a temporary directory.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "tap.h"

#define T0 1700000000
#define U1 "https://feeds.example.org/hello.json"
#define U2 "file:///srv/feeds/x.json"

static char dir[] = "/tmp/test-store.XXXXXX";
static int64_t clock_now = T0;

static int64_t
fixed_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

static char *
path_in(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static struct store *
open_ok(const char *name)
{
	struct store *st;
	struct err e;

	if (store_open(path_in(name), &st, &e) == -1) {
		ok(0, "open %s", name);
		diag("[%s] %s", e.code, e.msg);
		exit(1);
	}
	store_set_clock(st, fixed_clock, NULL);
	return st;
}

/* A check that (rc) is 0, showing the error otherwise. */
static int
is_ok(int rc, const struct err *e, const char *name)
{
	if (!ok(rc == 0, "%s", name))
		diag("rc %d [%s] %s", rc, e->code, e->msg);
	return rc == 0;
}

/* A check that (rc) is -1 with (code). */
static int
is_err(int rc, const struct err *e, const char *code, const char *name)
{
	int good = rc == -1 && strcmp(e->code, code) == 0;

	if (!ok(good, "%s: %s", name, code))
		diag("rc %d [%s] %s", rc, e->code, e->msg);
	return good;
}

/* --- a connection of our own, to look behind the store's back --- */

static sqlite3 *
raw_open(const char *name)
{
	sqlite3 *db;

	if (sqlite3_open(path_in(name), &db) != SQLITE_OK) {
		diag("raw open %s: %s", name, sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static int
raw_exec(const char *name, const char *sql)
{
	sqlite3 *db = raw_open(name);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		diag("raw exec: %s", msg);
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int64_t
raw_int(const char *name, const char *sql)
{
	sqlite3 *db = raw_open(name);
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		diag("raw %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
raw_text(const char *name, const char *sql, char *out, size_t size)
{
	sqlite3 *db = raw_open(name);
	sqlite3_stmt *s;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(s,
		    0));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
make_key(struct sig_pubkey *k, uint8_t seed)
{
	size_t i;

	for (i = 0; i < SIG_KEYID_LEN; i++)
		k->keyid[i] = (uint8_t)(seed * 16 + i);
	for (i = 0; i < SIG_PK_LEN; i++)
		k->pk[i] = (uint8_t)(seed + i * 7);
}

static void
digest(uint8_t out[SHA256_LEN], uint8_t seed)
{
	memset(out, seed, SHA256_LEN);
}

static char *
hexdigest(uint8_t seed)
{
	static char buf[4][SHA256_HEX_LEN + 1];
	static int i;
	uint8_t d[SHA256_LEN];

	i = (i + 1) % 4;
	digest(d, seed);
	hex_encode(d, SHA256_LEN, buf[i]);
	return buf[i];
}

/* ------------------------------------------------------------------ */

static void
test_open(void)
{
	struct store *st, *st2;
	char text[64];
	struct err e;
	FILE *f;

	st = open_ok("open.db");
	is_int(raw_int("open.db", "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "fresh database migrated to the current schema");
	is_int(raw_int("open.db", "PRAGMA application_id"),
	    STORE_APPLICATION_ID, "application_id set");
	raw_text("open.db", "PRAGMA journal_mode", text, sizeof(text));
	is_str(text, "wal", "journal in WAL mode");
	is_int(raw_int("open.db", "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('keys', 'key_domains', 'feeds', "
	    "'feed_accepted', 'images', 'instances', 'events', "
	    "'net_forwards', 'net_leases')"), 9, "all tables made");
	is_ok(store_open(path_in("open.db"), &st2, &e), &e,
	    "a second connection opens the same file");
	store_close(st2);
	store_close(st);

	snprintf(text, sizeof(text), "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION + 1);
	raw_exec("open.db", text);
	st = NULL;
	is_err(store_open(path_in("open.db"), &st, &e), &e, "store_too_new",
	    "a schema from a newer unikerneld");
	snprintf(text, sizeof(text), "version %d", STORE_SCHEMA_VERSION + 1);
	ok(st == NULL && strstr(e.msg, text) != NULL,
	    "message names the version: %s", e.msg);
	snprintf(text, sizeof(text), "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION);
	raw_exec("open.db", text);
	is_ok(store_open(path_in("open.db"), &st, &e), &e,
	    "the refusal left the file alone");
	store_close(st);

	raw_exec("foreign.db", "CREATE TABLE t (x)");
	is_err(store_open(path_in("foreign.db"), &st, &e), &e,
	    "store_corrupt", "another program's database");
	is_int(raw_int("foreign.db", "SELECT count(*) FROM sqlite_master"), 1,
	    "  and nothing added to it");

	if ((f = fopen(path_in("garbage.db"), "w")) != NULL) {
		for (int i = 0; i < 200; i++)
			fputs("this is not an SQLite database at all\n", f);
		fclose(f);
	}
	is_err(store_open(path_in("garbage.db"), &st, &e), &e,
	    "store_corrupt", "a file that is not a database");

	if ((f = fopen(path_in("empty.db"), "w")) != NULL)
		fclose(f);
	is_ok(store_open(path_in("empty.db"), &st, &e), &e,
	    "an empty file is migrated from nothing");
	store_close(st);
	is_int(raw_int("empty.db", "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION, "  to the current schema");

	is_err(store_open(path_in("no/such/dir.db"), &st, &e), &e, "store_io",
	    "a directory that does not exist");
	is_err(store_open("", &st, &e), &e, ERR_INVALID, "an empty path");
}

static void
test_names(void)
{
	enum store_state s;
	enum store_restart r;
	enum store_desired d;
	int good = 1, i;

	for (i = STORE_CREATED; i <= STORE_FAILED; i++)
		if (store_state_parse(store_state_name((enum store_state)i),
		    &s) == -1 || (int)s != i)
			good = 0;
	ok(good, "state names round-trip");
	ok(store_restart_parse("on-failure", &r) == 0 &&
	    r == STORE_RESTART_ON_FAILURE, "on-failure parses");
	ok(store_restart_parse("sometimes", &r) == -1, "unknown policy");
	ok(store_desired_parse("stopped", &d) == 0 &&
	    d == STORE_DESIRED_STOPPED, "desired stopped parses");
	ok(store_state_parse(NULL, &s) == -1, "NULL state name");
	ok(store_state_terminal(STORE_CRASHED) &&
	    !store_state_terminal(STORE_STOPPING), "terminal states");
}

/* ------------------------------------------------------------------ */

static void
test_keys(struct store *st)
{
	const char *d1[] = { "Example.org", "*.example.net" };
	const char *dbad[] = { "good.org", "bad..org" };
	const char *d2[] = { "k2.org", "K2.ORG" };
	struct sig_pubkey k1, k2, k3, other;
	struct store_key key, *keys;
	struct trust_key *tk;
	size_t n, match;
	struct err e;

	make_key(&k1, 1);
	make_key(&k2, 2);
	make_key(&k3, 3);
	other = k1;
	other.pk[0] ^= 0xff;

	is_ok(store_key_add(st, &k1, "test key", d1, 2, &e), &e, "add a key");
	is_ok(store_key_get(st, k1.keyid, &key, &e), &e, "get it");
	ok(memcmp(key.pk, k1.pk, SIG_PK_LEN) == 0 && key.added == T0 &&
	    strcmp(key.comment, "test key") == 0,
	    "  public key, time, comment");
	ok(key.ndomains == 2 && strcmp(key.domains[0], "*.example.net") == 0 &&
	    strcmp(key.domains[1], "example.org") == 0,
	    "  rules sorted and lowercase");
	store_key_free(&key);

	is_err(store_key_add(st, &k1, NULL, d1, 1, &e), &e, "store_exists",
	    "the same key again");
	is_err(store_key_add(st, &k2, NULL, dbad, 2, &e), &e,
	    "trust_pattern_invalid", "a bad rule among good ones");
	is_err(store_key_get(st, k2.keyid, &key, &e), &e, "store_not_found",
	    "  and the key was not added");
	is_err(store_key_add(st, &k2, NULL, d2, 0, &e), &e, ERR_INVALID,
	    "no domains");
	is_err(store_key_add(st, &k2, "two\nlines", d2, 1, &e), &e,
	    "comment_invalid", "a comment with a newline");
	is_err(store_key_add(st, NULL, NULL, d2, 1, &e), &e, ERR_INVALID,
	    "no key");
	is_ok(store_key_add(st, &k2, NULL, d2, 2, &e), &e,
	    "rules differing in case");
	is_ok(store_key_get(st, k2.keyid, &key, &e), &e, "get it");
	ok(key.ndomains == 1 && strcmp(key.comment, "") == 0,
	    "  collapse into one; no comment is \"\"");
	store_key_free(&key);

	is_ok(store_key_domain_add(st, k2.keyid, "Other.org", &e), &e,
	    "add a rule");
	is_err(store_key_domain_add(st, k2.keyid, "other.org", &e), &e,
	    "store_exists", "the same rule again");
	is_err(store_key_domain_add(st, k2.keyid, "bad rule", &e), &e,
	    "trust_pattern_invalid", "a bad rule");
	is_err(store_key_domain_add(st, k3.keyid, "k3.org", &e), &e,
	    "store_not_found", "a rule for an unknown key");
	is_err(store_key_domain_remove(st, k2.keyid, "none.org", &e), &e,
	    "store_not_found", "removing a rule it does not have");
	is_ok(store_key_domain_remove(st, k2.keyid, "other.org", &e), &e,
	    "remove a rule");
	is_err(store_key_domain_remove(st, k2.keyid, "k2.org", &e), &e,
	    "key_last_domain", "removing the last rule");
	is_err(store_key_domain_remove(st, k3.keyid, "k3.org", &e), &e,
	    "store_not_found", "a rule of an unknown key");

	is_ok(store_key_list(st, &keys, &n, &e), &e, "list keys");
	ok(n == 2 && memcmp(keys[0].keyid, k1.keyid, SIG_KEYID_LEN) == 0 &&
	    keys[0].ndomains == 2 && keys[1].ndomains == 1 &&
	    strcmp(keys[1].domains[0], "k2.org") == 0, "  both, with rules");
	store_key_list_free(keys, n);

	is_ok(store_trust_load(st, &tk, &n, &e), &e, "load the trust store");
	ok(n == 2 && tk[0].ndomains == 2 && tk[1].ndomains == 1,
	    "  two keys, 2 + 1 rules");
	ok(trust_key_check(tk, n, k1.keyid, k1.pk, "a.b.example.net", &match,
	    &e) == TRUST_KEY_TRUSTED && match == 0,
	    "trust_key_check: subdomain rule (%s)", e.msg);
	ok(trust_key_check(tk, n, k2.keyid, k2.pk, "k2.org", &match, &e) ==
	    TRUST_KEY_TRUSTED && match == 1, "trust_key_check: second key");
	ok(trust_key_check(tk, n, k1.keyid, k1.pk, "example.net", NULL, &e) ==
	    TRUST_KEY_NOT_FOR_DOMAIN, "trust_key_check: other domain (%s)",
	    e.msg);
	ok(trust_key_check(tk, n, k3.keyid, k3.pk, "k2.org", NULL, &e) ==
	    TRUST_KEY_UNKNOWN, "trust_key_check: unknown key");
	ok(trust_key_check(tk, n, other.keyid, other.pk, "example.org", NULL,
	    &e) == TRUST_KEY_UNKNOWN, "trust_key_check: same id, other key");
	store_trust_free(tk);

	is_ok(store_key_remove(st, k2.keyid, &e), &e, "remove a key");
	is_err(store_key_remove(st, k2.keyid, &e), &e, "store_not_found",
	    "remove it again");
	is_ok(store_trust_load(st, &tk, &n, &e), &e, "load again");
	ok(n == 1 && tk[0].ndomains == 2, "  one key left");
	store_trust_free(tk);
}

static void
test_feeds(struct store *st)
{
	enum trust_serial_result v;
	struct store_feed f, *feeds;
	struct store_feed_state fs;
	uint8_t a[SHA256_LEN], b[SHA256_LEN];
	char longuri[STORE_URI_MAX + 64];
	struct err e;
	size_t n;

	digest(a, 0xaa);
	digest(b, 0xbb);
	memset(longuri, 'a', sizeof(longuri) - 1);
	longuri[sizeof(longuri) - 1] = '\0';
	memcpy(longuri, "https://a.org/", 14);

	is_err(store_feed_add(st, "ftp://example.org/x", &e), &e,
	    "uri_unsupported_scheme", "an ftp feed");
	is_err(store_feed_add(st, "example.org/x", &e), &e, "uri_malformed",
	    "a URI without a scheme");
	is_err(store_feed_add(st, longuri, &e), &e, ERR_INVALID,
	    "a URI that is too long");
	is_err(store_feed_add(st, NULL, &e), &e, ERR_INVALID, "no URI");
	is_ok(store_feed_add(st, U1, &e), &e, "follow a feed");
	is_err(store_feed_add(st, U1, &e), &e, "store_exists",
	    "follow it again");
	is_ok(store_feed_get(st, U1, &f, &e), &e, "get it");
	ok(strcmp(f.uri, U1) == 0 && f.added == T0 && f.last_fetched == 0 &&
	    f.last_error_code == NULL && !f.accepted, "  fresh feed fields");
	store_feed_free(&f);
	is_err(store_feed_get(st, U2, &f, &e), &e, "store_not_found",
	    "get a feed not followed");

	clock_now = T0 + 10;
	is_ok(store_feed_fetched(st, U1, "fetch_http_status", "HTTP 500", &e),
	    &e, "record a failed fetch");
	store_feed_get(st, U1, &f, &e);
	ok(f.last_fetched == T0 + 10 && f.last_error_code != NULL &&
	    strcmp(f.last_error_code, "fetch_http_status") == 0 &&
	    strcmp(f.last_error, "HTTP 500") == 0, "  error and time kept");
	store_feed_free(&f);
	is_ok(store_feed_fetched(st, U1, NULL, NULL, &e), &e,
	    "record a good fetch");
	store_feed_get(st, U1, &f, &e);
	ok(f.last_error_code == NULL && f.last_error == NULL,
	    "  error cleared");
	store_feed_free(&f);
	is_err(store_feed_fetched(st, U2, NULL, NULL, &e), &e,
	    "store_not_found", "a fetch of a feed not followed");

	is_err(store_feed_accept(st, U2, 1, a, T0 + 100, &v, &e), &e,
	    "store_not_found", "accept a feed not followed");
	is_err(store_feed_accept(st, U1, 0, a, T0 + 100, &v, &e), &e,
	    ERR_INVALID, "serial 0");
	is_err(store_feed_accept(st, U1, (uint64_t)INT64_MAX + 1, a, T0, &v,
	    &e), &e, ERR_INVALID, "serial above INT64_MAX");
	is_err(store_feed_state(st, U1, &fs, &e), &e, "store_not_found",
	    "no state before the first accept");
	ok(store_feed_accept(st, U1, 5, a, T0 + 100, &v, &e) == 0 &&
	    v == TRUST_SERIAL_NEW && strcmp(e.code, "") == 0,
	    "first accept is new (%s)", e.msg);
	ok(store_feed_accept(st, U1, 5, a, T0 + 100, &v, &e) == 0 &&
	    v == TRUST_SERIAL_UNCHANGED, "same serial and bytes: unchanged");
	ok(is_err(store_feed_accept(st, U1, 4, b, T0 + 100, &v, &e), &e,
	    "feed_rollback", "a lower serial") && v == TRUST_SERIAL_ROLLBACK,
	    "  verdict rollback");
	ok(is_err(store_feed_accept(st, U1, 5, b, T0 + 100, &v, &e), &e,
	    "feed_equivocation", "same serial, other bytes") &&
	    v == TRUST_SERIAL_EQUIVOCATION, "  verdict equivocation");
	is_ok(store_feed_state(st, U1, &fs, &e), &e, "read the state");
	ok(fs.trust.serial == 5 && memcmp(fs.trust.sha256, a, SHA256_LEN) ==
	    0 && fs.accepted == T0 + 10 && fs.expires == T0 + 100,
	    "  refusals left it alone");
	clock_now = T0 + 20;
	ok(store_feed_accept(st, U1, 6, b, T0 + 200, &v, &e) == 0 &&
	    v == TRUST_SERIAL_NEW, "a higher serial is new");
	store_feed_get(st, U1, &f, &e);
	ok(f.accepted && f.state.trust.serial == 6 &&
	    memcmp(f.state.trust.sha256, b, SHA256_LEN) == 0 &&
	    f.state.accepted == T0 + 20 && f.state.expires == T0 + 200,
	    "  get shows the new state");
	store_feed_free(&f);

	is_ok(store_feed_add(st, U2, &e), &e, "follow a file:// feed");
	is_ok(store_feed_list(st, &feeds, &n, &e), &e, "list feeds");
	ok(n == 2 && strcmp(feeds[0].uri, U2) == 0 && !feeds[0].accepted &&
	    strcmp(feeds[1].uri, U1) == 0 && feeds[1].accepted,
	    "  ordered by URI, with states");
	store_feed_list_free(feeds, n);
	is_ok(store_feed_remove(st, U2, &e), &e, "remove a feed");
	is_err(store_feed_remove(st, U2, &e), &e, "store_not_found",
	    "remove it again");

	is_ok(store_feed_remove(st, U1, &e), &e, "remove the accepted feed");
	is_ok(store_feed_state(st, U1, &fs, &e), &e, "  its state stays");
	is_ok(store_feed_add(st, U1, &e), &e, "follow it again");
	is_err(store_feed_accept(st, U1, 5, a, T0 + 100, &v, &e), &e,
	    "feed_rollback", "  the old serial is still a rollback");
}

static void
test_images(struct store *st)
{
	struct store_image img, *imgs;
	char upper[SHA256_HEX_LEN + 1];
	struct err e;
	size_t i, n;

	snprintf(upper, sizeof(upper), "%s", hexdigest(0xc1));
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');

	is_err(store_image_add(st, "abc", 1, "hello", "1.0", "/x", &e), &e,
	    ERR_INVALID, "a short digest");
	is_err(store_image_add(st, hexdigest(0xc1), 1, "", "1.0", "/x", &e),
	    &e, ERR_INVALID, "an empty name");
	is_err(store_image_add(st, hexdigest(0xc1), 1, "hello", "1.0",
	    "/x\n", &e), &e, ERR_INVALID, "a path with a newline");
	clock_now = T0 + 30;
	is_ok(store_image_add(st, upper, 4096, "hello", "1.0",
	    "/var/lib/ukd/images/sha256/c1", &e), &e,
	    "add an image (digest in uppercase)");
	is_err(store_image_add(st, hexdigest(0xc1), 4096, "hello", "1.0",
	    "/x", &e), &e, "store_exists", "the same digest again");
	clock_now = T0 + 31;
	is_ok(store_image_add(st, hexdigest(0xc2), 8192, "hello", "1.1",
	    "/var/lib/ukd/images/sha256/c2", &e), &e, "add another");
	is_ok(store_image_get(st, hexdigest(0xc1), &img, &e), &e,
	    "get by lowercase digest");
	ok(strcmp(img.sha256, hexdigest(0xc1)) == 0 && img.size == 4096 &&
	    strcmp(img.version, "1.0") == 0 && img.added == T0 + 30 &&
	    img.last_used == 0 && img.refs == 0, "  fields");
	store_image_free(&img);
	is_err(store_image_get(st, hexdigest(0xc3), &img, &e), &e,
	    "store_not_found", "get an unknown image");
	is_ok(store_image_list(st, &imgs, &n, &e), &e, "list images");
	ok(n == 2 && strcmp(imgs[0].version, "1.0") == 0 &&
	    strcmp(imgs[1].version, "1.1") == 0, "  two, oldest first");
	store_image_list_free(imgs, n);
	clock_now = T0 + 40;
	is_ok(store_image_touch(st, hexdigest(0xc2), &e), &e, "touch");
	is_err(store_image_touch(st, hexdigest(0xc3), &e), &e,
	    "store_not_found", "touch an unknown image");
	is_ok(store_image_prune_list(st, T0 + 35, &imgs, &n, &e), &e,
	    "prune candidates unused since T0+35");
	ok(n == 1 && strcmp(imgs[0].sha256, hexdigest(0xc1)) == 0,
	    "  only the one not touched");
	store_image_list_free(imgs, n);
}

static const struct store_instance_new web = {
	.name = "web",
	.feed_uri = U1,
	.version_range = "1.0..!2.0",
	.backend = "qemu",
	.desired = STORE_DESIRED_RUNNING,
	.restart = STORE_RESTART_ON_FAILURE,
	.memory_mib = 64,
	.vcpus = 1,
	.cmdline = "hello world",
};

static void
test_instance_create(struct store *st, char id[STORE_ID_LEN + 1])
{
	struct store_instance_new n;
	char fixed[STORE_ID_LEN + 1];
	struct err e;
	size_t i;
	static const struct {
		const char *name, *why;
	} badnames[] = {
		{ "", "empty" },
		{ "-web", "leading dash" },
		{ "a b", "space" },
		{ "a/b", "slash" },
		{ "01234567890123456789012345678901234567890123456789"
		  "01234567890123", "64 bytes" },
	};

	for (i = 0; i < sizeof(badnames) / sizeof(badnames[0]); i++) {
		n = web;
		n.name = badnames[i].name;
		is_err(store_instance_create(st, &n, id, &e), &e, ERR_INVALID,
		    badnames[i].why);
	}
	n = web;
	n.backend = "QEMU";
	is_err(store_instance_create(st, &n, id, &e), &e, ERR_INVALID,
	    "an uppercase backend");
	n = web;
	n.memory_mib = 0;
	is_err(store_instance_create(st, &n, id, &e), &e, ERR_INVALID,
	    "no memory");
	n = web;
	n.vcpus = 257;
	is_err(store_instance_create(st, &n, id, &e), &e, ERR_INVALID,
	    "257 vCPUs");
	n = web;
	n.stability = "wobbly";
	is_err(store_instance_create(st, &n, id, &e), &e, ERR_INVALID,
	    "an unknown stability");
	n = web;
	n.feed_uri = "https://elsewhere.org/f.json";
	is_err(store_instance_create(st, &n, id, &e), &e, "store_not_found",
	    "a feed not followed");
	n = web;
	n.id = "xyz";
	is_err(store_instance_create(st, &n, id, &e), &e, ERR_INVALID,
	    "a bad id");

	clock_now = T0 + 50;
	is_ok(store_instance_create(st, &web, id, &e), &e, "create web");
	ok(strlen(id) == STORE_ID_LEN && strspn(id, "0123456789abcdef") ==
	    STORE_ID_LEN, "  a random id of 32 hex digits: %s", id);
	is_err(store_instance_create(st, &web, NULL, &e), &e, "store_exists",
	    "the same name again");
	n = web;
	n.name = "zeta";
	n.id = "0123456789ABCDEF0123456789abcdef";
	n.feed_uri = NULL;
	n.cmdline = NULL;
	n.version_range = NULL;
	n.stability = "testing";
	is_ok(store_instance_create(st, &n, fixed, &e), &e,
	    "create zeta with an id of its own");
	is_str(fixed, "0123456789abcdef0123456789abcdef", "  stored lowercase");
	n.name = "alpha";
	is_err(store_instance_create(st, &n, fixed, &e), &e, "store_exists",
	    "a taken id");
	n.id = NULL;
	is_ok(store_instance_create(st, &n, NULL, &e), &e, "create alpha");
}

static void
test_instance_read(struct store *st, const char *id)
{
	struct store_instance in, *ins;
	struct err e;
	size_t n;

	is_ok(store_instance_get(st, "web", &in, &e), &e, "get by name");
	ok(strcmp(in.id, id) == 0 && strcmp(in.name, "web") == 0 &&
	    strcmp(in.feed_uri, U1) == 0 && in.image[0] == '\0' &&
	    in.version == NULL && strcmp(in.version_range, "1.0..!2.0") == 0 &&
	    strcmp(in.stability, "stable") == 0 &&
	    strcmp(in.backend, "qemu") == 0 && in.handle == NULL &&
	    in.desired == STORE_DESIRED_RUNNING && in.state == STORE_CREATED &&
	    in.restart == STORE_RESTART_ON_FAILURE && in.restart_count == 0 &&
	    in.memory_mib == 64 && in.vcpus == 1 &&
	    strcmp(in.cmdline, "hello world") == 0 && in.created == T0 + 50 &&
	    in.started == 0 && in.ended == 0 && in.reason == NULL,
	    "  every field as created");
	store_instance_free(&in);
	is_ok(store_instance_get(st, id, &in, &e), &e, "get by id");
	is_str(in.name, "web", "  the same instance");
	store_instance_free(&in);
	is_ok(store_instance_get(st, "0123456789ABCDEF0123456789ABCDEF", &in,
	    &e), &e, "get by id in uppercase");
	ok(strcmp(in.name, "zeta") == 0 && in.feed_uri == NULL &&
	    in.version_range == NULL && strcmp(in.cmdline, "") == 0 &&
	    strcmp(in.stability, "testing") == 0, "  zeta, without a feed");
	store_instance_free(&in);
	is_err(store_instance_get(st, "nobody", &in, &e), &e,
	    "store_not_found", "get an unknown name");
	is_err(store_instance_get(st, "ffffffffffffffffffffffffffffffff", &in,
	    &e), &e, "store_not_found", "get an unknown id");

	is_ok(store_instance_list(st, &ins, &n, &e), &e, "list instances");
	ok(n == 3 && strcmp(ins[0].name, "alpha") == 0 &&
	    strcmp(ins[1].name, "web") == 0 && strcmp(ins[2].name, "zeta") == 0,
	    "  ordered by name");
	store_instance_list_free(ins, n);
}

static int
move(struct store *st, const char *id, enum store_state from,
    enum store_state to, struct err *e)
{
	struct store_transition t = { .to = to };

	return store_instance_transition(st, id, from, &t, e);
}

static void
test_images_in_use(struct store *st, const char *id)
{
	struct store_image img, *imgs;
	struct store_instance in;
	struct err e;
	size_t n;

	is_err(store_instance_set_image(st, id, hexdigest(0xc3), &e), &e,
	    "store_not_found", "set an unknown image");
	is_err(store_instance_set_image(st, "ffffffffffffffffffffffffffffffff",
	    hexdigest(0xc1), &e), &e, "store_not_found",
	    "set the image of an unknown instance");
	is_ok(store_instance_set_image(st, id, hexdigest(0xc1), &e), &e,
	    "set web's image");
	store_instance_get(st, "web", &in, &e);
	ok(strcmp(in.image, hexdigest(0xc1)) == 0 && in.version != NULL &&
	    strcmp(in.version, "1.0") == 0, "  version from the image");
	store_instance_free(&in);
	is_err(store_image_remove(st, hexdigest(0xc1), &e), &e, "image_in_use",
	    "remove an image in use");
	ok(strstr(e.msg, "web") != NULL, "  message names web: %s", e.msg);
	store_image_get(st, hexdigest(0xc1), &img, &e);
	ok(img.refs == 1, "  the image counts one user");
	store_image_free(&img);
	is_ok(store_image_prune_list(st, INT64_MAX, &imgs, &n, &e), &e,
	    "prune candidates");
	ok(n == 1 && strcmp(imgs[0].sha256, hexdigest(0xc2)) == 0,
	    "  the image in use is not one");
	store_image_list_free(imgs, n);
	is_err(store_feed_remove(st, U1, &e), &e, "feed_in_use",
	    "remove the feed web runs from");
}

static void
test_transitions(struct store *st, const char *id)
{
	struct store_transition t;
	struct store_instance in;
	struct err e;

	is_err(move(st, id, STORE_CREATED, STORE_CREATED, &e), &e,
	    "store_bad_transition", "created -> created");
	is_ok(move(st, id, STORE_CREATED, STORE_FETCHING, &e), &e,
	    "created -> fetching");
	is_err(move(st, id, STORE_CREATED, STORE_FETCHING, &e), &e,
	    "store_conflict", "a stale writer");
	ok(strstr(e.msg, "web is fetching, not created") != NULL,
	    "  message says why: %s", e.msg);
	is_err(move(st, id, STORE_FETCHING, STORE_CREATED, &e), &e,
	    "store_bad_transition", "fetching -> created");
	is_err(move(st, "ffffffffffffffffffffffffffffffff", STORE_CREATED,
	    STORE_FETCHING, &e), &e, "store_not_found", "an unknown instance");
	is_ok(move(st, id, STORE_FETCHING, STORE_STARTING, &e), &e,
	    "fetching -> starting");
	is_ok(store_instance_set_handle(st, id, "pid=42 qmp=/run/x", &e), &e,
	    "set the handle");
	is_ok(store_instance_get_by_handle(st, "qemu", "pid=42 qmp=/run/x", &in,
	    &e), &e, "find by handle");
	is_str(in.name, "web", "  it is web");
	store_instance_free(&in);
	is_err(store_instance_get_by_handle(st, "libxl", "pid=42 qmp=/run/x",
	    &in, &e), &e, "store_not_found", "  not under another backend");
	is_err(store_instance_set_handle(st, "0123456789abcdef0123456789abcdef",
	    "pid=42 qmp=/run/x", &e), &e, "store_exists",
	    "the same handle for zeta");
	clock_now = T0 + 60;
	is_ok(move(st, id, STORE_STARTING, STORE_RUNNING, &e), &e,
	    "starting -> running");
	is_err(store_instance_delete(st, id, &e), &e, "instance_active",
	    "delete a running instance");

	clock_now = T0 + 70;
	t = (struct store_transition){ .to = STORE_EXITED, .exit_code = 3,
	    .next_restart = T0 + 80 };
	is_ok(store_instance_transition(st, id, STORE_RUNNING, &t, &e), &e,
	    "running -> exited(3)");
	store_instance_get(st, id, &in, &e);
	ok(in.state == STORE_EXITED && in.exit_code == 3 &&
	    in.started == T0 + 60 && in.ended == T0 + 70 &&
	    in.next_restart == T0 + 80 && in.reason == NULL,
	    "  code, times, planned restart");
	store_instance_free(&in);
	t.exit_code = 256;
	is_err(store_instance_transition(st, id, STORE_EXITED, &t, &e), &e,
	    "store_bad_transition", "exited -> exited");
	t = (struct store_transition){ .to = STORE_EXITED, .exit_code = 256 };
	is_err(store_instance_transition(st, id, STORE_RUNNING, &t, &e), &e,
	    ERR_INVALID, "exit code 256");
	is_err(move(st, id, STORE_EXITED, STORE_RUNNING, &e), &e,
	    "store_bad_transition", "exited -> running");
	t = (struct store_transition){ .to = STORE_STARTING,
	    .restarts = STORE_RESTARTS_ADD };
	is_ok(store_instance_transition(st, id, STORE_EXITED, &t, &e), &e,
	    "exited -> starting, a restart");
	store_instance_get(st, id, &in, &e);
	ok(in.restart_count == 1 && in.exit_code == -1 && in.started == 0 &&
	    in.ended == 0 && in.next_restart == 0,
	    "  counted, old run cleared");
	store_instance_free(&in);
	t = (struct store_transition){ .to = STORE_CRASHED,
	    .reason = "pvpanic" };
	is_ok(store_instance_transition(st, id, STORE_STARTING, &t, &e), &e,
	    "starting -> crashed");
	store_instance_get(st, id, &in, &e);
	ok(in.reason != NULL && strcmp(in.reason, "pvpanic") == 0,
	    "  reason kept");
	store_instance_free(&in);
	t = (struct store_transition){ .to = STORE_STARTING,
	    .restarts = STORE_RESTARTS_RESET };
	is_ok(store_instance_transition(st, id, STORE_CRASHED, &t, &e), &e,
	    "crashed -> starting, by hand");
	store_instance_get(st, id, &in, &e);
	ok(in.restart_count == 0 && in.reason == NULL, "  count reset");
	store_instance_free(&in);
	is_ok(move(st, id, STORE_STARTING, STORE_RUNNING, &e), &e,
	    "starting -> running");

	is_ok(store_instance_set_desired(st, id, STORE_DESIRED_STOPPED, &e), &e,
	    "desire stopped");
	is_err(store_instance_set_desired(st,
	    "ffffffffffffffffffffffffffffffff", STORE_DESIRED_STOPPED, &e), &e,
	    "store_not_found", "desire for an unknown instance");
	store_instance_get(st, id, &in, &e);
	ok(in.desired == STORE_DESIRED_STOPPED, "  desired stopped");
	store_instance_free(&in);
}

/* A second connection whose view is stale loses the compare-and-set. */
static void
test_stale_writer(struct store *st, const char *id)
{
	struct store *st2 = open_ok("main.db");
	struct store_instance in;
	struct err e;

	store_instance_get(st2, id, &in, &e);
	ok(in.state == STORE_RUNNING, "second connection sees running");
	store_instance_free(&in);
	is_ok(move(st, id, STORE_RUNNING, STORE_STOPPING, &e), &e,
	    "first connection: running -> stopping");
	is_err(move(st2, id, STORE_RUNNING, STORE_FAILED, &e), &e,
	    "store_conflict", "second connection: running -> failed");
	store_instance_get(st2, id, &in, &e);
	ok(in.state == STORE_STOPPING, "  the first one's move stands");
	store_instance_free(&in);
	store_close(st2);
}

static void
test_instance_delete(struct store *st, const char *id)
{
	struct store_event *evs;
	struct err e;
	size_t n, i;
	int found;

	is_ok(store_instance_set_handle(st, id, NULL, &e), &e,
	    "clear the handle");
	is_ok(move(st, id, STORE_STOPPING, STORE_STOPPED, &e), &e,
	    "stopping -> stopped");
	is_ok(store_event_list(st, 0, id, 100, &evs, &n, &e), &e,
	    "web's events");
	ok(n == 11 && strcmp(evs[0].kind, "created") == 0 &&
	    strcmp(evs[1].kind, "state") == 0 &&
	    strstr(evs[1].message, "created -> fetching") != NULL &&
	    strstr(evs[4].message, "running -> exited (code 3)") != NULL &&
	    strstr(evs[6].message, "starting -> crashed: pvpanic") != NULL,
	    "  created, then every move");
	for (i = 0; i < n && tap_failed > 0; i++)
		diag("%" PRId64 " %s %s", evs[i].id, evs[i].kind,
		    evs[i].message);
	store_event_list_free(evs, n);
	is_ok(store_instance_delete(st, id, &e), &e, "delete web");
	is_err(store_instance_delete(st, id, &e), &e, "store_not_found",
	    "delete it again");
	is_ok(store_event_list(st, 0, id, 100, &evs, &n, &e), &e,
	    "web's events after");
	ok(n == 0, "  deleted with it");
	store_event_list_free(evs, n);
	store_event_list(st, 0, NULL, 1000, &evs, &n, &e);
	found = n > 0 && strcmp(evs[n - 1].kind, "deleted") == 0 &&
	    evs[n - 1].instance[0] == '\0' &&
	    strstr(evs[n - 1].message, "web") != NULL;
	ok(found, "a deleted event without an instance");
	store_event_list_free(evs, n);
	is_ok(store_image_remove(st, hexdigest(0xc1), &e), &e,
	    "its image can go now");
	is_err(store_image_remove(st, hexdigest(0xc1), &e), &e,
	    "store_not_found", "remove it again");
}

static void
test_events(void)
{
	struct store *st = open_ok("events.db");
	char big[3 * STORE_EVENT_MSG_MAX];
	struct store_event *evs;
	struct err e;
	int64_t id = 0, last;
	size_t n, i;
	int good = 1;

	clock_now = T0 + 1000;
	store_set_event_limit(st, 5);
	for (i = 0; i < 20; i++)
		if (store_event_add(st, NULL, "test", "hello", &id, &e) == -1)
			good = 0;
	ok(good && id == 20, "20 events added");
	is_ok(store_event_list(st, 0, NULL, 100, &evs, &n, &e), &e, "list");
	ok(n == 5 && evs[0].id == 16 && evs[4].id == 20 &&
	    evs[0].time == T0 + 1000 && strcmp(evs[0].message, "hello") == 0,
	    "  only the newest 5 kept");
	store_event_list_free(evs, n);
	store_event_list(st, 0, NULL, 2, &evs, &n, &e);
	ok(n == 2 && evs[0].id == 16 && evs[1].id == 17, "limit 2");
	store_event_list_free(evs, n);
	store_event_list(st, 18, NULL, 100, &evs, &n, &e);
	ok(n == 2 && evs[0].id == 19 && evs[1].id == 20, "after 18");
	store_event_list_free(evs, n);
	store_event_list(st, 20, NULL, 100, &evs, &n, &e);
	ok(n == 0 && evs == NULL, "after the last: none");
	is_ok(store_event_last(st, &last, &e), &e, "last id");
	is_int(last, 20, "  is 20");

	is_err(store_event_add(st, NULL, "Bad Kind", "x", NULL, &e), &e,
	    ERR_INVALID, "a bad kind");
	is_err(store_event_add(st, "ffffffffffffffffffffffffffffffff", "x",
	    "x", NULL, &e), &e, "store_not_found", "an unknown instance");
	is_err(store_event_add(st, "nothex", "x", "x", NULL, &e), &e,
	    ERR_INVALID, "a bad instance id");
	for (i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);	/* é */
	big[i] = '\0';
	store_set_event_limit(st, 100);
	is_ok(store_event_add(st, NULL, "long", big, &id, &e), &e,
	    "a long message");
	store_event_list(st, id - 1, NULL, 1, &evs, &n, &e);
	ok(n == 1 && strlen(evs[0].message) == STORE_EVENT_MSG_MAX &&
	    strlen(evs[0].message) % 2 == 0, "  cut to %d bytes, whole "
	    "characters", STORE_EVENT_MSG_MAX);
	store_event_list_free(evs, n);
	big[STORE_EVENT_MSG_MAX + 2] = '\0';	/* 1025 bytes */
	store_event_add(st, NULL, "long", big + 1, &id, &e);
	store_event_list(st, id - 1, NULL, 1, &evs, &n, &e);
	ok(n == 1 && strlen(evs[0].message) == STORE_EVENT_MSG_MAX - 1,
	    "  never inside a character");
	store_event_list_free(evs, n);
	store_close(st);
}

/* ------------------------------------------------------------------ */

/* Failures injected by triggers in the last statement of a change. */
static void
test_atomic(void)
{
	const char *doms[] = { "a.example.org", "fail.example.org" };
	struct store *st = open_ok("atomic.db");
	struct store_transition t = { .to = STORE_FETCHING };
	enum trust_serial_result v;
	struct store_instance_new n = web;
	struct store_feed_state fs;
	struct store_instance in;
	uint8_t a[SHA256_LEN];
	struct sig_pubkey k;
	char id[STORE_ID_LEN + 1];
	struct err e;

	make_key(&k, 9);
	digest(a, 0x11);
	raw_exec("atomic.db", "CREATE TRIGGER f1 BEFORE INSERT ON key_domains "
	    "WHEN NEW.pattern = 'fail.example.org' "
	    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
	is_err(store_key_add(st, &k, NULL, doms, 2, &e), &e,
	    "store_constraint", "key add failing at its last rule");
	ok(strstr(e.msg, "injected failure") != NULL &&
	    strstr(e.msg, "adding key") != NULL, "  message: %s", e.msg);
	is_int(raw_int("atomic.db", "SELECT (SELECT count(*) FROM keys) + "
	    "(SELECT count(*) FROM key_domains)"), 0, "  no key, no rule");

	store_feed_add(st, U1, &e);
	raw_exec("atomic.db", "CREATE TRIGGER f2 BEFORE INSERT ON events "
	    "WHEN NEW.kind = 'created' "
	    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
	is_err(store_instance_create(st, &web, id, &e), &e,
	    "store_constraint", "create failing at its event");
	is_int(raw_int("atomic.db", "SELECT count(*) FROM instances"), 0,
	    "  no instance");
	raw_exec("atomic.db", "DROP TRIGGER f2");
	n.name = "web2";
	is_ok(store_instance_create(st, &n, id, &e), &e, "create web2");

	raw_exec("atomic.db", "CREATE TRIGGER f3 BEFORE INSERT ON events "
	    "WHEN NEW.kind = 'state' "
	    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
	is_err(store_instance_transition(st, id, STORE_CREATED, &t, &e), &e,
	    "store_constraint", "a move failing at its event");
	store_instance_get(st, id, &in, &e);
	ok(in.state == STORE_CREATED, "  state unchanged");
	store_instance_free(&in);

	raw_exec("atomic.db", "CREATE TRIGGER f4 BEFORE INSERT ON events "
	    "WHEN NEW.kind = 'deleted' "
	    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
	is_err(store_instance_delete(st, id, &e), &e, "store_constraint",
	    "a delete failing at its event");
	is_int(raw_int("atomic.db", "SELECT count(*) FROM instances"), 1,
	    "  the instance stays");
	is_int(raw_int("atomic.db", "SELECT count(*) FROM events WHERE "
	    "kind = 'created'"), 1, "  with its events");

	store_feed_accept(st, U1, 1, a, T0 + 100, &v, &e);
	raw_exec("atomic.db", "CREATE TRIGGER f5 BEFORE UPDATE ON "
	    "feed_accepted BEGIN SELECT RAISE(ABORT, 'injected failure'); "
	    "END;");
	is_err(store_feed_accept(st, U1, 2, a, T0 + 100, &v, &e), &e,
	    "store_constraint", "an accept failing at its write");
	store_feed_state(st, U1, &fs, &e);
	ok(fs.trust.serial == 1, "  serial unchanged");

	/* The connection works on after all those rollbacks. */
	is_ok(store_feed_add(st, U2, &e), &e, "the connection still works");
	store_close(st);
}

/* ------------------------------------------------------------------ */

#define ROUNDS 40

struct racer {
	pthread_barrier_t *bar;
	uint8_t seed;
	int rc[ROUNDS];
	enum trust_serial_result v[ROUNDS];
	char code[ROUNDS][40];
};

static void *
accept_racer(void *arg)
{
	struct racer *r = arg;
	uint8_t d[SHA256_LEN];
	struct store *st;
	struct err e;
	int i;

	if (store_open(path_in("race.db"), &st, &e) == -1)
		return NULL;
	digest(d, r->seed);
	for (i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(r->bar);
		r->v[i] = (enum trust_serial_result)-1;
		r->rc[i] = store_feed_accept(st, U1, (uint64_t)i + 1, d, T0,
		    &r->v[i], &e);
		snprintf(r->code[i], sizeof(r->code[i]), "%s", e.code);
	}
	store_close(st);
	return NULL;
}

/* Two connections accept the same serial with other bytes at once: one
 * wins, the other is told it is equivocation -- in every round. */
static void
test_concurrent_accepts(void)
{
	struct racer a = { .seed = 0xa1 }, b = { .seed = 0xb2 };
	struct store *st = open_ok("race.db");
	pthread_barrier_t bar;
	pthread_t ta, tb;
	int i, good = 1, awins = 0;
	struct err e;

	store_feed_add(st, U1, &e);
	store_close(st);
	pthread_barrier_init(&bar, NULL, 2);
	a.bar = b.bar = &bar;
	pthread_create(&ta, NULL, accept_racer, &a);
	pthread_create(&tb, NULL, accept_racer, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&bar);
	for (i = 0; i < ROUNDS; i++) {
		int anew = a.rc[i] == 0 && a.v[i] == TRUST_SERIAL_NEW;
		int bnew = b.rc[i] == 0 && b.v[i] == TRUST_SERIAL_NEW;
		int aeq = a.rc[i] == -1 &&
		    strcmp(a.code[i], "feed_equivocation") == 0;
		int beq = b.rc[i] == -1 &&
		    strcmp(b.code[i], "feed_equivocation") == 0;

		if (!((anew && beq) || (bnew && aeq))) {
			good = 0;
			diag("round %d: a %d/%d [%s], b %d/%d [%s]", i,
			    a.rc[i], (int)a.v[i], a.code[i], b.rc[i],
			    (int)b.v[i], b.code[i]);
		}
		awins += anew;
	}
	ok(good, "%d rounds of racing accepts: exactly one wins each "
	    "(a won %d)", ROUNDS, awins);
}

struct mover {
	pthread_barrier_t *bar;
	const char *id;
	int wins, conflicts, other;
};

static void *
cas_racer(void *arg)
{
	struct mover *m = arg;
	struct store *st;
	struct err e;
	int i;

	if (store_open(path_in("race.db"), &st, &e) == -1)
		return NULL;
	for (i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(m->bar);
		if (move(st, m->id, STORE_RUNNING, STORE_STOPPING, &e) == 0)
			m->wins++;
		else if (strcmp(e.code, "store_conflict") == 0)
			m->conflicts++;
		else
			m->other++;
		pthread_barrier_wait(m->bar);	/* main resets the state */
		pthread_barrier_wait(m->bar);
	}
	store_close(st);
	return NULL;
}

/* Two connections move the same instance out of running at once. */
static void
test_concurrent_cas(void)
{
	struct store *st = open_ok("race.db");
	struct mover a = { 0 }, b = { 0 };
	char id[STORE_ID_LEN + 1];
	pthread_barrier_t bar;
	struct store_instance_new n = web;
	pthread_t ta, tb;
	struct err e;
	int i;

	n.name = "racer";
	store_instance_create(st, &n, id, &e);
	move(st, id, STORE_CREATED, STORE_STARTING, &e);
	move(st, id, STORE_STARTING, STORE_RUNNING, &e);
	pthread_barrier_init(&bar, NULL, 3);
	a.bar = b.bar = &bar;
	a.id = b.id = id;
	pthread_create(&ta, NULL, cas_racer, &a);
	pthread_create(&tb, NULL, cas_racer, &b);
	for (i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		move(st, id, STORE_STOPPING, STORE_STOPPED, &e);
		move(st, id, STORE_STOPPED, STORE_STARTING, &e);
		move(st, id, STORE_STARTING, STORE_RUNNING, &e);
		pthread_barrier_wait(&bar);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&bar);
	ok(a.wins + b.wins == ROUNDS && a.conflicts + b.conflicts == ROUNDS &&
	    a.other + b.other == 0, "%d rounds of racing moves: one wins, one "
	    "conflicts (wins %d/%d)", ROUNDS, a.wins, b.wins);
	store_close(st);
}

struct holder {
	sqlite3 *db;
};

static void *
release_later(void *arg)
{
	struct holder *h = arg;

	usleep(300 * 1000);
	sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
	return NULL;
}

/* A writer waits for another's lock instead of failing at once. */
static void
test_busy_wait(void)
{
	struct store *st = open_ok("busy.db");
	struct timespec t0, t1;
	struct holder h;
	pthread_t t;
	struct err e;
	double dt;

	h.db = raw_open("busy.db");
	sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	pthread_create(&t, NULL, release_later, &h);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_ok(store_feed_add(st, U1, &e), &e, "a write while another holds "
	    "the lock");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	dt = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(dt > 0.2, "  waited for it (%.2f s)", dt);
	sqlite3_close(h.db);
	store_close(st);
}

/* ------------------------------------------------------------------ */

static void
test_reopen(void)
{
	struct store *st = open_ok("main.db");
	struct store_instance *ins = NULL;
	struct store_image *imgs = NULL;
	struct store_feed *feeds = NULL;
	struct store_key *keys = NULL;
	size_t nk = 0, nf = 0, ni = 0, nn = 0;
	int64_t before, id;
	struct err e;

	is_ok(store_key_list(st, &keys, &nk, &e) ||
	    store_feed_list(st, &feeds, &nf, &e) ||
	    store_image_list(st, &imgs, &ni, &e) ||
	    store_instance_list(st, &ins, &nn, &e), &e, "reopened: list all");
	ok(nk == 1 && nf == 1 && feeds != NULL && feeds[0].accepted &&
	    feeds[0].state.trust.serial == 6 && ni == 1 && nn == 2,
	    "  1 key, 1 feed at serial 6, 1 image, 2 instances");
	store_key_list_free(keys, nk);
	store_feed_list_free(feeds, nf);
	store_image_list_free(imgs, ni);
	store_instance_list_free(ins, nn);
	store_event_last(st, &before, &e);
	store_event_add(st, NULL, "test", "after reopening", &id, &e);
	ok(before > 0 && id == before + 1, "event ids go on (%" PRId64 ")", id);
	store_close(st);
}

/* ------------------------------------------------------------------ */
/* guest networks */

/* A database as version 1 left it, with an instance, opened again by
 * this version: migrated to the current schema, the instance without a
 * network (as it ran), and leases work on it. */
static void
test_migration(void)
{
	struct store_instance in;
	struct store *st;
	uint32_t addr = 0;
	struct err e;

	is_ok(store_open_version(path_in("v1.db"), 1, &st, &e), &e,
	    "a database at schema version 1");
	store_close(st);
	is_int(raw_int("v1.db", "PRAGMA user_version"), 1, "  is at 1");
	is_int(raw_int("v1.db", "SELECT count(*) FROM pragma_table_info("
	    "'instances') WHERE name = 'net_mode'"), 0,
	    "  without network columns");
	ok(raw_exec("v1.db", "INSERT INTO instances (id, name, backend, "
	    "desired, state, restart, memory_mib, vcpus, created) VALUES "
	    "('00000000000000000000000000000001', 'old', 'qemu', 'running', "
	    "'exited', 'no', 2, 1, 1700000000)") == 0,
	    "  an instance made by version 1");
	is_ok(store_open(path_in("v1.db"), &st, &e), &e, "opened again");
	is_int(raw_int("v1.db", "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "  migrated to the current schema");
	is_ok(store_instance_get(st, "old", &in, &e), &e, "  the old instance");
	ok(in.net.mode == NETSPEC_NONE && in.net.nforwards == 0 &&
	    in.net_address == 0, "  has no network, as it ran");
	store_instance_free(&in);
	is_ok(store_net_lease(st, "00000000000000000000000000000001",
	    0x0ad50001u, 0x0ad500feu, 0x0ad50001u, &addr, &e), &e,
	    "  and can lease an address");
	is_int(addr, 0x0ad50002u, "  the first after the bridge's");
	store_close(st);
}

static void
test_network(void)
{
	static const struct netspec user = {
		.mode = NETSPEC_USER, .nforwards = 2,
		.forwards = {
			{ NETSPEC_UDP, "127.0.0.1", 5353, 53 },
			{ NETSPEC_TCP, "0.0.0.0", 8080, 80 },
		},
	};
	static const struct netspec bridge = { .mode = NETSPEC_BRIDGE };
	/* the pool 10.0.0.1-10.0.0.6 without the bridge's 10.0.0.1 */
	const uint32_t first = 0x0a000001u, last = 0x0a000006u;
	char ids[7][STORE_ID_LEN + 1], name[16], uid[STORE_ID_LEN + 1];
	struct store_instance_new n;
	struct store_instance in, *ins = NULL;
	struct netspec bad;
	struct store *st = open_ok("net.db");
	uint32_t addr[7] = { 0 }, again = 0;
	size_t i, nn = 0;
	struct err e;
	int good;

	memset(&n, 0, sizeof(n));
	n.backend = "qemu";
	n.memory_mib = 2;
	n.vcpus = 1;
	n.name = "u";
	n.net = &user;
	is_ok(store_instance_create(st, &n, uid, &e), &e,
	    "an instance with user networking and two forwards");
	is_ok(store_instance_get(st, "u", &in, &e), &e, "  read back");
	ok(in.net.mode == NETSPEC_USER && in.net.nforwards == 2 &&
	    memcmp(in.net.forwards, user.forwards, 2 *
	    sizeof(user.forwards[0])) == 0 && in.net_address == 0,
	    "  its mode and forwards, in their order");
	store_instance_free(&in);
	bad = user;
	bad.mode = NETSPEC_BRIDGE;
	n.name = "b0";
	n.net = &bad;
	is_err(store_instance_create(st, &n, NULL, &e), &e, ERR_INVALID,
	    "forwards on a bridge");
	bad = user;
	snprintf(bad.forwards[1].host_ip, NETSPEC_IP_MAX, "%s", "1.2.3");
	is_err(store_instance_create(st, &n, NULL, &e), &e, ERR_INVALID,
	    "a forward's bad address");
	bad = user;
	bad.forwards[1] = bad.forwards[0];
	is_err(store_instance_create(st, &n, NULL, &e), &e, "store_exists",
	    "a forward twice (the database's own check)");

	n.net = &bridge;
	for (i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "b%zu", i);
		n.name = name;
		if (!is_ok(store_instance_create(st, &n, ids[i], &e), &e,
		    name))
			return;
	}
	good = 1;
	for (i = 0; i < 5; i++)
		if (store_net_lease(st, ids[i], first, last, first, &addr[i],
		    &e) == -1 || addr[i] != first + 1 + i)
			good = 0;
	ok(good, "five leases: 10.0.0.2 to 10.0.0.6, the bridge's left out");
	is_err(store_net_lease(st, ids[5], first, last, first, &addr[5], &e),
	    &e, "network_pool_exhausted", "a sixth: the pool is exhausted");
	ok(strstr(e.msg, "10.0.0.2-10.0.0.6") != NULL &&
	    strstr(e.msg, "b5") != NULL, "  the message names the pool and "
	    "the instance: %s", e.msg);
	is_ok(store_net_lease(st, ids[2], first, last, first, &again, &e), &e,
	    "leasing again");
	is_int(again, addr[2], "  gives the address held");
	is_int(raw_int("net.db", "SELECT count(*) FROM events WHERE kind = "
	    "'network' AND message = 'b0: address 10.0.0.2 leased'"), 1,
	    "a lease is an event");
	is_ok(store_instance_get(st, ids[3], &in, &e), &e, "b3 read back");
	is_int(in.net_address, addr[3], "  with its address");
	ok(in.net.mode == NETSPEC_BRIDGE, "  on the bridge");
	store_instance_free(&in);
	is_ok(store_instance_delete(st, ids[3], &e), &e, "b3 removed");
	is_int(raw_int("net.db", "SELECT count(*) FROM net_leases"), 4,
	    "  its lease went with it");
	is_ok(store_net_lease(st, ids[5], first, last, first, &addr[5], &e),
	    &e, "now b5 gets one");
	is_int(addr[5], addr[3], "  the address b3 gave back");
	store_close(st);

	st = open_ok("net.db");
	is_ok(store_net_lease(st, ids[0], first, last, first, &again, &e), &e,
	    "after reopening");
	is_int(again, addr[0], "  the lease is the same");
	/* a pool moved elsewhere: the old lease is given up */
	is_ok(store_net_lease(st, ids[0], 0x0a010001u, 0x0a0100feu,
	    0x0a010001u, &again, &e), &e, "another pool");
	ok(again == 0x0a010002u && raw_int("net.db", "SELECT count(*) FROM "
	    "net_leases WHERE instance_id = (SELECT id FROM instances WHERE "
	    "name = 'b0')") == 1, "  a new lease from it, the old one gone");
	is_err(store_net_lease(st, "ffffffffffffffffffffffffffffffff", first,
	    last, first, &again, &e), &e, "store_not_found",
	    "an instance that does not exist");
	is_err(store_net_lease(st, ids[1], last, first, first, &again, &e),
	    &e, ERR_INVALID, "an empty pool");
	ok(raw_exec("net.db", "INSERT INTO net_leases (address, instance_id, "
	    "leased) SELECT 167772163, id, 0 FROM instances WHERE name = "
	    "'b6'") == -1, "the database refuses an address leased twice");
	is_ok(store_instance_list(st, &ins, &nn, &e), &e, "list");
	good = nn == 7;
	for (i = 0; i < nn; i++)
		if (strcmp(ins[i].name, "u") == 0)
			good = good && ins[i].net.nforwards == 2 &&
			    ins[i].net.forwards[1].host_port == 8080;
		else if (strcmp(ins[i].name, "b1") == 0)
			good = good && ins[i].net_address == addr[1];
	ok(good, "  with networks, forwards and addresses");
	store_instance_list_free(ins, nn);
	is_ok(store_instance_delete(st, uid, &e), &e, "u removed");
	is_int(raw_int("net.db", "SELECT count(*) FROM net_forwards"), 0,
	    "  its forwards went with it");
	store_close(st);
}

int
main(void)
{
	char id[STORE_ID_LEN + 1];
	struct store *st;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_names();

	st = open_ok("main.db");
	test_keys(st);
	test_feeds(st);
	test_images(st);
	test_instance_create(st, id);
	test_instance_read(st, id);
	test_images_in_use(st, id);
	test_transitions(st, id);
	test_stale_writer(st, id);
	test_instance_delete(st, id);
	store_close(st);
	test_reopen();
	test_migration();
	test_network();

	test_events();
	test_atomic();
	test_concurrent_accepts();
	test_concurrent_cas();
	test_busy_wait();

	if (tap_failed == 0) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	} else
		diag("files kept in %s", dir);
	return tap_done();
}
