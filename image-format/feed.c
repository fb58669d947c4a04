#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "feed.h"
#include "jsonstrict.h"

#define TIME_MAX ((time_t)253402300799)	/* 9999-12-31T23:59:59Z */
#define DIGEST_HEX_LEN 64

/*
 * Where an error happened, so that every message can name the
 * implementation (index and version) as well as the field.
 */
struct ctx {
	struct err *e;
	long index;		/* -1 outside implementations[] */
	const char *version;	/* of implementations[index], may be "" */
};

static const char *const stability_names[] = {
	[FEED_INSECURE] = "insecure",
	[FEED_BUGGY] = "buggy",
	[FEED_DEVELOPER] = "developer",
	[FEED_TESTING] = "testing",
	[FEED_STABLE] = "stable",
};

static const struct {
	const char *name;
	unsigned bit;
} platform_names[] = {
	{ "kvm", FEED_PLATFORM_KVM },
	{ "xen", FEED_PLATFORM_XEN },
};

#define NPLATFORMS (sizeof(platform_names) / sizeof(platform_names[0]))

/* ---- messages ---- */

/* Names the implementation (index and version) in front of the message in
 * (c->e) when the error happened inside implementations[].  Returns -1. */
static int
in_impl(const struct ctx *c)
{
	char q[100];

	if (c->index < 0)
		return -1;
	return err_prefix(c->e, "implementations[%ld] (version '%s')",
	    c->index, jsonstrict_quote(c->version, q, sizeof(q)));
}

static int fail(const struct ctx *c, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(const struct ctx *c, const char *code, const char *field,
    const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_set(c->e, code, "%s: %s", field, what);
	return in_impl(c);
}

/* ---- field rules, shared by the parser and feed_validate() ---- */

static int
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static const char *
url_scheme_end(const char *s)
{
	static const char *const schemes[] = { "https://", "http://",
		"file://" };
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (has_prefix(s, schemes[i]))
			return s + strlen(schemes[i]);
	return NULL;
}

/* Bytes no URL of ours may hold; "..", an encoded dot and a backslash are
 * refused so that no href can climb out of the feed's directory. */
static const char *
url_chars_problem(const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0')
		return "empty";
	if (strnlen(s, FEED_URL_MAX + 1) > FEED_URL_MAX)
		return "longer than 1024 bytes";
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return "control, blank, non-ASCII or backslash byte";
	if (strstr(s, "..") != NULL)
		return "contains \"..\"";
	if (strcasestr(s, "%2e") != NULL)
		return "contains an encoded dot";
	return NULL;
}

/* NULL when (s) is an absolute http, https or file URL we accept. */
static const char *
url_abs_problem(const char *s)
{
	const char *why, *rest;

	if ((why = url_chars_problem(s)) != NULL)
		return why;
	if ((rest = url_scheme_end(s)) == NULL)
		return "not an http://, https:// or file:// URL";
	if (has_prefix(s, "file://"))
		return *rest == '/' ? NULL : "a file URL must be file:///path";
	if (*rest == '/' || *rest == '\0' || *rest == '?' || *rest == '#')
		return "no host";
	return NULL;
}

static const char *
href_problem(const char *s)
{
	const char *why, *colon, *slash;

	if ((why = url_chars_problem(s)) != NULL)
		return why;
	colon = strchr(s, ':');
	slash = strchr(s, '/');
	if (colon != NULL && (slash == NULL || colon < slash))
		return url_abs_problem(s);
	if (*s == '/')
		return "must be relative to the feed or an absolute URL";
	if (*s == '?' || *s == '#' || s[strlen(s) - 1] == '/')
		return "names no file";
	return NULL;
}

static int
check_url(const struct ctx *c, const char *code, const char *field,
    const char *s)
{
	const char *why = url_abs_problem(s);
	char q[100];

	if (why == NULL)
		return 0;
	return fail(c, code, field, "'%s': %s",
	    jsonstrict_quote(s, q, sizeof(q)), why);
}

static int
check_name(const struct ctx *c, const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return fail(c, "feed_bad_name", "name", "empty");
	if (strnlen(s, FEED_NAME_MAX + 1) > FEED_NAME_MAX)
		return fail(c, "feed_bad_name", "name", "longer than %d bytes",
		    FEED_NAME_MAX);
	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') ||
		    (i > 0 && (ch == '.' || ch == '_' || ch == '-')))
			continue;
		return fail(c, "feed_bad_name", "name", "only letters, digits "
		    "and (after the first) '.', '_', '-' are allowed");
	}
	return 0;
}

static int
check_summary(const struct ctx *c, const char *s)
{
	const unsigned char *p;

	if (s == NULL || s[0] == '\0')
		return fail(c, "feed_bad_summary", "summary", "empty");
	if (strnlen(s, FEED_SUMMARY_MAX + 1) > FEED_SUMMARY_MAX)
		return fail(c, "feed_bad_summary", "summary",
		    "longer than %d bytes", FEED_SUMMARY_MAX);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return fail(c, "feed_bad_summary", "summary",
			    "control character");
	if (s[jsonstrict_utf8_span(s, 0)] != '\0')
		return fail(c, "feed_bad_summary", "summary",
		    "not valid UTF-8");
	return 0;
}

static int
check_time_range(const struct ctx *c, const char *field, time_t t)
{
	if (t < 0 || t > TIME_MAX)
		return fail(c, "feed_bad_time", field, "%lld is outside "
		    "the years 1970 to 9999", (long long)t);
	return 0;
}

/* A list of absolute URLs (feed or image mirrors): bounded, no repeats. */
static int
check_mirrors(const struct ctx *c, const char *field, char *const *v,
    size_t n)
{
	char name[64];
	size_t i, j;

	if (n > FEED_MAX_MIRRORS)
		return fail(c, "feed_too_many_mirrors", field, "%zu entries, "
		    "at most %d", n, FEED_MAX_MIRRORS);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s[%zu]", field, i);
		if (check_url(c, "feed_bad_mirror", name, v[i]) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(v[i], v[j]) == 0)
				return fail(c, "feed_bad_mirror", name,
				    "repeats %s[%zu]", field, j);
	}
	return 0;
}

/* ---- times ---- */

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Strict "YYYY-MM-DDTHH:MM:SSZ"; a round trip through gmtime_r() refuses
 * dates that do not exist (February 30th, hour 24, leap seconds). */
static int
time_parse(const char *s, time_t *t)
{
	struct tm tm, back;

	memset(&tm, 0, sizeof(tm));
	if (strnlen(s, FEED_TIME_LEN + 1) != FEED_TIME_LEN || s[4] != '-' ||
	    s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z')
		return -1;
	if (digits(s, 4, &tm.tm_year) == -1 ||
	    digits(s + 5, 2, &tm.tm_mon) == -1 ||
	    digits(s + 8, 2, &tm.tm_mday) == -1 ||
	    digits(s + 11, 2, &tm.tm_hour) == -1 ||
	    digits(s + 14, 2, &tm.tm_min) == -1 ||
	    digits(s + 17, 2, &tm.tm_sec) == -1 || tm.tm_year < 1970)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	back = tm;
	*t = timegm(&tm);
	if (*t < 0 || gmtime_r(t, &tm) == NULL || tm.tm_year != back.tm_year ||
	    tm.tm_mon != back.tm_mon || tm.tm_mday != back.tm_mday ||
	    tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min ||
	    tm.tm_sec != back.tm_sec)
		return -1;
	return 0;
}

int
feed_parse_time(const char *s, time_t *t, struct err *e)
{
	char q[100];

	if (s != NULL && time_parse(s, t) == 0)
		return 0;
	return err_set(e, "feed_bad_time", "'%s' is not a UTC time such as "
	    "2024-01-31T12:00:00Z", jsonstrict_quote(s, q, sizeof(q)));
}

int
feed_format_time(time_t t, char buf[FEED_TIME_LEN + 1])
{
	struct tm tm;

	if (t < 0 || t > TIME_MAX || gmtime_r(&t, &tm) == NULL)
		return -1;
	return strftime(buf, FEED_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) ==
	    FEED_TIME_LEN ? 0 : -1;
}

static int
date_valid(const char *s)
{
	char full[FEED_TIME_LEN + 1];
	time_t t;

	if (strnlen(s, FEED_DATE_LEN + 1) != FEED_DATE_LEN)
		return 0;
	snprintf(full, sizeof(full), "%sT00:00:00Z", s);
	return time_parse(full, &t) == 0;
}

/* ---- names ---- */

const char *
feed_stability_name(enum feed_stability s)
{
	if ((unsigned)s > FEED_STABLE)
		return NULL;
	return stability_names[s];
}

int
feed_stability_parse(const char *name, enum feed_stability *s)
{
	unsigned i;

	for (i = 0; i <= FEED_STABLE && name != NULL; i++) {
		if (strcmp(name, stability_names[i]) == 0) {
			*s = (enum feed_stability)i;
			return 0;
		}
	}
	return -1;
}

const char *
feed_platform_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < NPLATFORMS; i++)
		if (platform_names[i].bit == bit)
			return platform_names[i].name;
	return NULL;
}

int
feed_platform_parse(const char *name, unsigned *bit)
{
	size_t i;

	for (i = 0; i < NPLATFORMS && name != NULL; i++) {
		if (strcmp(name, platform_names[i].name) == 0) {
			*bit = platform_names[i].bit;
			return 0;
		}
	}
	return -1;
}

/* ---- validation ---- */

/* Fixed-size fields of a caller-built struct may lack their NUL. */
static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int
check_version(const struct ctx *c, const struct feed_impl *impl)
{
	struct err ve;

	if (!terminated(impl->version, sizeof(impl->version)))
		return fail(c, "feed_bad_version", "version", "too long");
	if (version_check(impl->version, &ve) == -1)
		return fail(c, "feed_bad_version", "version", "%s", ve.msg);
	return 0;
}

static int
check_arch(const struct ctx *c, const char *arch)
{
	size_t i;

	if (!terminated(arch, FEED_ARCH_MAX) || arch[0] == '\0')
		return fail(c, "feed_bad_arch", "arch", "must be 1 to %d "
		    "bytes", FEED_ARCH_MAX - 1);
	for (i = 0; arch[i] != '\0'; i++)
		if (!((arch[i] >= 'a' && arch[i] <= 'z') ||
		    (arch[i] >= '0' && arch[i] <= '9') || arch[i] == '_'))
			return fail(c, "feed_bad_arch", "arch", "only "
			    "lowercase letters, digits and '_' (x86_64)");
	return 0;
}

static int
check_requires(const struct ctx *c, const struct feed_requires *r)
{
	if (r->memory < 1 || r->memory > FEED_MEMORY_MAX)
		return fail(c, "feed_bad_requires", "requires.memory",
		    "%u MiB, must be 1 to %u", r->memory, FEED_MEMORY_MAX);
	if (r->net > FEED_NET_MAX)
		return fail(c, "feed_bad_requires", "requires.net",
		    "%u interfaces, at most %d", r->net, FEED_NET_MAX);
	if (r->console != 0 && r->console != 1)
		return fail(c, "feed_bad_requires", "requires.console",
		    "must be true or false");
	return 0;
}

static int
check_image(const struct ctx *c, const struct feed_image *im)
{
	const char *why;
	char q[100];
	size_t i;

	if ((why = href_problem(im->href)) != NULL)
		return fail(c, "feed_bad_href", "image.href", "'%s': %s",
		    jsonstrict_quote(im->href, q, sizeof(q)), why);
	if (im->size < 1 || im->size > FEED_IMAGE_MAX_SIZE)
		return fail(c, "feed_bad_size", "image.size", "%llu bytes, "
		    "must be 1 to 4 GiB", (unsigned long long)im->size);
	for (i = 0; i < DIGEST_HEX_LEN; i++)
		if (!((im->sha256[i] >= '0' && im->sha256[i] <= '9') ||
		    (im->sha256[i] >= 'a' && im->sha256[i] <= 'f')))
			break;
	if (i != DIGEST_HEX_LEN || im->sha256[i] != '\0')
		return fail(c, "feed_bad_digest", "image.sha256", "must be 64 "
		    "lowercase hex digits");
	return check_mirrors(c, "image.mirrors", im->mirrors, im->nmirrors);
}

static int
impl_check(const struct ctx *c, const struct feed_impl *impl)
{
	if (check_version(c, impl) == -1)
		return -1;
	if ((unsigned)impl->stability > FEED_STABLE)
		return fail(c, "feed_bad_stability", "stability",
		    "not one of stable, testing, developer, buggy, insecure");
	if (!terminated(impl->released, sizeof(impl->released)) ||
	    !date_valid(impl->released))
		return fail(c, "feed_bad_time", "released", "not a date such "
		    "as 2024-01-31");
	if (check_arch(c, impl->arch) == -1)
		return -1;
	if (!terminated(impl->boot, sizeof(impl->boot)) ||
	    strcmp(impl->boot, "pvh") != 0)
		return fail(c, "feed_bad_boot", "boot", "must be \"pvh\"");
	if (impl->platforms == 0 || (impl->platforms & ~FEED_PLATFORM_ALL))
		return fail(c, "feed_bad_platform", "platforms", "must name "
		    "kvm, xen or both");
	if (check_requires(c, &impl->requires) == -1)
		return -1;
	return check_image(c, &impl->image);
}

int
feed_impl_validate(const struct feed_impl *impl, size_t index, struct err *e)
{
	struct ctx c = { e, (long)index,
		terminated(impl->version, sizeof(impl->version)) ?
		impl->version : "" };

	return impl_check(&c, impl);
}

static int
impl_order(const void *pa, const void *pb)
{
	const struct feed_impl *a = pa, *b = pb;
	int r = version_compare(b->version, a->version);

	return r != 0 ? r : strcmp(a->arch, b->arch);
}

static int
impl_index_order(const void *pa, const void *pb, void *arg)
{
	const struct feed_impl *impls = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int r = impl_order(&impls[a], &impls[b]);

	return r != 0 ? r : (a > b) - (a < b);
}

/* Sorting indices finds equal (version, arch) pairs in n log n. */
static int
check_duplicates(const struct feed *f, struct err *e)
{
	struct ctx c = { e, -1, "" };
	size_t *idx, i, a, b;

	if (f->nimpls < 2)
		return 0;
	if ((idx = calloc(f->nimpls, sizeof(*idx))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory checking a feed");
	for (i = 0; i < f->nimpls; i++)
		idx[i] = i;
	qsort_r(idx, f->nimpls, sizeof(*idx), impl_index_order, f->impls);
	for (i = 1; i < f->nimpls; i++) {
		a = idx[i - 1];
		b = idx[i];
		if (impl_order(&f->impls[a], &f->impls[b]) != 0)
			continue;
		free(idx);
		c.index = (long)b;
		c.version = f->impls[b].version;
		return fail(&c, "feed_duplicate_implementation", "version",
		    "already given for %s by implementations[%zu]",
		    f->impls[b].arch, a);
	}
	free(idx);
	return 0;
}

static int
check_header(const struct ctx *c, const struct feed *f)
{
	if (f->format != FEED_FORMAT)
		return fail(c, "feed_unsupported_format", "format", "%d, this "
		    "program reads format %d", f->format, FEED_FORMAT);
	if (check_url(c, "feed_bad_uri", "uri", f->uri) == -1 ||
	    check_name(c, f->name) == -1 || check_summary(c, f->summary) == -1)
		return -1;
	if (f->serial < 1 || f->serial > FEED_SERIAL_MAX)
		return fail(c, "feed_bad_serial", "serial", "must be 1 to %lld",
		    (long long)FEED_SERIAL_MAX);
	if (check_time_range(c, "published", f->published) == -1 ||
	    check_time_range(c, "expires", f->expires) == -1)
		return -1;
	if (f->expires <= f->published)
		return fail(c, "feed_expires_before_published", "expires",
		    "must be later than published");
	return check_mirrors(c, "mirrors", f->mirrors, f->nmirrors);
}

int
feed_validate(const struct feed *f, struct err *e)
{
	struct ctx c = { e, -1, "" };
	size_t i;

	if (check_header(&c, f) == -1)
		return -1;
	if (f->nimpls > FEED_MAX_IMPLS)
		return fail(&c, "feed_too_many_implementations",
		    "implementations", "%zu, at most %d", f->nimpls,
		    FEED_MAX_IMPLS);
	for (i = 0; i < f->nimpls; i++)
		if (feed_impl_validate(&f->impls[i], i, e) == -1)
			return -1;
	return check_duplicates(f, e);
}

/* ---- memory ---- */

static void
strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
impl_clear(struct feed_impl *impl)
{
	free(impl->image.href);
	strings_free(impl->image.mirrors, impl->image.nmirrors);
	memset(impl, 0, sizeof(*impl));
}

void
feed_free(struct feed *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->uri);
	free(f->name);
	free(f->summary);
	strings_free(f->mirrors, f->nmirrors);
	for (i = 0; i < f->nimpls; i++)
		impl_clear(&f->impls[i]);
	free(f->impls);
	free(f);
}

static int
strings_copy(char *const *src, size_t n, char ***dst)
{
	size_t i;

	*dst = NULL;
	if (n == 0)
		return 0;
	if ((*dst = calloc(n, sizeof(**dst))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (((*dst)[i] = strdup(src[i])) == NULL) {
			strings_free(*dst, i);
			*dst = NULL;
			return -1;
		}
	}
	return 0;
}

static int
impl_copy(struct feed_impl *dst, const struct feed_impl *src)
{
	*dst = *src;
	dst->image.mirrors = NULL;
	dst->image.nmirrors = 0;
	if ((dst->image.href = strdup(src->image.href)) == NULL)
		return -1;
	if (strings_copy(src->image.mirrors, src->image.nmirrors,
	    &dst->image.mirrors) == -1) {
		free(dst->image.href);
		dst->image.href = NULL;
		return -1;
	}
	dst->image.nmirrors = src->image.nmirrors;
	return 0;
}

/* ---- JSON reading ---- */

static const char *const top_keys[] = { "format", "uri", "name", "summary",
	"serial", "published", "expires", "mirrors", "implementations", NULL };
static const char *const impl_keys[] = { "version", "stability", "released",
	"arch", "boot", "platforms", "requires", "image", NULL };
static const char *const requires_keys[] = { "memory", "net", "console",
	NULL };
static const char *const image_keys[] = { "href", "size", "sha256",
	"mirrors", NULL };

/* How a feed is read (common/jsonstrict.h).  The raw scan runs before the
 * schema: a repeated key is refused whatever else is wrong. */
static const struct jsonstrict_rules json_rules = {
	.max_depth = FEED_MAX_DEPTH,
	.malformed = "feed_malformed_json",
	.too_deep = "feed_too_deep",
	.not_object = "feed_bad_type",
	.escaped_key = "feed_unknown_field",
	.duplicate_key = "feed_duplicate_key",
	.too_many_keys = "feed_unknown_field",
	.unknown_key = "feed_unknown_field",
	.missing = "feed_missing_field",
	.bad_type = "feed_bad_type",
};

static int
check_keys(const struct ctx *c, json_object *o, const char *const *known,
    const char *where)
{
	if (jsonstrict_check_keys(o, known, where, &json_rules, c->e) == -1)
		return in_impl(c);
	return 0;
}

/* (*out) becomes the member (key) of type (t); NULL when absent and not
 * (required). */
static int
member(const struct ctx *c, json_object *o, const char *key,
    const char *field, json_type t, int required, json_object **out)
{
	if (jsonstrict_member(o, key, field, t, required, &json_rules, out,
	    c->e) == -1)
		return in_impl(c);
	return 0;
}

/* A required string without NUL bytes (which C would silently cut). */
static int
get_str(const struct ctx *c, json_object *o, const char *key,
    const char *field, const char *code, const char **out)
{
	json_object *v;

	if (member(c, o, key, field, json_type_string, 1, &v) == -1)
		return -1;
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return fail(c, code, field, "contains a NUL byte");
	return 0;
}

static int
get_strdup(const struct ctx *c, json_object *o, const char *key,
    const char *code, char **out)
{
	const char *s;

	if (get_str(c, o, key, key, code, &s) == -1)
		return -1;
	if ((*out = strdup(s)) == NULL)
		return err_set(c->e, ERR_NOMEM, "out of memory reading %s",
		    key);
	return 0;
}

static int
get_fixed(const struct ctx *c, json_object *o, const char *key,
    const char *code, char *dst, size_t dstsz)
{
	const char *s;
	char q[100];

	if (get_str(c, o, key, key, code, &s) == -1)
		return -1;
	if (strlen(s) >= dstsz)
		return fail(c, code, key, "'%s' is longer than %zu bytes",
		    jsonstrict_quote(s, q, sizeof(q)), dstsz - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* An integer in (min)..(max); (*v) is left alone when optional and absent. */
static int
get_u64(const struct ctx *c, json_object *o, const char *key,
    const char *field, const char *code, uint64_t min, uint64_t max,
    int required, uint64_t *v)
{
	json_object *j;

	if (member(c, o, key, field, json_type_int, required, &j) == -1)
		return -1;
	if (j == NULL)
		return 0;
	if (json_object_get_int64(j) < 0 || json_object_get_uint64(j) < min ||
	    json_object_get_uint64(j) > max)
		return fail(c, code, field, "must be %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
	*v = json_object_get_uint64(j);
	return 0;
}

static int
get_time(const struct ctx *c, json_object *o, const char *key, time_t *t)
{
	const char *s;
	char q[100];

	if (get_str(c, o, key, key, "feed_bad_time", &s) == -1)
		return -1;
	if (time_parse(s, t) == -1)
		return fail(c, "feed_bad_time", key, "'%s' is not a UTC time "
		    "such as 2024-01-31T12:00:00Z",
		    jsonstrict_quote(s, q, sizeof(q)));
	return 0;
}

static int
get_urls(const struct ctx *c, json_object *o, const char *field,
    char ***out, size_t *n)
{
	json_object *a, *v;
	char name[64];
	size_t i, len;

	if (member(c, o, "mirrors", field, json_type_array, 0, &a) == -1)
		return -1;
	if (a == NULL || (len = json_object_array_length(a)) == 0)
		return 0;
	if (len > FEED_MAX_MIRRORS)
		return fail(c, "feed_too_many_mirrors", field, "%zu entries, "
		    "at most %d", len, FEED_MAX_MIRRORS);
	if ((*out = calloc(len, sizeof(**out))) == NULL)
		return err_set(c->e, ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		v = json_object_array_get_idx(a, i);
		snprintf(name, sizeof(name), "%s[%zu]", field, i);
		if (!json_object_is_type(v, json_type_string))
			return fail(c, "feed_bad_type", name, "must be a "
			    "string");
		if (((*out)[i] = strdup(json_object_get_string(v))) == NULL)
			return err_set(c->e, ERR_NOMEM, "out of memory");
		(*n)++;
		if (strlen((*out)[i]) != (size_t)json_object_get_string_len(v))
			return fail(c, "feed_bad_mirror", name, "contains a "
			    "NUL byte");
	}
	return 0;
}

static int
get_platforms(const struct ctx *c, json_object *o, unsigned *mask)
{
	json_object *a, *v;
	char name[32], q[100];
	unsigned bit;
	size_t i, len;

	if (member(c, o, "platforms", "platforms", json_type_array, 1, &a) ==
	    -1)
		return -1;
	if ((len = json_object_array_length(a)) == 0)
		return fail(c, "feed_bad_platform", "platforms", "empty");
	for (i = 0; i < len; i++) {
		v = json_object_array_get_idx(a, i);
		snprintf(name, sizeof(name), "platforms[%zu]", i);
		if (!json_object_is_type(v, json_type_string))
			return fail(c, "feed_bad_type", name, "must be a "
			    "string");
		if (feed_platform_parse(json_object_get_string(v), &bit) == -1)
			return fail(c, "feed_bad_platform", name, "'%s' is not "
			    "kvm or xen", jsonstrict_quote(
			    json_object_get_string(v), q, sizeof(q)));
		if (*mask & bit)
			return fail(c, "feed_bad_platform", name, "repeated");
		*mask |= bit;
	}
	return 0;
}

static int
read_requires(const struct ctx *c, json_object *o, struct feed_requires *r)
{
	json_object *req, *con;
	uint64_t v = 0;

	if (member(c, o, "requires", "requires", json_type_object, 1, &req) ==
	    -1 || check_keys(c, req, requires_keys, "requires") == -1)
		return -1;
	if (get_u64(c, req, "memory", "requires.memory", "feed_bad_requires",
	    1, FEED_MEMORY_MAX, 1, &v) == -1)
		return -1;
	r->memory = (uint32_t)v;
	v = 0;
	if (get_u64(c, req, "net", "requires.net", "feed_bad_requires",
	    0, FEED_NET_MAX, 0, &v) == -1)
		return -1;
	r->net = (uint32_t)v;
	if (member(c, req, "console", "requires.console", json_type_boolean, 0,
	    &con) == -1)
		return -1;
	r->console = con != NULL && json_object_get_boolean(con);
	return 0;
}

static int
read_image(const struct ctx *c, json_object *o, struct feed_image *im)
{
	json_object *img;
	const char *s;

	if (member(c, o, "image", "image", json_type_object, 1, &img) == -1 ||
	    check_keys(c, img, image_keys, "image") == -1)
		return -1;
	if (get_str(c, img, "href", "image.href", "feed_bad_href", &s) == -1)
		return -1;
	if ((im->href = strdup(s)) == NULL)
		return err_set(c->e, ERR_NOMEM, "out of memory");
	if (get_u64(c, img, "size", "image.size", "feed_bad_size",
	    1, FEED_IMAGE_MAX_SIZE, 1, &im->size) == -1)
		return -1;
	if (get_str(c, img, "sha256", "image.sha256", "feed_bad_digest", &s) ==
	    -1)
		return -1;
	if (strlen(s) != DIGEST_HEX_LEN)
		return fail(c, "feed_bad_digest", "image.sha256", "must be 64 "
		    "lowercase hex digits");
	memcpy(im->sha256, s, DIGEST_HEX_LEN + 1);
	return get_urls(c, img, "image.mirrors", &im->mirrors,
	    &im->nmirrors);
}

static int
read_impl(struct ctx *c, json_object *o, struct feed_impl *impl)
{
	const char *s;
	char q[100];

	if (!json_object_is_type(o, json_type_object))
		return fail(c, "feed_bad_type", "implementation", "must be an "
		    "object");
	if (get_fixed(c, o, "version", "feed_bad_version", impl->version,
	    sizeof(impl->version)) == -1)
		return -1;
	c->version = impl->version;
	if (check_keys(c, o, impl_keys, "implementation") == -1)
		return -1;
	if (get_str(c, o, "stability", "stability", "feed_bad_stability",
	    &s) == -1)
		return -1;
	if (feed_stability_parse(s, &impl->stability) == -1)
		return fail(c, "feed_bad_stability", "stability", "'%s' is not "
		    "one of stable, testing, developer, buggy, insecure",
		    jsonstrict_quote(s, q, sizeof(q)));
	if (get_fixed(c, o, "released", "feed_bad_time", impl->released,
	    sizeof(impl->released)) == -1 ||
	    get_fixed(c, o, "arch", "feed_bad_arch", impl->arch,
	    sizeof(impl->arch)) == -1 ||
	    get_fixed(c, o, "boot", "feed_bad_boot", impl->boot,
	    sizeof(impl->boot)) == -1 ||
	    get_platforms(c, o, &impl->platforms) == -1 ||
	    read_requires(c, o, &impl->requires) == -1)
		return -1;
	return read_image(c, o, &impl->image);
}

static int
read_impls(struct ctx *c, json_object *root, struct feed *f)
{
	json_object *a;
	size_t i, len;

	if (member(c, root, "implementations", "implementations",
	    json_type_array, 1, &a) == -1)
		return -1;
	if ((len = json_object_array_length(a)) > FEED_MAX_IMPLS)
		return fail(c, "feed_too_many_implementations",
		    "implementations", "%zu, at most %d", len, FEED_MAX_IMPLS);
	if (len == 0)
		return 0;
	if ((f->impls = calloc(len, sizeof(*f->impls))) == NULL)
		return err_set(c->e, ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		/* Counted first so that feed_free() sees a half-read one. */
		f->nimpls = i + 1;
		c->index = (long)i;
		c->version = "";
		if (read_impl(c, json_object_array_get_idx(a, i),
		    &f->impls[i]) == -1)
			return -1;
	}
	c->index = -1;
	return 0;
}

/* "format" is read before anything else: a newer format may have keys this
 * program does not know, and "unsupported format" is the useful answer. */
static int
read_top(struct ctx *c, json_object *root, struct feed *f)
{
	uint64_t serial = 0;
	json_object *fmt;

	if (member(c, root, "format", "format", json_type_int, 1, &fmt) == -1)
		return -1;
	if (json_object_get_int64(fmt) != FEED_FORMAT)
		return fail(c, "feed_unsupported_format", "format", "%lld, "
		    "this program reads format %d",
		    (long long)json_object_get_int64(fmt), FEED_FORMAT);
	f->format = FEED_FORMAT;
	if (check_keys(c, root, top_keys, "feed") == -1 ||
	    get_strdup(c, root, "uri", "feed_bad_uri", &f->uri) == -1 ||
	    get_strdup(c, root, "name", "feed_bad_name", &f->name) == -1 ||
	    get_strdup(c, root, "summary", "feed_bad_summary", &f->summary) ==
	    -1 ||
	    get_u64(c, root, "serial", "serial", "feed_bad_serial", 1,
	    FEED_SERIAL_MAX, 1, &serial) == -1 ||
	    get_time(c, root, "published", &f->published) == -1 ||
	    get_time(c, root, "expires", &f->expires) == -1 ||
	    get_urls(c, root, "mirrors", &f->mirrors, &f->nmirrors) == -1)
		return -1;
	f->serial = serial;
	return read_impls(c, root, f);
}

int
feed_parse(const char *buf, size_t len, struct feed **out, struct err *e)
{
	struct ctx c = { e, -1, "" };
	json_object *root;
	struct feed *f;
	int r;

	*out = NULL;
	if (len > FEED_MAX_SIZE)
		return err_set(e, "feed_too_large", "the feed is %zu bytes, "
		    "over the limit of %u", len, FEED_MAX_SIZE);
	if ((root = jsonstrict_parse(buf, len, &json_rules, e)) == NULL)
		return -1;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		json_object_put(root);
		return err_set(e, ERR_NOMEM, "out of memory parsing a feed");
	}
	r = read_top(&c, root, f);
	json_object_put(root);
	if (r == -1 || feed_validate(f, e) == -1) {
		feed_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

/* ---- JSON writing ---- */

static json_object *
jstrings(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void
jadd(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *
jimpl(const struct feed_impl *impl)
{
	json_object *o = json_object_new_object(), *req, *img, *pl;
	size_t i;

	pl = json_object_new_array();
	for (i = 0; i < NPLATFORMS; i++)
		if (impl->platforms & platform_names[i].bit)
			json_object_array_add(pl,
			    json_object_new_string(platform_names[i].name));
	req = json_object_new_object();
	jadd(req, "memory", json_object_new_int64(impl->requires.memory));
	jadd(req, "net", json_object_new_int64(impl->requires.net));
	jadd(req, "console", json_object_new_boolean(impl->requires.console));
	img = json_object_new_object();
	jadd(img, "href", json_object_new_string(impl->image.href));
	jadd(img, "size", json_object_new_int64((int64_t)impl->image.size));
	jadd(img, "sha256", json_object_new_string(impl->image.sha256));
	if (impl->image.nmirrors > 0)
		jadd(img, "mirrors", jstrings(impl->image.mirrors,
		    impl->image.nmirrors));
	jadd(o, "version", json_object_new_string(impl->version));
	jadd(o, "stability", json_object_new_string(
	    stability_names[impl->stability]));
	jadd(o, "released", json_object_new_string(impl->released));
	jadd(o, "arch", json_object_new_string(impl->arch));
	jadd(o, "boot", json_object_new_string(impl->boot));
	jadd(o, "platforms", pl);
	jadd(o, "requires", req);
	jadd(o, "image", img);
	return o;
}

static json_object *
jfeed(const struct feed *f)
{
	json_object *o = json_object_new_object(), *impls;
	char pub[FEED_TIME_LEN + 1], exp[FEED_TIME_LEN + 1];
	size_t i;

	feed_format_time(f->published, pub);
	feed_format_time(f->expires, exp);
	jadd(o, "format", json_object_new_int(f->format));
	jadd(o, "uri", json_object_new_string(f->uri));
	jadd(o, "name", json_object_new_string(f->name));
	jadd(o, "summary", json_object_new_string(f->summary));
	jadd(o, "serial", json_object_new_int64((int64_t)f->serial));
	jadd(o, "published", json_object_new_string(pub));
	jadd(o, "expires", json_object_new_string(exp));
	if (f->nmirrors > 0)
		jadd(o, "mirrors", jstrings(f->mirrors, f->nmirrors));
	impls = json_object_new_array();
	for (i = 0; i < f->nimpls; i++)
		json_object_array_add(impls, jimpl(&f->impls[i]));
	jadd(o, "implementations", impls);
	return o;
}

int
feed_serialize(const struct feed *f, char **out, size_t *len, struct err *e)
{
	json_object *o;
	const char *s;
	size_t n;

	*out = NULL;
	*len = 0;
	if (feed_validate(f, e) == -1)
		return -1;
	o = jfeed(f);
	s = o == NULL ? NULL : json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || (*out = malloc(n + 2)) == NULL) {
		json_object_put(o);
		return err_set(e, ERR_NOMEM, "out of memory writing a feed");
	}
	memcpy(*out, s, n);
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	*len = n + 1;
	json_object_put(o);
	return 0;
}

/* ---- building ---- */

struct feed *
feed_new(const char *uri, const char *name, struct err *e)
{
	struct ctx c = { e, -1, "" };
	struct feed *f;

	if (check_url(&c, "feed_bad_uri", "uri", uri) == -1 ||
	    check_name(&c, name) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->uri = strdup(uri)) == NULL ||
	    (f->name = strdup(name)) == NULL ||
	    (f->summary = strdup("")) == NULL) {
		feed_free(f);
		err_set(e, ERR_NOMEM, "out of memory creating a feed");
		return NULL;
	}
	f->format = FEED_FORMAT;
	f->serial = 1;
	return f;
}

int
feed_set_summary(struct feed *f, const char *summary, struct err *e)
{
	struct ctx c = { e, -1, "" };
	char *s;

	if (check_summary(&c, summary) == -1)
		return -1;
	if ((s = strdup(summary)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	free(f->summary);
	f->summary = s;
	return 0;
}

int
feed_set_serial(struct feed *f, uint64_t serial, struct err *e)
{
	struct ctx c = { e, -1, "" };

	if (serial < 1 || serial > FEED_SERIAL_MAX)
		return fail(&c, "feed_bad_serial", "serial",
		    "must be 1 to %lld", (long long)FEED_SERIAL_MAX);
	f->serial = serial;
	return 0;
}

int
feed_set_published(struct feed *f, time_t t, struct err *e)
{
	struct ctx c = { e, -1, "" };

	if (check_time_range(&c, "published", t) == -1)
		return -1;
	f->published = t;
	return 0;
}

int
feed_set_expires(struct feed *f, time_t t, struct err *e)
{
	struct ctx c = { e, -1, "" };

	if (check_time_range(&c, "expires", t) == -1)
		return -1;
	f->expires = t;
	return 0;
}

int
feed_add_mirror(struct feed *f, const char *url, struct err *e)
{
	struct ctx c = { e, -1, "" };
	char **v;
	char *s;
	size_t i;

	if (check_url(&c, "feed_bad_mirror", "mirrors", url) == -1)
		return -1;
	for (i = 0; i < f->nmirrors; i++)
		if (strcmp(f->mirrors[i], url) == 0)
			return 0;
	if (f->nmirrors == FEED_MAX_MIRRORS)
		return fail(&c, "feed_too_many_mirrors", "mirrors",
		    "at most %d", FEED_MAX_MIRRORS);
	if ((s = strdup(url)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((v = realloc(f->mirrors, (f->nmirrors + 1) * sizeof(*v))) == NULL) {
		free(s);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	v[f->nmirrors++] = s;
	f->mirrors = v;
	return 0;
}

int
feed_impl_upsert(struct feed *f, const struct feed_impl *impl, struct err *e)
{
	struct ctx c = { e, -1, "" };
	struct feed_impl copy, *v;
	size_t i;

	if (feed_impl_validate(impl, f->nimpls, e) == -1)
		return -1;
	for (i = 0; i < f->nimpls; i++)
		if (impl_order(&f->impls[i], impl) == 0)
			break;
	if (i == f->nimpls && f->nimpls == FEED_MAX_IMPLS)
		return fail(&c, "feed_too_many_implementations",
		    "implementations", "at most %d", FEED_MAX_IMPLS);
	if (impl_copy(&copy, impl) == -1)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (i < f->nimpls) {
		impl_clear(&f->impls[i]);
		f->impls[i] = copy;
	} else {
		v = realloc(f->impls, (f->nimpls + 1) * sizeof(*v));
		if (v == NULL) {
			impl_clear(&copy);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		f->impls = v;
		f->impls[f->nimpls++] = copy;
	}
	qsort(f->impls, f->nimpls, sizeof(*f->impls), impl_order);
	return 0;
}

/* ---- comparing ---- */

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
strings_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

static int
impl_eq(const struct feed_impl *a, const struct feed_impl *b)
{
	return strcmp(a->version, b->version) == 0 &&
	    a->stability == b->stability &&
	    strcmp(a->released, b->released) == 0 &&
	    strcmp(a->arch, b->arch) == 0 && strcmp(a->boot, b->boot) == 0 &&
	    a->platforms == b->platforms &&
	    a->requires.memory == b->requires.memory &&
	    a->requires.net == b->requires.net &&
	    a->requires.console == b->requires.console &&
	    str_eq(a->image.href, b->image.href) &&
	    a->image.size == b->image.size &&
	    strcmp(a->image.sha256, b->image.sha256) == 0 &&
	    strings_eq(a->image.mirrors, a->image.nmirrors, b->image.mirrors,
	    b->image.nmirrors);
}

int
feed_equal(const struct feed *a, const struct feed *b)
{
	size_t i;

	if (a->format != b->format || !str_eq(a->uri, b->uri) ||
	    !str_eq(a->name, b->name) || !str_eq(a->summary, b->summary) ||
	    a->serial != b->serial || a->published != b->published ||
	    a->expires != b->expires || a->nimpls != b->nimpls ||
	    !strings_eq(a->mirrors, a->nmirrors, b->mirrors, b->nmirrors))
		return 0;
	for (i = 0; i < a->nimpls; i++)
		if (!impl_eq(&a->impls[i], &b->impls[i]))
			return 0;
	return 1;
}

/* ---- hrefs ---- */

/* Length of the directory part of (url), with its slash; (*slash) is set
 * when a slash must be added (a bare "https://host"). */
static size_t
base_len(const char *url, int *slash)
{
	const char *rest = url_scheme_end(url), *host_end, *p;
	size_t end;

	*slash = 0;
	if (rest != NULL) {
		end = strcspn(url, "?#");
		host_end = rest + strcspn(rest, "/?#");
		if (*host_end != '/' && !has_prefix(url, "file://")) {
			*slash = 1;
			return (size_t)(host_end - url);
		}
	} else
		end = strlen(url);
	for (p = url + end; p > url && p[-1] != '/'; p--)
		;
	return (size_t)(p - url);
}

int
feed_resolve_href(const char *feed_url, const char *href, char *out,
    size_t outsz, struct err *e)
{
	const char *why;
	char q[100];
	size_t blen;
	int slash, n;

	if ((why = href_problem(href)) != NULL)
		return err_set(e, "feed_bad_href", "href '%s': %s",
		    jsonstrict_quote(href, q, sizeof(q)), why);
	if (feed_url == NULL || url_scheme_end(href) != NULL)
		feed_url = "";
	blen = base_len(feed_url, &slash);
	n = snprintf(out, outsz, "%.*s%s%s", (int)blen, feed_url,
	    slash ? "/" : "", href);
	if (n < 0 || (size_t)n >= outsz)
		return err_set(e, "feed_bad_href", "href '%s' resolved against "
		    "the feed's URL is longer than %zu bytes",
		    jsonstrict_quote(href, q, sizeof(q)), outsz - 1);
	return 0;
}
