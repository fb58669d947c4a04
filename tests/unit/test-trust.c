/*
 * test-trust.c - every branch of the pure trust decisions.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "trust.h"
#include "tap.h"

#define MAL "uri_malformed"
#define UNS "uri_unsupported_scheme"

static void
test_domains(void)
{
	static const struct {
		const char *uri, *domain;
	} good[] = {
		{ "https://example.org/feeds/httpd.json", "example.org" },
		{ "https://Example.ORG/x", "example.org" },
		{ "HTTPS://example.org", "example.org" },
		{ "http://example.org:8080/x", "example.org" },
		{ "https://u:pw@Feeds.Example.org:443/x", "feeds.example.org" },
		{ "https://a@b@example.org/", "example.org" },
		{ "https://example.org./x", "example.org" },
		{ "https://example.org?q=1", "example.org" },
		{ "https://example.org#top", "example.org" },
		{ "https://example.org:/x", "example.org" },
		{ "https://my_host.example.org/", "my_host.example.org" },
		{ "https://127.0.0.1/feed.json", "127.0.0.1" },
		{ "https://[2001:DB8::1]:8443/feed.json", "2001:db8::1" },
		{ "http://[::1]/", "::1" },
		{ "file:///srv/feeds/httpd.json", "localhost" },
		{ "file://localhost/srv/x.json", "localhost" },
		{ "FILE://LocalHost/x", "localhost" },
	};
	static const struct {
		const char *uri, *code, *name;
	} bad[] = {
		{ "ftp://example.org/x", UNS, "ftp" },
		{ "javascript:alert(1)", UNS, "javascript" },
		{ "example.org/feed.json", MAL, "no scheme" },
		{ "://example.org/", MAL, "empty scheme" },
		{ "1http://example.org/", MAL, "scheme starts with digit" },
		{ "https:example.org", MAL, "no //" },
		{ "https:/example.org", MAL, "one /" },
		{ "https://", MAL, "nothing after //" },
		{ "https:///x", MAL, "empty host" },
		{ "https://user@/x", MAL, "only userinfo" },
		{ "https://exa mple.org/", MAL, "space" },
		{ "https://example.org/\x01", MAL, "control character" },
		{ "https://ex%41mple.org/", MAL, "percent in host" },
		{ "https://a..b/", MAL, "empty label" },
		{ "https://.example.org/", MAL, "leading dot" },
		{ "https://example.org../", MAL, "two trailing dots" },
		{ "https://example.org:99999/", MAL, "port too big" },
		{ "https://example.org:123456/", MAL, "port too long" },
		{ "https://example.org:80a/", MAL, "port not digits" },
		{ "https://[::1/", MAL, "unclosed IPv6" },
		{ "https://[fe80::1%25eth0]/", MAL, "IPv6 zone" },
		{ "https://[example.org]/", MAL, "name in brackets" },
		{ "https://[::1]x/", MAL, "junk after IPv6" },
		{ "file://otherhost/x", MAL, "remote file host" },
	};
	char out[TRUST_DOMAIN_MAX], longhost[400], uri[512];
	struct err e;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = trust_domain_of_uri(good[i].uri, out, &e);
		if (!ok(rc == 0 && strcmp(out, good[i].domain) == 0,
		    "domain of %s", good[i].uri))
			diag("rc %d, got '%s' [%s] %s", rc, out, e.code, e.msg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = trust_domain_of_uri(bad[i].uri, out, &e);
		if (!ok(rc == -1 && strcmp(e.code, bad[i].code) == 0 &&
		    out[0] == '\0', "%s refused [%s]", bad[i].name,
		    bad[i].code))
			diag("rc %d, code '%s', out '%s'", rc, e.code, out);
	}
	ok(trust_domain_of_uri(NULL, out, &e) == -1 &&
	    strcmp(e.code, "invalid_argument") == 0, "NULL URI");

	memset(longhost, 'a', 64);
	snprintf(uri, sizeof(uri), "https://%.64s.org/", longhost);
	ok(trust_domain_of_uri(uri, out, &e) == -1, "64-byte label refused");
	snprintf(uri, sizeof(uri), "https://%.63s.org/", longhost);
	ok(trust_domain_of_uri(uri, out, &e) == 0, "63-byte label accepted");
	/* 4 labels of 63 and dots: 255 bytes, over 253. */
	memset(longhost, 'a', sizeof(longhost));
	longhost[63] = longhost[127] = longhost[191] = '.';
	snprintf(uri, sizeof(uri), "https://%.255s/", longhost);
	ok(trust_domain_of_uri(uri, out, &e) == -1 &&
	    strcmp(e.code, "uri_malformed") == 0, "255-byte host refused");
	snprintf(uri, sizeof(uri), "https://%.253s/", longhost);
	ok(trust_domain_of_uri(uri, out, &e) == 0 && strlen(out) == 253,
	    "253-byte host accepted");
	ok(trust_domain_of_uri("https://example.org/", out, NULL) == 0,
	    "NULL err allowed");
}

static void
test_patterns(void)
{
	static const char *valid[] = { "example.org", "*.example.org",
		"localhost", "*.org", "::1", "10.0.0.1" };
	static const char *invalid[] = { "", "*", "*.", "a.*.org",
		"*example.org", "**.example.org", "*.::1", "exa mple.org",
		"example.org.", "https://example.org" };
	static const struct {
		const char *pattern, *domain;
		int match;
	} m[] = {
		{ "example.org", "example.org", 1 },
		{ "Example.ORG", "example.org", 1 },
		{ "example.org", "www.example.org", 0 },
		{ "*.example.org", "www.example.org", 1 },
		{ "*.example.org", "a.b.example.org", 1 },
		{ "*.Example.org", "www.example.org", 1 },
		{ "*.example.org", "example.org", 0 },
		{ "*.example.org", "badexample.org", 0 },
		{ "*.example.org", "example.org.evil.com", 0 },
		{ "*", "example.org", 0 },
		{ "::1", "::1", 1 },
	};
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(trust_pattern_check(valid[i], &e) == 0, "rule '%s' valid",
		    valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(trust_pattern_check(invalid[i], &e) == -1 &&
		    strcmp(e.code, "trust_pattern_invalid") == 0,
		    "rule '%s' invalid [trust_pattern_invalid]", invalid[i]);
	ok(trust_pattern_check(NULL, &e) == -1, "NULL rule invalid");
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		ok(trust_pattern_match(m[i].pattern, m[i].domain) == m[i].match,
		    "'%s' %s '%s'", m[i].pattern, m[i].match ? "matches" :
		    "does not match", m[i].domain);
	ok(!trust_pattern_match("example.org", NULL), "NULL domain");
}

static void
test_keys(void)
{
	static const char *const a_domains[] = { "example.org",
		"*.example.net" };
	static const char *const b_domains[] = { "other.org" };
	static const char *const a2_domains[] = { "extra.org" };
	struct trust_key keys[4];
	uint8_t unknown[SIG_KEYID_LEN] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	uint8_t wrongpk[SIG_PK_LEN];
	enum trust_key_result r;
	size_t match;
	struct err e;

	memset(keys, 0, sizeof(keys));
	memset(keys[0].keyid, 0xa1, SIG_KEYID_LEN);
	memset(keys[0].pk, 0xa2, SIG_PK_LEN);
	keys[0].domains = a_domains;
	keys[0].ndomains = 2;
	memset(keys[1].keyid, 0xb1, SIG_KEYID_LEN);
	memset(keys[1].pk, 0xb2, SIG_PK_LEN);
	keys[1].domains = b_domains;
	keys[1].ndomains = 1;
	keys[2] = keys[0];	/* the same key again, for another domain */
	keys[2].domains = a2_domains;
	keys[2].ndomains = 1;
	memset(keys[3].keyid, 0xc1, SIG_KEYID_LEN);	/* no domains at all */
	memset(wrongpk, 0xee, sizeof(wrongpk));

	match = 99;
	r = trust_key_check(keys, 4, keys[0].keyid, NULL, "example.org", &match,
	    &e);
	ok(r == TRUST_KEY_TRUSTED && match == 0 && e.code[0] == '\0' &&
	    strstr(e.msg, "A1A1A1A1A1A1A1A1") != NULL &&
	    strstr(e.msg, "rule example.org") != NULL,
	    "trusted for an exact domain, with the reason");
	r = trust_key_check(keys, 4, keys[0].keyid, keys[0].pk,
	    "feeds.example.net", &match, &e);
	ok(r == TRUST_KEY_TRUSTED && match == 0 &&
	    strstr(e.msg, "*.example.net") != NULL,
	    "trusted for a subdomain via a wildcard, pk checked");
	r = trust_key_check(keys, 4, keys[0].keyid, NULL, "extra.org", &match,
	    &e);
	ok(r == TRUST_KEY_TRUSTED && match == 2,
	    "a second entry for the same key adds a domain");
	r = trust_key_check(keys, 4, keys[0].keyid, NULL, "evil.org", NULL, &e);
	ok(r == TRUST_KEY_NOT_FOR_DOMAIN &&
	    strcmp(e.code, "key_not_trusted_for_domain") == 0 &&
	    strstr(e.msg, "example.org, *.example.net, extra.org") != NULL &&
	    strstr(e.msg, "evil.org") != NULL,
	    "other domain refused, naming the allowed ones");
	r = trust_key_check(keys, 4, keys[0].keyid, NULL, "example.net", NULL,
	    &e);
	ok(r == TRUST_KEY_NOT_FOR_DOMAIN, "wildcard does not cover the apex");
	r = trust_key_check(keys, 4, keys[1].keyid, NULL, "example.org", NULL,
	    &e);
	ok(r == TRUST_KEY_NOT_FOR_DOMAIN, "another key's domain refused");
	r = trust_key_check(keys, 4, keys[3].keyid, NULL, "example.org", NULL,
	    &e);
	ok(r == TRUST_KEY_NOT_FOR_DOMAIN && strstr(e.msg, "no domain") != NULL,
	    "key with no domains");
	r = trust_key_check(keys, 4, unknown, NULL, "example.org", NULL, &e);
	ok(r == TRUST_KEY_UNKNOWN && strcmp(e.code, "unknown_key") == 0 &&
	    strstr(e.msg, "0909090909090909") != NULL,
	    "unknown key id, named");
	r = trust_key_check(keys, 4, keys[0].keyid, wrongpk, "example.org",
	    NULL, &e);
	ok(r == TRUST_KEY_UNKNOWN && strcmp(e.code, "unknown_key") == 0 &&
	    strstr(e.msg, "different public key") != NULL,
	    "known id with another public key is unknown");
	r = trust_key_check(NULL, 0, unknown, NULL, "example.org", NULL, NULL);
	ok(r == TRUST_KEY_UNKNOWN, "empty store, NULL err");
	r = trust_key_check(keys, 4, keys[0].keyid, NULL, NULL, NULL, &e);
	ok(r == TRUST_KEY_NOT_FOR_DOMAIN, "NULL domain matches nothing");
}

static void
test_serials(void)
{
	struct trust_feed_state prev = { 7, { 0 } };
	uint8_t same[SHA256_LEN], other[SHA256_LEN];
	enum trust_serial_result r;
	struct err e;

	memset(prev.sha256, 0xab, SHA256_LEN);
	memset(same, 0xab, SHA256_LEN);
	memset(other, 0xcd, SHA256_LEN);
	r = trust_serial_check(NULL, 1, same, &e);
	ok(r == TRUST_SERIAL_NEW && e.code[0] == '\0', "first feed is new");
	r = trust_serial_check(&prev, 8, other, &e);
	ok(r == TRUST_SERIAL_NEW && strstr(e.msg, "8") != NULL,
	    "higher serial is new");
	r = trust_serial_check(&prev, 7, same, &e);
	ok(r == TRUST_SERIAL_UNCHANGED && e.code[0] == '\0',
	    "same serial, same bytes: unchanged");
	r = trust_serial_check(&prev, 6, same, &e);
	ok(r == TRUST_SERIAL_ROLLBACK && strcmp(e.code, "feed_rollback") == 0 &&
	    strstr(e.msg, "serial 6") != NULL &&
	    strstr(e.msg, "serial 7") != NULL,
	    "lower serial: rollback naming both");
	r = trust_serial_check(&prev, 7, other, &e);
	ok(r == TRUST_SERIAL_EQUIVOCATION &&
	    strcmp(e.code, "feed_equivocation") == 0 &&
	    strstr(e.msg, "abababab") != NULL &&
	    strstr(e.msg, "cdcdcdcd") != NULL,
	    "same serial, other bytes: equivocation naming both digests");
	prev.serial = UINT64_MAX;
	r = trust_serial_check(&prev, 0, same, NULL);
	ok(r == TRUST_SERIAL_ROLLBACK, "extreme serials, NULL err");
}

static void
test_times(void)
{
	/* 2024-01-01T00:00:00Z and friends */
	const int64_t jan = 1704067200, feb = 1706745600, day = 86400;
	enum trust_time_result r;
	struct err e;

	r = trust_time_check(jan, feb, jan + day, &e);
	ok(r == TRUST_TIME_OK && e.code[0] == '\0' &&
	    strstr(e.msg, "2024-02-01T00:00:00Z") != NULL, "valid feed");
	r = trust_time_check(jan, feb, feb, &e);
	ok(r == TRUST_TIME_EXPIRED && strcmp(e.code, "feed_expired") == 0 &&
	    strstr(e.msg, "2024-02-01T00:00:00Z") != NULL,
	    "expired at the instant, naming the date");
	r = trust_time_check(jan, feb, feb + 365 * day, &e);
	ok(r == TRUST_TIME_EXPIRED, "long expired");
	r = trust_time_check(jan + day, feb, jan + 1, &e);
	ok(r == TRUST_TIME_OK, "published a little ahead of our clock");
	r = trust_time_check(jan + day + 1, feb, jan, &e);
	ok(r == TRUST_TIME_FUTURE && strcmp(e.code, "feed_from_future") == 0 &&
	    strstr(e.msg, "2024-01-02T00:00:01Z") != NULL,
	    "published a day and a second ahead: refused");
	r = trust_time_check(feb, jan, jan, &e);
	ok(r == TRUST_TIME_INVALID && strcmp(e.code, "feed_dates_invalid") == 0,
	    "expires before published");
	r = trust_time_check(jan, jan, jan - 1, &e);
	ok(r == TRUST_TIME_INVALID, "expires equal to published");
	r = trust_time_check(INT64_MAX - 1, INT64_MAX, INT64_MIN, &e);
	ok(r == TRUST_TIME_FUTURE && strstr(e.msg, "@") != NULL,
	    "extreme times: no overflow, shown as seconds");
	r = trust_time_check(INT64_MIN, INT64_MAX, 0, NULL);
	ok(r == TRUST_TIME_OK, "widest window, NULL err");
}

int
main(void)
{
	test_domains();
	test_patterns();
	test_keys();
	test_serials();
	test_times();
	return tap_done();
}
