#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstrict.h"
#include "manifest.h"

#define ARCH "x86_64"
#define BOOT "pvh"

static const struct {
	const char *name;
	unsigned bit;
} platforms[] = {
	{ "kvm", MANIFEST_PLATFORM_KVM },
	{ "xen", MANIFEST_PLATFORM_XEN },
};
#define NPLATFORMS (sizeof(platforms) / sizeof(platforms[0]))

static const char *const top_keys[] = { "format", "name", "version", "arch",
	"boot", "platforms", "memory", "vcpus", "devices", "cmdline", "entries",
	NULL };
static const char *const device_keys[] = { "net", "console", NULL };
static const char *const entries_keys[] = { "kernel", "initrd", NULL };
static const char *const entry_keys[] = { "size", "sha256", NULL };

/*
 * How manifest.json is read (common/jsonstrict.h).  Nesting of 8 is deeper
 * than any manifest object (3), so deeper input is refused early.  The raw
 * scan runs after the schema check (manifest_parse()), so that a misspelt
 * key is reported as unknown.
 */
static const struct jsonstrict_rules json_rules = {
	.max_depth = 8,
	.malformed = "manifest_invalid_json",
	.too_deep = "manifest_invalid_json",
	.not_object = "manifest_invalid_json",
	.escaped_key = "manifest_unknown_key",
	.duplicate_key = "manifest_duplicate_key",
	/* After the schema check an object holds at most 11 distinct keys. */
	.too_many_keys = "manifest_duplicate_key",
	.unknown_key = "manifest_unknown_key",
	.missing = "manifest_missing_key",
	.bad_type = "manifest_bad_type",
};

/* ---- validation of values, shared by parsing and serializing ---- */

static int
check_name(const char *s, struct err *e)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			break;
	}
	if (n == 0 || n > MANIFEST_NAME_MAX || i != n)
		return err_set(e, "manifest_bad_name",
		    "name '%.80s' is not [a-z0-9][a-z0-9._-]{0,63}", s);
	return 0;
}

static int
check_cmdline(const char *s, struct err *e)
{
	size_t n;

	if (strlen(s) > MANIFEST_CMDLINE_MAX)
		return err_set(e, "manifest_bad_cmdline",
		    "cmdline longer than %d bytes", MANIFEST_CMDLINE_MAX);
	n = jsonstrict_utf8_span(s, JSONSTRICT_UTF8_NO_CONTROLS);
	if (s[n] != '\0')
		return err_set(e, "manifest_bad_cmdline",
		    "cmdline has a control character or invalid UTF-8 "
		    "at byte %zu", n);
	return 0;
}

static int
check_range(const char *what, uint64_t v, uint64_t min, uint64_t max,
    struct err *e)
{
	if (v < min || v > max)
		return err_set(e, "manifest_out_of_range",
		    "%s %llu is outside %llu..%llu", what,
		    (unsigned long long)v, (unsigned long long)min,
		    (unsigned long long)max);
	return 0;
}

int
manifest_validate(const struct manifest *m, struct err *e)
{
	struct err ve;

	if (check_name(m->name, e) == -1)
		return -1;
	if (version_check(m->version, &ve) == -1)
		return err_set(e, "manifest_bad_version", "%s", ve.msg);
	if (m->platforms == 0 || (m->platforms & ~MANIFEST_PLATFORMS_ALL) != 0)
		return err_set(e, "manifest_bad_platforms",
		    "platforms must be a non-empty subset of kvm, xen");
	if (check_range("memory", m->memory_mib, 1, MANIFEST_MEMORY_MAX, e) ||
	    check_range("vcpus", m->vcpus, 1, MANIFEST_VCPUS_MAX, e) ||
	    check_range("devices.net", m->net, 0, MANIFEST_NET_MAX, e) ||
	    check_range("devices.console", (uint64_t)m->console, 0, 1, e))
		return -1;
	if (check_cmdline(m->cmdline, e) == -1)
		return -1;
	if (!m->kernel.present)
		return err_set(e, "manifest_missing_key", "entries.kernel missing");
	if (check_range("entries.kernel.size", m->kernel.size, 1,
	    MANIFEST_KERNEL_MAX, e) == -1)
		return -1;
	if (m->initrd.present && check_range("entries.initrd.size",
	    m->initrd.size, 0, MANIFEST_INITRD_MAX, e) == -1)
		return -1;
	return 0;
}

int
manifest_platforms_parse(const char *s, unsigned *out)
{
	const char *p = s, *comma;
	unsigned bits = 0;
	size_t i, n;

	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < NPLATFORMS; i++)
			if (strlen(platforms[i].name) == n &&
			    strncmp(platforms[i].name, p, n) == 0)
				break;
		if (i == NPLATFORMS || (bits & platforms[i].bit) != 0)
			return -1;
		bits |= platforms[i].bit;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = bits;
	return 0;
}

/* ---- parsing ---- */

/* The member (key) of (obj) of JSON type (t); NULL when absent and not
 * (required), or on error. */
static json_object *
member(json_object *obj, const char *where, const char *key, json_type t,
    int required, struct err *e)
{
	char field[64];
	json_object *v;

	snprintf(field, sizeof(field), "%s%s", where, key);
	jsonstrict_member(obj, key, field, t, required, &json_rules, &v, e);
	return v;
}

/* Copies a string member into (dst); too long or holding NUL fails with
 * (code), the code of that field's syntax. */
static int
get_string(json_object *obj, const char *key, char *dst, size_t dstsz,
    const char *code, struct err *e)
{
	json_object *v;
	const char *s;
	size_t n;

	if ((v = member(obj, "", key, json_type_string, 1, e)) == NULL)
		return -1;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= dstsz || strlen(s) != n)
		return err_set(e, code, "'%s' is too long or holds a NUL", key);
	memcpy(dst, s, n + 1);
	return 0;
}

static int
get_uint(json_object *obj, const char *where, const char *key, uint64_t max,
    uint64_t *out, struct err *e)
{
	json_object *v;
	int64_t i;

	if ((v = member(obj, where, key, json_type_int, 1, e)) == NULL)
		return -1;
	i = json_object_get_int64(v);
	/* json-c clamps values beyond int64 to INT64_MAX: still out of range. */
	if (i < 0 || (uint64_t)i > max)
		return err_set(e, "manifest_out_of_range",
		    "'%s%s' is outside 0..%llu", where, key,
		    (unsigned long long)max);
	*out = (uint64_t)i;
	return 0;
}

static int
get_fixed(json_object *obj, const char *key, const char *want,
    const char *code, struct err *e)
{
	char buf[32];

	if (get_string(obj, key, buf, sizeof(buf), code, e) == -1)
		return -1;
	if (strcmp(buf, want) != 0)
		return err_set(e, code, "%s '%s' is not supported (only '%s')",
		    key, buf, want);
	return 0;
}

static int
get_platforms(json_object *obj, unsigned *out, struct err *e)
{
	json_object *arr, *v;
	size_t i, j, n;

	if ((arr = member(obj, "", "platforms", json_type_array, 1, e)) == NULL)
		return -1;
	*out = 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			return err_set(e, "manifest_bad_type",
			    "'platforms' should hold strings");
		for (j = 0; j < NPLATFORMS; j++)
			if (strcmp(json_object_get_string(v),
			    platforms[j].name) == 0)
				break;
		if (j == NPLATFORMS || (*out & platforms[j].bit) != 0)
			return err_set(e, "manifest_bad_platforms",
			    "platform '%.32s' is unknown or repeated",
			    json_object_get_string(v));
		*out |= platforms[j].bit;
	}
	if (*out == 0)
		return err_set(e, "manifest_bad_platforms",
		    "'platforms' is empty");
	return 0;
}

static int
get_devices(json_object *obj, struct manifest *m, struct err *e)
{
	json_object *dev, *con;
	uint64_t net;

	if ((dev = member(obj, "", "devices", json_type_object, 1, e)) == NULL)
		return -1;
	if (jsonstrict_check_keys(dev, device_keys, "devices", &json_rules,
	    e) == -1 ||
	    get_uint(dev, "devices.", "net", MANIFEST_NET_MAX, &net, e) == -1)
		return -1;
	if ((con = member(dev, "devices.", "console", json_type_boolean, 1,
	    e)) == NULL)
		return -1;
	m->net = (uint32_t)net;
	m->console = json_object_get_boolean(con) ? 1 : 0;
	return 0;
}

static int
get_entry(json_object *entries, const char *key, int required,
    struct manifest_entry *ent, struct err *e)
{
	json_object *obj, *sha;
	char name[32], where[40];
	const char *hex;

	snprintf(name, sizeof(name), "entries.%s", key);
	snprintf(where, sizeof(where), "%s.", name);
	if (!required && !json_object_object_get_ex(entries, key, NULL))
		return 0;
	if ((obj = member(entries, "entries.", key, json_type_object, 1,
	    e)) == NULL)
		return -1;
	if (jsonstrict_check_keys(obj, entry_keys, name, &json_rules, e) ==
	    -1 ||
	    get_uint(obj, where, "size", MANIFEST_INITRD_MAX, &ent->size,
	    e) == -1)
		return -1;
	if ((sha = member(obj, where, "sha256", json_type_string, 1, e)) ==
	    NULL)
		return -1;
	hex = json_object_get_string(sha);
	if (strspn(hex, "0123456789abcdef") != SHA256_HEX_LEN ||
	    hex_decode(hex, ent->sha256, SHA256_LEN) == -1)
		return err_set(e, "manifest_bad_digest",
		    "'%ssha256' is not 64 lowercase hex digits", where);
	ent->present = 1;
	return 0;
}

static int
get_entries(json_object *obj, struct manifest *m, struct err *e)
{
	json_object *ents;

	if ((ents = member(obj, "", "entries", json_type_object, 1, e)) == NULL)
		return -1;
	if (jsonstrict_check_keys(ents, entries_keys, "entries", &json_rules,
	    e) == -1 ||
	    get_entry(ents, "kernel", 1, &m->kernel, e) == -1 ||
	    get_entry(ents, "initrd", 0, &m->initrd, e) == -1)
		return -1;
	return 0;
}

/* The format decides what every other key means, so it is read first. */
static int
get_format(json_object *obj, struct err *e)
{
	json_object *v;

	if ((v = member(obj, "", "format", json_type_int, 1, e)) == NULL)
		return -1;
	if (json_object_get_int64(v) != MANIFEST_FORMAT)
		return err_set(e, "manifest_unsupported_format",
		    "manifest format %lld is not supported (only %d)",
		    (long long)json_object_get_int64(v), MANIFEST_FORMAT);
	return 0;
}

static int
from_json(json_object *obj, struct manifest *m, struct err *e)
{
	uint64_t v;

	if (get_format(obj, e) == -1 ||
	    jsonstrict_check_keys(obj, top_keys, "", &json_rules, e) == -1 ||
	    get_string(obj, "name", m->name, sizeof(m->name),
	    "manifest_bad_name", e) == -1 ||
	    get_string(obj, "version", m->version, sizeof(m->version),
	    "manifest_bad_version", e) == -1 ||
	    get_fixed(obj, "arch", ARCH, "manifest_bad_arch", e) == -1 ||
	    get_fixed(obj, "boot", BOOT, "manifest_bad_boot", e) == -1 ||
	    get_platforms(obj, &m->platforms, e) == -1)
		return -1;
	if (get_uint(obj, "", "memory", MANIFEST_MEMORY_MAX, &v, e) == -1)
		return -1;
	m->memory_mib = (uint32_t)v;
	if (get_uint(obj, "", "vcpus", MANIFEST_VCPUS_MAX, &v, e) == -1)
		return -1;
	m->vcpus = (uint32_t)v;
	if (get_devices(obj, m, e) == -1 ||
	    get_string(obj, "cmdline", m->cmdline, sizeof(m->cmdline),
	    "manifest_bad_cmdline", e) == -1 ||
	    get_entries(obj, m, e) == -1)
		return -1;
	return 0;
}

/* ---- entry points ---- */

int
manifest_parse(const char *buf, size_t len, struct manifest *m,
    struct err *e)
{
	json_object *obj;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (len > MANIFEST_MAX_SIZE)
		return err_set(e, "manifest_too_large",
		    "manifest of %zu bytes, over the limit of %d", len,
		    MANIFEST_MAX_SIZE);
	if ((obj = jsonstrict_read(buf, len, &json_rules, e)) == NULL)
		return -1;
	/* Unknown keys are named as such before the scan looks for repeats. */
	if (from_json(obj, m, e) == 0 &&
	    jsonstrict_scan(buf, len, &json_rules, e) == 0 &&
	    manifest_validate(m, e) == 0)
		rc = 0;
	json_object_put(obj);
	if (rc == -1)
		memset(m, 0, sizeof(*m));
	return rc;
}

static void
put_string(FILE *f, const char *key, const char *s, const char *end)
{
	fprintf(f, "  \"%s\": \"", key);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fprintf(f, "\"%s\n", end);
}

static void
put_entry(FILE *f, const char *name, const struct manifest_entry *ent,
    const char *end)
{
	char hex[SHA256_HEX_LEN + 1];

	hex_encode(ent->sha256, SHA256_LEN, hex);
	fprintf(f, "    \"%s\": {\n      \"size\": %llu,\n"
	    "      \"sha256\": \"%s\"\n    }%s\n", name,
	    (unsigned long long)ent->size, hex, end);
}

static void
put_manifest(FILE *f, const struct manifest *m)
{
	const char *sep = "";
	size_t i;

	fprintf(f, "{\n  \"format\": %d,\n", MANIFEST_FORMAT);
	put_string(f, "name", m->name, ",");
	put_string(f, "version", m->version, ",");
	put_string(f, "arch", ARCH, ",");
	put_string(f, "boot", BOOT, ",");
	fputs("  \"platforms\": [", f);
	for (i = 0; i < NPLATFORMS; i++)
		if (m->platforms & platforms[i].bit) {
			fprintf(f, "%s\"%s\"", sep, platforms[i].name);
			sep = ", ";
		}
	fprintf(f, "],\n  \"memory\": %u,\n  \"vcpus\": %u,\n"
	    "  \"devices\": {\n    \"net\": %u,\n    \"console\": %s\n  },\n",
	    (unsigned)m->memory_mib, (unsigned)m->vcpus, (unsigned)m->net,
	    m->console ? "true" : "false");
	put_string(f, "cmdline", m->cmdline, ",");
	fputs("  \"entries\": {\n", f);
	put_entry(f, "kernel", &m->kernel, m->initrd.present ? "," : "");
	if (m->initrd.present)
		put_entry(f, "initrd", &m->initrd, "");
	fputs("  }\n}\n", f);
}

int
manifest_serialize(const struct manifest *m, char **out, size_t *len,
    struct err *e)
{
	FILE *f;
	int bad;

	*out = NULL;
	*len = 0;
	if (manifest_validate(m, e) == -1)
		return -1;
	if ((f = open_memstream(out, len)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	put_manifest(f, m);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(*out);
		*out = NULL;
		*len = 0;
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	return 0;
}
