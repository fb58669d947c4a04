/*
 * feed.h - the feed document: what a publisher signs and a host selects from
 * (docs/feeds.md describes every field and error code).
 *
 * Rules for the whole API:
 *  - Functions return 0 or a pointer on success, -1 or NULL on failure with
 *    an err.h error whose code is one of the "feed_*" codes listed in
 *    docs/feeds.md (or "out_of_memory"); the message names the field and,
 *    inside implementations[], the index and version.
 *  - A struct feed and everything it points to belong to the feed: it is
 *    created by feed_parse() or feed_new() and released by feed_free().
 *    Functions that take a struct feed_impl or a string from the caller copy
 *    it; the caller keeps its own.
 *  - Parsing is strict: wrong types, out-of-range values, unknown keys,
 *    duplicate keys and duplicate implementations are all refused.
 */
#ifndef IMAGE_FORMAT_FEED_H
#define IMAGE_FORMAT_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "version.h"

#define FEED_FORMAT 1			/* the only format this code reads */
#define FEED_MAX_SIZE (4u << 20)	/* bytes of JSON accepted */
#define FEED_MAX_DEPTH 8		/* JSON nesting accepted */
#define FEED_MAX_IMPLS 1024
#define FEED_MAX_MIRRORS 16		/* per feed and per image */
#define FEED_URL_MAX 1024		/* uri, mirrors, href */
#define FEED_NAME_MAX 64
#define FEED_SUMMARY_MAX 256
#define FEED_ARCH_MAX 16
#define FEED_IMAGE_MAX_SIZE (4ull << 30)
#define FEED_MEMORY_MAX (1u << 20)	/* MiB: 1 TiB */
#define FEED_NET_MAX 16
#define FEED_SERIAL_MAX INT64_MAX	/* the daemon stores serials in SQL */
#define FEED_TIME_LEN 20		/* "YYYY-MM-DDTHH:MM:SSZ" */
#define FEED_DATE_LEN 10		/* "YYYY-MM-DD" */

/* Ordered: a larger value is more stable. */
enum feed_stability {
	FEED_INSECURE,
	FEED_BUGGY,
	FEED_DEVELOPER,
	FEED_TESTING,
	FEED_STABLE,
};

/* Bits of feed_impl.platforms. */
#define FEED_PLATFORM_KVM 0x1u
#define FEED_PLATFORM_XEN 0x2u
#define FEED_PLATFORM_ALL (FEED_PLATFORM_KVM | FEED_PLATFORM_XEN)

struct feed_image {
	char *href;		/* relative to the feed, or an absolute URL */
	uint64_t size;		/* bytes, 1..FEED_IMAGE_MAX_SIZE */
	char sha256[65];	/* 64 lowercase hex digits */
	char **mirrors;		/* absolute URLs of the same bytes */
	size_t nmirrors;
};

struct feed_requires {
	uint32_t memory;	/* MiB, 1..FEED_MEMORY_MAX */
	uint32_t net;		/* network interfaces, 0..FEED_NET_MAX */
	int console;		/* 0 or 1 */
};

struct feed_impl {
	char version[VERSION_MAX_LEN + 1];
	enum feed_stability stability;
	char released[FEED_DATE_LEN + 1];	/* "YYYY-MM-DD" */
	char arch[FEED_ARCH_MAX];		/* "x86_64" */
	char boot[8];				/* "pvh" */
	unsigned platforms;			/* FEED_PLATFORM_* bits */
	struct feed_requires requires;
	struct feed_image image;
};

struct feed {
	int format;		/* FEED_FORMAT */
	char *uri;		/* where the feed is published */
	char *name;
	char *summary;
	uint64_t serial;	/* 1..FEED_SERIAL_MAX, grows each release */
	time_t published;
	time_t expires;		/* after published */
	char **mirrors;		/* other URLs of this feed */
	size_t nmirrors;
	struct feed_impl *impls;
	size_t nimpls;
};

/* Parses and validates (len) bytes of JSON at (buf), which need not be
 * NUL-terminated.  On success (*out) is a new feed for feed_free(). */
int feed_parse(const char *buf, size_t len, struct feed **out, struct err *e);

/* Checks every rule feed_parse() checks, for a feed built in memory. */
int feed_validate(const struct feed *f, struct err *e);

/* Checks one implementation, as feed_validate() does; (index) only names it
 * in messages. */
int feed_impl_validate(const struct feed_impl *impl, size_t index,
    struct err *e);

/* Validates (f) and writes it as JSON: fixed key order, two-space indent,
 * trailing newline, so the same feed always gives the same bytes and
 * feed_parse() gives back an equal feed.  (*out) is NUL-terminated, (*len)
 * excludes the NUL; the caller frees (*out) with free(). */
int feed_serialize(const struct feed *f, char **out, size_t *len,
    struct err *e);

/* A new empty feed: format 1, serial 1, no summary, times unset (0), no
 * implementations.  The caller must set a summary, published and expires
 * before feed_serialize() accepts it. */
struct feed *feed_new(const char *uri, const char *name, struct err *e);

void feed_free(struct feed *f);

/* 1 when (a) and (b) hold the same values, else 0. */
int feed_equal(const struct feed *a, const struct feed *b);

int feed_set_summary(struct feed *f, const char *summary, struct err *e);
int feed_set_serial(struct feed *f, uint64_t serial, struct err *e);
int feed_set_published(struct feed *f, time_t t, struct err *e);
int feed_set_expires(struct feed *f, time_t t, struct err *e);
int feed_add_mirror(struct feed *f, const char *url, struct err *e);

/* Validates a copy of (impl) and puts it in (f): it replaces the
 * implementation with an equal version and the same arch, else it is added.
 * Implementations are then sorted by version, highest first (ties by arch).
 * On failure (f) is unchanged. */
int feed_impl_upsert(struct feed *f, const struct feed_impl *impl,
    struct err *e);

/* Writes to (out) the URL or path of (href) as seen from the feed at
 * (feed_url): an absolute href is copied, a relative one is joined to the
 * directory of (feed_url), which may be an http(s)/file URL or a plain file
 * path.  Fails with "feed_bad_href" when (href) is unsafe or the result
 * does not fit in (outsz). */
int feed_resolve_href(const char *feed_url, const char *href, char *out,
    size_t outsz, struct err *e);

/* "YYYY-MM-DDTHH:MM:SSZ" <-> time_t (UTC, years 1970..9999). */
int feed_parse_time(const char *s, time_t *t, struct err *e);
int feed_format_time(time_t t, char buf[FEED_TIME_LEN + 1]);

/* Names and their values; -1 for an unknown name. */
const char *feed_stability_name(enum feed_stability s);
int feed_stability_parse(const char *name, enum feed_stability *s);
const char *feed_platform_name(unsigned bit);
int feed_platform_parse(const char *name, unsigned *bit);

#endif
