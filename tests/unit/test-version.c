/*
 * test-version - version ordering as 0install does it, ranges, and the
 * refusal of malformed versions and ranges.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "version.h"

/* Each pair: a < b. */
static const char *const less[][2] = {
	{ "0", "1" },
	{ "1", "1.0" },
	{ "1.2", "1.2.0" },
	{ "1.9", "1.10" },
	{ "1.2.9", "1.2.10" },
	{ "1.2-pre", "1.2-pre1" },
	{ "1.2-pre1", "1.2-pre2" },
	{ "1.2-pre2", "1.2-pre10" },
	{ "1.2-pre1", "1.2-rc" },
	{ "1.2-pre", "1.2-rc" },
	{ "1.2-rc", "1.2-rc1" },
	{ "1.2-rc1", "1.2" },
	{ "1.2-rc", "1.2" },
	{ "1.2-pre", "1.2" },
	{ "1.2", "1.2-1" },
	{ "1.2", "1.2-post" },
	{ "1.2-1", "1.2-post" },
	{ "1.2-1", "1.2-2" },
	{ "1.2-post", "1.2-post1" },
	{ "1.2-post1", "1.2-post1.1" },
	{ "1.2-post", "1.2.0" },
	{ "1.2-post9", "1.3-pre" },
	{ "1.2", "1.3-pre" },
	{ "1.2.0-rc", "1.2.0" },
	{ "1.2-rc", "1.2.0-rc" },
	{ "1.2-pre", "1.2-pre-rc" },
	{ "1.2-pre-pre", "1.2-pre-rc" },
	{ "1.2-pre-post", "1.2-pre1" },
	{ "1.2-rc-post", "1.2" },
	{ "1.2-1-pre", "1.2-1" },
	{ "1.2-1", "1.2-1-post" },
	{ "2-pre", "2" },
	{ "9.99.99", "10" },
	{ "4294967294", "4294967295" },
	{ "1.0.0.0.1", "1.0.0.1" },
};

/* Each pair: equal although spelled differently. */
static const char *const same[][2] = {
	{ "1.2", "1.2" },
	{ "1.02", "1.2" },
	{ "1.2-", "1.2" },
	{ "1.2-0", "1.2-00" },
};

static const char *const valid[] = {
	"1", "0", "1.2.3", "1.2-pre", "1.2-rc1", "1.2-post3.1", "1.2-4",
	"1.2-pre-rc", "1-", "4294967295",
	"1---------------------------------------------------------------",
	"1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.12",
};

static const char *const invalid[] = {
	"", ".", "1.", ".1", "1..2", "a", "1a", "1.2a", "v1", "-1", "-pre",
	"1.2-beta", "1.2-PRE", "1.2-pre.1", "1.2 ", " 1.2", "1,2", "1_2",
	"4294967296", "99999999999999999999", "1.2-rc.", "1.2-1.", "1+2",
	"1.2\t", "1.2-pre1a",
	"1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1",
};

static void
test_order(void)
{
	size_t i;

	for (i = 0; i < sizeof(less) / sizeof(less[0]); i++) {
		const char *a = less[i][0], *b = less[i][1];

		ok(version_compare(a, b) < 0 && version_compare(b, a) > 0,
		    "%s < %s", a, b);
	}
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		ok(version_compare(same[i][0], same[i][1]) == 0, "%s == %s",
		    same[i][0], same[i][1]);
	ok(version_compare("junk", "0") < 0, "invalid sorts before valid");
	ok(version_compare("0", "junk") > 0, "valid sorts after invalid");
	ok(version_compare(NULL, NULL) == 0, "NULL == NULL");
}

static void
test_check(void)
{
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(version_check(valid[i], NULL) == 0, "valid '%s'", valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		err_clear(&e);
		ok(version_check(invalid[i], &e) == -1 &&
		    strcmp(e.code, "version_invalid") == 0,
		    "invalid '%s' refused: %s", invalid[i], e.msg);
	}
	err_clear(&e);
	version_check("1.2-beta", &e);
	ok(strstr(e.msg, "1.2-beta") != NULL, "message names the text");
	err_clear(&e);
	version_check("1\x01", &e);
	ok(strstr(e.msg, "\\x01") != NULL, "control bytes escaped in message");
	ok(version_check(NULL, NULL) == -1, "NULL refused");
}

struct rcase {
	const char *range;
	const char *v;
	int match;
};

static const struct rcase rcases[] = {
	{ "1.2..!2.0", "1.2", 1 },
	{ "1.2..!2.0", "1.9.9", 1 },
	{ "1.2..!2.0", "2.0-pre", 1 },
	{ "1.2..!2.0", "2.0", 0 },
	{ "1.2..!2.0", "1.2-rc", 0 },
	{ "1.2..!2.0", "1.1", 0 },
	{ "1.2..", "99", 1 },
	{ "1.2..", "1.1", 0 },
	{ "..!2", "1.9", 1 },
	{ "..!2", "2", 0 },
	{ "..", "0", 1 },
	{ "1.2", "1.2", 1 },
	{ "1.2", "1.2.0", 0 },
	{ "1.2", "1.02", 1 },
	{ "!1.2", "1.2", 0 },
	{ "!1.2", "1.3", 1 },
	{ ">=1.2", "1.2", 1 },
	{ ">=1.2", "1.2-rc", 0 },
	{ ">1.2", "1.2", 0 },
	{ ">1.2", "1.2-1", 1 },
	{ "<=1.2", "1.2", 1 },
	{ "<=1.2", "1.2-post", 0 },
	{ "<1.2", "1.2", 0 },
	{ "<1.2", "1.2-pre", 1 },
	{ "1.0|2.0", "2.0", 1 },
	{ "1.0|2.0", "1.5", 0 },
	{ "..!1.0 | >=2.0", "1.5", 0 },
	{ "..!1.0 | >=2.0", "0.9", 1 },
	{ "..!1.0 | >=2.0", "2.1", 1 },
	{ " 1.2 .. ! 2.0 ", "1.5", 1 },
	{ ">= 1.2", "1.3", 1 },
	{ "1.2..!2.0", "junk", 0 },
};

static const char *const bad_ranges[] = {
	"", "|", "1.2|", "|1.2", "1.2..2.0", "1.2..!", "..!", "x..!2",
	"1..!x", ">=", "<", "!", "=1.2", "==1.2", "=>1.2", "2.0..!1.0",
	"1.0..!1.0", "1.2 1.3", "1.2...!2", ">=1.2..!2", "!!1",
};

static void
test_ranges(void)
{
	struct version_range *r;
	struct err e;
	char longr[RANGE_MAX_LEN + 2];
	size_t i;

	for (i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];

		r = version_range_parse(c->range, NULL);
		ok(r != NULL && version_range_match(r, c->v) == c->match,
		    "'%s' %s '%s'", c->range, c->match ? "admits" : "refuses",
		    c->v);
		version_range_free(r);
	}
	for (i = 0; i < sizeof(bad_ranges) / sizeof(bad_ranges[0]); i++) {
		err_clear(&e);
		r = version_range_parse(bad_ranges[i], &e);
		ok(r == NULL && strcmp(e.code, "range_invalid") == 0,
		    "bad range '%s' refused: %s", bad_ranges[i], e.msg);
		version_range_free(r);
	}
	memset(longr, '1', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = '\0';
	err_clear(&e);
	ok(version_range_parse(longr, &e) == NULL &&
	    strcmp(e.code, "range_invalid") == 0, "over-long range refused");
	ok(version_range_match(NULL, "1") == 0, "NULL range matches nothing");
}

int
main(void)
{
	test_order();
	test_check();
	test_ranges();
	return tap_done();
}
