/*
 * jsonstrict.h - reading JSON from outside strictly: the one reader behind
 * the documents that are signed or come from strangers (feeds, manifests).
 *
 * json-c alone is too lenient for a signed document.  Even with
 * JSON_TOKENER_STRICT it keeps the last of two equal keys where other parsers
 * keep the first, so one signature could mean two things; and it takes
 * 'single-quoted' keys.  Here the text is tokenized strictly (nesting
 * bounded, nothing but whitespace after the document, no NUL byte), then
 * scanned raw for keys repeated in one object, keys written with escape
 * sequences (raw comparison cannot see through them; a caller's schema has
 * no key that needs one) and single quotes.
 *
 * UTF-8 is json-c's JSON_TOKENER_VALIDATE_UTF8, which lets overlong forms
 * and code points over U+10FFFF through: a caller that keeps free text
 * checks it with jsonstrict_utf8_span().
 *
 * Errors follow err.h, but the codes are the caller's: each caller fills in
 * one struct jsonstrict_rules with its own code for each refusal, so that a
 * feed reports "feed_duplicate_key" and a manifest "manifest_duplicate_key".
 * The same code may serve several refusals.  Messages name the byte offset
 * or the field.  Besides the caller's codes, only "out_of_memory" and
 * "invalid_argument" ((r) out of range).
 *
 * Memory: (buf) is only read, need not be NUL-terminated and is not kept.
 * jsonstrict_read() and jsonstrict_parse() return a new json_object that
 * the caller releases with json_object_put(); nothing else allocates.
 * jsonstrict_member() returns a member borrowed from its object, valid while
 * that object lives.
 */
#ifndef COMMON_JSONSTRICT_H
#define COMMON_JSONSTRICT_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define JSONSTRICT_MAX_DEPTH 16	/* the largest max_depth a caller may ask */
#define JSONSTRICT_MAX_KEYS 32	/* keys in one object; more is refused */

struct jsonstrict_rules {
	int max_depth;		/* json-c's tokener depth, 1..
				 * JSONSTRICT_MAX_DEPTH: the document is
				 * level 1, each value (a scalar too) one
				 * level below its array or object, and no
				 * value may be deeper than max_depth */
	/* The caller's codes (static strings, all required): */
	const char *malformed;	/* not JSON, truncated, NUL byte, text after
				 * the document, a single quote */
	const char *too_deep;	/* nested deeper than max_depth allows */
	const char *not_object;	/* the document is not an object */
	const char *escaped_key;	/* a key written with escapes */
	const char *duplicate_key;	/* a key twice in one object */
	const char *too_many_keys;	/* over JSONSTRICT_MAX_KEYS in one */
	const char *unknown_key;	/* jsonstrict_check_keys() */
	const char *missing;	/* jsonstrict_member(): required, absent */
	const char *bad_type;	/* jsonstrict_member(): another JSON type */
};

/* Tokenizes (len) bytes at (buf) as one JSON object under (r), in this
 * order: a NUL byte, json-c's verdict (too deep, or any other error),
 * text after the document, a document that is not an object.  It does not
 * scan for duplicate keys: call jsonstrict_scan() on the same bytes before
 * trusting the object, or use jsonstrict_parse().  Returns a new object, or
 * NULL with (e) set. */
json_object *jsonstrict_read(const char *buf, size_t len,
    const struct jsonstrict_rules *r, struct err *e);

/* Scans the raw text of (buf) for a key repeated in one object, a key with
 * an escape, more than JSONSTRICT_MAX_KEYS keys in one object and a single
 * quote outside a string (json-c takes 'keys' even when strict, and a
 * duplicate written that way would go unseen).  Meant for text
 * jsonstrict_read() accepted; memory-safe on any text.  A caller may run it
 * after its own schema check, so that a misspelt key is reported as unknown
 * rather than as whatever the scan finds first.  Returns 0 or -1. */
int jsonstrict_scan(const char *buf, size_t len,
    const struct jsonstrict_rules *r, struct err *e);

/* jsonstrict_read() then jsonstrict_scan(): the object, or NULL with (e)
 * set and nothing to free. */
json_object *jsonstrict_parse(const char *buf, size_t len,
    const struct jsonstrict_rules *r, struct err *e);

/* Refuses with (r)->unknown_key the first key of (obj) that is not in
 * (allowed), a NULL-terminated list.  (field) names the object in the
 * message ("requires: unknown key 'x'"); "" for none. */
int jsonstrict_check_keys(json_object *obj, const char *const *allowed,
    const char *field, const struct jsonstrict_rules *r, struct err *e);

/* Sets (*out) to the member (key) of (obj) when it has JSON type (t) and
 * returns 0; when it is absent, returns -1 with (r)->missing if (required),
 * else 0 with (*out) NULL.  A member of another type (null included) fails
 * with (r)->bad_type.  (field) names the member in messages
 * ("requires.memory: missing").  (*out) is NULL after a failure. */
int jsonstrict_member(json_object *obj, const char *key, const char *field,
    json_type t, int required, const struct jsonstrict_rules *r,
    json_object **out, struct err *e);

/* (flags) of jsonstrict_utf8_span(). */
/* Also stops at a control character: C0, DEL or C1 (U+0080..U+009F). */
#define JSONSTRICT_UTF8_NO_CONTROLS 0x1

/* Length of the longest prefix of the NUL-terminated (s) that is valid
 * UTF-8 (shortest forms, no surrogates, nothing over U+10FFFF) and passes
 * (flags): (s) is all good when s[result] is the NUL. */
size_t jsonstrict_utf8_span(const char *s, unsigned flags);

/* Untrusted text for a message: at most (bufsz) - 1 bytes of (s) written to
 * (buf), control and non-ASCII bytes, backslash and single quote as \xNN,
 * cut with "..." when long, so that a message stays one printable line.
 * (s) may be NULL ("(null)").  Returns (buf); (bufsz) must be at least 4. */
const char *jsonstrict_quote(const char *s, char *buf, size_t bufsz);

#endif
