#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "manifest.h"

/* Deeper than any manifest object (3); deeper input is refused early. */
#define JSON_DEPTH 8
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

/* Length of the UTF-8 sequence at (p), 0 when invalid or a C1 control. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, lo = c == 0xc2 ? 0xa0 : 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static int
check_cmdline(const char *s, struct err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (strlen(s) > MANIFEST_CMDLINE_MAX)
		return err_set(e, "manifest_bad_cmdline",
		    "cmdline longer than %d bytes", MANIFEST_CMDLINE_MAX);
	for (; *p != '\0'; p += n)
		if ((n = utf8_len(p)) == 0)
			return err_set(e, "manifest_bad_cmdline",
			    "cmdline has a control character or invalid UTF-8 "
			    "at byte %zu", (size_t)(p - (const unsigned char *)s));
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

static int
check_keys(json_object *obj, const char *const *allowed, const char *where,
    struct err *e)
{
	size_t i;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return err_set(e, "manifest_unknown_key",
			    "unknown key '%s%.64s'", where, key);
	}
	return 0;
}

/* The member (key) of (obj) of JSON type (t); NULL when absent and not
 * (required), or on error. */
static json_object *
member(json_object *obj, const char *where, const char *key, json_type t,
    int required, struct err *e)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			err_set(e, "manifest_missing_key", "missing key '%s%s'",
			    where, key);
		return NULL;
	}
	if (!json_object_is_type(v, t)) {
		err_set(e, "manifest_bad_type", "'%s%s' should be %s", where,
		    key, json_type_to_name(t));
		return NULL;
	}
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
	if (check_keys(dev, device_keys, "devices.", e) == -1 ||
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
	char where[32];
	const char *hex;

	snprintf(where, sizeof(where), "entries.%s.", key);
	if (!required && !json_object_object_get_ex(entries, key, NULL))
		return 0;
	if ((obj = member(entries, "entries.", key, json_type_object, 1,
	    e)) == NULL)
		return -1;
	if (check_keys(obj, entry_keys, where, e) == -1 ||
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
	if (check_keys(ents, entries_keys, "entries.", e) == -1 ||
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
	    check_keys(obj, top_keys, "", e) == -1 ||
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

/* ---- duplicate keys ---- */

/*
 * json-c keeps the last of two equal keys, another parser the first; so the
 * raw text is scanned.  It runs after the schema check, when json-c has
 * already proven the text well-formed and every key known; keys written with
 * escapes are refused here since raw comparison cannot see through them.
 * An object holds at most 11 known keys, so a 16th key must repeat one.
 */
#define FRAME_KEYS 16

struct frame {
	size_t n;
	const char *key[FRAME_KEYS];
	size_t len[FRAME_KEYS];
};

static int
add_key(struct frame *f, const char *k, size_t n, struct err *e)
{
	size_t i;

	if (memchr(k, '\\', n) != NULL)
		return err_set(e, "manifest_unknown_key",
		    "key '%.*s' is written with escapes", (int)(n > 64 ? 64 : n),
		    k);
	for (i = 0; i < f->n; i++)
		if (f->len[i] == n && memcmp(f->key[i], k, n) == 0)
			break;
	if (i < f->n || f->n == FRAME_KEYS)
		return err_set(e, "manifest_duplicate_key",
		    "key '%.*s' appears twice in one object",
		    (int)(n > 64 ? 64 : n), k);
	f->key[f->n] = k;
	f->len[f->n++] = n;
	return 0;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Index just past the string starting at the quote at (i). */
static size_t
skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i + 1;
}

static int
scan_duplicates(const char *s, size_t len, struct err *e)
{
	struct frame st[JSON_DEPTH + 1];
	size_t i = 0, end, j;
	int depth = -1;

	while (i < len) {
		char c = s[i];
		if (c == '"') {
			end = skip_string(s, len, i);
			for (j = end; j < len && is_ws(s[j]); j++)
				;
			if (j < len && s[j] == ':' && depth >= 0 &&
			    add_key(&st[depth], s + i + 1, end - i - 2, e) == -1)
				return -1;
			i = end;
			continue;
		}
		if ((c == '{' || c == '[') && depth < JSON_DEPTH) {
			st[++depth].n = 0;
		} else if ((c == '}' || c == ']') && depth >= 0) {
			depth--;
		}
		i++;
	}
	return 0;
}

/* ---- entry points ---- */

static json_object *
tokenize(const char *buf, size_t len, struct err *e)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (memchr(buf, '\0', len) != NULL)
		return err_set(e, "manifest_invalid_json", "NUL byte in the "
		    "manifest"), NULL;
	if ((tok = json_tokener_new_ex(JSON_DEPTH)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory"), NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	/* (buf) is not NUL-terminated: only whitespace may follow, bounded. */
	for (end = json_tokener_get_parse_end(tok); end < len && is_ws(buf[end]);
	    end++)
		;
	if (obj != NULL && jerr == json_tokener_success && end != len)
		jerr = json_tokener_error_parse_unexpected;
	if (obj == NULL || jerr != json_tokener_success) {
		err_set(e, "manifest_invalid_json", "not valid JSON: %s",
		    obj == NULL && jerr == json_tokener_continue ?
		    "unexpected end" : json_tokener_error_desc(jerr));
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

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
	if ((obj = tokenize(buf, len, e)) == NULL)
		return -1;
	if (!json_object_is_type(obj, json_type_object))
		err_set(e, "manifest_invalid_json", "not a JSON object");
	else if (from_json(obj, m, e) == 0 &&
	    scan_duplicates(buf, len, e) == 0 && manifest_validate(m, e) == 0)
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
