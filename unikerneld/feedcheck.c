/*
 * feedcheck.c - the checks of a fetched feed (feedcheck.h): signature, key
 * trusted for the domain, trusted comment, uri, dates, serial.  The
 * decisions are signing/trust.h's; this file puts them in order and says
 * what to do about a refusal.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "feedcheck.h"

/* Finds "key:" in a tab-separated trusted comment; copies its value. */
static int
comment_field(const char *tc, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key), n;
	const char *p = tc, *end;

	while (*p != '\0') {
		end = strchr(p, '\t');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == ':') {
			n = (size_t)(end - p) - klen - 1;
			if (n >= outsz)
				return -1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return 0;
		}
		p = *end ? end + 1 : end;
	}
	return -1;
}

/* The trusted comment is what `minisign -V` shows a person: it must say the
 * same as the feed, or a reader of it would be misled. */
int
feedcheck_comment(const struct feed *f, const char *tc, struct err *e)
{
	char uri[FEED_URL_MAX + 1], serial[32], exp[FEED_TIME_LEN + 1],
	    want[32];

	if (comment_field(tc, "uri", uri, sizeof(uri)) == -1 ||
	    comment_field(tc, "serial", serial, sizeof(serial)) == -1 ||
	    comment_field(tc, "expires", exp, sizeof(exp)) == -1)
		return err_set(e, "feed_comment_mismatch",
		    "the trusted comment '%s' does not name the feed's uri, "
		    "serial and expires", tc);
	if (strcmp(uri, f->uri) != 0)
		return err_set(e, "feed_comment_mismatch",
		    "the trusted comment says uri %s, the feed %s", uri,
		    f->uri);
	snprintf(want, sizeof(want), "%" PRIu64, f->serial);
	if (strcmp(serial, want) != 0)
		return err_set(e, "feed_comment_mismatch",
		    "the trusted comment says serial %s, the feed %s", serial,
		    want);
	feed_format_time(f->expires, want);
	if (strcmp(exp, want) != 0)
		return err_set(e, "feed_comment_mismatch",
		    "the trusted comment says expires %s, the feed %s", exp,
		    want);
	return 0;
}

int
feedcheck_comment_format(const struct feed *f, char *out, size_t outsz,
    struct err *e)
{
	char exp[FEED_TIME_LEN + 1];
	int n;

	feed_format_time(f->expires, exp);
	n = snprintf(out, outsz, "uri:%s\tserial:%" PRIu64 "\texpires:%s",
	    f->uri, f->serial, exp);
	if (n < 0 || (size_t)n >= outsz)
		return err_set(e, ERR_INVALID, "the trusted comment of %s does "
		    "not fit in %zu bytes", f->uri, outsz);
	return 0;
}

int
feedcheck_uri(const struct feed *f, const char *url, struct err *e)
{
	size_t i;

	if (strcmp(url, f->uri) == 0)
		return 0;
	for (i = 0; i < f->nmirrors; i++)
		if (strcmp(url, f->mirrors[i]) == 0)
			return 0;
	return err_set(e, "feed_uri_mismatch",
	    "the feed says it is %s, not %s (nor one of its %zu mirrors)",
	    f->uri, url, f->nmirrors);
}

int
feedcheck_feed(const struct feed *f, const char *tc,
    const uint8_t sha256[SHA256_LEN], const char *url,
    const struct trust_feed_state *prev, int64_t now,
    char domain[TRUST_DOMAIN_MAX], int *unchanged, struct err *e)
{
	if (feedcheck_comment(f, tc, e) == -1)
		return -1;
	if (url != NULL && feedcheck_uri(f, url, e) == -1)
		return -1;
	if (trust_domain_of_uri(f->uri, domain, e) == -1)
		return -1;
	if (trust_time_check(f->published, f->expires, now, e) !=
	    TRUST_TIME_OK)
		return -1;
	switch (trust_serial_check(prev, f->serial, sha256, e)) {
	case TRUST_SERIAL_NEW:
		if (unchanged != NULL)
			*unchanged = 0;
		break;
	case TRUST_SERIAL_UNCHANGED:
		if (unchanged != NULL)
			*unchanged = 1;
		break;
	default:
		return -1;
	}
	err_clear(e);
	return 0;
}

int
feedcheck_pubkey_url(const char *feed_url, char *out, size_t outsz,
    struct err *e)
{
	return feed_resolve_href(feed_url, FEEDCHECK_PUBKEY_NAME, out, outsz,
	    e);
}

/* unknown_key: the command that trusts the key comes first, so that a long
 * URL cannot push it out of the message. */
static int
unknown_key(const struct feedcheck_input *in,
    const struct sig_signature *sig, struct feedcheck_result *res,
    struct err *e)
{
	char b64[SIG_PUBKEY_B64_LEN + 1], where[FEED_URL_MAX + 1];
	const struct sig_pubkey *pk = in->offered;

	res->offered_signed = pk != NULL &&
	    memcmp(pk->keyid, sig->keyid, SIG_KEYID_LEN) == 0 &&
	    sig_verify(pk, sig, in->feed, in->feed_len, 0, NULL) == 0;
	if (res->offered_signed) {
		sig_pubkey_base64(pk, b64);
		return err_set(e, "unknown_key", "key %s is not in the trust "
		    "store; to trust it for %s: uk trust add --key %s "
		    "--domain %s -- the key published next to the feed, "
		    "which signed it; check with the publisher that its key "
		    "id is %s", res->keyid, res->domain, b64, res->domain,
		    res->keyid);
	}
	if (feedcheck_pubkey_url(in->url, where, sizeof(where), NULL) == -1)
		snprintf(where, sizeof(where), "%s", FEEDCHECK_PUBKEY_NAME);
	return err_set(e, "unknown_key", "key %s is not in the trust store; "
	    "to trust it for %s: uk trust add --key PUBKEY --domain %s -- "
	    "PUBKEY being the base64 line of the publisher's public key, "
	    "published next to the feed (%s); check with the publisher that "
	    "its key id is %s", res->keyid, res->domain, res->domain, where,
	    res->keyid);
}

/* key_not_trusted_for_domain: the store has the key, so the command can
 * name it exactly. */
static int
not_for_domain(const struct feedcheck_input *in,
    const struct sig_signature *sig, const struct feedcheck_result *res,
    struct err *e)
{
	char b64[SIG_PUBKEY_B64_LEN + 1], why[ERR_MSG_MAX];
	struct sig_pubkey pk;
	size_t i;

	if (e == NULL)
		return -1;
	snprintf(why, sizeof(why), "%s", e->msg);
	for (i = 0; i < in->nkeys; i++)
		if (memcmp(in->keys[i].keyid, sig->keyid, SIG_KEYID_LEN) == 0)
			break;
	if (i == in->nkeys)	/* trust_key_check() found it; be safe */
		return -1;
	memcpy(pk.keyid, in->keys[i].keyid, SIG_KEYID_LEN);
	memcpy(pk.pk, in->keys[i].pk, SIG_PK_LEN);
	sig_pubkey_base64(&pk, b64);
	return err_set(e, "key_not_trusted_for_domain", "key %s is not "
	    "trusted for %s; to trust it for %s as well: uk trust add --key %s "
	    "--domain %s -- %s", res->keyid, res->domain, res->domain, b64,
	    res->domain, why);
}

/* Steps 1 to 4: on success (res->key) is the store's key that verified. */
static int
check_signature(const struct feedcheck_input *in,
    struct feedcheck_result *res, struct sig_signature *sig,
    struct err *e)
{
	struct sig_pubkey pk;
	struct err why;

	if (sig_signature_parse(in->sig, in->sig_len, sig, e) == -1)
		return -1;
	sig_keyid_format(sig->keyid, res->keyid);
	if (trust_domain_of_uri(in->url, res->domain, e) == -1)
		return -1;
	err_clear(&why);
	switch (trust_key_check(in->keys, in->nkeys, sig->keyid, NULL,
	    res->domain, &res->key, &why)) {
	case TRUST_KEY_TRUSTED:
		break;
	case TRUST_KEY_UNKNOWN:
		return unknown_key(in, sig, res, e);
	default:
		if (e != NULL)
			*e = why;
		return not_for_domain(in, sig, res, e);
	}
	snprintf(res->reason, sizeof(res->reason), "%s", why.msg);
	memcpy(pk.keyid, in->keys[res->key].keyid, SIG_KEYID_LEN);
	memcpy(pk.pk, in->keys[res->key].pk, SIG_PK_LEN);
	return sig_verify(&pk, sig, in->feed, in->feed_len, 0, e);
}

int
feedcheck_verify(const struct feedcheck_input *in,
    struct feedcheck_result *res, struct err *e)
{
	struct sig_signature sig;
	char domain[TRUST_DOMAIN_MAX];
	struct feed *f = NULL;

	memset(res, 0, sizeof(*res));
	if (in == NULL || in->url == NULL || in->feed == NULL ||
	    in->sig == NULL || (in->keys == NULL && in->nkeys > 0))
		return err_set(e, ERR_INVALID, "feedcheck_verify: missing "
		    "input");
	sha256_buf(in->feed, in->feed_len, res->sha256);
	if (check_signature(in, res, &sig, e) == -1)
		return -1;
	if (feed_parse(in->feed, in->feed_len, &f, e) == -1)
		return -1;
	if (feedcheck_feed(f, sig.trusted_comment, res->sha256, in->url,
	    in->prev, in->now, domain, &res->unchanged, e) == -1) {
		feed_free(f);
		return -1;
	}
	res->feed = f;
	return 0;
}
