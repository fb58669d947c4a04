/*
 * feedcheck.h - everything a host checks on a feed it fetched, in the order
 * of DESIGN §4 (prefix feedcheck_).
 *
 * Contract, once for the whole header:
 * - Pure: the caller gives the URL the feed came from, its bytes, the
 *   signature's bytes, the trusted keys, the state last accepted for the
 *   feed and the time.  Nothing here reads the store, the network, the
 *   clock or a file; nothing prints, exits or keeps state, so every
 *   function is safe from any thread.
 * - Functions return 0 on success and -1 on failure with a stable code in
 *   (e) (err.h); (e) may be NULL.  The checks run in this order and the
 *   first that fails decides the code:
 *
 *   feedcheck_verify():
 *    1. the signature file parses            sig_malformed, sig_* (minisign.h)
 *    2. the URL has a domain                  uri_malformed,
 *                                             uri_unsupported_scheme
 *    3. its key is trusted for that domain    unknown_key,
 *                                             key_not_trusted_for_domain
 *    4. the signature and the trusted         sig_invalid, sig_comment_invalid
 *       comment's signature verify
 *    5. the feed parses                       feed_* (feed.h)
 *   feedcheck_feed(), which feedcheck_verify() then runs, and `uk feed
 *   verify` too, after its own signature check with a key file:
 *    6. the trusted comment repeats the       feed_comment_mismatch
 *       feed's uri, serial and expires
 *    7. the feed's uri is the URL or one      feed_uri_mismatch
 *       of the feed's mirrors
 *    8. the feed's uri has a domain           uri_malformed, ...
 *    9. the dates, at (now)                   feed_dates_invalid,
 *                                             feed_from_future, feed_expired
 *   10. the serial against (prev)             feed_rollback, feed_equivocation
 *
 * - Nothing in a feed, its trusted comment included, is believed before
 *   step 4 succeeded; the key that verifies is the trust store's, never one
 *   from the feed's surroundings.
 * - The refusals of step 3 tell a person what to do: unknown_key names the
 *   key id and the exact `uk trust add` command line; see
 *   feedcheck_verify().
 */
#ifndef UNIKERNELD_FEEDCHECK_H
#define UNIKERNELD_FEEDCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "feed.h"
#include "fileio.h"
#include "minisign.h"
#include "trust.h"

/* Where publishers put their public key, next to the feed (keygen's name);
 * feedcheck_pubkey_url() resolves it against a feed's URL. */
#define FEEDCHECK_PUBKEY_NAME "uk.pub"

/* The longest trusted comment feedcheck_comment_format() writes. */
#define FEEDCHECK_COMMENT_MAX (FEED_URL_MAX + 96)

struct feedcheck_input {
	const char *url;		/* where the feed was fetched from */
	const char *feed;		/* its bytes, not NUL-terminated */
	size_t feed_len;
	const char *sig;		/* the .minisig file's bytes */
	size_t sig_len;
	const struct trust_key *keys;	/* the trust store (trust.h) */
	size_t nkeys;
	const struct trust_feed_state *prev;	/* last accepted, or NULL */
	int64_t now;			/* Unix seconds */
	/* Optional (NULL): the public key the caller found next to the feed
	 * (feedcheck_pubkey_url()).  It is never trusted; when the feed's key
	 * is unknown and this key did sign the feed, the unknown_key message
	 * spells out its base64 in the `uk trust add` command. */
	const struct sig_pubkey *offered;
};

struct feedcheck_result {
	/* On success the parsed feed, the caller's to feed_free(); NULL
	 * after a failure. */
	struct feed *feed;
	/* Of the feed's bytes: the store records it with the serial. */
	uint8_t sha256[SHA256_LEN];
	/* The signing key's id once the signature parsed, else "": set on
	 * unknown_key and key_not_trusted_for_domain too, for a client that
	 * asks a person whether to trust it. */
	char keyid[SIG_KEYID_HEX_LEN + 1];
	/* The URL's domain once known, else "". */
	char domain[TRUST_DOMAIN_MAX];
	/* 1 when (offered) is the key that signed the feed. */
	int offered_signed;
	/* On success: the index in (keys) of the key that verified, whether
	 * the feed is the one (prev) describes (same serial, same bytes), and
	 * why the key was trusted ("key ... is trusted for ... (rule ...)"),
	 * for the daemon's log. */
	size_t key;
	int unchanged;
	char reason[ERR_MSG_MAX];
};

/*
 * Checks the feed (in->feed) fetched from (in->url) with its signature
 * (in->sig): steps 1 to 10 above, the key chosen by the URL's domain.
 * Fills (res) as its comments say; on failure (res->feed) is NULL.
 *
 * An unknown key is refused with unknown_key and a message that starts
 * with the command that trusts it, so that it survives truncation:
 *   key 54E3CB008D82A207 is not in the trust store; to trust it for
 *   example.org: uk trust add --key PUBKEY --domain example.org -- PUBKEY
 *   being the base64 line of the publisher's public key, published next
 *   to the feed (https://example.org/feeds/uk.pub); check with the
 *   publisher that its key id is 54E3CB008D82A207
 * with the key itself in place of PUBKEY when (in->offered) signed the
 * feed.  A key trusted for other domains is refused with
 * key_not_trusted_for_domain, the domains it has and the command that adds
 * this one.
 */
int feedcheck_verify(const struct feedcheck_input *in,
    struct feedcheck_result *res, struct err *e);

/*
 * Steps 6 to 10 on a feed (f) whose signature verified, with (tc) that
 * signature's trusted comment and (sha256) the digest of the feed's bytes.
 * (url) NULL skips step 7 (an offline check without a URL); (prev) NULL
 * means nothing was accepted before.  On success (domain) holds the domain
 * of the feed's uri and (*unchanged) (when not NULL) is 1 when the feed is
 * the one (prev) describes.
 */
int feedcheck_feed(const struct feed *f, const char *tc,
    const uint8_t sha256[SHA256_LEN], const char *url,
    const struct trust_feed_state *prev, int64_t now,
    char domain[TRUST_DOMAIN_MAX], int *unchanged, struct err *e);

/* Step 6 alone: (tc) is tab-separated "key:value" fields; its uri, serial
 * and expires must equal the feed's.  Other fields are allowed. */
int feedcheck_comment(const struct feed *f, const char *tc, struct err *e);

/* Step 7 alone. */
int feedcheck_uri(const struct feed *f, const char *url, struct err *e);

/* The trusted comment that feedcheck_comment() accepts for (f) --
 * "uri:URI<TAB>serial:N<TAB>expires:TIME", as `uk publish` writes it --
 * into (out) of (outsz) bytes (FEEDCHECK_COMMENT_MAX suffices).  Returns
 * 0, or -1 with invalid_argument when it does not fit. */
int feedcheck_comment_format(const struct feed *f, char *out, size_t outsz,
    struct err *e);

/* The URL of the public key next to the feed at (feed_url):
 * FEEDCHECK_PUBKEY_NAME in the feed's directory.  Codes: those of
 * feed_resolve_href(). */
int feedcheck_pubkey_url(const char *feed_url, char *out, size_t outsz,
    struct err *e);

#endif
