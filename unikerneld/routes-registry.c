/*
 * routes-registry.c - the store's side of the REST API (docs/api.md):
 * feeds, keys, images, the event stream and /metrics.
 *
 * Every handler reads the calling thread's store connection (ukd_store())
 * and answers with one api_reply_*() call.  Bodies and query arguments are
 * checked here before anything is changed: a wrong shape is 400
 * bad_request (api_body_rules), a wrong value 400 with the code of the
 * check that refused it (invalid_argument, trust_pattern_invalid,
 * range_invalid, uri_*), and every message starts with the field's name.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "feed.h"
#include "fileio.h"
#include "minisign.h"
#include "routes.h"
#include "select.h"
#include "trust.h"
#include "ukd.h"
#include "version.h"

#define KEY_DOMAINS_MAX 64	/* domains in one POST /v1/keys */
#define EVENTS_BATCH 64		/* events read from the store at once */
#define EVENTS_WAIT_MS 1000	/* a stream's wait for news, per call */

/* ---- small helpers ---- */

/* The store of the calling thread, or NULL after an error reply. */
static struct store *
req_store(struct api_request *req, struct ukd **dp)
{
	struct ukd *d = api_arg(req);
	struct store *st;
	struct err e;

	err_clear(&e);
	*dp = d;
	if ((st = ukd_store(d, &e)) == NULL)
		api_reply_error(req, &e);
	return st;
}

/* A route without a body: anything but {} (or nothing) is refused. */
static int
body_empty(struct api_request *req)
{
	static const char *const none[] = { NULL };
	struct err e;

	err_clear(&e);
	if (jsonstrict_check_keys(api_body(req), none, "body",
	    &api_body_rules, &e) == -1) {
		api_reply_errorf(req, e.code, "%s; this route takes no body",
		    e.msg);
		return -1;
	}
	return 0;
}

/* Replies 400 (code) with "FIELD: message". */
static int
reply_field(struct api_request *req, const char *code, const char *field,
    const char *msg)
{
	return api_reply_errorf(req, code, "%s: %s", field, msg);
}

/* An unsigned decimal query argument: digits only, at most (max). */
static int
parse_count(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* (s) is (n) hex digits; copied lowercase to (out) (n + 1 bytes). */
static int
hex_arg(const char *s, size_t n, char *out)
{
	size_t i;
	char c;

	if (s == NULL || strlen(s) != n)
		return -1;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

static void
ascii_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* A request's text quoted for a message. */
static const char *
q(const char *s, char *buf, size_t bufsz)
{
	return jsonstrict_quote(s, buf, bufsz);
}

/* A growing buffer of text. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sbuf_add(b, small, (size_t)n);
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sbuf_add(b, big, (size_t)n);
	free(big);
}

/* One JSON line (obj, released) onto (b). */
static void
sbuf_json_line(struct sbuf *b, json_object *obj)
{
	const char *s;

	if (obj == NULL) {
		b->oom = 1;
		return;
	}
	s = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		b->oom = 1;
	else {
		sbuf_add(b, s, strlen(s));
		sbuf_add(b, "\n", 1);
	}
	json_object_put(obj);
}

/* {"NAME":[...]} around (arr); NULL when out of memory. */
static json_object *
wrap(const char *name, json_object *arr)
{
	json_object *o;

	if (arr == NULL)
		return NULL;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(arr);
		return NULL;
	}
	json_object_object_add(o, name, arr);
	return o;
}

/* ---- feeds ---- */

static json_object *
feed_json(const struct store_feed *f)
{
	char id[UKD_FEED_ID_LEN + 1];
	json_object *o, *le = NULL;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	ukd_feed_id(f->uri, id);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "uri", json_object_new_string(f->uri));
	json_object_object_add(o, "added", route_time(f->added));
	json_object_object_add(o, "last_fetched", route_time(f->last_fetched));
	if (f->last_error_code != NULL &&
	    (le = json_object_new_object()) != NULL) {
		json_object_object_add(le, "code",
		    json_object_new_string(f->last_error_code));
		json_object_object_add(le, "message", json_object_new_string(
		    f->last_error != NULL ? f->last_error : ""));
	}
	json_object_object_add(o, "last_error", le);
	json_object_object_add(o, "serial", f->accepted ?
	    json_object_new_int64((int64_t)f->state.trust.serial) : NULL);
	json_object_object_add(o, "accepted", f->accepted ?
	    route_time(f->state.accepted) : NULL);
	json_object_object_add(o, "expires", f->accepted ?
	    route_time(f->state.expires) : NULL);
	return o;
}

int
route_feeds_list(struct api_request *req)
{
	struct store_feed *feeds = NULL;
	json_object *arr;
	struct store *st;
	struct ukd *d;
	struct err e;
	size_t i, n = 0;

	if (body_empty(req) == -1 || (st = req_store(req, &d)) == NULL)
		return 0;
	err_clear(&e);
	if (store_feed_list(st, &feeds, &n, &e) == -1)
		return api_reply_error(req, &e);
	if ((arr = json_object_new_array()) != NULL)
		for (i = 0; i < n; i++)
			json_object_array_add(arr, feed_json(&feeds[i]));
	store_feed_list_free(feeds, n);
	return api_reply_json(req, 200, wrap("feeds", arr));
}

/* The URI of the feed {id}, into a new string; NULL after a reply. */
static char *
feed_by_id(struct api_request *req, struct store *st)
{
	const char *arg = api_capture(req, "id");
	char want[UKD_FEED_ID_LEN + 1], id[UKD_FEED_ID_LEN + 1], qb[64];
	struct store_feed *feeds = NULL;
	char *uri = NULL;
	struct err e;
	size_t i, n = 0;

	if (hex_arg(arg, UKD_FEED_ID_LEN, want) == -1) {
		api_reply_errorf(req, ERR_INVALID, "feed id '%s' is not %d "
		    "hex digits", q(arg, qb, sizeof(qb)), UKD_FEED_ID_LEN);
		return NULL;
	}
	err_clear(&e);
	if (store_feed_list(st, &feeds, &n, &e) == -1) {
		api_reply_error(req, &e);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		ukd_feed_id(feeds[i].uri, id);
		if (strcmp(id, want) == 0)
			break;
	}
	if (i == n)
		api_reply_errorf(req, "store_not_found", "no feed with id %s "
		    "is followed", want);
	else if ((uri = strdup(feeds[i].uri)) == NULL)
		api_reply_errorf(req, ERR_NOMEM, "out of memory");
	store_feed_list_free(feeds, n);
	return uri;
}

/* Replies with the feed (uri) as the store has it now, under (status);
 * (changed) >= 0 wraps it as {"feed":...,"changed":...}. */
static int
reply_feed(struct api_request *req, struct store *st, const char *uri,
    unsigned status, int changed)
{
	struct store_feed f;
	json_object *o, *w;
	struct err e;

	err_clear(&e);
	memset(&f, 0, sizeof(f));
	if (store_feed_get(st, uri, &f, &e) == -1)
		return api_reply_error(req, &e);
	o = feed_json(&f);
	store_feed_free(&f);
	if (o == NULL || changed < 0)
		return api_reply_json(req, status, o);
	if ((w = json_object_new_object()) == NULL) {
		json_object_put(o);
		return -1;
	}
	json_object_object_add(w, "feed", o);
	json_object_object_add(w, "changed",
	    json_object_new_boolean(changed));
	return api_reply_json(req, status, w);
}

int
route_feeds_add(struct api_request *req)
{
	static const char *const keys[] = { "uri", NULL };
	struct ukd_feed_result r;
	json_object *body = api_body(req), *v, *details = NULL;
	char domain[TRUST_DOMAIN_MAX], qb[128];
	struct store_feed f;
	const char *uri;
	struct store *st;
	struct ukd *d;
	struct err e;

	err_clear(&e);
	if (jsonstrict_check_keys(body, keys, "", &api_body_rules, &e) == -1 ||
	    jsonstrict_member(body, "uri", "uri", json_type_string, 1,
	    &api_body_rules, &v, &e) == -1)
		return api_reply_error(req, &e);
	uri = json_object_get_string(v);
	if (strlen(uri) > STORE_URI_MAX)
		return reply_field(req, ERR_INVALID, "uri", "longer than "
		    "1024 bytes");
	if (jsonstrict_utf8_span(uri, JSONSTRICT_UTF8_NO_CONTROLS) !=
	    strlen(uri))
		return reply_field(req, "uri_malformed", "uri", "control "
		    "characters or invalid UTF-8");
	if (trust_domain_of_uri(uri, domain, &e) == -1)
		return reply_field(req, e.code, "uri", e.msg);
	if ((st = req_store(req, &d)) == NULL)
		return 0;
	memset(&f, 0, sizeof(f));
	if (store_feed_get(st, uri, &f, &e) == 0) {
		store_feed_free(&f);
		return api_reply_errorf(req, "store_exists", "the feed %s is "
		    "followed already", q(uri, qb, sizeof(qb)));
	}
	if (strcmp(e.code, "store_not_found") != 0)
		return api_reply_error(req, &e);
	err_clear(&e);
	memset(&r, 0, sizeof(r));
	if (ukd_feed_update(d, uri, &r, &details, &e) == -1)
		return api_reply_error_details(req, &e, details);
	if (details != NULL)
		json_object_put(details);
	if (!r.added) {
		/* Another request followed it in the meantime. */
		ukd_feed_result_free(&r);
		return api_reply_errorf(req, "store_exists", "the feed %s is "
		    "followed already", q(uri, qb, sizeof(qb)));
	}
	ukd_feed_result_free(&r);
	return reply_feed(req, st, uri, 201, -1);
}

int
route_feed_refresh(struct api_request *req)
{
	struct ukd_feed_result r;
	json_object *details = NULL;
	struct store *st;
	struct ukd *d;
	struct err e;
	char *uri;
	int rc, changed;

	if (body_empty(req) == -1 || (st = req_store(req, &d)) == NULL)
		return 0;
	if ((uri = feed_by_id(req, st)) == NULL)
		return 0;
	err_clear(&e);
	memset(&r, 0, sizeof(r));
	if (ukd_feed_update(d, uri, &r, &details, &e) == -1) {
		free(uri);
		return api_reply_error_details(req, &e, details);
	}
	if (details != NULL)
		json_object_put(details);
	changed = !r.unchanged;
	ukd_feed_result_free(&r);
	rc = reply_feed(req, st, uri, 200, changed);
	free(uri);
	return rc;
}

/* The policy of GET /v1/feeds/{id}/select from its query; -1 after a
 * reply.  (*range) is for version_range_free(). */
static int
select_policy_from(struct api_request *req, struct select_policy *p,
    struct version_range **range)
{
	const char *v = api_query(req, "version"),
	    *s = api_query(req, "stability"), *m = api_query(req, "memory");
	char qb[64];
	uint64_t mem;
	struct err e;

	select_policy_init(p);
	*range = NULL;
	err_clear(&e);
	if (s != NULL && feed_stability_parse(s, &p->stability) == -1) {
		api_reply_errorf(req, ERR_INVALID, "stability: '%s' is not "
		    "stable, testing, developer, buggy or insecure",
		    q(s, qb, sizeof(qb)));
		return -1;
	}
	if (m != NULL && (parse_count(m, FEED_MEMORY_MAX, &mem) == -1 ||
	    mem == 0)) {
		api_reply_errorf(req, ERR_INVALID, "memory: '%s' is not a "
		    "number of MiB from 1 to %u", q(m, qb, sizeof(qb)),
		    FEED_MEMORY_MAX);
		return -1;
	}
	if (m != NULL)
		p->memory = (uint32_t)mem;
	if (v != NULL) {
		if ((*range = version_range_parse(v, &e)) == NULL) {
			reply_field(req, e.code, "version", e.msg);
			return -1;
		}
		p->range = *range;
		p->range_text = v;
	}
	return 0;
}

static json_object *
candidate_json(const struct feed *f, const struct select_policy *p,
    const struct select_result *r, size_t i)
{
	const struct feed_impl *impl = &f->impls[i];
	json_object *o, *rs, *one;
	char text[512];
	unsigned k;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "version",
	    json_object_new_string(impl->version));
	json_object_object_add(o, "stability",
	    json_object_new_string(feed_stability_name(impl->stability)));
	json_object_object_add(o, "arch", json_object_new_string(impl->arch));
	json_object_object_add(o, "chosen",
	    json_object_new_boolean(r->found && r->chosen == i));
	if ((rs = json_object_new_array()) != NULL)
		for (k = 0; k < SELECT_R_COUNT; k++) {
			if (!(r->reasons[i] & (1u << k)))
				continue;
			select_reason_text(f, p, r, i, 1u << k, text,
			    sizeof(text));
			if ((one = json_object_new_object()) == NULL)
				continue;
			json_object_object_add(one, "reason",
			    json_object_new_string(
			    select_reason_name(1u << k)));
			json_object_object_add(one, "text",
			    json_object_new_string(text));
			json_object_array_add(rs, one);
		}
	json_object_object_add(o, "reasons", rs);
	return o;
}

static json_object *
selected_json(const struct feed_impl *impl)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "version",
	    json_object_new_string(impl->version));
	json_object_object_add(o, "stability",
	    json_object_new_string(feed_stability_name(impl->stability)));
	json_object_object_add(o, "sha256",
	    json_object_new_string(impl->image.sha256));
	json_object_object_add(o, "size",
	    json_object_new_int64((int64_t)impl->image.size));
	json_object_object_add(o, "memory_mib",
	    json_object_new_int64(impl->requires.memory));
	return o;
}

int
route_feed_select(struct api_request *req)
{
	struct version_range *range = NULL;
	struct select_result *r;
	struct select_policy p;
	struct feed *f = NULL;
	json_object *o, *arr;
	struct store *st;
	struct ukd *d;
	struct err e;
	char *uri;
	size_t i;
	int rc = -1;

	if (body_empty(req) == -1 ||
	    select_policy_from(req, &p, &range) == -1)
		return 0;
	if ((st = req_store(req, &d)) == NULL ||
	    (uri = feed_by_id(req, st)) == NULL) {
		version_range_free(range);
		return 0;
	}
	err_clear(&e);
	if (ukd_feed_load(d, uri, &f, &e) == -1) {
		free(uri);
		version_range_free(range);
		return api_reply_error(req, &e);
	}
	free(uri);
	/* FEED_MAX_IMPLS reasons: too large for a connection's stack. */
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		feed_free(f);
		version_range_free(range);
		return -1;
	}
	if (select_run(f, &p, r, &e) == -1 &&
	    strcmp(e.code, "select_no_match") != 0) {
		rc = api_reply_error(req, &e);
		goto done;
	}
	if ((o = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL) {
		if (o != NULL)
			json_object_put(o);
		goto done;
	}
	json_object_object_add(o, "selected", r->found ?
	    selected_json(&f->impls[r->chosen]) : NULL);
	for (i = 0; i < r->n; i++)
		json_object_array_add(arr, candidate_json(f, &p, r, i));
	json_object_object_add(o, "candidates", arr);
	rc = api_reply_json(req, 200, o);
done:
	free(r);
	feed_free(f);
	version_range_free(range);
	return rc;
}

/* ---- keys ---- */

static json_object *
key_json(const struct store_key *k)
{
	char kid[SIG_KEYID_HEX_LEN + 1], b64[SIG_PUBKEY_B64_LEN + 1];
	struct sig_pubkey pk;
	json_object *o, *doms;
	size_t i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	memcpy(pk.keyid, k->keyid, SIG_KEYID_LEN);
	memcpy(pk.pk, k->pk, SIG_PK_LEN);
	sig_keyid_format(k->keyid, kid);
	sig_pubkey_base64(&pk, b64);
	json_object_object_add(o, "keyid", json_object_new_string(kid));
	json_object_object_add(o, "pubkey", json_object_new_string(b64));
	json_object_object_add(o, "comment", json_object_new_string(
	    k->comment != NULL ? k->comment : ""));
	json_object_object_add(o, "added", route_time(k->added));
	if ((doms = json_object_new_array()) != NULL)
		for (i = 0; i < k->ndomains; i++)
			json_object_array_add(doms,
			    json_object_new_string(k->domains[i]));
	json_object_object_add(o, "domains", doms);
	return o;
}

int
route_keys_list(struct api_request *req)
{
	struct store_key *keys = NULL;
	json_object *arr;
	struct store *st;
	struct ukd *d;
	struct err e;
	size_t i, n = 0;

	if (body_empty(req) == -1 || (st = req_store(req, &d)) == NULL)
		return 0;
	err_clear(&e);
	if (store_key_list(st, &keys, &n, &e) == -1)
		return api_reply_error(req, &e);
	if ((arr = json_object_new_array()) != NULL)
		for (i = 0; i < n; i++)
			json_object_array_add(arr, key_json(&keys[i]));
	store_key_list_free(keys, n);
	return api_reply_json(req, 200, wrap("keys", arr));
}

/* Records a change of the trust store in the event log and the daemon's
 * log; a failure to record is only logged (the change is made). */
__attribute__((format(printf, 3, 4))) static void
trust_event(struct ukd *d, struct store *st, const char *fmt, ...)
{
	char msg[STORE_EVENT_MSG_MAX];
	struct err e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ukd_logf(d, LOG_NOTICE, "%s", msg);
	err_clear(&e);
	if (store_event_add(st, NULL, "trust", msg, NULL, &e) == -1)
		ukd_logf(d, LOG_WARNING, "recording the event '%s': %s [%s]",
		    msg, e.msg, e.code);
	else
		ukd_notify(d);
}

/* The body of POST /v1/keys, checked. */
struct key_req {
	struct sig_pubkey pk;
	const char *comment;		/* NULL: none given */
	const char *domains[KEY_DOMAINS_MAX];
	size_t ndomains;
};

static int
key_req_parse(struct api_request *req, struct key_req *k)
{
	static const char *const keys[] = { "pubkey", "domains", "comment",
	    NULL };
	json_object *body = api_body(req), *pub, *doms, *com, *it;
	char field[32], qb[64];
	const char *s;
	struct err e;
	size_t i, n;

	err_clear(&e);
	if (jsonstrict_check_keys(body, keys, "", &api_body_rules, &e) == -1 ||
	    jsonstrict_member(body, "pubkey", "pubkey", json_type_string, 1,
	    &api_body_rules, &pub, &e) == -1 ||
	    jsonstrict_member(body, "domains", "domains", json_type_array, 1,
	    &api_body_rules, &doms, &e) == -1 ||
	    jsonstrict_member(body, "comment", "comment", json_type_string, 0,
	    &api_body_rules, &com, &e) == -1) {
		api_reply_error(req, &e);
		return -1;
	}
	s = json_object_get_string(pub);
	if (sig_pubkey_from_base64(s, &k->pk, &e) == -1) {
		api_reply_errorf(req, ERR_INVALID, "pubkey: '%s' is not a "
		    "minisign public key (the base64 line of uk.pub): %s",
		    q(s, qb, sizeof(qb)), e.msg);
		return -1;
	}
	n = json_object_array_length(doms);
	if (n == 0 || n > KEY_DOMAINS_MAX) {
		api_reply_errorf(req, ERR_INVALID, "domains: %zu given, "
		    "1 to %d wanted", n, KEY_DOMAINS_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(doms, i);
		snprintf(field, sizeof(field), "domains[%zu]", i);
		if (!json_object_is_type(it, json_type_string)) {
			reply_field(req, "bad_request", field, "not a string");
			return -1;
		}
		s = json_object_get_string(it);
		if (trust_pattern_check(s, &e) == -1) {
			reply_field(req, e.code, field, e.msg);
			return -1;
		}
		k->domains[i] = s;
	}
	k->ndomains = n;
	k->comment = NULL;
	if (com != NULL) {
		s = json_object_get_string(com);
		if (jsonstrict_utf8_span(s, JSONSTRICT_UTF8_NO_CONTROLS) !=
		    strlen(s)) {
			reply_field(req, ERR_INVALID, "comment", "control "
			    "characters or invalid UTF-8");
			return -1;
		}
		if (sig_comment_check(s, 0, &e) == -1) {
			reply_field(req, ERR_INVALID, "comment", e.msg);
			return -1;
		}
		k->comment = s;
	}
	return 0;
}

/* Adds the domains of (k) to its key, in the store already: 200. */
static int
key_add_domains(struct api_request *req, struct ukd *d, struct store *st,
    const struct key_req *k, const struct store_key *have)
{
	char kid[SIG_KEYID_HEX_LEN + 1];
	struct store_key now;
	json_object *o;
	struct err e;
	size_t i;

	sig_keyid_format(k->pk.keyid, kid);
	if (memcmp(have->pk, k->pk.pk, SIG_PK_LEN) != 0)
		return api_reply_errorf(req, "store_conflict", "key %s is "
		    "trusted already with another public key under the same "
		    "key id; remove it first if the new one is right", kid);
	for (i = 0; i < k->ndomains; i++) {
		err_clear(&e);
		if (store_key_domain_add(st, k->pk.keyid, k->domains[i],
		    &e) == 0)
			trust_event(d, st, "key %s is trusted for %s", kid,
			    k->domains[i]);
		else if (strcmp(e.code, "store_exists") != 0)
			return api_reply_error(req, &e);
	}
	memset(&now, 0, sizeof(now));
	if (store_key_get(st, k->pk.keyid, &now, &e) == -1)
		return api_reply_error(req, &e);
	o = key_json(&now);
	store_key_free(&now);
	return api_reply_json(req, 200, o);
}

int
route_keys_add(struct api_request *req)
{
	char kid[SIG_KEYID_HEX_LEN + 1];
	struct store_key have;
	struct key_req k;
	struct store *st;
	json_object *o;
	struct ukd *d;
	struct err e;
	size_t i;
	int rc;

	if (key_req_parse(req, &k) == -1 || (st = req_store(req, &d)) == NULL)
		return 0;
	sig_keyid_format(k.pk.keyid, kid);
	memset(&have, 0, sizeof(have));
	err_clear(&e);
	if (store_key_get(st, k.pk.keyid, &have, &e) == 0) {
		rc = key_add_domains(req, d, st, &k, &have);
		store_key_free(&have);
		return rc;
	}
	if (strcmp(e.code, "store_not_found") != 0)
		return api_reply_error(req, &e);
	err_clear(&e);
	if (store_key_add(st, &k.pk, k.comment, k.domains, k.ndomains,
	    &e) == -1) {
		if (strcmp(e.code, "store_exists") != 0)
			return api_reply_error(req, &e);
		/* Added by another request in the meantime. */
		err_clear(&e);
		if (store_key_get(st, k.pk.keyid, &have, &e) == -1)
			return api_reply_error(req, &e);
		rc = key_add_domains(req, d, st, &k, &have);
		store_key_free(&have);
		return rc;
	}
	for (i = 0; i < k.ndomains; i++)
		trust_event(d, st, "key %s is trusted for %s", kid,
		    k.domains[i]);
	err_clear(&e);
	if (store_key_get(st, k.pk.keyid, &have, &e) == -1)
		return api_reply_error(req, &e);
	o = key_json(&have);
	store_key_free(&have);
	return api_reply_json(req, 201, o);
}

int
route_keys_delete(struct api_request *req)
{
	const char *ks = api_query(req, "keyid"),
	    *dom = api_query(req, "domain");
	char kid[SIG_KEYID_HEX_LEN + 1], rule[TRUST_DOMAIN_MAX + 2], qb[64];
	uint8_t keyid[SIG_KEYID_LEN];
	struct store *st;
	json_object *o;
	struct ukd *d;
	struct err e;

	if (body_empty(req) == -1)
		return 0;
	if (ks == NULL)
		return reply_field(req, "bad_request", "keyid", "the query "
		    "argument is required (?keyid=ID)");
	if (sig_keyid_parse(ks, keyid) == -1)
		return api_reply_errorf(req, ERR_INVALID, "keyid: '%s' is "
		    "not a key id (16 hex digits)", q(ks, qb, sizeof(qb)));
	err_clear(&e);
	if (dom != NULL) {
		if (trust_pattern_check(dom, &e) == -1)
			return reply_field(req, e.code, "domain", e.msg);
		if (strlen(dom) >= sizeof(rule))
			return reply_field(req, "trust_pattern_invalid",
			    "domain", "too long");
		strcpy(rule, dom);
		ascii_lower(rule);
	}
	if ((st = req_store(req, &d)) == NULL)
		return 0;
	sig_keyid_format(keyid, kid);
	if (dom != NULL) {
		if (store_key_domain_remove(st, keyid, rule, &e) == -1)
			return api_reply_error(req, &e);
		trust_event(d, st, "key %s is no longer trusted for %s", kid,
		    rule);
	} else {
		if (store_key_remove(st, keyid, &e) == -1)
			return api_reply_error(req, &e);
		trust_event(d, st, "key %s was removed from the trust store",
		    kid);
	}
	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "deleted", json_object_new_string(kid));
	if (dom != NULL)
		json_object_object_add(o, "domain",
		    json_object_new_string(rule));
	return api_reply_json(req, 200, o);
}

/* ---- images ---- */

static json_object *
image_json(const struct store_image *img)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "sha256", json_object_new_string(img->sha256));
	json_object_object_add(o, "size",
	    json_object_new_int64((int64_t)img->size));
	json_object_object_add(o, "name", route_str(img->name));
	json_object_object_add(o, "version", route_str(img->version));
	json_object_object_add(o, "added", route_time(img->added));
	json_object_object_add(o, "last_used", route_time(img->last_used));
	json_object_object_add(o, "refs", json_object_new_int64(img->refs));
	return o;
}

int
route_images_list(struct api_request *req)
{
	struct store_image *imgs = NULL;
	json_object *arr;
	struct store *st;
	struct ukd *d;
	struct err e;
	size_t i, n = 0;

	if (body_empty(req) == -1 || (st = req_store(req, &d)) == NULL)
		return 0;
	err_clear(&e);
	if (store_image_list(st, &imgs, &n, &e) == -1)
		return api_reply_error(req, &e);
	if ((arr = json_object_new_array()) != NULL)
		for (i = 0; i < n; i++)
			json_object_array_add(arr, image_json(&imgs[i]));
	store_image_list_free(imgs, n);
	return api_reply_json(req, 200, wrap("images", arr));
}

int
route_image_delete(struct api_request *req)
{
	const char *arg = api_capture(req, "sha256");
	char sha[SHA256_HEX_LEN + 1], qb[96];
	json_object *o;
	struct ukd *d = api_arg(req);
	struct err e;

	if (body_empty(req) == -1)
		return 0;
	if (hex_arg(arg, SHA256_HEX_LEN, sha) == -1)
		return api_reply_errorf(req, ERR_INVALID, "sha256: '%s' is "
		    "not %d hex digits", q(arg, qb, sizeof(qb)),
		    SHA256_HEX_LEN);
	err_clear(&e);
	if (ukd_image_remove(d, sha, &e) == -1)
		return api_reply_error(req, &e);
	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "deleted", json_object_new_string(sha));
	return api_reply_json(req, 200, o);
}

int
route_images_prune(struct api_request *req)
{
	static const char *const keys[] = { "older_than", NULL };
	json_object *body = api_body(req), *v, *o, *arr;
	struct store_image *imgs = NULL;
	int64_t before = INT64_MAX, older, now;
	uint64_t bytes = 0;
	struct store *st;
	struct ukd *d;
	struct err e;
	size_t i, n = 0;

	err_clear(&e);
	if (jsonstrict_check_keys(body, keys, "", &api_body_rules, &e) == -1 ||
	    jsonstrict_member(body, "older_than", "older_than", json_type_int,
	    0, &api_body_rules, &v, &e) == -1)
		return api_reply_error(req, &e);
	if (v != NULL) {
		errno = 0;
		older = json_object_get_int64(v);
		if (older < 0 || errno != 0)
			return reply_field(req, ERR_INVALID, "older_than",
			    "not a number of seconds from 0 up");
		now = (int64_t)time(NULL);
		before = older > now ? 0 : now - older;
	}
	if ((st = req_store(req, &d)) == NULL)
		return 0;
	if (store_image_prune_list(st, before, &imgs, &n, &e) == -1)
		return api_reply_error(req, &e);
	if ((arr = json_object_new_array()) == NULL) {
		store_image_list_free(imgs, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		err_clear(&e);
		if (ukd_image_remove(d, imgs[i].sha256, &e) == -1) {
			/* Taken into use, or removed, since it was listed. */
			if (strcmp(e.code, "image_in_use") == 0 ||
			    strcmp(e.code, "store_not_found") == 0)
				continue;
			ukd_logf(d, LOG_WARNING, "prune: %s [%s]", e.msg,
			    e.code);
			json_object_put(arr);
			store_image_list_free(imgs, n);
			return api_reply_error(req, &e);
		}
		json_object_array_add(arr,
		    json_object_new_string(imgs[i].sha256));
		bytes += imgs[i].size;
	}
	store_image_list_free(imgs, n);
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(arr);
		return -1;
	}
	json_object_object_add(o, "deleted", arr);
	json_object_object_add(o, "bytes", json_object_new_int64(
	    bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes));
	return api_reply_json(req, 200, o);
}

/* ---- events ---- */

struct events_stream {
	struct ukd *d;
	int64_t after;		/* the last event sent */
	int64_t until;		/* without follow: the last one to send */
	int follow;
	struct sbuf out;	/* lines not sent yet, from (off) */
	size_t off;
};

static json_object *
event_json(const struct store_event *ev)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "time", json_object_new_int64(ev->time));
	json_object_object_add(o, "instance", ev->instance[0] != '\0' ?
	    json_object_new_string(ev->instance) : NULL);
	json_object_object_add(o, "kind", json_object_new_string(ev->kind));
	json_object_object_add(o, "message", json_object_new_string(
	    ev->message != NULL ? ev->message : ""));
	return o;
}

/* Reads the next events into s->out: how many, or -1. */
static int
events_fill(struct events_stream *s)
{
	struct store_event *evs = NULL;
	struct store *st;
	struct err e;
	size_t i, n = 0, taken = 0;

	err_clear(&e);
	if ((st = ukd_store(s->d, &e)) == NULL ||
	    store_event_list(st, s->after, NULL, EVENTS_BATCH, &evs, &n,
	    &e) == -1) {
		ukd_logf(s->d, LOG_WARNING, "the event stream: %s [%s]",
		    e.msg, e.code);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!s->follow && evs[i].id > s->until) {
			s->after = s->until;	/* the backlog is sent */
			break;
		}
		sbuf_json_line(&s->out, event_json(&evs[i]));
		s->after = evs[i].id;
		taken++;
	}
	store_event_list_free(evs, n);
	if (s->out.oom) {
		ukd_logf(s->d, LOG_WARNING, "the event stream: out of memory");
		return -1;
	}
	return (int)taken;
}

static ssize_t
events_produce(void *arg, char *buf, size_t max)
{
	struct events_stream *s = arg;
	uint64_t gen;
	size_t n;
	int waited = 0, got;

	for (;;) {
		if (s->off < s->out.len) {
			n = s->out.len - s->off;
			if (n > max)
				n = max;
			memcpy(buf, s->out.p + s->off, n);
			s->off += n;
			return (ssize_t)n;
		}
		s->off = s->out.len = 0;
		if (!s->follow && s->after >= s->until)
			return API_STREAM_END;
		/* The generation before the read: an event recorded after
		 * the read ends the wait at once. */
		gen = ukd_generation(s->d);
		if ((got = events_fill(s)) == -1)
			return API_STREAM_ERROR;
		if (got > 0)
			continue;
		if (!s->follow)
			return API_STREAM_END;	/* the rest was dropped */
		if (waited)
			return API_STREAM_AGAIN;
		ukd_wait(s->d, gen, EVENTS_WAIT_MS);
		waited = 1;
	}
}

static void
events_release(void *arg)
{
	struct events_stream *s = arg;

	free(s->out.p);
	free(s);
}

int
route_events(struct api_request *req)
{
	const char *a = api_query(req, "after"), *f = api_query(req, "follow");
	struct events_stream *s;
	uint64_t after = 0;
	int64_t last = 0;
	struct store *st;
	struct ukd *d;
	struct err e;
	char qb[64];
	int follow = 1;

	if (body_empty(req) == -1)
		return 0;
	if (a != NULL && parse_count(a, INT64_MAX, &after) == -1)
		return api_reply_errorf(req, ERR_INVALID, "after: '%s' is not "
		    "an event id (0 or more)", q(a, qb, sizeof(qb)));
	if (f != NULL && strcmp(f, "0") != 0 && strcmp(f, "1") != 0)
		return api_reply_errorf(req, ERR_INVALID, "follow: '%s' is not "
		    "0 or 1", q(f, qb, sizeof(qb)));
	if (f != NULL)
		follow = f[0] == '1';
	if ((st = req_store(req, &d)) == NULL)
		return 0;
	err_clear(&e);
	if (store_event_last(st, &last, &e) == -1)
		return api_reply_error(req, &e);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->d = d;
	s->after = (int64_t)after;
	s->until = last;
	s->follow = follow;
	return api_reply_stream(req, 200, "application/x-ndjson",
	    events_produce, s, events_release);
}

/* ---- metrics ---- */

struct text_stream {
	struct sbuf b;
	size_t off;
};

static ssize_t
text_produce(void *arg, char *buf, size_t max)
{
	struct text_stream *t = arg;
	size_t n = t->b.len - t->off;

	if (n == 0)
		return API_STREAM_END;
	if (n > max)
		n = max;
	memcpy(buf, t->b.p + t->off, n);
	t->off += n;
	return (ssize_t)n;
}

static void
text_release(void *arg)
{
	struct text_stream *t = arg;

	free(t->b.p);
	free(t);
}

static void
metric_head(struct sbuf *b, const char *name, const char *type,
    const char *help)
{
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void
label_value(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			sbuf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			sbuf_add(b, "\\n", 2);
		else
			sbuf_add(b, s, 1);
	}
}

static int
metrics_text(struct ukd *d, struct store *st, struct sbuf *b, struct err *e)
{
	struct store_instance *ins = NULL;
	struct store_image *imgs = NULL;
	struct store_feed *feeds = NULL;
	struct store_key *keys = NULL;
	size_t nins = 0, nimgs = 0, nfeeds = 0, nkeys = 0, i;
	uint64_t per_state[STORE_FAILED + 1] = { 0 }, bytes = 0;
	int s, rc = -1;

	if (store_instance_list(st, &ins, &nins, e) == -1 ||
	    store_image_list(st, &imgs, &nimgs, e) == -1 ||
	    store_feed_list(st, &feeds, &nfeeds, e) == -1 ||
	    store_key_list(st, &keys, &nkeys, e) == -1)
		goto done;
	metric_head(b, "unikerneld_up", "gauge", "1 while the daemon serves.");
	sbuf_printf(b, "unikerneld_up 1\n");
	metric_head(b, "unikerneld_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	sbuf_printf(b, "unikerneld_uptime_seconds %" PRId64 "\n",
	    ukd_uptime(d));
	for (i = 0; i < nins; i++)
		if ((unsigned)ins[i].state <= STORE_FAILED)
			per_state[ins[i].state]++;
	metric_head(b, "unikerneld_instances", "gauge",
	    "Instances by observed state.");
	for (s = 0; s <= STORE_FAILED; s++)
		sbuf_printf(b, "unikerneld_instances{state=\"%s\"} %" PRIu64
		    "\n", store_state_name((enum store_state)s), per_state[s]);
	metric_head(b, "unikerneld_instance_restarts_total", "counter",
	    "Automatic restarts of each instance since a person last "
	    "started it.");
	for (i = 0; i < nins; i++) {
		sbuf_printf(b, "unikerneld_instance_restarts_total{name=\"");
		label_value(b, ins[i].name);
		sbuf_printf(b, "\"} %" PRIu32 "\n", ins[i].restart_count);
	}
	for (i = 0; i < nimgs; i++)
		bytes += imgs[i].size;
	metric_head(b, "unikerneld_images", "gauge",
	    "Images in the cache.");
	sbuf_printf(b, "unikerneld_images %zu\n", nimgs);
	metric_head(b, "unikerneld_image_bytes", "gauge",
	    "Bytes of the images in the cache.");
	sbuf_printf(b, "unikerneld_image_bytes %" PRIu64 "\n", bytes);
	metric_head(b, "unikerneld_feeds", "gauge", "Feeds followed.");
	sbuf_printf(b, "unikerneld_feeds %zu\n", nfeeds);
	metric_head(b, "unikerneld_keys", "gauge", "Trusted keys.");
	sbuf_printf(b, "unikerneld_keys %zu\n", nkeys);
	if (b->oom)
		err_set(e, ERR_NOMEM, "out of memory");
	else
		rc = 0;
done:
	store_instance_list_free(ins, nins);
	store_image_list_free(imgs, nimgs);
	store_feed_list_free(feeds, nfeeds);
	store_key_list_free(keys, nkeys);
	return rc;
}

int
route_metrics(struct api_request *req)
{
	struct text_stream *t;
	struct store *st;
	struct ukd *d;
	struct err e;

	if (body_empty(req) == -1 || (st = req_store(req, &d)) == NULL)
		return 0;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	err_clear(&e);
	if (metrics_text(d, st, &t->b, &e) == -1) {
		text_release(t);
		return api_reply_error(req, &e);
	}
	return api_reply_stream(req, 200, "text/plain; version=0.0.4",
	    text_produce, t, text_release);
}
