/*
 * cache.h - the content-addressed image cache (prefix cache_).
 *
 * Layout under the cache's directory (root), $state/images in the daemon's
 * default layout (DESIGN §5):
 *   root/sha256/<hex>             an image, named by the SHA-256 of its bytes
 *   root/tmp/<hex>.tmp.XXXXXX     a download in progress
 * A file enters sha256/ only by rename(2) from tmp/ once its size and
 * digest matched and img_open() accepted it as an image, then is fsync'd
 * with its directory; it is never written again.  So a file in sha256/ is
 * trusted by name: cache_get() checks its size, not its digest.  Leftovers
 * in tmp/ (a crash mid-download) are removed by cache_open().
 *
 * Contract, once for the whole header:
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  Nothing here prints or exits.
 * - (sha256) arguments are 64 lowercase hex digits; anything else is
 *   invalid_argument.
 * - A struct cache is safe to share between threads.  Concurrent
 *   cache_fetch() calls for one digest share one download: the first
 *   downloads, the others wait for it and get its result, code and message
 *   included.
 * - Only the filesystem side lives here.  Whether an image is in use, and
 *   so may not be removed, is the store's rule (store.h): the daemon asks
 *   the store before cache_remove().
 *
 * Codes: image_not_cached, image_invalid (the bytes match the digest but
 * are no valid image: img_open()'s code and message follow in the
 * message), the codes of fetch.h, io_error, out_of_memory, invalid_argument.
 */
#ifndef UNIKERNELD_CACHE_H
#define UNIKERNELD_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "fetch.h"
#include "fileio.h"

struct cache;	/* opaque */

struct cache_entry {
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
	time_t mtime;		/* when it entered the cache */
};

/* Opens the cache at (root), creating root, root/sha256 and root/tmp
 * (mode 0755) when missing, and empties root/tmp.  Release it with
 * cache_close().  One struct cache per directory and process: a second
 * open would remove the first one's downloads in progress. */
struct cache *cache_open(const char *root, struct err *e);

/* Frees (c); NULL is allowed.  No cache_fetch() may still be running. */
void cache_close(struct cache *c);

/* The path the image (sha256) has, or would have, in the cache, into
 * (path, pathsz). */
int cache_path(const struct cache *c, const char *sha256, char *path,
    size_t pathsz, struct err *e);

/* When the image (sha256) is in the cache and, unless (size) is 0, has
 * (size) bytes: its path into (path, pathsz).  Otherwise -1 with
 * image_not_cached (the message says when the size differs). */
int cache_get(struct cache *c, const char *sha256, uint64_t size, char *path,
    size_t pathsz, struct err *e);

/*
 * Makes sure the image (sha256) of (size) bytes is in the cache and puts
 * its path in (path, pathsz): at once when it is there, else fetch_file()
 * from (urls) in turn with (opts) (NULL: defaults) into root/tmp, then
 * img_open() on the result, then the rename into root/sha256.  On failure
 * nothing is left in root/tmp or root/sha256.
 *
 * A call that finds the same digest being downloaded waits for that
 * download instead; its own (opts->progress) is then called from its own
 * thread with the download's figures, and its (urls) are not used.  A
 * waiter whose progress callback asks to stop returns fetch_aborted at once
 * and the download goes on; the downloading call's own request to stop is
 * honoured only while nobody else waits for it.
 */
int cache_fetch(struct cache *c, const char *const *urls, size_t nurls,
    uint64_t size, const char *sha256, const struct fetch_opts *opts,
    char *path, size_t pathsz, struct err *e);

/* Removes the image (sha256) from the cache; image_not_cached when absent.
 * Guests already started keep what they opened. */
int cache_remove(struct cache *c, const char *sha256, struct err *e);

/* Lists the images in the cache, sorted by digest, into a new array
 * (*out) of (*n) entries that the caller frees with free() (NULL when
 * empty).  Files in root/sha256 whose name is not a digest are skipped. */
int cache_list(struct cache *c, struct cache_entry **out, size_t *n,
    struct err *e);

#endif
