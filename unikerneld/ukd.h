/*
 * ukd.h - the daemon's core (prefix ukd_): what the API's handlers share.
 *
 * One struct ukd per daemon holds the configuration, the image cache, the
 * backends, the supervisor (supervise.c: the instance state machine driven
 * by backend events, restarts, reconciliation at start) and a generation
 * counter that wakes streams (events, consoles) when something changed.
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h).  Nothing here prints or exits; messages go to the log
 *   callback of struct ukd_params.
 * - Every function is safe from any thread.  The store is SQLite: each
 *   thread gets its own connection from ukd_store(), kept until the thread
 *   ends.
 * - Layout under the configuration's state_dir (docs/daemon.md):
 *     unikerneld.db                the store
 *     images/sha256/<hex>          the image cache (cache.h)
 *     images/unpacked/<hex>/       kernel (and initrd) taken from an image
 *     instances/<id>/console.log   a guest's console, bounded
 *     instances/<id>/run/          the backend's private directory
 */
#ifndef UNIKERNELD_UKD_H
#define UNIKERNELD_UKD_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cache.h"
#include "conf.h"
#include "err.h"
#include "feed.h"
#include "store.h"

struct ukd;

struct ukd_params {
	const struct config *cfg;	/* kept; must outlive the core */
	/* Where the core's messages go, from any thread; NULL: nowhere. */
	void (*log)(int prio, const char *msg);
};

/* Opens the store and the cache, starts the supervisor and reconciles the
 * store with the backends (adopts guests still running, marks vanished
 * ones).  Codes: those of store_open(), cache_open(), io_error. */
int ukd_open(const struct ukd_params *p, struct ukd **out, struct err *e);

/* Stops the supervisor and releases everything; guests keep running. */
void ukd_close(struct ukd *d);

const struct config *ukd_config(const struct ukd *d);
struct cache *ukd_cache(struct ukd *d);
/* Seconds since ukd_open(). */
int64_t ukd_uptime(const struct ukd *d);
void ukd_logf(struct ukd *d, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The calling thread's store connection, opened on first use.  NULL with
 * (e) set when it cannot be opened. */
struct store *ukd_store(struct ukd *d, struct err *e);

/* --- change notification --- */

/* The current generation: it grows whenever an event is recorded or an
 * instance changes state.  A stream remembers it and waits for a newer one
 * with ukd_wait(), which returns the generation then current after at most
 * (timeout_ms). */
uint64_t ukd_generation(struct ukd *d);
uint64_t ukd_wait(struct ukd *d, uint64_t seen, unsigned timeout_ms);
/* Bumps the generation and wakes the waiters (after a store change). */
void ukd_notify(struct ukd *d);

/* The same for consoles: a counter bumped when a guest wrote to its
 * console log (the supervisor sees it with inotify), so that a console
 * followed wakes at once without waking every other stream.
 * ukd_wait_console() returns when either counter moved past what was seen
 * (or after timeout_ms) and updates both. */
uint64_t ukd_console_generation(struct ukd *d);
void ukd_console_notify(struct ukd *d);
void ukd_wait_console(struct ukd *d, uint64_t *gen, uint64_t *cgen,
    unsigned timeout_ms);

/* A serialised answer kept until the generation moves (GET /v1/instances
 * under load): ukd_cache_get() copies it into a new buffer (*out, *len)
 * when it was made at generation (gen) and returns 1, else 0; -1 when out
 * of memory.  ukd_cache_put() keeps a copy of (buf, len) as made at
 * (gen), the generation read BEFORE the data it holds was read. */
int ukd_cache_get(struct ukd *d, uint64_t gen, char **out, size_t *len);
void ukd_cache_put(struct ukd *d, uint64_t gen, const char *buf, size_t len);

/* --- feeds --- */

/* fetch_opts_init() with the configuration's fetch_retries and
 * fetch_timeout, for every fetch the daemon makes. */
struct fetch_opts;
void ukd_fetch_opts(const struct ukd *d, struct fetch_opts *o);

/* A feed's id in the API: the first 16 hex digits of the SHA-256 of its
 * URI (`uk` computes the same). */
#define UKD_FEED_ID_LEN 16
void ukd_feed_id(const char *uri, char id[UKD_FEED_ID_LEN + 1]);

struct ukd_feed_result {
	struct feed *feed;	/* the verified feed, for feed_free() */
	char keyid[SIG_KEYID_HEX_LEN + 1];
	char domain[TRUST_DOMAIN_MAX];
	char reason[ERR_MSG_MAX];	/* why the key was trusted */
	int unchanged;		/* the same feed as accepted before */
	int added;		/* the feed was not followed before */
};

/*
 * Fetches the feed (url) and its signature (url + ".minisig"), checks them
 * (feedcheck_verify() against the store's trust and accepted state), then
 * follows the feed (store_feed_add() when new) and accepts it, recording
 * the fetch with store_feed_fetched().  On failure nothing is added: a feed
 * not followed before stays unfollowed; a followed one gets the failure
 * recorded as its last error.  (details), when not NULL, receives a JSON
 * object for the client on unknown_key and key_not_trusted_for_domain:
 * {"keyid","domain","pubkey" (base64 line, when the publisher's uk.pub
 * next to the feed signed it, else absent)}; the caller owns it.
 * Codes: fetch_*, sig_*, unknown_key, key_not_trusted_for_domain, feed_*,
 * uri_*, store_*.
 */
int ukd_feed_update(struct ukd *d, const char *url, struct ukd_feed_result *r,
    json_object **details, struct err *e);
void ukd_feed_result_free(struct ukd_feed_result *r);

/* The feed last accepted from (uri), as the core keeps it
 * ($state_dir/feeds/<id>.json), for feed_free().  Codes: store_not_found
 * (nothing accepted from it), feed_* (the file was damaged). */
int ukd_feed_load(struct ukd *d, const char *uri, struct feed **out,
    struct err *e);

/* The supervisor (supervise.h). */
struct sup *ukd_sup(struct ukd *d);

/* --- backends --- */

/* The backend (name), opened on first use with its part of the
 * configuration; (*b) stays valid until ukd_close().  Codes:
 * backend_unknown (not built in), backend_unavailable (cannot work
 * here: the backend's own message). */
struct backend_ops;
struct backend;
int ukd_backend(struct ukd *d, const char *name,
    const struct backend_ops **ops, struct backend **b, struct err *e);

/* --- paths --- */

/* $state_dir/instances/<id>[/suffix] into (out). */
int ukd_instance_path(const struct ukd *d, const char *id, const char *suffix,
    char *out, size_t outsz, struct err *e);

/* rm -r (path); 0, or -1 with errno. */
int ukd_remove_tree(const char *path);

/* --- images --- */

/* Removes the image (sha256) from the store, the cache and the unpacked
 * files, unless an instance uses it (image_in_use). */
int ukd_image_remove(struct ukd *d, const char *sha256, struct err *e);

#endif
