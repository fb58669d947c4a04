/* test-manifest.c - manifest.json: round trips and each refusal. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "tap.h"

#define SHA_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_B "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char good[] =
    "{\n"
    "  \"format\": 1,\n"
    "  \"name\": \"httpd\",\n"
    "  \"version\": \"1.2-rc1\",\n"
    "  \"arch\": \"x86_64\",\n"
    "  \"boot\": \"pvh\",\n"
    "  \"platforms\": [\"kvm\", \"xen\"],\n"
    "  \"memory\": 64,\n"
    "  \"vcpus\": 2,\n"
    "  \"devices\": {\n"
    "    \"net\": 1,\n"
    "    \"console\": true\n"
    "  },\n"
    "  \"cmdline\": \"port=80 root=\\\"/srv\\\"\",\n"
    "  \"entries\": {\n"
    "    \"kernel\": {\n"
    "      \"size\": 5488,\n"
    "      \"sha256\": \"" SHA_A "\"\n"
    "    },\n"
    "    \"initrd\": {\n"
    "      \"size\": 3000,\n"
    "      \"sha256\": \"" SHA_B "\"\n"
    "    }\n"
    "  }\n"
    "}\n";

/* (good) with the first (from) replaced by (to); static storage. */
static const char *
subst(const char *from, const char *to)
{
	static char buf[4 * MANIFEST_MAX_SIZE];
	const char *p = strstr(good, from);

	if (p == NULL) {
		fprintf(stderr, "subst: '%s' not in the manifest\n", from);
		abort();
	}
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good), good, to,
	    p + strlen(from));
	return buf;
}

static const char *
code_of(const char *json)
{
	static struct err e;
	struct manifest m;

	err_clear(&e);
	if (manifest_parse(json, strlen(json), &m, &e) == 0)
		return "ok";
	return e.code;
}

static void
expect(const char *what, const char *from, const char *to, const char *code)
{
	is_str(code_of(subst(from, to)), code, what);
}

static void
test_good(void)
{
	struct manifest m, m2;
	struct err e;
	char *out, *out2 = NULL;
	size_t len, len2;

	err_clear(&e);
	ok(manifest_parse(good, strlen(good), &m, &e) == 0, "good manifest");
	if (e.code[0])
		diag("%s [%s]", e.msg, e.code);
	is_str(m.name, "httpd", "name");
	is_str(m.version, "1.2-rc1", "version");
	is_int(m.platforms, MANIFEST_PLATFORMS_ALL, "platforms");
	is_int(m.memory_mib, 64, "memory");
	is_int(m.vcpus, 2, "vcpus");
	is_int(m.net, 1, "net");
	is_int(m.console, 1, "console");
	is_str(m.cmdline, "port=80 root=\"/srv\"", "cmdline unescaped");
	ok(m.kernel.present && m.kernel.size == 5488 && m.kernel.sha256[0] ==
	    0xe3 && m.kernel.sha256[31] == 0x55, "kernel entry");
	ok(m.initrd.present && m.initrd.size == 3000, "initrd entry");
	ok(manifest_serialize(&m, &out, &len, NULL) == 0, "serializes");
	is_str(out, good, "serialized text is the canonical form");
	ok(len == strlen(out) && out[len - 1] == '\n', "trailing newline");
	ok(manifest_parse(out, len, &m2, NULL) == 0 &&
	    manifest_serialize(&m2, &out2, &len2, NULL) == 0 &&
	    strcmp(out, out2) == 0, "parse(serialize(m)) round trips");
	free(out);
	free(out2);
	m.initrd.present = 0;
	m.platforms = MANIFEST_PLATFORM_XEN;
	m.console = 0;
	ok(manifest_serialize(&m, &out, &len, NULL) == 0 &&
	    strstr(out, "initrd") == NULL && strstr(out, "[\"xen\"]") &&
	    strstr(out, "\"console\": false"), "no initrd, xen only");
	ok(manifest_parse(out, len, &m2, NULL) == 0 && !m2.initrd.present,
	    "... parses back without initrd");
	free(out);
	is_str(code_of(subst("    \"initrd\": {\n      \"size\": 3000",
	    "    \"initrd\": {\n      \"size\": 0")), "ok", "empty initrd");
	is_str(code_of(subst("{\n", " \t{\n")), "ok", "leading whitespace");
	/* An exact-size copy: ASan catches any read past its end. */
	out = malloc(strlen(good));
	memcpy(out, good, strlen(good));
	ok(manifest_parse(out, strlen(good), &m, NULL) == 0,
	    "buffer without NUL terminator");
	ok(manifest_parse(out, strlen(good) - 1, &m, NULL) == 0,
	    "... without its trailing newline");
	free(out);
}

static void
test_json_refusals(void)
{
	struct manifest m;
	struct err e;
	static char big[MANIFEST_MAX_SIZE + 2];

	is_str(code_of("not json"), "manifest_invalid_json", "not JSON");
	is_str(code_of(""), "manifest_invalid_json", "empty");
	is_str(code_of("{"), "manifest_invalid_json", "cut short");
	is_str(code_of("[1]"), "manifest_invalid_json", "an array");
	is_str(code_of("\"x\""), "manifest_invalid_json", "a string");
	expect("trailing data", "}\n", "} {}\n", "manifest_invalid_json");
	expect("trailing comma", "\"vcpus\": 2,", "\"vcpus\": 2,,",
	    "manifest_invalid_json");
	expect("single quotes", "\"arch\": \"x86_64\"", "\"arch\": 'x86_64'",
	    "manifest_invalid_json");
	/* json-c takes single-quoted keys; a repeat in them must not slip by. */
	expect("single-quoted key", "\"vcpus\": 2", "'vcpus': 2",
	    "manifest_invalid_json");
	expect("invalid UTF-8", "port=80", "port=\xff", "manifest_invalid_json");
	err_clear(&e);
	ok(manifest_parse("{\"a\":\0}", 7, &m, &e) == -1 &&
	    strcmp(e.code, "manifest_invalid_json") == 0, "NUL byte");
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	is_str(code_of(big), "manifest_too_large", "over 64 KiB");
	expect("nesting of 10", "\"vcpus\": 2,", "\"vcpus\": 2, \"x\": "
	    "[[[[[[[[[[]]]]]]]]]],", "manifest_invalid_json");
	expect("nesting of 7 is JSON", "\"vcpus\": 2,", "\"vcpus\": 2, "
	    "\"x\": [[[[[[]]]]]],", "manifest_unknown_key");
}

static void
test_format(void)
{
	expect("format 2", "\"format\": 1", "\"format\": 2",
	    "manifest_unsupported_format");
	expect("format 0", "\"format\": 1", "\"format\": 0",
	    "manifest_unsupported_format");
	expect("format 2 with new keys", "\"format\": 1",
	    "\"format\": 2, \"gpu\": true", "manifest_unsupported_format");
	expect("format missing", "\"format\": 1,", "",
	    "manifest_missing_key");
	expect("format a string", "\"format\": 1", "\"format\": \"1\"",
	    "manifest_bad_type");
	expect("format a float", "\"format\": 1", "\"format\": 1.0",
	    "manifest_bad_type");
}

static void
test_keys(void)
{
	expect("unknown top key", "\"vcpus\": 2,", "\"vcpus\": 2, \"gpu\": 1,",
	    "manifest_unknown_key");
	expect("unknown device key", "\"net\": 1,", "\"net\": 1, \"usb\": 1,",
	    "manifest_unknown_key");
	expect("unknown entry", "\"entries\": {",
	    "\"entries\": { \"dtb\": {},", "manifest_unknown_key");
	expect("unknown entry key", "\"size\": 5488,",
	    "\"size\": 5488, \"mode\": 1,", "manifest_unknown_key");
	expect("duplicate top key", "\"vcpus\": 2,",
	    "\"vcpus\": 2, \"vcpus\": 2,", "manifest_duplicate_key");
	expect("duplicate device key", "\"net\": 1,",
	    "\"net\": 1, \"net\": 0,", "manifest_duplicate_key");
	expect("duplicate entry key", "\"size\": 5488,",
	    "\"size\": 5488, \"size\": 5488,", "manifest_duplicate_key");
	expect("escaped key", "\"vcpus\": 2,", "\"vcpu\\u0073\": 2,",
	    "manifest_unknown_key");
	expect("key in a value is no key", "port=80", "port=80 \\\"name\\\":",
	    "ok");
	expect("name missing", "\"name\": \"httpd\",", "",
	    "manifest_missing_key");
	expect("kernel missing", "\"kernel\": {\n      \"size\": 5488,\n"
	    "      \"sha256\": \"" SHA_A "\"\n    },", "",
	    "manifest_missing_key");
	expect("console missing", ",\n    \"console\": true", "",
	    "manifest_missing_key");
	expect("sha256 missing", ",\n      \"sha256\": \"" SHA_B "\"", "",
	    "manifest_missing_key");
	expect("cmdline missing", "\"cmdline\": \"port=80 root=\\\"/srv\\\"\",",
	    "", "manifest_missing_key");
}

static void
test_types_ranges(void)
{
	expect("memory a string", "\"memory\": 64", "\"memory\": \"64\"",
	    "manifest_bad_type");
	expect("memory a float", "\"memory\": 64", "\"memory\": 64.0",
	    "manifest_bad_type");
	expect("console a number", "\"console\": true", "\"console\": 1",
	    "manifest_bad_type");
	expect("devices an array", "{\n    \"net\": 1,\n    \"console\": true\n"
	    "  }", "[]", "manifest_bad_type");
	expect("platforms a string", "[\"kvm\", \"xen\"]", "\"kvm\"",
	    "manifest_bad_type");
	expect("platform a number", "[\"kvm\", \"xen\"]", "[1]",
	    "manifest_bad_type");
	expect("name null", "\"httpd\"", "null", "manifest_bad_type");
	expect("memory 0", "\"memory\": 64", "\"memory\": 0",
	    "manifest_out_of_range");
	expect("memory 65537", "\"memory\": 64", "\"memory\": 65537",
	    "manifest_out_of_range");
	expect("memory 65536", "\"memory\": 64", "\"memory\": 65536", "ok");
	expect("memory -1", "\"memory\": 64", "\"memory\": -1",
	    "manifest_out_of_range");
	expect("memory 2^70", "\"memory\": 64",
	    "\"memory\": 1180591620717411303424", "manifest_out_of_range");
	expect("vcpus 0", "\"vcpus\": 2", "\"vcpus\": 0",
	    "manifest_out_of_range");
	expect("vcpus 65", "\"vcpus\": 2", "\"vcpus\": 65",
	    "manifest_out_of_range");
	expect("net 9", "\"net\": 1", "\"net\": 9", "manifest_out_of_range");
	expect("net 8", "\"net\": 1", "\"net\": 8", "ok");
	expect("kernel size 0", "\"size\": 5488", "\"size\": 0",
	    "manifest_out_of_range");
	expect("kernel over 64 MiB", "\"size\": 5488", "\"size\": 67108865",
	    "manifest_out_of_range");
	expect("initrd over 1 GiB", "\"size\": 3000", "\"size\": 1073741825",
	    "manifest_out_of_range");
}

static void
test_values(void)
{
	char longname[80], longcmd[2100];

	expect("name uppercase", "\"httpd\"", "\"HTTPD\"", "manifest_bad_name");
	expect("name leading dot", "\"httpd\"", "\".httpd\"",
	    "manifest_bad_name");
	expect("name empty", "\"httpd\"", "\"\"", "manifest_bad_name");
	expect("name with slash", "\"httpd\"", "\"a/b\"", "manifest_bad_name");
	expect("name 0-9._-", "\"httpd\"", "\"0a.b_c-d\"", "ok");
	snprintf(longname, sizeof(longname), "\"%065d\"", 0);
	expect("name of 65", "\"httpd\"", longname, "manifest_bad_name");
	snprintf(longname, sizeof(longname), "\"%064d\"", 0);
	expect("name of 64", "\"httpd\"", longname, "ok");
	expect("version bad", "\"1.2-rc1\"", "\"1..2\"", "manifest_bad_version");
	expect("version empty", "\"1.2-rc1\"", "\"\"", "manifest_bad_version");
	expect("arch arm64", "\"x86_64\"", "\"aarch64\"", "manifest_bad_arch");
	expect("boot multiboot", "\"pvh\"", "\"multiboot\"", "manifest_bad_boot");
	expect("platforms empty", "[\"kvm\", \"xen\"]", "[]",
	    "manifest_bad_platforms");
	expect("platform unknown", "[\"kvm\", \"xen\"]", "[\"hyperv\"]",
	    "manifest_bad_platforms");
	expect("platform twice", "[\"kvm\", \"xen\"]", "[\"kvm\", \"kvm\"]",
	    "manifest_bad_platforms");
	expect("cmdline control char", "port=80", "port=\\u0001",
	    "manifest_bad_cmdline");
	expect("cmdline newline", "port=80", "port=\\n", "manifest_bad_cmdline");
	expect("cmdline DEL", "port=80", "port=\\u007f", "manifest_bad_cmdline");
	expect("cmdline C1 control", "port=80", "port=\\u0085",
	    "manifest_bad_cmdline");
	expect("cmdline NUL", "port=80", "port=\\u0000", "manifest_bad_cmdline");
	expect("cmdline UTF-8", "port=80", "port=\xc3\xa9t\xc3\xa9", "ok");
	memset(longcmd, 'a', sizeof(longcmd));
	longcmd[0] = '"';
	memcpy(longcmd + 2050, "\"", 2);
	expect("cmdline of 2049", "\"port=80 root=\\\"/srv\\\"\"", longcmd,
	    "manifest_bad_cmdline");
	memcpy(longcmd + 2049, "\"", 2);
	expect("cmdline of 2048", "\"port=80 root=\\\"/srv\\\"\"", longcmd,
	    "ok");
	expect("sha256 uppercase", SHA_A, "E3B0C44298FC1C149AFBF4C8996FB92427AE"
	    "41E4649B934CA495991B7852B855", "manifest_bad_digest");
	expect("sha256 short", SHA_A, "e3b0", "manifest_bad_digest");
	expect("sha256 long", SHA_A, SHA_A "00", "manifest_bad_digest");
	expect("sha256 not hex", SHA_A, "g3b0c44298fc1c149afbf4c8996fb92427ae"
	    "41e4649b934ca495991b7852b855", "manifest_bad_digest");
}

static void
test_struct(void)
{
	struct manifest m;
	struct err e;
	unsigned p;
	char *out;
	size_t len;

	manifest_parse(good, strlen(good), &m, NULL);
	strcpy(m.cmdline, "a\tb");
	err_clear(&e);
	ok(manifest_serialize(&m, &out, &len, &e) == -1 && out == NULL,
	    "serialize validates first");
	is_str(e.code, "manifest_bad_cmdline", "... tab in cmdline");
	strcpy(m.cmdline, "\xe0\x80\x80");
	ok(manifest_validate(&m, &e) == -1, "overlong UTF-8 refused");
	strcpy(m.cmdline, "\xed\xa0\x80");
	ok(manifest_validate(&m, &e) == -1, "UTF-16 surrogate refused");
	strcpy(m.cmdline, "\xf0\x9f\x98\x80");
	ok(manifest_validate(&m, NULL) == 0, "4-byte UTF-8 accepted");
	m.platforms = 4;
	ok(manifest_validate(&m, &e) == -1 &&
	    strcmp(e.code, "manifest_bad_platforms") == 0, "platform bit 4");
	ok(manifest_platforms_parse("kvm,xen", &p) == 0 &&
	    p == MANIFEST_PLATFORMS_ALL, "platforms kvm,xen");
	ok(manifest_platforms_parse("xen", &p) == 0 &&
	    p == MANIFEST_PLATFORM_XEN, "platforms xen");
	ok(manifest_platforms_parse("xen,kvm", &p) == 0 &&
	    p == MANIFEST_PLATFORMS_ALL, "platforms xen,kvm");
	ok(manifest_platforms_parse("", &p) == -1, "platforms empty");
	ok(manifest_platforms_parse("kvm,", &p) == -1, "platforms trailing ,");
	ok(manifest_platforms_parse("kvm,kvm", &p) == -1, "platforms twice");
	ok(manifest_platforms_parse("qemu", &p) == -1, "platforms unknown");
}

int
main(void)
{
	test_good();
	test_json_refusals();
	test_format();
	test_keys();
	test_types_ranges();
	test_values();
	test_struct();
	return tap_done();
}
