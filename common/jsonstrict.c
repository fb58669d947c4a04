#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "jsonstrict.h"

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
rules_check(const struct jsonstrict_rules *r, struct err *e)
{
	if (r->max_depth < 1 || r->max_depth > JSONSTRICT_MAX_DEPTH)
		return err_set(e, ERR_INVALID, "JSON depth limit %d is outside "
		    "1..%d", r->max_depth, JSONSTRICT_MAX_DEPTH);
	return 0;
}

/* ---- tokenizing ---- */

/* Why json-c gave no object, in the caller's codes.  A bare "null" followed
 * by whitespace is json-c's success without an object. */
static void
refuse_tokens(enum json_tokener_error je, size_t end,
    const struct jsonstrict_rules *r, struct err *e)
{
	if (je == json_tokener_error_depth)
		err_set(e, r->too_deep, "JSON nested deeper than %d levels",
		    r->max_depth);
	else if (je == json_tokener_success)
		err_set(e, r->malformed, "the document is null at byte %zu",
		    end);
	else
		err_set(e, r->malformed, "not JSON: %s at byte %zu",
		    je == json_tokener_continue ? "truncated" :
		    json_tokener_error_desc(je), end);
}

json_object *
jsonstrict_read(const char *buf, size_t len,
    const struct jsonstrict_rules *r, struct err *e)
{
	struct json_tokener *tok;
	enum json_tokener_error je;
	json_object *obj;
	const char *nul;
	size_t end;

	if (rules_check(r, e) == -1)
		return NULL;
	if (len > INT_MAX)
		return err_set(e, ERR_INVALID, "%zu bytes of JSON is over "
		    "INT_MAX", len), NULL;
	if (len > 0 && (nul = memchr(buf, '\0', len)) != NULL)
		return err_set(e, r->malformed, "NUL byte at byte %zu",
		    (size_t)(nul - buf)), NULL;
	if ((tok = json_tokener_new_ex(r->max_depth)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading JSON"),
		    NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL) {
		refuse_tokens(je, end, r, e);
		return NULL;
	}
	/* (buf) is not NUL-terminated: only whitespace may follow, bounded. */
	for (; end < len && is_ws(buf[end]); end++)
		;
	if (end != len)
		err_set(e, r->malformed, "text after the JSON document at byte "
		    "%zu", end);
	else if (!json_object_is_type(obj, json_type_object))
		err_set(e, r->not_object, "the document must be a JSON object");
	else
		return obj;
	json_object_put(obj);
	return NULL;
}

/* ---- the raw scan ---- */

struct frame {
	int is_object;
	size_t nkeys;
	const char *key[JSONSTRICT_MAX_KEYS];	/* into the caller's text */
	size_t len[JSONSTRICT_MAX_KEYS];
};

static int
add_key(struct frame *f, const char *k, size_t n,
    const struct jsonstrict_rules *r, struct err *e)
{
	char raw[64], q[100];
	size_t i;

	snprintf(raw, sizeof(raw), "%.*s", (int)(n < 60 ? n : 60), k);
	if (memchr(k, '\\', n) != NULL)
		return err_set(e, r->escaped_key, "key '%s' is written with "
		    "escapes; no known key needs one",
		    jsonstrict_quote(raw, q, sizeof(q)));
	for (i = 0; i < f->nkeys; i++)
		if (f->len[i] == n && memcmp(f->key[i], k, n) == 0)
			return err_set(e, r->duplicate_key, "key '%s' appears "
			    "twice in one object",
			    jsonstrict_quote(raw, q, sizeof(q)));
	if (f->nkeys == JSONSTRICT_MAX_KEYS)
		return err_set(e, r->too_many_keys, "an object has more than "
		    "%d keys", JSONSTRICT_MAX_KEYS);
	f->key[f->nkeys] = k;
	f->len[f->nkeys++] = n;
	return 0;
}

/* Index of the quote that closes the string opening at (i), or (len). */
static size_t
string_end(const char *buf, size_t len, size_t i)
{
	for (i++; i < len && buf[i] != '"'; i++)
		if (buf[i] == '\\')
			i++;
	return i < len ? i : len;
}

/* A string is a key when a colon follows it. */
static int
is_key(const char *buf, size_t len, size_t end)
{
	size_t j;

	for (j = end + 1; j < len && is_ws(buf[j]); j++)
		;
	return j < len && buf[j] == ':';
}

int
jsonstrict_scan(const char *buf, size_t len,
    const struct jsonstrict_rules *r, struct err *e)
{
	struct frame st[JSONSTRICT_MAX_DEPTH + 1], *top = NULL;
	size_t i, end;
	int depth = 0;

	if (rules_check(r, e) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		switch (buf[i]) {
		case '"':
			end = string_end(buf, len, i);
			if (top != NULL && top->is_object &&
			    is_key(buf, len, end) &&
			    add_key(top, buf + i + 1, end - i - 1, r, e) == -1)
				return -1;
			i = end;
			break;
		case '{':
		case '[':
			if (depth == r->max_depth + 1)
				return err_set(e, r->too_deep, "JSON nested "
				    "deeper than %d levels", r->max_depth);
			top = &st[depth++];
			top->is_object = buf[i] == '{';
			top->nkeys = 0;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return err_set(e, r->malformed, "unbalanced "
				    "brackets at byte %zu", i);
			top = --depth > 0 ? &st[depth - 1] : NULL;
			break;
		case '\'':
			/* json-c takes 'keys' even when strict. */
			return err_set(e, r->malformed, "single-quoted "
			    "string at byte %zu", i);
		default:
			break;
		}
	}
	return 0;
}

json_object *
jsonstrict_parse(const char *buf, size_t len,
    const struct jsonstrict_rules *r, struct err *e)
{
	json_object *obj;

	if ((obj = jsonstrict_read(buf, len, r, e)) == NULL)
		return NULL;
	if (jsonstrict_scan(buf, len, r, e) == -1) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* ---- members ---- */

int
jsonstrict_check_keys(json_object *obj, const char *const *allowed,
    const char *field, const struct jsonstrict_rules *r, struct err *e)
{
	char q[100];
	size_t i;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return err_set(e, r->unknown_key,
			    "%s%sunknown key '%s'", field,
			    field[0] != '\0' ? ": " : "",
			    jsonstrict_quote(key, q, sizeof(q)));
	}
	return 0;
}

static const char *
type_name(json_type t)
{
	switch (t) {
	case json_type_string:
		return "a string";
	case json_type_int:
		return "an integer";
	case json_type_boolean:
		return "true or false";
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	default:
		return "a value of another type";
	}
}

int
jsonstrict_member(json_object *obj, const char *key, const char *field,
    json_type t, int required, const struct jsonstrict_rules *r,
    json_object **out, struct err *e)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			return err_set(e, r->missing, "%s: missing", field);
		return 0;
	}
	if (!json_object_is_type(v, t))
		return err_set(e, r->bad_type, "%s: must be %s, not %s", field,
		    type_name(t), type_name(json_object_get_type(v)));
	*out = v;
	return 0;
}

/* ---- text ---- */

/* Length of the UTF-8 sequence at (p), 0 when invalid or refused by
 * (flags).  Never reads past a NUL: no continuation byte is one. */
static size_t
utf8_len(const unsigned char *p, unsigned flags)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	int ctl = (flags & JSONSTRICT_UTF8_NO_CONTROLS) != 0;
	size_t n, i;

	if (c < 0x80)
		return ctl && (c < 0x20 || c == 0x7f) ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, lo = ctl && c == 0xc2 ? 0xa0 : 0x80;
	else if (c >= 0xe0 && c <= 0xef)	/* no overlong, no surrogate */
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80,
		    hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)	/* no overlong, <= U+10FFFF */
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80,
		    hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

size_t
jsonstrict_utf8_span(const char *s, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (p[i] != '\0' && (n = utf8_len(p + i, flags)) != 0)
		i += n;
	return i;
}

const char *
jsonstrict_quote(const char *s, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (s == NULL)
		s = "(null)";
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (o + 8 >= bufsz) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '\'') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		} else
			buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	return buf;
}
