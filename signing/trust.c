#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "trust.h"

/* Sets the reason of an accepting verdict: no code, a message. */
__attribute__((format(printf, 2, 3))) static void
reason(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	err_clear(e);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Classifying by hand: <ctype.h> would follow the locale. */
static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A DNS name or IPv4 address: labels of letters, digits, '-' and '_'
 * (seen in real names), 1 to 63 bytes each, 253 in all, no trailing dot. */
static int
host_name_valid(const char *h, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > TRUST_DOMAIN_MAX - 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!is_alpha(h[i]) && !is_digit(h[i]) && h[i] != '-' &&
		    h[i] != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

/* The inside of an IPv6 literal; zone ids ("%25eth0") are refused. */
static int
host_v6_valid(const char *h, size_t n)
{
	size_t i, colons = 0;

	if (n < 2 || n > 45)
		return 0;
	for (i = 0; i < n; i++) {
		if (h[i] == ':')
			colons++;
		else if (!is_hex(h[i]) && h[i] != '.')
			return 0;
	}
	return colons >= 2;
}

static void
copy_lower(char *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = lower(s[i]);
	out[n] = '\0';
}

static int
port_valid(const char *p, const char *end)
{
	unsigned long v = 0;

	/* RFC 3986 allows an empty port ("host:"): it means the default. */
	if (end - p > 5)
		return 0;
	for (; p < end; p++) {
		if (!is_digit(*p))
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v <= 65535;
}

static int
scheme_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

/* Host part of an http(s) authority [auth, end). */
static int
authority_host(const char *uri, const char *auth, const char *end,
    char out[TRUST_DOMAIN_MAX], struct err *e)
{
	const char *host = auth, *h, *hend, *after, *q;
	size_t n;

	for (q = auth; q < end; q++)
		if (*q == '@')
			host = q + 1;
	if (host < end && *host == '[') {
		h = host + 1;
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL ||
		    !host_v6_valid(h, (size_t)(hend - h)))
			return err_set(e, "uri_malformed",
			    "%s: invalid IPv6 address", uri);
		after = hend + 1;
	} else {
		h = host;
		for (hend = h; hend < end && *hend != ':'; hend++)
			;
		after = hend;
		n = (size_t)(hend - h);
		if (n > 1 && h[n - 1] == '.')
			hend--;	/* "example.org." is example.org */
		if (!host_name_valid(h, (size_t)(hend - h)))
			return err_set(e, "uri_malformed",
			    "%s: missing or invalid host name", uri);
	}
	if (after < end && (*after != ':' || !port_valid(after + 1, end)))
		return err_set(e, "uri_malformed", "%s: invalid port", uri);
	copy_lower(out, h, (size_t)(hend - h));
	return 0;
}

int
trust_domain_of_uri(const char *uri, char out[TRUST_DOMAIN_MAX],
    struct err *e)
{
	const char *p, *auth, *end;
	size_t slen;

	out[0] = '\0';
	if (uri == NULL)
		return err_set(e, ERR_INVALID, "no URI");
	for (p = uri; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return err_set(e, "uri_malformed",
			    "%s: contains a space or control character", uri);
	for (p = uri; is_alpha(*p) || (p > uri && (is_digit(*p) ||
	    *p == '+' || *p == '-' || *p == '.')); p++)
		;
	if (p == uri || *p != ':')
		return err_set(e, "uri_malformed", "%s: no scheme", uri);
	slen = (size_t)(p - uri);
	if (!scheme_is(uri, slen, "https") && !scheme_is(uri, slen, "http") &&
	    !scheme_is(uri, slen, "file"))
		return err_set(e, "uri_unsupported_scheme",
		    "%s: scheme %.*s is not https, http or file", uri,
		    (int)(slen > 20 ? 20 : slen), uri);
	if (p[1] != '/' || p[2] != '/')
		return err_set(e, "uri_malformed",
		    "%s: no \"//\" after the scheme", uri);
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	if (scheme_is(uri, slen, "file")) {
		if (end != auth && !(end - auth == 9 &&
		    strncasecmp(auth, "localhost", 9) == 0))
			return err_set(e, "uri_malformed",
			    "%s: file URIs must name this host", uri);
		memcpy(out, "localhost", sizeof("localhost"));
		return 0;
	}
	return authority_host(uri, auth, end, out, e);
}

int
trust_pattern_check(const char *pattern, struct err *e)
{
	const char *h = pattern;

	if (pattern == NULL)
		return err_set(e, "trust_pattern_invalid", "no domain rule");
	if (h[0] == '*' && h[1] == '.')
		h += 2;
	if (!host_name_valid(h, strlen(h)) &&
	    !(h == pattern && host_v6_valid(h, strlen(h))))
		return err_set(e, "trust_pattern_invalid", "domain rule '%s' "
		    "is neither a host name nor '*.' and a host name", pattern);
	return 0;
}

int
trust_pattern_match(const char *pattern, const char *domain)
{
	size_t dl, sl;

	if (trust_pattern_check(pattern, NULL) == -1 || domain == NULL)
		return 0;
	if (pattern[0] != '*')
		return strcasecmp(pattern, domain) == 0;
	/* ".example.org" must end the domain, after at least one byte. */
	dl = strlen(domain);
	sl = strlen(pattern + 1);
	return dl > sl && strcasecmp(domain + dl - sl, pattern + 1) == 0;
}

/* Lists the rules of the entries for (keyid) (and pk) into (buf). */
static void
list_rules(const struct trust_key *keys, size_t nkeys,
    const uint8_t *keyid, const uint8_t *pk, char *buf, size_t bufsz)
{
	size_t i, j, used = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < nkeys; i++) {
		if (memcmp(keys[i].keyid, keyid, SIG_KEYID_LEN) != 0 ||
		    (pk != NULL && memcmp(keys[i].pk, pk, SIG_PK_LEN) != 0))
			continue;
		for (j = 0; j < keys[i].ndomains && used < bufsz; j++) {
			n = snprintf(buf + used, bufsz - used, "%s%s",
			    used > 0 ? ", " : "", keys[i].domains[j]);
			if (n < 0)
				return;
			used += (size_t)n;
		}
	}
	if (buf[0] == '\0')
		snprintf(buf, bufsz, "no domain");
}

enum trust_key_result
trust_key_check(const struct trust_key *keys, size_t nkeys,
    const uint8_t keyid[SIG_KEYID_LEN], const uint8_t *pk,
    const char *domain, size_t *match, struct err *e)
{
	char id[SIG_KEYID_HEX_LEN + 1], rules[256];
	int seen_id = 0, seen_key = 0;
	size_t i, j;

	sig_keyid_format(keyid, id);
	for (i = 0; i < nkeys; i++) {
		if (memcmp(keys[i].keyid, keyid, SIG_KEYID_LEN) != 0)
			continue;
		seen_id = 1;
		if (pk != NULL && memcmp(keys[i].pk, pk, SIG_PK_LEN) != 0)
			continue;
		seen_key = 1;
		for (j = 0; j < keys[i].ndomains; j++) {
			if (!trust_pattern_match(keys[i].domains[j], domain))
				continue;
			if (match != NULL)
				*match = i;
			reason(e, "key %s is trusted for %s (rule %s)", id,
			    domain, keys[i].domains[j]);
			return TRUST_KEY_TRUSTED;
		}
	}
	if (!seen_key) {
		err_set(e, "unknown_key", seen_id ?
		    "key %s is in the trust store with a different public key" :
		    "key %s is not in the trust store", id);
		return TRUST_KEY_UNKNOWN;
	}
	list_rules(keys, nkeys, keyid, pk, rules, sizeof(rules));
	err_set(e, "key_not_trusted_for_domain",
	    "key %s is trusted for %s, not for %s", id, rules,
	    domain != NULL ? domain : "(none)");
	return TRUST_KEY_NOT_FOR_DOMAIN;
}

enum trust_serial_result
trust_serial_check(const struct trust_feed_state *prev, uint64_t serial,
    const uint8_t sha256[SHA256_LEN], struct err *e)
{
	char was[SHA256_HEX_LEN + 1], now[SHA256_HEX_LEN + 1];

	if (prev == NULL) {
		reason(e, "serial %" PRIu64 " is the first accepted from this "
		    "URI", serial);
		return TRUST_SERIAL_NEW;
	}
	if (serial > prev->serial) {
		reason(e, "serial %" PRIu64 " is newer than %" PRIu64, serial,
		    prev->serial);
		return TRUST_SERIAL_NEW;
	}
	if (serial < prev->serial) {
		err_set(e, "feed_rollback", "feed serial %" PRIu64 " is lower "
		    "than serial %" PRIu64 " accepted before: refusing a "
		    "rollback", serial, prev->serial);
		return TRUST_SERIAL_ROLLBACK;
	}
	if (memcmp(prev->sha256, sha256, SHA256_LEN) == 0) {
		reason(e, "serial %" PRIu64 " unchanged, same bytes", serial);
		return TRUST_SERIAL_UNCHANGED;
	}
	hex_encode(prev->sha256, SHA256_LEN, was);
	hex_encode(sha256, SHA256_LEN, now);
	err_set(e, "feed_equivocation", "feed serial %" PRIu64 " was accepted "
	    "before with sha256 %s and is now offered with sha256 %s: the "
	    "publisher signed two different feeds with one serial", serial, was,
	    now);
	return TRUST_SERIAL_EQUIVOCATION;
}

/* ISO 8601 in UTC, or "@<seconds>" for times gmtime cannot show. */
static void
fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "@%lld", (long long)t);
}

enum trust_time_result
trust_time_check(int64_t published, int64_t expires, int64_t now,
    struct err *e)
{
	char a[64], b[64];

	fmt_time(published, a, sizeof(a));
	fmt_time(expires, b, sizeof(b));
	if (expires <= published) {
		err_set(e, "feed_dates_invalid",
		    "feed expires (%s) no later than it was published (%s)", b,
		    a);
		return TRUST_TIME_INVALID;
	}
	/* Unsigned difference: no overflow at the ends of int64_t. */
	if (published > now &&
	    (uint64_t)published - (uint64_t)now > TRUST_CLOCK_SKEW) {
		fmt_time(now, b, sizeof(b));
		err_set(e, "feed_from_future", "feed published %s, more than "
		    "%d hours after the host's time %s", a,
		    TRUST_CLOCK_SKEW / 3600, b);
		return TRUST_TIME_FUTURE;
	}
	if (now >= expires) {
		fmt_time(now, a, sizeof(a));
		err_set(e, "feed_expired", "feed expired on %s (it is now %s)",
		    b, a);
		return TRUST_TIME_EXPIRED;
	}
	reason(e, "feed valid until %s", b);
	return TRUST_TIME_OK;
}
