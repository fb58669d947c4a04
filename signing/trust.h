/*
 * trust.h - the trust decisions on a signed feed (prefix trust_).
 *
 * Pure functions: no files, no clock, no globals.  The caller (the daemon's
 * store, or uk) supplies what it knows -- the trusted keys, the last
 * accepted state of a feed, the current time -- and gets back a verdict as
 * an enum and a reason in (e):
 * - on an accepting verdict, (e)'s code is "" and its message says why the
 *   input was accepted ("key 54E3... is trusted for example.org (rule
 *   *.example.org)");
 * - on a refusal, (e) holds a stable code and a message naming what was
 *   found and what was expected.
 * (e) may be NULL.  Nothing here allocates, prints or exits.
 *
 * Codes (docs/signing.md): uri_malformed, uri_unsupported_scheme,
 * trust_pattern_invalid, unknown_key, key_not_trusted_for_domain,
 * feed_rollback, feed_equivocation, feed_expired, feed_from_future,
 * feed_dates_invalid, invalid_argument.
 */
#ifndef SIGNING_TRUST_H
#define SIGNING_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fileio.h"
#include "minisign.h"

/* Longest host name (RFC 1035) plus its NUL. */
#define TRUST_DOMAIN_MAX 254

/* How far ahead of the host's clock a feed's "published" may be before
 * the feed is refused: publishers' clocks drift, but a date far in the
 * future would pin the feed against every later update. */
#define TRUST_CLOCK_SKEW (24 * 60 * 60)

/*
 * (1) The domain a feed URI belongs to, written into (out) (TRUST_DOMAIN_MAX
 * bytes): the host of an http or https URI, lowercased, without userinfo,
 * port or one trailing dot; IPv6 literals without their brackets.  file://
 * URIs (with an empty host or "localhost") map to "localhost".  Returns 0,
 * or -1 with uri_malformed (no scheme, no "//", empty or invalid host, bad
 * port, spaces or control characters) or uri_unsupported_scheme.
 */
int trust_domain_of_uri(const char *uri, char out[TRUST_DOMAIN_MAX],
    struct err *e);

/* Checks a domain rule: an exact host ("example.org") or "*." and a host
 * ("*.example.org": every subdomain at any depth, not example.org itself).
 * Returns 0, or -1 with trust_pattern_invalid. */
int trust_pattern_check(const char *pattern, struct err *e);

/* 1 if (domain) falls under (pattern), 0 otherwise (also for invalid
 * patterns).  Case-insensitive. */
int trust_pattern_match(const char *pattern, const char *domain);

/* A key in the trust store and the domains it may sign feeds for. */
struct trust_key {
	uint8_t keyid[SIG_KEYID_LEN];
	uint8_t pk[SIG_PK_LEN];
	const char *const *domains;	/* (ndomains) rules, see above */
	size_t ndomains;
};

enum trust_key_result {
	TRUST_KEY_TRUSTED,		/* code "" */
	TRUST_KEY_UNKNOWN,		/* unknown_key */
	TRUST_KEY_NOT_FOR_DOMAIN,	/* key_not_trusted_for_domain */
};

/*
 * (2) Is the key (keyid) trusted for (domain)?  (keys, nkeys) is the store.
 * When (pk) is not NULL the entry's public key must equal it too (an entry
 * with the same id but another key counts as unknown).  On
 * TRUST_KEY_TRUSTED, (*match) (when not NULL) is the index of the entry
 * that allowed it, whose pk the caller verifies the signature with.
 */
enum trust_key_result trust_key_check(const struct trust_key *keys,
    size_t nkeys, const uint8_t keyid[SIG_KEYID_LEN],
    const uint8_t *pk, const char *domain, size_t *match, struct err *e);

/* What the store remembers of the last feed it accepted from one URI. */
struct trust_feed_state {
	uint64_t serial;
	uint8_t sha256[SHA256_LEN];	/* of the feed's bytes */
};

enum trust_serial_result {
	TRUST_SERIAL_NEW,		/* higher serial, or none before */
	TRUST_SERIAL_UNCHANGED,		/* same serial, same bytes */
	TRUST_SERIAL_ROLLBACK,		/* feed_rollback */
	TRUST_SERIAL_EQUIVOCATION,	/* feed_equivocation */
};

/*
 * (3) Judges a feed with (serial) whose bytes hash to (sha256) against
 * (prev), the state last accepted for its URI (NULL: none).  A lower serial
 * is a rollback (the message names both serials); the same serial with
 * other bytes is equivocation (the message names both digests).
 */
enum trust_serial_result trust_serial_check(
    const struct trust_feed_state *prev, uint64_t serial,
    const uint8_t sha256[SHA256_LEN], struct err *e);

enum trust_time_result {
	TRUST_TIME_OK,
	TRUST_TIME_EXPIRED,	/* feed_expired */
	TRUST_TIME_FUTURE,	/* feed_from_future */
	TRUST_TIME_INVALID,	/* feed_dates_invalid */
};

/*
 * (4) Judges a feed's dates (Unix seconds) at (now).  Refused: expires not
 * after published (feed_dates_invalid), published more than
 * TRUST_CLOCK_SKEW ahead of (now) (feed_from_future), and now at or past
 * expires (feed_expired, naming the date in UTC).
 */
enum trust_time_result trust_time_check(int64_t published, int64_t expires,
    int64_t now, struct err *e);

#endif
