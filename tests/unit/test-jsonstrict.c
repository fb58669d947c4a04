/*
 * test-jsonstrict - the strict JSON reader shared by feeds and manifests:
 * each refusal under its own code, on exact-size buffers so that ASan sees
 * any read past the end, and the helpers for members, keys, UTF-8 and
 * quoting.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstrict.h"
#include "tap.h"

/* Every refusal under a code of its own, to tell them apart. */
static const struct jsonstrict_rules rules = {
	.max_depth = 8,
	.malformed = "malformed",
	.too_deep = "too_deep",
	.not_object = "not_object",
	.escaped_key = "escaped_key",
	.duplicate_key = "duplicate_key",
	.too_many_keys = "too_many_keys",
	.unknown_key = "unknown_key",
	.missing = "missing",
	.bad_type = "bad_type",
};


static struct err e;

/* What jsonstrict_parse() says of (len) bytes of (s) under (r): "ok" or
 * the code.  The text is copied to a buffer of exactly (len) bytes. */
static const char *
parse_code(const struct jsonstrict_rules *r, const char *s, size_t len)
{
	json_object *o;
	char *buf;

	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(buf, s, len);
	err_clear(&e);
	o = jsonstrict_parse(buf, len, r, &e);
	free(buf);
	if (o == NULL)
		return e.code;
	json_object_put(o);
	return e.code[0] == '\0' ? "ok" : "ok but an error was set";
}

/* For literals holding a NUL. */
#define CODE_OF_LIT(s) parse_code(&rules, (s), sizeof(s) - 1)

static const char *
code_of(const char *s)
{
	return parse_code(&rules, s, strlen(s));
}

static const struct {
	const char *json, *code, *name;
} cases[] = {
	{ "{\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {}}", "ok",
	    "a plain object" },
	{ "\r\n\t {\"a\": 1}\r\n\t ", "ok", "whitespace around" },
	{ "{}", "ok", "an empty object" },

	/* duplicates, at several depths */
	{ "{\"a\": 1, \"a\": 1}", "duplicate_key", "duplicate at the top" },
	{ "{\"a\" : 1, \"a\"\n:2}", "duplicate_key",
	    "duplicate with blanks before the colon" },
	{ "{\"x\": {\"a\": 1, \"b\": 2, \"a\": 3}}", "duplicate_key",
	    "duplicate at depth 2" },
	{ "{\"x\": [{\"y\": {\"a\": 1, \"a\": 2}}]}", "duplicate_key",
	    "duplicate at depth 4, inside an array" },
	{ "{\"a\": {\"b\": 1}, \"a\": 2}", "duplicate_key",
	    "duplicate after a nested object closes" },
	{ "{\"a\": [1, {\"c\": 2}], \"a\": 2}", "duplicate_key",
	    "duplicate after a nested array closes" },
	{ "{\"x\": {\"a\": 1}, \"y\": {\"a\": 1}}", "ok",
	    "one key in two sibling objects" },
	{ "{\"a\": {\"a\": {\"a\": 1}}}", "ok",
	    "one key at three depths" },
	{ "[{\"a\": 1}, {\"a\": 1}]", "not_object",
	    "an array of objects is no object" },
	{ "{\"l\": [{\"a\": 1}, {\"a\": 1}]}", "ok",
	    "one key in two objects of an array" },
	{ "{\"ab\": 1, \"a\": 2, \"abc\": 3}", "ok", "prefixes are other keys" },

	/* keys inside strings */
	{ "{\"a\":\"\\\"a\\\":1\"}", "ok",
	    "a key written inside a string is no key" },
	{ "{\"a\": \"b\", \"c\": \"a\"}", "ok", "a value equal to a key" },
	{ "{\"a\": [\"a\", \"a\"]}", "ok", "strings in an array" },
	{ "{\"a\": \"x\\\\\", \"a\": 1}", "duplicate_key",
	    "an escaped backslash ends the string" },
	{ "{\"a\": \"{\\\"a\\\": [\", \"b\": \"]}\"}", "ok",
	    "brackets inside strings" },
	{ "{\"a\": \"it's\"}", "ok", "a single quote inside a string" },

	/* escapes in keys */
	{ "{\"\\u0061\": 1}", "escaped_key", "\\u escape in a key" },
	{ "{\"a\": 1, \"\\u0061\": 2}", "escaped_key",
	    "an escaped key hiding a duplicate" },
	{ "{\"a\\\"b\": 1}", "escaped_key", "an escaped quote in a key" },
	{ "{\"a\\nb\": 1}", "escaped_key", "\\n in a key" },
	{ "{\"a\": \"\\u0061\\n\"}", "ok", "escapes in values are fine" },

	/* single quotes */
	{ "{'a': 1}", "malformed", "a single-quoted key" },
	{ "{\"a\": 1, 'b': 2}", "malformed", "a later single-quoted key" },
	{ "{\"a\": 'x'}", "malformed", "a single-quoted value" },

	/* trailing text */
	{ "{\"a\": 1} x", "malformed", "text after the document" },
	{ "{\"a\": 1}}", "malformed", "a bracket after the document" },
	{ "{\"a\": 1}{}", "malformed", "a second document" },
	{ "{\"a\": 1}\f", "malformed", "form feed is not JSON whitespace" },
	{ "{\"a\": 1} // c", "malformed", "a comment after the document" },

	/* truncation */
	{ "", "malformed", "empty" },
	{ "   ", "malformed", "only blanks" },
	{ "{", "malformed", "an open brace" },
	{ "{\"a\": 1", "malformed", "no closing brace" },
	{ "{\"a\": \"abc", "malformed", "in a string" },
	{ "{\"a\": \"abc\\", "malformed", "after a backslash" },
	{ "{\"a", "malformed", "in a key" },
	{ "{\"a\": tru", "malformed", "in a literal" },

	/* not JSON, or not an object */
	{ "{\"a\": 1,}", "malformed", "a trailing comma" },
	{ "{\"a\": 01}", "malformed", "a leading zero" },
	{ "{\"a\" /* c */: 1}", "malformed", "a comment" },
	{ "{\"a\": \"\\x41\"}", "malformed", "a \\x escape" },
	{ "null", "malformed", "null" },
	{ "null \n", "malformed", "null and blanks" },
	{ "[1]", "not_object", "an array" },
	{ "\"x\"", "not_object", "a string" },
	{ "7 ", "not_object", "a number" },
	{ "true\n", "not_object", "true" },

	/* invalid UTF-8 (json-c's check lets overlong forms and code points
	 * over U+10FFFF through; test_utf8() has those) */
	{ "{\"a\": \"\xff\"}", "malformed", "byte 0xff" },
	{ "{\"a\": \"\xc3\"}", "malformed", "a cut sequence" },
	{ "{\"\xc3\x28\": 1}", "malformed", "a bad continuation in a key" },
	{ "{\"a\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", "ok",
	    "two-, three- and four-byte UTF-8" },
	{ "{\"\xc3\xa9t\xc3\xa9\": 1, \"\xc3\xa9t\xc3\xa9\": 2}",
	    "duplicate_key", "a UTF-8 key twice" },
};

static void
test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!is_str(code_of(cases[i].json), cases[i].code,
		    cases[i].name))
			diag("%s", e.msg);
}

static void
test_nul_and_messages(void)
{
	is_str(CODE_OF_LIT("{\"a\":\0}"), "malformed", "NUL byte");
	ok(strstr(e.msg, "NUL") != NULL && strstr(e.msg, "5") != NULL,
	    "... the message names the NUL and where: %s", e.msg);
	is_str(CODE_OF_LIT("{\"a\": \"b\0\"}"), "malformed",
	    "NUL byte in a string");
	code_of("{\"a\": 1} x");
	ok(strstr(e.msg, "byte 9") != NULL, "trailing text: the byte: %s",
	    e.msg);
	code_of("{'a': 1}");
	ok(strstr(e.msg, "single-quoted") != NULL, "single quote: %s", e.msg);
	code_of("{\"a\": {\"bee\": 1, \"bee\": 2}}");
	ok(strstr(e.msg, "'bee'") != NULL, "the duplicate is named: %s",
	    e.msg);
	code_of("{\"\\u0007\": 1}");
	ok(strstr(e.msg, "\\x5cu0007") != NULL && strchr(e.msg, '\a') == NULL,
	    "an escaped key is quoted raw: %s", e.msg);
	code_of("{\"a\": 1");
	ok(strstr(e.msg, "truncated") != NULL, "truncated: %s", e.msg);
}

/* (n) arrays nested inside one object: n + 1 levels. */
static const char *
nested(int n)
{
	static char buf[256];
	int i, o = 0;

	o += snprintf(buf + o, sizeof(buf) - o, "{\"x\": ");
	for (i = 0; i < n; i++)
		buf[o++] = '[';
	for (i = 0; i < n; i++)
		buf[o++] = ']';
	snprintf(buf + o, sizeof(buf) - o, "}");
	return buf;
}

static void
test_depth(void)
{
	struct jsonstrict_rules r = rules;
	char deep[64];

	is_str(code_of(nested(7)), "ok", "8 levels under max_depth 8");
	is_str(code_of(nested(8)), "too_deep", "9 levels under max_depth 8");
	is_str(code_of(nested(20)), "too_deep", "21 levels");
	is_str(code_of("{\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": "
	    "{\"g\": {}}}}}}}}"), "ok", "8 levels of objects");
	is_str(code_of("{\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": "
	    "{\"g\": {\"h\": 1}}}}}}}}"), "too_deep",
	    "8 levels of objects and a number in the last");
	r.max_depth = 2;
	is_str(parse_code(&r, "{\"a\": 1}", 8), "ok", "a number at level 2");
	is_str(parse_code(&r, "{\"a\": []}", 9), "ok", "an array at level 2");
	is_str(parse_code(&r, "{\"a\": [1]}", 10), "too_deep",
	    "a number at level 3 under 2");
	/* The scan guards its own frames on text json-c never saw. */
	memset(deep, '{', sizeof(deep));
	err_clear(&e);
	ok(jsonstrict_scan(deep, sizeof(deep), &rules, &e) == -1 &&
	    strcmp(e.code, "too_deep") == 0, "scan alone: too deep");
	r.max_depth = 0;
	err_clear(&e);
	ok(jsonstrict_parse("{}", 2, &r, &e) == NULL &&
	    strcmp(e.code, ERR_INVALID) == 0, "max_depth 0 refused");
	r.max_depth = JSONSTRICT_MAX_DEPTH + 1;
	err_clear(&e);
	ok(jsonstrict_scan("{}", 2, &r, &e) == -1 &&
	    strcmp(e.code, ERR_INVALID) == 0, "max_depth over the cap refused");
	r.max_depth = JSONSTRICT_MAX_DEPTH;
	is_str(parse_code(&r, nested(15), strlen(nested(15))), "ok",
	    "16 levels under the cap, 16");
	is_str(parse_code(&r, nested(16), strlen(nested(16))), "too_deep",
	    "17 levels under the cap");
}

/* An object of (n) keys "k0".."k(n-1)". */
static const char *
keys(int n)
{
	static char buf[1024];
	int i, o = 0;

	buf[o++] = '{';
	for (i = 0; i < n; i++)
		o += snprintf(buf + o, sizeof(buf) - o, "%s\"k%d\": %d",
		    i > 0 ? ", " : "", i, i);
	snprintf(buf + o, sizeof(buf) - o, "}");
	return buf;
}

static void
test_scan(void)
{
	static const char *const odd[] = { "}", "]]", "\"", "\"a\\", "{\"a",
		"{\"a\":", "{\"a\" ", "'", "{\"a\\", "\\", "" };
	json_object *o;
	size_t i;

	is_str(code_of(keys(JSONSTRICT_MAX_KEYS)), "ok", "32 keys");
	is_str(code_of(keys(JSONSTRICT_MAX_KEYS + 1)), "too_many_keys",
	    "33 keys");
	/* read() alone trusts json-c, which keeps the last of two keys. */
	err_clear(&e);
	o = jsonstrict_read("{\"a\": 1, \"a\": 2}", 16, &rules, &e);
	ok(o != NULL && json_object_get_int(json_object_object_get(o, "a")) ==
	    2, "read() alone does not scan");
	json_object_put(o);
	ok(jsonstrict_scan("{\"a\": 1, \"a\": 2}", 16, &rules, &e) == -1 &&
	    strcmp(e.code, "duplicate_key") == 0, "scan() finds it");
	err_clear(&e);
	ok(jsonstrict_scan("}", 1, &rules, &e) == -1 &&
	    strcmp(e.code, "malformed") == 0, "scan: unbalanced bracket");
	/* Cut or broken text: no crash, no read past (len) (ASan). */
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *buf = malloc(strlen(odd[i]) + 1);

		memcpy(buf, odd[i], strlen(odd[i]));
		jsonstrict_scan(buf, strlen(odd[i]), &rules, NULL);
		free(buf);
	}
	ok(1, "scan survives cut text");
}

static const char *const allowed[] = { "a", "b", NULL };

static void
test_members(void)
{
	static const char text[] = "{\"a\": 1, \"b\": \"s\", \"n\": null}";
	json_object *o, *v;
	char q[100];
	int r;

	o = jsonstrict_parse(text, strlen(text), &rules, &e);
	if (!ok(o != NULL, "member test object parses"))
		return;
	err_clear(&e);
	ok(jsonstrict_check_keys(o, allowed, "obj", &rules, &e) == -1 &&
	    strcmp(e.code, "unknown_key") == 0, "check_keys: unknown 'n'");
	is_str(e.msg, "obj: unknown key 'n'", "... its message");
	jsonstrict_check_keys(o, allowed, "", &rules, &e);
	is_str(e.msg, "unknown key 'n'", "... without a field");
	json_object_object_del(o, "n");
	ok(jsonstrict_check_keys(o, allowed, "obj", &rules, NULL) == 0,
	    "check_keys: all known");

	ok(jsonstrict_member(o, "a", "x.a", json_type_int, 1, &rules, &v,
	    &e) == 0 && json_object_get_int(v) == 1, "member: an integer");
	err_clear(&e);
	r = jsonstrict_member(o, "b", "x.b", json_type_int, 1, &rules, &v, &e);
	ok(r == -1 && v == NULL && strcmp(e.code, "bad_type") == 0,
	    "member: wrong type");
	is_str(e.msg, "x.b: must be an integer, not a string", "... message");
	err_clear(&e);
	r = jsonstrict_member(o, "c", "x.c", json_type_int, 1, &rules, &v, &e);
	ok(r == -1 && v == NULL && strcmp(e.code, "missing") == 0,
	    "member: required and absent");
	is_str(e.msg, "x.c: missing", "... message");
	err_clear(&e);
	r = jsonstrict_member(o, "c", "x.c", json_type_int, 0, &rules, &v, &e);
	ok(r == 0 && v == NULL && e.code[0] == '\0',
	    "member: optional and absent");
	json_object_object_add(o, "c", NULL);
	r = jsonstrict_member(o, "c", "x.c", json_type_string, 0, &rules, &v,
	    &e);
	ok(r == -1 && strcmp(e.code, "bad_type") == 0,
	    "member: null is of another type, even when optional");
	json_object_put(o);

	is_str(jsonstrict_quote("a'b\\c\n\xc3\xa9", q, sizeof(q)),
	    "a\\x27b\\x5cc\\x0a\\xc3\\xa9", "quote: hex for the unsafe");
	is_str(jsonstrict_quote(NULL, q, sizeof(q)), "(null)", "quote: NULL");
	is_str(jsonstrict_quote("abcdefghijklmnop", q, 12), "abcd...",
	    "quote: cut to the buffer");
	is_str(jsonstrict_quote("\x01\x02", q, 4), "...", "quote: tiny buffer");
}

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		size_t plain, strict;	/* span with flags 0, NO_CONTROLS */
	} v[] = {
		{ "", 0, 0 },
		{ "abc", 3, 3 },
		{ "a\tb", 3, 1 },
		{ "a\x7f", 2, 1 },
		{ "\xc2\x85x", 3, 0 },		/* U+0085, a C1 control */
		{ "\xc2\xa0x", 3, 3 },		/* U+00A0 */
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 9 },
		{ "\xc0\xaf", 0, 0 },		/* overlong */
		{ "\xe0\x80\xaf", 0, 0 },	/* overlong */
		{ "\xf0\x80\x80\xaf", 0, 0 },	/* overlong */
		{ "\xed\xa0\x80", 0, 0 },	/* surrogate */
		{ "ok\xed\x9f\xbf", 5, 5 },	/* U+D7FF */
		{ "\xf4\x8f\xbf\xbf", 4, 4 },	/* U+10FFFF */
		{ "\xf4\x90\x80\x80", 0, 0 },	/* over U+10FFFF */
		{ "\xf5\x80\x80\x80", 0, 0 },
		{ "ab\xe2\x82", 2, 2 },		/* cut at the end */
		{ "ab\x80", 2, 2 },		/* a stray continuation */
	};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(name, sizeof(name), "utf8 span, case %zu", i);
		is_int((long long)jsonstrict_utf8_span(v[i].s, 0),
		    (long long)v[i].plain, name);
		snprintf(name, sizeof(name), "utf8 span without controls, "
		    "case %zu", i);
		is_int((long long)jsonstrict_utf8_span(v[i].s,
		    JSONSTRICT_UTF8_NO_CONTROLS), (long long)v[i].strict, name);
	}
}

int
main(void)
{
	test_cases();
	test_nul_and_messages();
	test_depth();
	test_scan();
	test_members();
	test_utf8();
	return tap_done();
}
