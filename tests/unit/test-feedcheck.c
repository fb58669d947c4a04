/*
 * test-feedcheck.c - every refusal of feedcheck_verify() with its code, on
 * feeds signed here with the signing library, and the feeds it accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedcheck.h"
#include "tap.h"

#define URI "https://example.org/feeds/hello.json"
#define MIRROR "https://mirror.example.org/hello.json"
#define NOW 1735689600		/* 2025-01-01T00:00:00Z */
#define DAY 86400

/* Keys: A is trusted for example.org and its subdomains, B for
 * *.other.net only, C is in no store. */
static struct sig_seckey *sk_a, *sk_b, *sk_c;
static struct sig_pubkey pk_a, pk_b, pk_c;
static const char *const dom_a[] = { "example.org", "*.example.org",
	"localhost" };
static const char *const dom_b[] = { "*.other.net" };
static struct trust_key store[2];

/* What one test feed looks like. */
struct spec {
	const char *uri;
	uint64_t serial;
	int64_t published, expires;
	const struct sig_seckey *sk;
	const char *tc;		/* NULL: the right trusted comment */
	const uint8_t *keyid;	/* not NULL: the id to sign under */
};

struct signed_feed {
	char *feed, *sig;
	size_t feed_len, sig_len;
};

static struct spec
good_spec(void)
{
	struct spec s = { URI, 3, NOW - DAY, NOW + 30 * DAY, NULL, NULL,
		NULL };

	s.sk = sk_a;
	return s;
}

static void
make_feed(const struct spec *s, struct signed_feed *out)
{
	char href[] = "hello-1.0.ukimg", tc[FEEDCHECK_COMMENT_MAX];
	struct sig_signature sig;
	struct feed_impl im;
	struct feed *f;
	struct err e;

	memset(&im, 0, sizeof(im));
	strcpy(im.version, "1.0");
	strcpy(im.arch, "x86_64");
	strcpy(im.released, "2024-12-01");
	strcpy(im.boot, "pvh");
	im.stability = FEED_STABLE;
	im.platforms = FEED_PLATFORM_KVM;
	im.requires.memory = 2;
	im.image.href = href;
	im.image.size = 4096;
	memset(im.image.sha256, 'a', 64);
	f = feed_new(s->uri, "hello", &e);
	if (f == NULL || feed_set_summary(f, "says hello", &e) == -1 ||
	    feed_set_serial(f, s->serial, &e) == -1 ||
	    feed_set_published(f, (time_t)s->published, &e) == -1 ||
	    feed_set_expires(f, (time_t)s->expires, &e) == -1 ||
	    feed_add_mirror(f, MIRROR, &e) == -1 ||
	    feed_impl_upsert(f, &im, &e) == -1 ||
	    feed_serialize(f, &out->feed, &out->feed_len, &e) == -1 ||
	    feedcheck_comment_format(f, tc, sizeof(tc), &e) == -1 ||
	    sig_sign(s->sk, SIG_ALG_PREHASHED, out->feed, out->feed_len,
	    s->tc != NULL ? s->tc : tc, NULL, &sig, &e) == -1) {
		printf("Bail out! making a feed: [%s] %s\n", e.code, e.msg);
		exit(1);
	}
	if (s->keyid != NULL)
		memcpy(sig.keyid, s->keyid, SIG_KEYID_LEN);
	if (sig_signature_format(&sig, &out->sig, &out->sig_len, &e) == -1) {
		printf("Bail out! formatting a signature: %s\n", e.msg);
		exit(1);
	}
	feed_free(f);
}

static void
free_feed(struct signed_feed *sf)
{
	free(sf->feed);
	free(sf->sig);
}

static struct feedcheck_input
input(const struct signed_feed *sf, const char *url)
{
	struct feedcheck_input in;

	memset(&in, 0, sizeof(in));
	in.url = url;
	in.feed = sf->feed;
	in.feed_len = sf->feed_len;
	in.sig = sf->sig;
	in.sig_len = sf->sig_len;
	in.keys = store;
	in.nkeys = 2;
	in.now = NOW;
	return in;
}

/* Runs the check; on a refusal, (want) must be its code and no feed may be
 * returned. */
static int
check(const struct feedcheck_input *in, const char *want, const char *name,
    struct feedcheck_result *res, struct err *e)
{
	int rc = feedcheck_verify(in, res, e);

	if (want == NULL) {
		if (!ok(rc == 0 && res->feed != NULL && e->code[0] == '\0',
		    "%s: accepted", name))
			diag("[%s] %s", e->code, e->msg);
		return rc;
	}
	if (!ok(rc == -1 && strcmp(e->code, want) == 0 && res->feed == NULL,
	    "%s: refused [%s]", name, want))
		diag("rc %d [%s] %s", rc, e->code, e->msg);
	else
		diag("%s", e->msg);
	return rc;
}

static void
setup(void)
{
	struct err e;

	if (sig_seckey_generate(&sk_a, &pk_a, &e) == -1 ||
	    sig_seckey_generate(&sk_b, &pk_b, &e) == -1 ||
	    sig_seckey_generate(&sk_c, &pk_c, &e) == -1) {
		printf("Bail out! keygen: %s\n", e.msg);
		exit(1);
	}
	memcpy(store[0].keyid, pk_a.keyid, SIG_KEYID_LEN);
	memcpy(store[0].pk, pk_a.pk, SIG_PK_LEN);
	store[0].domains = dom_a;
	store[0].ndomains = 3;
	memcpy(store[1].keyid, pk_b.keyid, SIG_KEYID_LEN);
	memcpy(store[1].pk, pk_b.pk, SIG_PK_LEN);
	store[1].domains = dom_b;
	store[1].ndomains = 1;
}

static void
test_good(void)
{
	struct feedcheck_result res;
	struct feedcheck_input in;
	struct signed_feed sf;
	struct spec s = good_spec();
	uint8_t digest[SHA256_LEN];
	char id[SIG_KEYID_HEX_LEN + 1];
	struct err e;

	make_feed(&s, &sf);
	in = input(&sf, URI);
	if (check(&in, NULL, "a good feed", &res, &e) == 0) {
		sha256_buf(sf.feed, sf.feed_len, digest);
		sig_keyid_format(pk_a.keyid, id);
		ok(memcmp(res.sha256, digest, SHA256_LEN) == 0,
		    "the sha256 of the feed's bytes is returned");
		is_str(res.keyid, id, "the key id is returned");
		is_str(res.domain, "example.org", "the URL's domain");
		is_int((long long)res.key, 0, "the store's key 0 verified");
		ok(res.unchanged == 0, "no previous state: new");
		ok(strstr(res.reason, "trusted for example.org") != NULL,
		    "the reason says why: %s", res.reason);
		is_str(res.feed->uri, URI, "the parsed feed is returned");
		is_int((long long)res.feed->serial, 3, "with its serial");
		feed_free(res.feed);
	}

	in = input(&sf, MIRROR);
	if (check(&in, NULL, "fetched from a mirror", &res, &e) == 0)
		feed_free(res.feed);

	in = input(&sf, "https://example.org/feeds/other.json");
	check(&in, "feed_uri_mismatch", "fetched from a URL it does not name",
	    &res, &e);
	in = input(&sf, "ftp://example.org/feeds/hello.json");
	check(&in, "uri_unsupported_scheme", "an ftp URL", &res, &e);
	in = input(&sf, "https:///x");
	check(&in, "uri_malformed", "a URL without a host", &res, &e);
	free_feed(&sf);
}

static void
test_keys(void)
{
	struct feedcheck_result res;
	struct feedcheck_input in;
	struct signed_feed sf;
	struct spec s = good_spec();
	char id[SIG_KEYID_HEX_LEN + 1], b64[SIG_PUBKEY_B64_LEN + 1],
	    cmd[512];
	struct err e;

	/* Signed by C, unknown to the store. */
	s.sk = sk_c;
	make_feed(&s, &sf);
	in = input(&sf, URI);
	sig_keyid_format(pk_c.keyid, id);
	check(&in, "unknown_key", "an unknown key", &res, &e);
	ok(strstr(e.msg, id) != NULL, "the message names the key id %s", id);
	ok(strstr(e.msg, "uk trust add --key PUBKEY --domain example.org") !=
	    NULL, "the message has the command that trusts it");
	ok(strstr(e.msg, "https://example.org/feeds/uk.pub") != NULL,
	    "and where the publisher's key is");
	is_str(res.keyid, id, "res.keyid names the unknown key");
	is_str(res.domain, "example.org", "res.domain the URL's domain");
	ok(!res.offered_signed, "no key offered");

	/* The key next to the feed, offered: the exact command. */
	in.offered = &pk_c;
	sig_pubkey_base64(&pk_c, b64);
	snprintf(cmd, sizeof(cmd), "uk trust add --key %s --domain "
	    "example.org", b64);
	check(&in, "unknown_key", "an unknown key, its .pub offered", &res,
	    &e);
	ok(strstr(e.msg, cmd) != NULL, "the message has the exact command: "
	    "%s", cmd);
	ok(res.offered_signed, "the offered key signed the feed");
	/* An offered key that did not sign it is not named. */
	in.offered = &pk_b;
	check(&in, "unknown_key", "an unknown key, another .pub offered",
	    &res, &e);
	ok(strstr(e.msg, "--key PUBKEY") != NULL && !res.offered_signed,
	    "a key that did not sign is not suggested");
	free_feed(&sf);

	/* Signed by B, trusted for *.other.net only. */
	s.sk = sk_b;
	make_feed(&s, &sf);
	in = input(&sf, URI);
	sig_pubkey_base64(&pk_b, b64);
	snprintf(cmd, sizeof(cmd), "uk trust add --key %s --domain "
	    "example.org", b64);
	check(&in, "key_not_trusted_for_domain", "a key for another domain",
	    &res, &e);
	ok(strstr(e.msg, cmd) != NULL && strstr(e.msg, "*.other.net") !=
	    NULL, "the message has the rules and the command");
	in.keys = NULL;
	in.nkeys = 0;
	check(&in, "unknown_key", "an empty trust store", &res, &e);
	free_feed(&sf);

	/* Signed by C under A's key id: the store's key A cannot verify. */
	s.sk = sk_c;
	s.keyid = pk_a.keyid;
	make_feed(&s, &sf);
	in = input(&sf, URI);
	check(&in, "sig_invalid", "a wrong key under a trusted key id", &res,
	    &e);
	free_feed(&sf);
}

static void
test_bytes(void)
{
	struct feedcheck_result res;
	struct feedcheck_input in;
	struct signed_feed sf;
	struct spec s = good_spec();
	char *p;
	struct err e;

	make_feed(&s, &sf);
	p = strstr(sf.feed, "\"serial\": 3");
	p[10] = '9';
	in = input(&sf, URI);
	check(&in, "sig_invalid", "tampered feed bytes", &res, &e);
	p[10] = '3';
	sf.sig[sf.sig_len - 3] ^= 1;
	check(&in, "sig_malformed", "a damaged signature file", &res, &e);
	in.sig_len = 10;
	check(&in, "sig_malformed", "a truncated signature file", &res, &e);
	free_feed(&sf);

	s.tc = "uri:" URI "\tserial:9\texpires:2025-01-31T00:00:00Z";
	make_feed(&s, &sf);
	in = input(&sf, URI);
	check(&in, "feed_comment_mismatch", "a trusted comment with another "
	    "serial", &res, &e);
	free_feed(&sf);
	s.tc = "signed by me";
	make_feed(&s, &sf);
	in = input(&sf, URI);
	check(&in, "feed_comment_mismatch", "a trusted comment naming "
	    "nothing", &res, &e);
	free_feed(&sf);
	s.tc = "uri:https://evil.example.org/x.json\tserial:3\t"
	    "expires:2025-01-31T00:00:00Z";
	make_feed(&s, &sf);
	in = input(&sf, URI);
	check(&in, "feed_comment_mismatch", "a trusted comment with another "
	    "uri", &res, &e);
	free_feed(&sf);
}

static void
test_state(void)
{
	struct feedcheck_result res;
	struct feedcheck_input in;
	struct trust_feed_state prev;
	struct signed_feed sf;
	struct spec s = good_spec();
	struct err e;

	make_feed(&s, &sf);
	in = input(&sf, URI);
	in.prev = &prev;

	prev.serial = 5;
	memset(prev.sha256, 0, SHA256_LEN);
	check(&in, "feed_rollback", "serial 3 after 5", &res, &e);
	prev.serial = 3;
	check(&in, "feed_equivocation", "serial 3 again, other bytes", &res,
	    &e);
	sha256_buf(sf.feed, sf.feed_len, prev.sha256);
	if (check(&in, NULL, "serial 3 again, same bytes", &res, &e) == 0) {
		ok(res.unchanged == 1, "reported unchanged");
		feed_free(res.feed);
	}
	prev.serial = 2;
	if (check(&in, NULL, "serial 3 after 2", &res, &e) == 0) {
		ok(res.unchanged == 0, "reported new");
		feed_free(res.feed);
	}

	in.prev = NULL;
	in.now = NOW + 31 * DAY;
	check(&in, "feed_expired", "after its expiry", &res, &e);
	in.now = NOW + 30 * DAY;
	check(&in, "feed_expired", "at its expiry", &res, &e);
	in.now = NOW - 3 * DAY;
	check(&in, "feed_from_future", "published two days ahead of the "
	    "clock", &res, &e);
	free_feed(&sf);

	/* Order: the key is judged before the dates and the serial. */
	s.sk = sk_c;
	s.expires = NOW - 1;
	s.published = NOW - 2;
	make_feed(&s, &sf);
	in = input(&sf, URI);
	check(&in, "unknown_key", "expired and unknown: the key first", &res,
	    &e);
	free_feed(&sf);
}

static void
test_file_url(void)
{
	struct feedcheck_result res;
	struct feedcheck_input in;
	struct signed_feed sf;
	struct spec s = good_spec();
	struct err e;

	s.uri = "file:///srv/feeds/hello.json";
	make_feed(&s, &sf);
	in = input(&sf, s.uri);
	if (check(&in, NULL, "a file: feed, key trusted for localhost", &res,
	    &e) == 0)
		feed_free(res.feed);
	free_feed(&sf);
}

static void
test_helpers(void)
{
	char out[FEED_URL_MAX + 1], tc[FEEDCHECK_COMMENT_MAX];
	struct feed *f;
	struct err e;

	ok(feedcheck_pubkey_url(URI, out, sizeof(out), &e) == 0 &&
	    strcmp(out, "https://example.org/feeds/uk.pub") == 0,
	    "the key next to the feed: %s", out);
	f = feed_new(URI, "x", &e);
	feed_set_serial(f, 12, &e);
	feed_set_expires(f, NOW, &e);
	ok(feedcheck_comment_format(f, tc, sizeof(tc), &e) == 0 &&
	    strcmp(tc, "uri:" URI "\tserial:12\texpires:2025-01-01T00:00:00Z")
	    == 0, "the trusted comment uk publish writes");
	ok(feedcheck_comment(f, tc, &e) == 0, "is the one accepted");
	ok(feedcheck_comment(f, "note:x\turi:" URI "\tserial:12\t"
	    "expires:2025-01-01T00:00:00Z\tmore:y", &e) == 0,
	    "other fields are allowed");
	ok(feedcheck_comment_format(f, tc, 10, &e) == -1 &&
	    strcmp(e.code, "invalid_argument") == 0, "too small a buffer");
	ok(feedcheck_uri(f, URI, &e) == 0 && feedcheck_uri(f, MIRROR, &e) ==
	    -1, "uri check without mirrors");
	feed_free(f);
	ok(feedcheck_verify(NULL, &(struct feedcheck_result){ 0 }, &e) ==
	    -1 && strcmp(e.code, "invalid_argument") == 0, "no input");
}

int
main(void)
{
	setup();
	test_good();
	test_keys();
	test_bytes();
	test_state();
	test_file_url();
	test_helpers();
	sig_seckey_free(sk_a);
	sig_seckey_free(sk_b);
	sig_seckey_free(sk_c);
	return tap_done();
}
