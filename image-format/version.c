#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

/*
 * A parsed version is what 0install's parse_version() builds: an alternating
 * list "ints, modifier, ints, modifier, ..." that always ends on a modifier
 * (an implicit "" when the text does not end on one).  Storing it as pairs
 * (dotted list, modifier) lets one loop compare two versions the way Python
 * compares the nested lists.
 */
#define VPAIRS_MAX VERSION_MAX_LEN	/* "1-------..." */
#define VNUMS_MAX (VERSION_MAX_LEN / 2 + 1)

enum { MOD_PRE = -2, MOD_RC = -1, MOD_NONE = 0, MOD_POST = 1 };

struct vpair {
	uint8_t off;	/* first number in vparsed.num */
	uint8_t len;	/* how many; 0 between two modifiers ("1-pre-rc") */
	int8_t mod;
};

struct vparsed {
	size_t npair;
	size_t nnum;
	struct vpair pair[VPAIRS_MAX];
	uint32_t num[VNUMS_MAX];
};

enum bound_kind { BOUND_NONE, BOUND_INCL, BOUND_EXCL };

struct bound {
	enum bound_kind kind;
	struct vparsed v;
};

/* One "|" alternative: lo <= v <= hi with either end open, or "not v". */
struct alt {
	int negate;
	struct bound lo, hi;
};

struct version_range {
	size_t nalt;
	struct alt alt[];
};

/*
 * Quotes untrusted text for an error message: at most (max) bytes shown,
 * control and non-ASCII bytes as \xNN, so that messages stay one printable
 * line whatever was fed in.
 */
static const char *
quote(const char *s, size_t max, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 8 < bufsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static int
vfail(struct err *e, const char *s, const char *why)
{
	char q[VERSION_MAX_LEN * 4 + 16];

	return err_set(e, "version_invalid", "invalid version '%s': %s",
	    quote(s, VERSION_MAX_LEN, q, sizeof(q)), why);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads one decimal component at (*pp); refuses values above UINT32_MAX. */
static int
parse_num(const char **pp, uint32_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	for (; is_digit(*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	*pp = p;
	return 0;
}

/* A dotted list of numbers, possibly empty; a dot must sit between digits. */
static int
parse_list(const char **pp, struct vparsed *v, struct vpair *pr,
    const char *s, struct err *e)
{
	const char *p = *pp;

	pr->off = (uint8_t)v->nnum;
	pr->len = 0;
	if (*p == '.')
		return vfail(e, s, "a dot must follow a number");
	if (!is_digit(*p))
		return 0;
	for (;;) {
		if (v->nnum == VNUMS_MAX)
			return vfail(e, s, "too many components");
		if (parse_num(&p, &v->num[v->nnum]) == -1)
			return vfail(e, s, "a component is above 4294967295");
		v->nnum++;
		pr->len++;
		if (*p != '.')
			break;
		p++;
		if (!is_digit(*p))
			return vfail(e, s, "a dot must be followed by a "
			    "number");
	}
	*pp = p;
	return 0;
}

/* The word after a "-": [a-z]*, which must name a known modifier. */
static int
parse_mod(const char **pp, int8_t *mod, const char *s, struct err *e)
{
	static const struct {
		const char *word;
		int8_t value;
	} mods[] = {
		{ "pre", MOD_PRE }, { "rc", MOD_RC }, { "", MOD_NONE },
		{ "post", MOD_POST },
	};
	const char *p = *pp;
	size_t n = 0, i;

	while (p[n] >= 'a' && p[n] <= 'z')
		n++;
	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		if (strlen(mods[i].word) == n &&
		    strncmp(mods[i].word, p, n) == 0) {
			*mod = mods[i].value;
			*pp = p + n;
			return 0;
		}
	}
	return vfail(e, s, "unknown modifier (use pre, rc, post or none)");
}

static int
vparse(const char *s, struct vparsed *v, struct err *e)
{
	const char *p = s;
	struct vpair *pr;

	if (s == NULL)
		return err_set(e, "version_invalid", "no version given");
	if (strnlen(s, VERSION_MAX_LEN + 1) > VERSION_MAX_LEN)
		return vfail(e, s, "longer than 64 bytes");
	if (*s == '\0')
		return vfail(e, s, "empty");
	if (!is_digit(*s))
		return vfail(e, s, "must start with a number");
	v->npair = v->nnum = 0;
	for (;;) {
		if (v->npair == VPAIRS_MAX)
			return vfail(e, s, "too many modifiers");
		pr = &v->pair[v->npair++];
		if (parse_list(&p, v, pr, s, e) == -1)
			return -1;
		if (*p == '\0') {
			pr->mod = MOD_NONE;
			return 0;
		}
		if (*p != '-')
			return vfail(e, s, "only digits, dots and -modifiers "
			    "are allowed");
		p++;
		if (parse_mod(&p, &pr->mod, s, e) == -1)
			return -1;
		if (*p == '\0')
			return 0;
		if (*p != '-' && !is_digit(*p))
			return vfail(e, s, "a modifier must be followed by "
			    "a number, \"-\" or the end");
	}
}

static int
cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int
cmp_list(const struct vparsed *a, const struct vpair *pa,
    const struct vparsed *b, const struct vpair *pb)
{
	size_t i;
	int c;

	for (i = 0; i < pa->len && i < pb->len; i++) {
		c = cmp_u32(a->num[pa->off + i], b->num[pb->off + i]);
		if (c != 0)
			return c;
	}
	return cmp_u32(pa->len, pb->len);
}

static int
vcmp(const struct vparsed *a, const struct vparsed *b)
{
	size_t i;
	int c;

	for (i = 0; i < a->npair && i < b->npair; i++) {
		c = cmp_list(a, &a->pair[i], b, &b->pair[i]);
		if (c != 0)
			return c;
		if (a->pair[i].mod != b->pair[i].mod)
			return a->pair[i].mod < b->pair[i].mod ? -1 : 1;
	}
	return a->npair < b->npair ? -1 : a->npair > b->npair;
}

int
version_check(const char *s, struct err *e)
{
	struct vparsed v;

	return vparse(s, &v, e);
}

int
version_compare(const char *a, const char *b)
{
	struct vparsed va, vb;
	int oka, okb;

	oka = vparse(a, &va, NULL) == 0;
	okb = vparse(b, &vb, NULL) == 0;
	if (oka && okb)
		return vcmp(&va, &vb);
	if (oka != okb)
		return oka ? 1 : -1;
	/* Both invalid: any consistent total order will do. */
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
}

/* ---- ranges ---- */

static int
rfail(struct err *e, const char *s, const char *why)
{
	char q[RANGE_MAX_LEN * 4 + 16];

	return err_set(e, "range_invalid", "invalid version range '%s': %s",
	    quote(s, RANGE_MAX_LEN, q, sizeof(q)), why);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies [p, end) without surrounding blanks into (buf). */
static void
trim_copy(const char *p, const char *end, char *buf, size_t bufsz)
{
	size_t n;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* Parses a version inside a range, turning its error into range_invalid. */
static int
range_version(const char *text, struct vparsed *v, const char *s,
    struct err *e)
{
	struct err ve;

	if (vparse(text, v, &ve) == 0)
		return 0;
	return rfail(e, s, ve.msg);
}

static int
parse_interval(const char *text, const char *dots, struct alt *a,
    const char *s, struct err *e)
{
	char lo[RANGE_MAX_LEN + 1], hi[RANGE_MAX_LEN + 1];
	const char *h;

	trim_copy(text, dots, lo, sizeof(lo));
	trim_copy(dots + 2, dots + strlen(dots), hi, sizeof(hi));
	if (lo[0] != '\0') {
		a->lo.kind = BOUND_INCL;
		if (range_version(lo, &a->lo.v, s, e) == -1)
			return -1;
	}
	if (hi[0] == '\0')
		return 0;
	if (hi[0] != '!')
		return rfail(e, s, "the upper bound must be written \"..!V\" "
		    "(it is excluded)");
	for (h = hi + 1; is_space(*h); h++)
		;
	a->hi.kind = BOUND_EXCL;
	if (range_version(h, &a->hi.v, s, e) == -1)
		return -1;
	if (a->lo.kind != BOUND_NONE && vcmp(&a->lo.v, &a->hi.v) >= 0)
		return rfail(e, s, "the lower bound is not below the upper "
		    "one, nothing would match");
	return 0;
}

/* ">=V", ">V", "<=V", "<V", "!V" or "V": one operator, one version. */
static int
parse_single(const char *text, struct alt *a, const char *s, struct err *e)
{
	struct vparsed v;
	const char *p = text;
	struct bound *b;

	if (p[0] == '!') {
		a->negate = 1;
		return range_version(p + 1 + strspn(p + 1, " \t"), &a->lo.v, s,
		    e);
	}
	if (p[0] != '<' && p[0] != '>') {
		a->lo.kind = a->hi.kind = BOUND_INCL;
		if (range_version(p, &v, s, e) == -1)
			return -1;
		a->lo.v = a->hi.v = v;
		return 0;
	}
	b = p[0] == '>' ? &a->lo : &a->hi;
	b->kind = p[1] == '=' ? BOUND_INCL : BOUND_EXCL;
	p += p[1] == '=' ? 2 : 1;
	return range_version(p + strspn(p, " \t"), &b->v, s, e);
}

static int
parse_alt(const char *p, const char *end, struct alt *a, const char *s,
    struct err *e)
{
	char text[RANGE_MAX_LEN + 1];
	const char *dots;

	memset(a, 0, sizeof(*a));
	trim_copy(p, end, text, sizeof(text));
	if (text[0] == '\0')
		return rfail(e, s, "an alternative is empty");
	if ((dots = strstr(text, "..")) != NULL)
		return parse_interval(text, dots, a, s, e);
	return parse_single(text, a, s, e);
}

struct version_range *
version_range_parse(const char *s, struct err *e)
{
	struct version_range *r;
	const char *p, *bar;
	size_t n = 1;

	if (s == NULL) {
		err_set(e, "range_invalid", "no version range given");
		return NULL;
	}
	if (strnlen(s, RANGE_MAX_LEN + 1) > RANGE_MAX_LEN) {
		rfail(e, s, "longer than 256 bytes");
		return NULL;
	}
	for (p = s; (p = strchr(p, '|')) != NULL; p++)
		n++;
	if ((r = calloc(1, sizeof(*r) + n * sizeof(r->alt[0]))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory parsing a version range");
		return NULL;
	}
	for (p = s; r->nalt < n; p = bar + 1) {
		if ((bar = strchr(p, '|')) == NULL)
			bar = p + strlen(p);
		if (parse_alt(p, bar, &r->alt[r->nalt], s, e) == -1) {
			free(r);
			return NULL;
		}
		r->nalt++;
	}
	return r;
}

static int
bound_ok(const struct bound *b, const struct vparsed *v, int sign)
{
	int c;

	if (b->kind == BOUND_NONE)
		return 1;
	c = vcmp(v, &b->v) * sign;
	return c > 0 || (c == 0 && b->kind == BOUND_INCL);
}

static int
alt_match(const struct alt *a, const struct vparsed *v)
{
	if (a->negate)
		return vcmp(v, &a->lo.v) != 0;
	return bound_ok(&a->lo, v, 1) && bound_ok(&a->hi, v, -1);
}

int
version_range_match(const struct version_range *r, const char *v)
{
	struct vparsed pv;
	size_t i;

	if (r == NULL || vparse(v, &pv, NULL) == -1)
		return 0;
	for (i = 0; i < r->nalt; i++)
		if (alt_match(&r->alt[i], &pv))
			return 1;
	return 0;
}

void
version_range_free(struct version_range *r)
{
	free(r);
}
