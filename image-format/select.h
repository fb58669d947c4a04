/*
 * select.h - choosing one implementation of a feed for this host.
 *
 * A pure function over a parsed feed: no I/O, no allocation, no globals.
 * Every implementation is a candidate; each gets a set of reasons
 * (SELECT_R_* bits) why it does not fit the policy, 0 when it fits.  Of
 * those that fit the highest version wins; between equal versions the more
 * stable, then the earlier in the feed.  The others that fit are marked
 * SELECT_R_SUPERSEDED so that every candidate but the chosen one has a
 * reason.
 *
 * Errors use err.h: "select_no_match" when nothing fits (the message counts
 * the reasons), "invalid_argument" for a bad policy.
 */
#ifndef IMAGE_FORMAT_SELECT_H
#define IMAGE_FORMAT_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "feed.h"
#include "version.h"

#define SELECT_HOST_ARCH "x86_64"	/* the only arch the runtime boots */
#define SELECT_ANY_NET UINT32_MAX	/* no limit on network interfaces */

struct select_policy {
	const char *arch;		/* NULL: SELECT_HOST_ARCH */
	unsigned platform;		/* one FEED_PLATFORM_* bit, 0: any */
	const struct version_range *range;	/* NULL: any version */
	const char *range_text;		/* (range) as written, for messages */
	enum feed_stability stability;	/* least stability admitted */
	uint32_t memory;		/* MiB the host can give, 0: no limit */
	uint32_t net;			/* interfaces available, or ANY_NET */
};

/* Reasons a candidate was passed over. */
#define SELECT_R_ARCH 0x01u
#define SELECT_R_PLATFORM 0x02u
#define SELECT_R_STABILITY 0x04u
#define SELECT_R_VERSION 0x08u
#define SELECT_R_MEMORY 0x10u
#define SELECT_R_DEVICES 0x20u
#define SELECT_R_SUPERSEDED 0x40u	/* fits, but a better one was chosen */
#define SELECT_R_COUNT 7

struct select_result {
	int found;			/* 1 when (chosen) is valid */
	size_t chosen;			/* index into feed->impls */
	size_t n;			/* = feed->nimpls */
	unsigned reasons[FEED_MAX_IMPLS];	/* per implementation */
};

/* The defaults: host arch, any platform, any version, stable only, no
 * memory or device limit. */
void select_policy_init(struct select_policy *p);

/* 1 when an implementation of stability (s) passes (policy): "stable"
 * admits stable; "testing" stable and testing; "developer" those and
 * developer; "buggy" and "insecure" admit what "developer" does plus that
 * exact stability, never the other. */
int select_stability_admits(enum feed_stability policy,
    enum feed_stability s);

/* Fills (r) for (f) under (p).  Returns 0 with r->found set, or -1 with
 * "select_no_match" (r is still filled, for explaining). */
int select_run(const struct feed *f, const struct select_policy *p,
    struct select_result *r, struct err *e);

/* A short stable name for one SELECT_R_* bit ("arch", "platform",
 * "stability", "version", "memory", "devices", "superseded"). */
const char *select_reason_name(unsigned bit);

/* Writes to (buf) why implementation (i) of (f) fails reason (bit) under
 * (p): "arch aarch64, host wants x86_64".  (r) names the chosen one for
 * SELECT_R_SUPERSEDED. */
void select_reason_text(const struct feed *f, const struct select_policy *p,
    const struct select_result *r, size_t i, unsigned bit, char *buf,
    size_t bufsz);

#endif
