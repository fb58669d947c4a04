/*
 * fetch.h - downloads over http, https and file URLs with libcurl
 * (prefix fetch_): feeds and signatures into memory, images into a file.
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  Nothing here prints or exits.
 * - Thread-safe: libcurl is initialised once (fetch_init(), which every
 *   other function calls), each call uses an easy handle of its own and no
 *   signals (CURLOPT_NOSIGNAL).  Calls share nothing.
 * - (urls, nurls) are tried in order: a URL, then its mirrors.  On one URL
 *   a transient failure -- fetch_connect, fetch_timeout, fetch_truncated,
 *   fetch_failed from a reset connection, fetch_http_status 408, 429 or
 *   5xx -- is retried up to (opts->retries) times after an exponential
 *   back-off; any other failure (404, 403, fetch_too_large, a size or
 *   digest that does not match, a bad URL) moves to the next URL at once.
 *   Only fetch_aborted, io_error and out_of_memory stop at once.  When all
 *   fail, the last URL's error is returned; with more than one URL its
 *   message says how many failed.
 * - Redirects are followed, at most FETCH_MAX_REDIRS, and only to http
 *   and https: a server cannot send the daemon to a file: URL.
 * - The environment's proxy variables (http_proxy, no_proxy...) apply, as
 *   in every libcurl program.
 *
 * Codes:
 *   fetch_bad_url          not an http, https or file URL, or malformed
 *   fetch_connect          the host could not be resolved or connected to
 *   fetch_timeout          the connect or total timeout, or the low-speed
 *                          limit, was hit
 *   fetch_http_status      the server answered 4xx or 5xx; the message has
 *                          the status and the URL
 *   fetch_file_unreadable  a file: URL names no readable file
 *   fetch_too_large        more bytes than allowed: refused when announced
 *                          (Content-Length), else stopped as soon as the
 *                          limit is passed
 *   fetch_truncated        the transfer ended before the length announced
 *   fetch_size_mismatch    (fetch_file) a complete body of another size than
 *                          expected, refused as soon as it is announced
 *   fetch_digest_mismatch  (fetch_file) the bytes' SHA-256 is not the one
 *                          expected
 *   fetch_tls              TLS failed (handshake, certificate)
 *   fetch_aborted          the progress callback asked to stop
 *   fetch_failed           any other transfer failure (libcurl's words)
 *   io_error, out_of_memory, invalid_argument
 */
#ifndef UNIKERNELD_FETCH_H
#define UNIKERNELD_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fileio.h"

#define FETCH_MAX_REDIRS 5
#define FETCH_MAX_URLS 32	/* a URL and FEED_MAX_MIRRORS, with room */

/* Called with the bytes received so far in the current attempt and the
 * total expected (0 when unknown), from the fetching thread, at most once
 * per (opts->progress_interval_ms), and once more with (done == total) when
 * a download succeeded.  A new attempt starts again from 0.  Returns 0 to
 * go on; anything else aborts the fetch with fetch_aborted. */
struct fetch_progress {
	int (*fn)(void *arg, uint64_t done, uint64_t total);
	void *arg;
};

/* Knobs, per attempt.  fetch_opts_init() sets the defaults in brackets;
 * a NULL (opts) means those defaults. */
struct fetch_opts {
	long connect_timeout_ms;	/* [10 s] */
	long timeout_ms;		/* whole transfer, 0: none [15 min] */
	long low_speed_bytes;		/* abort below this many bytes/s */
	long low_speed_secs;		/* that long, 0: off [1 KiB, 30 s] */
	unsigned retries;		/* further attempts per URL [3] */
	long backoff_ms;		/* first wait, then doubled [500 ms] */
	long backoff_max_ms;		/* longest wait [30 s] */
	long progress_interval_ms;	/* [250 ms] */
	struct fetch_progress progress;	/* fn NULL: none [none] */
	const char *user_agent;		/* NULL: "unikerneld/VERSION" */
};

void fetch_opts_init(struct fetch_opts *o);

/* Initialises libcurl once for the process; later calls return its first
 * result.  Codes: fetch_failed. */
int fetch_init(struct err *e);

/*
 * Fetches the first of (urls) that works into a new buffer (*out) of
 * (*len) bytes, NUL-terminated (not counted), at most (max) bytes; the
 * caller frees it with free().  (*used) (when not NULL) is the index in
 * (urls) of the URL that answered, e.g. for the feed's uri check.
 */
int fetch_mem(const char *const *urls, size_t nurls, size_t max,
    const struct fetch_opts *opts, char **out, size_t *len, size_t *used,
    struct err *e);

/*
 * Downloads the first of (urls) that yields (size) bytes whose SHA-256 is
 * (sha256): streamed into a new temporary file "<hex>.tmp.XXXXXX" in
 * (dir) (fileio_tmp_open(), mode 0600) and hashed on the way, stopped as
 * soon as it passes (size).  On success the file is complete, verified and
 * closed, its path is in (tmp, tmpsz) for the caller to rename (or unlink),
 * and (*used) (when not NULL) is the index of the URL that served it.  On
 * failure no file is left and (tmp) is "".
 */
int fetch_file(const char *const *urls, size_t nurls, const char *dir,
    uint64_t size, const uint8_t sha256[SHA256_LEN],
    const struct fetch_opts *opts, char *tmp, size_t tmpsz, size_t *used,
    struct err *e);

#endif
