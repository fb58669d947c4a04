/*
 * test-feed - the feed document: a valid feed survives a round trip
 * byte for byte, the publisher's calls keep it sorted, and each crafted bad
 * feed is refused with its own code.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "fileio.h"
#include "tap.h"

static const char good[] =
    "{\n"
    "  \"format\": 1,\n"
    "  \"uri\": \"https://example.org/feeds/hello.json\",\n"
    "  \"name\": \"hello\",\n"
    "  \"summary\": \"Says hello \xc3\xa9\",\n"
    "  \"serial\": 3,\n"
    "  \"published\": \"2024-01-01T00:00:00Z\",\n"
    "  \"expires\": \"2030-01-01T00:00:00Z\",\n"
    "  \"mirrors\": [\"https://mirror.example.net/hello.json\"],\n"
    "  \"implementations\": [\n"
    "    {\"version\": \"2.0-rc1\", \"stability\": \"testing\",\n"
    "     \"released\": \"2024-01-01\", \"arch\": \"x86_64\",\n"
    "     \"boot\": \"pvh\", \"platforms\": [\"xen\", \"kvm\"],\n"
    "     \"requires\": {\"memory\": 64, \"net\": 1, \"console\": true},\n"
    "     \"image\": {\"href\": \"images/hello-2.0-rc1.ukimg\",\n"
    "       \"size\": 4096, \"mirrors\": [\"https://m.example.net/a\"],\n"
    "       \"sha256\": \""
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}},\n"
    "    {\"version\": \"1.2\", \"stability\": \"stable\",\n"
    "     \"released\": \"2023-06-01\", \"arch\": \"x86_64\",\n"
    "     \"boot\": \"pvh\", \"platforms\": [\"kvm\"],\n"
    "     \"requires\": {\"memory\": 32},\n"
    "     \"image\": {\"href\": \"hello-1.2.ukimg\", \"size\": 900,\n"
    "       \"sha256\": \""
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}\n"
    "  ]\n"
    "}\n";

/* A bad feed is (good) with the first (from) replaced by (to). */
struct bad {
	const char *from, *to, *code;
};

static const struct bad bads[] = {
	{ "\"format\": 1,", "\"format\": 1,,", "feed_malformed_json" },
	{ "\"name\": \"hello\"", "'name': \"hello\"", "feed_malformed_json" },
	{ "\"format\": 1,", "\"format\": 2,", "feed_unsupported_format" },
	{ "\"format\": 1,", "\"format\": \"1\",", "feed_bad_type" },
	{ "\"format\": 1,\n", "", "feed_missing_field" },
	{ "  \"uri\": \"https://example.org/feeds/hello.json\",\n", "",
	    "feed_missing_field" },
	{ "\"serial\": 3,", "\"serial\": 3, \"colour\": 1,",
	    "feed_unknown_field" },
	{ "\"serial\": 3,", "\"\\u0073erial\": 3,", "feed_unknown_field" },
	{ "\"serial\": 3,", "\"serial\": 3, \"serial\": 4,",
	    "feed_duplicate_key" },
	{ "\"arch\": \"x86_64\",",
	    "\"arch\": \"x86_64\", \"arch\": \"x86_64\",",
	    "feed_duplicate_key" },
	{ "https://example.org/feeds/hello.json", "ftp://example.org/h.json",
	    "feed_bad_uri" },
	{ "https://example.org/feeds/hello.json", "https:///hello.json",
	    "feed_bad_uri" },
	{ "https://example.org/feeds/hello.json", "https://ex ample.org/",
	    "feed_bad_uri" },
	{ "\"name\": \"hello\"", "\"name\": \"-hello\"", "feed_bad_name" },
	{ "\"name\": \"hello\"", "\"name\": \"he\\u0000llo\"",
	    "feed_bad_name" },
	{ "Says hello", "Says\\u0007hello", "feed_bad_summary" },
	{ "\"summary\": \"Says hello \xc3\xa9\"", "\"summary\": \"\"",
	    "feed_bad_summary" },
	{ "\"serial\": 3,", "\"serial\": 0,", "feed_bad_serial" },
	{ "\"serial\": 3,", "\"serial\": -3,", "feed_bad_serial" },
	{ "\"serial\": 3,", "\"serial\": 18446744073709551615,",
	    "feed_bad_serial" },
	{ "\"serial\": 3,", "\"serial\": 3.5,", "feed_bad_type" },
	{ "2024-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "feed_bad_time" },
	{ "2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "feed_bad_time" },
	{ "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+01:00",
	    "feed_bad_time" },
	{ "2030-01-01T00:00:00Z", "2023-12-31T23:59:59Z",
	    "feed_expires_before_published" },
	{ "2030-01-01T00:00:00Z", "2024-01-01T00:00:00Z",
	    "feed_expires_before_published" },
	{ "https://mirror.example.net/hello.json", "http://x/../y.json",
	    "feed_bad_mirror" },
	{ "\"mirrors\": [\"https://mirror.example.net/hello.json\"]",
	    "\"mirrors\": [\"https://a/1\", \"https://a/1\"]",
	    "feed_bad_mirror" },
	{ "\"mirrors\": [\"https://mirror.example.net/hello.json\"]",
	    "\"mirrors\": [\"https://a/1\", \"https://a/2\", \"https://a/3\", "
	    "\"https://a/4\", \"https://a/5\", \"https://a/6\", "
	    "\"https://a/7\", \"https://a/8\", \"https://a/9\", "
	    "\"https://a/10\", \"https://a/11\", "
	    "\"https://a/12\", \"https://a/13\", \"https://a/14\", "
	    "\"https://a/15\", \"https://a/16\", \"https://a/17\"]",
	    "feed_too_many_mirrors" },
	{ "\"mirrors\": [\"https://mirror", "\"mirrors\": [7, \"https://mirror",
	    "feed_bad_type" },
	{ "\"stability\": \"stable\"", "\"stability\": \"solid\"",
	    "feed_bad_stability" },
	{ "\"version\": \"1.2\"", "\"version\": \"1.2-beta\"",
	    "feed_bad_version" },
	{ "\"version\": \"1.2\"", "\"version\": 1.2", "feed_bad_type" },
	{ "\"version\": \"1.2\"", "\"version\": \"2.0-rc1\"",
	    "feed_duplicate_implementation" },
	{ "\"version\": \"1.2\"", "\"version\": \"2.0-rc1-\"",
	    "feed_duplicate_implementation" },
	{ "\"released\": \"2023-06-01\"", "\"released\": \"2023-13-01\"",
	    "feed_bad_time" },
	{ "\"arch\": \"x86_64\"", "\"arch\": \"X86-64\"", "feed_bad_arch" },
	{ "\"boot\": \"pvh\"", "\"boot\": \"multiboot\"", "feed_bad_boot" },
	{ "[\"xen\", \"kvm\"]", "[\"xen\", \"hyperv\"]", "feed_bad_platform" },
	{ "[\"xen\", \"kvm\"]", "[\"kvm\", \"kvm\"]", "feed_bad_platform" },
	{ "[\"xen\", \"kvm\"]", "[]", "feed_bad_platform" },
	{ "\"memory\": 64", "\"memory\": 0", "feed_bad_requires" },
	{ "\"memory\": 64", "\"memory\": 9999999", "feed_bad_requires" },
	{ "\"net\": 1", "\"net\": 99", "feed_bad_requires" },
	{ "\"console\": true", "\"console\": \"yes\"", "feed_bad_type" },
	{ "\"requires\": {\"memory\": 32},", "", "feed_missing_field" },
	{ "\"size\": 900", "\"size\": 0", "feed_bad_size" },
	{ "\"size\": 900", "\"size\": 4294967297", "feed_bad_size" },
	{ "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
	    "feed_bad_digest" },
	{ "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "bbbb", "feed_bad_digest" },
	{ "hello-1.2.ukimg", "../hello-1.2.ukimg", "feed_bad_href" },
	{ "hello-1.2.ukimg", "/srv/hello-1.2.ukimg", "feed_bad_href" },
	{ "hello-1.2.ukimg", "ftp://example.org/h.ukimg", "feed_bad_href" },
	{ "hello-1.2.ukimg", "a/%2E%2e/b", "feed_bad_href" },
	{ "hello-1.2.ukimg", "hello\\u000a.ukimg", "feed_bad_href" },
	{ "https://m.example.net/a", "m.example.net/a", "feed_bad_mirror" },
	{ "\"implementations\": [", "\"implementations\": [7, ",
	    "feed_bad_type" },
	{ "\"serial\": 3,", "\"serial\": 3, \"x\": [[[[[[[[[1]]]]]]]],",
	    "feed_too_deep" },
};

static struct feed *
parse_str(const char *s, struct err *e)
{
	struct feed *f = NULL;

	err_clear(e);
	feed_parse(s, strlen(s), &f, e);
	return f;
}

static char *
replaced(const char *from, const char *to)
{
	const char *at = strstr(good, from);
	size_t pre, n;
	char *s;

	if (at == NULL)
		return NULL;
	pre = (size_t)(at - good);
	n = strlen(good) - strlen(from) + strlen(to);
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, good, pre);
	memcpy(s + pre, to, strlen(to));
	strcpy(s + pre + strlen(to), at + strlen(from));
	return s;
}

static void
test_good(void)
{
	struct feed *f, *g;
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	struct err e;

	f = parse_str(good, &e);
	if (!ok(f != NULL, "good feed parses"))
		diag("%s [%s]", e.msg, e.code);
	if (f == NULL)
		return;
	is_str(f->uri, "https://example.org/feeds/hello.json", "uri");
	is_int((long long)f->serial, 3, "serial");
	is_int((long long)f->published, 1704067200, "published");
	is_int((long long)f->nimpls, 2, "two implementations");
	is_int(f->impls[0].platforms, FEED_PLATFORM_ALL, "platforms");
	is_int(f->impls[0].requires.console, 1, "console");
	is_int(f->impls[1].requires.net, 0, "net defaults to 0");
	is_int(f->impls[0].stability, FEED_TESTING, "stability");
	ok(feed_serialize(f, &a, &alen, &e) == 0, "serializes");
	ok(a != NULL && a[alen - 1] == '\n' && strlen(a) == alen,
	    "trailing newline, length right");
	ok(a != NULL && strncmp(a, "{\n  \"format\": 1,\n  \"uri\": ", 26) == 0,
	    "fixed key order, two-space indent");
	g = a == NULL ? NULL : parse_str(a, &e);
	ok(g != NULL && feed_equal(f, g), "parse(serialize(f)) == f");
	ok(g != NULL && feed_serialize(g, &b, &blen, &e) == 0 && blen == alen &&
	    memcmp(a, b, alen) == 0, "serialize is deterministic");
	free(a);
	free(b);
	feed_free(g);
	feed_free(f);
}

/* The example of docs/feeds.md, kept in tests/data, is in canonical form:
 * serializing what it parses to must give its bytes back. */
static void
test_golden(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *buf = NULL, *out = NULL;
	struct feed *f = NULL;
	size_t len, olen;
	struct err e;

	snprintf(path, sizeof(path), "%s/tests/data/feeds/hello.json",
	    top != NULL ? top : "..");
	err_clear(&e);
	if (!ok(fileio_read(path, FEED_MAX_SIZE, &buf, &len, &e) == 0,
	    "read %s", path))
		diag("%s", e.msg);
	ok(buf != NULL && feed_parse(buf, len, &f, &e) == 0, "golden parses");
	ok(f != NULL && feed_serialize(f, &out, &olen, &e) == 0 &&
	    olen == len && memcmp(out, buf, len) == 0,
	    "golden feed is its own canonical form");
	free(buf);
	free(out);
	feed_free(f);
}

static void
test_bad(void)
{
	struct feed *f;
	struct err e;
	size_t i;
	char *s;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		s = replaced(bads[i].from, bads[i].to);
		if (s == NULL) {
			ok(0, "case %zu: '%s' not in the good feed", i,
			    bads[i].from);
			continue;
		}
		f = parse_str(s, &e);
		if (!ok(f == NULL && strcmp(e.code, bads[i].code) == 0,
		    "bad feed %zu refused [%s]", i, bads[i].code))
			diag("got [%s] %s", f ? "accepted" : e.code, e.msg);
		feed_free(f);
		free(s);
	}
}

static void
test_bad_special(void)
{
	struct feed *f = NULL;
	struct err e;
	char *big;
	size_t n;

	f = parse_str("[1]", &e);
	is_str(e.code, "feed_bad_type", "array document refused");
	feed_free(f);
	f = parse_str("{\"format\": 1", &e);
	is_str(e.code, "feed_malformed_json", "truncated refused");
	f = parse_str("{\"format\": 1} x", &e);
	is_str(e.code, "feed_malformed_json", "trailing text refused");
	err_clear(&e);
	ok(feed_parse("{\"format\"\0: 1}", 14, &f, &e) == -1 &&
	    strcmp(e.code, "feed_malformed_json") == 0, "NUL byte refused");
	n = FEED_MAX_SIZE + 1;
	big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	err_clear(&e);
	ok(feed_parse(big, n, &f, &e) == -1 &&
	    strcmp(e.code, "feed_too_large") == 0, "over 4 MiB refused");
	free(big);

	/* The message names the implementation and its version. */
	big = replaced("\"size\": 900", "\"size\": 0");
	f = parse_str(big, &e);
	ok(strstr(e.msg, "implementations[1]") != NULL &&
	    strstr(e.msg, "1.2") != NULL && strstr(e.msg, "image.size") != NULL,
	    "message names index, version and field: %s", e.msg);
	free(big);
}

static void
fill_impl(struct feed_impl *im, const char *version, const char *arch,
    char *href)
{
	memset(im, 0, sizeof(*im));
	snprintf(im->version, sizeof(im->version), "%s", version);
	snprintf(im->arch, sizeof(im->arch), "%s", arch);
	strcpy(im->released, "2024-05-01");
	strcpy(im->boot, "pvh");
	im->stability = FEED_STABLE;
	im->platforms = FEED_PLATFORM_KVM;
	im->requires.memory = 16;
	im->image.href = href;
	im->image.size = 100;
	memset(im->image.sha256, 'e', 64);
}

static void
test_too_many(void)
{
	struct feed *f;
	struct feed_impl im;
	char v[32], href[] = "x.ukimg";
	char *a = NULL;
	size_t i, len;
	struct err e;
	int r = 0;

	f = feed_new("https://example.org/f.json", "many", &e);
	for (i = 0; i < FEED_MAX_IMPLS && r == 0; i++) {
		snprintf(v, sizeof(v), "1.%zu", i);
		fill_impl(&im, v, "x86_64", href);
		r = feed_impl_upsert(f, &im, &e);
	}
	ok(r == 0 && f->nimpls == FEED_MAX_IMPLS, "1024 implementations fit");
	fill_impl(&im, "2", "x86_64", href);
	err_clear(&e);
	ok(feed_impl_upsert(f, &im, &e) == -1 &&
	    strcmp(e.code, "feed_too_many_implementations") == 0,
	    "the 1025th is refused");
	feed_set_summary(f, "many", &e);
	feed_set_published(f, 1000, &e);
	feed_set_expires(f, 2000, &e);
	ok(feed_serialize(f, &a, &len, &e) == 0, "big feed serializes");
	feed_free(f);
	f = NULL;
	if (a != NULL) {
		/* One more implementation by hand in the JSON text. */
		char *p = strstr(a, "\"implementations\": [");
		char *s = malloc(len + 512);
		size_t pre = (size_t)(p - a) + strlen("\"implementations\": [");

		memcpy(s, a, pre);
		strcpy(s + pre, "{\"version\": \"7\"},");
		strcat(s, a + pre);
		f = parse_str(s, &e);
		is_str(e.code, "feed_too_many_implementations",
		    "1025 in a document refused");
		free(s);
	}
	free(a);
	feed_free(f);
}

static void
test_build(void)
{
	struct feed *f, *g;
	struct feed_impl im;
	char href[] = "images/a.ukimg", m0[] = "https://m.example.org/a";
	char *mir[] = { m0 };
	char *a = NULL;
	size_t len;
	struct err e;

	err_clear(&e);
	ok(feed_new("nope", "x", &e) == NULL &&
	    strcmp(e.code, "feed_bad_uri") == 0, "feed_new checks the uri");
	f = feed_new("https://example.org/feeds/a.json", "a", &e);
	ok(f != NULL, "feed_new");
	if (f == NULL)
		return;
	ok(feed_serialize(f, &a, &len, &e) == -1 &&
	    strcmp(e.code, "feed_bad_summary") == 0,
	    "a new feed needs a summary before it serializes");
	ok(feed_set_serial(f, 0, &e) == -1, "serial 0 refused");
	ok(feed_set_published(f, -1, &e) == -1, "negative time refused");
	feed_set_summary(f, "A", &e);
	feed_set_serial(f, 7, &e);
	feed_set_published(f, 1700000000, &e);
	feed_set_expires(f, 1600000000, &e);
	ok(feed_serialize(f, &a, &len, &e) == -1 &&
	    strcmp(e.code, "feed_expires_before_published") == 0,
	    "serialize validates");
	feed_set_expires(f, 1800000000, &e);
	ok(feed_add_mirror(f, "https://m.example.org/a.json", &e) == 0,
	    "add mirror");
	fill_impl(&im, "1.9", "x86_64", href);
	feed_impl_upsert(f, &im, &e);
	fill_impl(&im, "1.10", "x86_64", href);
	feed_impl_upsert(f, &im, &e);
	fill_impl(&im, "1.10", "aarch64", href);
	feed_impl_upsert(f, &im, &e);
	fill_impl(&im, "1.2", "x86_64", href);
	feed_impl_upsert(f, &im, &e);
	ok(f->nimpls == 4 && strcmp(f->impls[0].version, "1.10") == 0 &&
	    strcmp(f->impls[0].arch, "aarch64") == 0 &&
	    strcmp(f->impls[2].version, "1.9") == 0 &&
	    strcmp(f->impls[3].version, "1.2") == 0,
	    "kept sorted, highest version first");
	fill_impl(&im, "1.9", "x86_64", href);
	im.image.size = 555;
	im.image.mirrors = mir;
	im.image.nmirrors = 1;
	ok(feed_impl_upsert(f, &im, &e) == 0 && f->nimpls == 4 &&
	    f->impls[2].image.size == 555 && f->impls[2].image.mirrors != mir,
	    "same version and arch replaces, copying");
	fill_impl(&im, "1.9.", "x86_64", href);
	err_clear(&e);
	ok(feed_impl_upsert(f, &im, &e) == -1 && f->nimpls == 4 &&
	    strcmp(e.code, "feed_bad_version") == 0, "bad impl refused");
	ok(feed_serialize(f, &a, &len, &e) == 0, "built feed serializes");
	g = a ? parse_str(a, &e) : NULL;
	ok(g != NULL && feed_equal(f, g), "and parses back equal");
	free(a);
	feed_free(g);
	feed_free(f);
}

static void
test_href(void)
{
	static const char *const cases[][3] = {
		{ "https://example.org/feeds/a.json", "img/a.ukimg",
		    "https://example.org/feeds/img/a.ukimg" },
		{ "https://example.org/a.json?x=1", "a.ukimg",
		    "https://example.org/a.ukimg" },
		{ "https://example.org", "a.ukimg",
		    "https://example.org/a.ukimg" },
		{ "https://example.org/f/a.json", "https://cdn.example/a.ukimg",
		    "https://cdn.example/a.ukimg" },
		{ "file:///srv/feeds/a.json", "a.ukimg",
		    "file:///srv/feeds/a.ukimg" },
		{ "/srv/feeds/a.json", "b/a.ukimg", "/srv/feeds/b/a.ukimg" },
		{ "a.json", "a.ukimg", "a.ukimg" },
		{ "feeds/a.json", "a.ukimg", "feeds/a.ukimg" },
	};
	char out[256], small[8];
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok(feed_resolve_href(cases[i][0], cases[i][1], out,
		    sizeof(out), NULL) == 0 && strcmp(out, cases[i][2]) == 0,
		    "resolve %s against %s", cases[i][1], cases[i][0]);
	}
	err_clear(&e);
	ok(feed_resolve_href("https://a/b", "../x", out, sizeof(out), &e) ==
	    -1 && strcmp(e.code, "feed_bad_href") == 0, "'..' refused");
	ok(feed_resolve_href("https://a/b", "/etc/passwd", out, sizeof(out),
	    &e) == -1, "absolute path refused");
	ok(feed_resolve_href("https://a/b/c.json", "long.ukimg", small,
	    sizeof(small), &e) == -1, "too long for the buffer refused");
}

static void
test_time(void)
{
	char buf[FEED_TIME_LEN + 1];
	time_t t;

	ok(feed_parse_time("1970-01-01T00:00:00Z", &t, NULL) == 0 && t == 0,
	    "epoch");
	ok(feed_parse_time("2024-02-29T23:59:59Z", &t, NULL) == 0,
	    "leap day");
	ok(feed_parse_time("2023-02-29T00:00:00Z", &t, NULL) == -1,
	    "no leap day in 2023");
	ok(feed_parse_time("2024-01-01T24:00:00Z", &t, NULL) == -1, "hour 24");
	ok(feed_parse_time("1969-12-31T23:59:59Z", &t, NULL) == -1,
	    "before 1970");
	ok(feed_parse_time("2024-01-01t00:00:00z", &t, NULL) == -1,
	    "lowercase refused");
	ok(feed_format_time(1704067200, buf) == 0 &&
	    strcmp(buf, "2024-01-01T00:00:00Z") == 0, "format");
	ok(feed_format_time(-1, buf) == -1, "format refuses negative");
}

int
main(void)
{
	test_good();
	test_golden();
	test_bad();
	test_bad_special();
	test_build();
	test_too_many();
	test_href();
	test_time();
	return tap_done();
}
